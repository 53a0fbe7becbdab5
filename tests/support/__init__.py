"""Shared test helpers: the loopback arXiv and GitHub servers, fixture paths, and the data and helper
functions more than one test module uses. Fixtures themselves live in ``tests/conftest.py``."""
