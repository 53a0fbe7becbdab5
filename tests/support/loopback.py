"""The loopback HTTP servers' shared plumbing: a stdlib ``ThreadingHTTPServer`` on 127.0.0.1 (a free port)
served from a daemon thread, and its shutdown. The arXiv and LLM fakes build on it."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def serve(handler: type[BaseHTTPRequestHandler]) -> ThreadingHTTPServer:
    """Start serving ``handler`` on 127.0.0.1 in a daemon thread; requests are answered in threads too."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    httpd.block_on_close = False
    threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return httpd


def close(httpd: ThreadingHTTPServer | None) -> None:
    if httpd is not None:
        httpd.shutdown()
        httpd.server_close()
