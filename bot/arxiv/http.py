"""The arXiv API's HTTP transport: one polite, bounded session with the retry policy.

Used by ``bot/arxiv/client.py`` for every request; reads nothing locally and writes nothing.

* Every request goes through the one process-wide ``RateLimiter`` (``bot/arxiv/ratelimit.py``): one in flight,
  ``delay_seconds`` of quiet between the end of one request and the start of the next, retries included.
* HTTP is httpx: an explicit connect and read timeout, a wall-clock cap of connect + read timeout per
  response, one connection, ``User-Agent`` and ``Accept: application/atom+xml`` on every request.
* 429, 5xx, timeouts, connection errors, malformed XML, HTTP-200 error feeds and unexpectedly empty pages
  are retried with exponential backoff and full jitter, at least ``Retry-After``, at most ``max_retries``
  times per request and ``retry_budget_seconds`` per call (time lost to failed attempts plus waits). Other
  4xx fail at once; a 400 error feed fails with arXiv's own message.

Redirects are not followed (a 3xx fails with its status): a moved endpoint is a config change.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from types import TracebackType
from urllib.parse import urlencode, urlsplit

import httpx

from bot.arxiv.atom import ErrorFeed, MalformedFeed, Page, parse_page
from bot.arxiv.ratelimit import RateLimiter, shared_limiter
from bot.core.config import ArxivSettings
from bot.core.errors import FetchError
from bot.core.retry import parse_retry_after

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024 * 1024


class _Retryable(Exception):
    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None,
                 timeout: bool = False) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after
        self.timeout = timeout


class ArxivSession:
    """One httpx client, the shared limiter and the retry policy, for one public call."""

    def __init__(self, settings: ArxivSettings, limiter: RateLimiter | None, clock: Callable[[], float],
                 sleep: Callable[[float], None], rng: random.Random | None) -> None:
        self.settings = settings
        self.limiter = limiter or shared_limiter(settings.delay_seconds)
        self.clock, self.sleep, self.rng = clock, sleep, rng or random.Random()
        self.requests = self.retries = 0
        self.lost_seconds = 0.0  # failed attempts plus backoff waits, checked against the budget
        timeout = settings.read_timeout_seconds
        self.client = httpx.Client(
            timeout=httpx.Timeout(connect=settings.connect_timeout_seconds, read=timeout, write=timeout,
                                  pool=settings.connect_timeout_seconds),
            limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
            headers={"User-Agent": settings.user_agent, "Accept": "application/atom+xml"},
            follow_redirects=False,
        )

    def __enter__(self) -> ArxivSession:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.client.close()

    def url(self, params: dict[str, str]) -> str:
        return f"{self.settings.api_url}?{urlencode(params)}"

    @property
    def host(self) -> str:
        """Where the API lives, for messages: a request's whole URL (its query) never goes into one."""
        return urlsplit(self.settings.api_url).netloc or self.settings.api_url

    def get_page(self, params: dict[str, str], empty_retries: Callable[[Page], int | None]) -> Page:
        """One page, retried per the policy. ``empty_retries(page)`` says how many times an empty page is
        re-asked before it is returned (None: an empty page is an error, retried then fatal)."""
        url = self.url(params)
        attempt = empties = 0
        while True:
            attempt += 1
            started = self.clock()
            try:
                page = self._once(url)
                if page.entries:
                    return page
                empties += 1
                allowed = empty_retries(page)
                if allowed is not None and empties > min(allowed, self.settings.max_retries):
                    return page
                raise _Retryable(f"empty page (no entries, totalResults={page.total_results}, "
                                 f"start={params['start']})")
            except _Retryable as exc:
                self.lost_seconds += self.clock() - started
                wait = self._backoff(url, attempt, exc)
                self.retries += 1
                log.warning("arXiv at %s: %s; retry %d/%d in %.0f s", self.host, exc, attempt,
                            self.settings.max_retries, wait)
                log.debug("retrying %s", url)
                self.sleep(wait)
                self.lost_seconds += wait

    def _backoff(self, url: str, attempt: int, exc: _Retryable) -> float:
        s = self.settings
        if attempt > s.max_retries:
            if exc.timeout:
                raise FetchError(f"arXiv did not answer within {s.read_timeout_seconds:g} s "
                                 f"({attempt} attempts, {self.lost_seconds:.0f} s spent) at {self.host}",
                                 url=url, attempt=attempt, status=exc.status)
            raise FetchError(f"arXiv failed {attempt} times at {self.host}: {exc}; try again later",
                             url=url, attempt=attempt, status=exc.status)
        cap = min(s.backoff_max_seconds, s.backoff_base_seconds * 2 ** (attempt - 1))
        wait = self.rng.uniform(0.0, cap)  # full jitter
        if exc.retry_after is not None:
            wait = max(wait, exc.retry_after)
        if self.lost_seconds + wait > s.retry_budget_seconds:
            what = "did not answer" if exc.timeout else f"failed ({exc})"
            raise FetchError(f"arXiv {what}; the next wait of {wait:.0f} s would exceed the retry budget "
                             f"of {s.retry_budget_seconds:g} s ({attempt} attempts, "
                             f"{self.lost_seconds:.0f} s spent) at {self.host}",
                             url=url, attempt=attempt, status=exc.status)
        return wait

    def _once(self, url: str) -> Page:
        """One request inside the limiter slot. Raises ``_Retryable`` or ``FetchError``."""
        s = self.settings
        with self.limiter.slot():
            self.requests += 1
            log.debug("GET %s", url)
            deadline = time.monotonic() + s.connect_timeout_seconds + s.read_timeout_seconds
            try:
                with self.client.stream("GET", url) as response:
                    status = response.status_code
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    body = self._read(response, deadline) if status in (200, 400) else b""
            except httpx.TimeoutException as exc:
                raise _Retryable(f"timed out ({type(exc).__name__})", timeout=True) from None
            except (httpx.TransportError, httpx.DecodingError) as exc:
                raise _Retryable(f"connection failed ({type(exc).__name__}: {exc})") from None
        if status == 429 or status >= 500:
            raise _Retryable(f"HTTP {status}", status=status, retry_after=retry_after)
        if status == 400:
            try:
                parse_page(body)
            except ErrorFeed as exc:
                message = f"arXiv at {self.host} rejected the request (HTTP 400): {exc}"
                raise FetchError(message, url=url, status=400) from None
            except MalformedFeed:
                pass
            raise FetchError(f"arXiv at {self.host} rejected the request (HTTP 400)", url=url, status=400)
        if status != 200:
            raise FetchError(f"arXiv at {self.host} answered HTTP {status}; not retrying", url=url,
                             status=status)
        try:
            return parse_page(body)
        except MalformedFeed as exc:
            raise _Retryable(f"malformed feed ({exc})") from None
        except ErrorFeed as exc:
            raise _Retryable(f"error feed: {exc}") from None

    def _read(self, response: httpx.Response, deadline: float) -> bytes:
        chunks, size = [], 0
        for chunk in response.iter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if time.monotonic() > deadline:
                raise _Retryable("response too slow (connect + read timeout exceeded)", timeout=True)
            if size > MAX_BODY_BYTES:
                raise FetchError(f"arXiv at {self.host} sent a response over {MAX_BODY_BYTES} bytes",
                                 url=str(response.url))
        return b"".join(chunks)
