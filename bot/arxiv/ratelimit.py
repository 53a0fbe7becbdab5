"""The process-wide arXiv rate limiter.

arXiv asks for "no more than one request every three seconds, and ... a single connection at a time", for
all machines under your control together (https://info.arxiv.org/help/api/tou.html). Every request
``bot/arxiv/http.py`` makes for ``bot/arxiv/client.py``, retries included, goes through one ``RateLimiter``:

* never two requests in flight: a slot is held for the whole request, until its body is read or it fails;
* the gap is measured **end-to-start**: the next request starts at least ``interval_seconds`` after the
  previous one *finished*. That is stricter than start-to-start (a start-to-start gap of at least the
  interval follows from it), costs a few seconds per run, and stays polite when arXiv is slow: a 40 s
  response is followed by 3 s of quiet, not by an immediate request.

Pure stdlib, thread-safe; the clock and sleep are injectable so tests can run it on a fake clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class RateLimiter:
    """One request in flight at most, and ``interval_seconds`` of quiet from the end of one to the next."""

    def __init__(self, interval_seconds: float, *, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if interval_seconds < 0:
            raise ValueError("interval_seconds must be >= 0")
        self.interval_seconds = interval_seconds
        self._clock = clock
        self._sleep = sleep
        self._slot = threading.Lock()        # held for the duration of one request
        self._last_end: float | None = None  # clock() when the previous request finished
        self.requests = 0

    def wait_seconds(self) -> float:
        """How long a request starting now would have to wait for the interval (ignoring the slot)."""
        if self._last_end is None:
            return 0.0
        return max(0.0, self._last_end + self.interval_seconds - self._clock())

    @contextmanager
    def slot(self) -> Iterator[None]:
        """Hold the single request slot: waits for the previous request and the interval, then yields."""
        with self._slot:
            while (delay := self.wait_seconds()) > 0:
                self._sleep(delay)
            self.requests += 1
            try:
                yield
            finally:
                self._last_end = self._clock()


_shared: RateLimiter | None = None
_shared_lock = threading.Lock()


def shared_limiter(interval_seconds: float) -> RateLimiter:
    """The one limiter of this process, created on first use.

    Settings are built once per process, so every caller passes the same interval; if one differs, the
    latest caller's interval is used from then on.
    """
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = RateLimiter(interval_seconds)
        else:
            _shared.interval_seconds = interval_seconds
        return _shared
