"""The arXiv client: the HTTP session, the Atom parser, the shared rate limit, and the fetcher."""
