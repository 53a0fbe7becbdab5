"""Fetch papers from the arXiv API: a polite, bounded, never-silently-partial client.

Runs first in the cron pipeline (and for the list resolver). Reads nothing locally; returns ``Paper``
objects. Never writes to the database: that is ``db/store.py``'s job.

* Every request goes through the one process-wide ``RateLimiter`` (``bot/ratelimit.py``): one in flight,
  ``delay_seconds`` of quiet between the end of one request and the start of the next, retries included.
* HTTP is httpx: an explicit connect and read timeout, a wall-clock cap of connect + read timeout per
  response, one connection, ``User-Agent`` and ``Accept: application/atom+xml`` on every request. The
  ``arxiv`` package builds the query parameters and each entry (``bot/atom.py``); its own client is not
  used (no timeout, no backoff, per-instance pacing, empty first pages read as "no results").
* 429, 5xx, timeouts, connection errors, malformed XML, HTTP-200 error feeds and unexpectedly empty pages
  are retried with exponential backoff and full jitter, at least ``Retry-After``, at most ``max_retries``
  times per request and ``retry_budget_seconds`` per call (time lost to failed attempts plus waits). Other
  4xx fail at once; a 400 error feed fails with arXiv's own message.

Paging rule (``fetch_papers``): pages are requested at ``start`` = entries received so far, until
``start >= totalResults`` (the latest page's value). An empty page is never "the end" by itself:

* empty first page with ``totalResults=0``: retried ``EMPTY_FIRST_PAGE_RETRIES`` times, then returned as an
  empty result flagged ``suspicious_empty`` (arXiv serves valid-but-empty feeds, A5);
* empty page with less than one page of results outstanding (``totalResults - start < page_size``): retried
  ``EMPTY_TAIL_RETRIES`` times, then accepted as an over-reported total (A6) and recorded in ``shortfall``;
* any other empty page (a page or more outstanding): retried like an error, then ``FetchError``.

An under-reported ``totalResults`` cannot be seen from here; the overlapping windows catch it next run.
Redirects are not followed (a 3xx fails with its status): a moved endpoint is a config change.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from urllib.parse import urlencode

import arxiv
import httpx

from bot.atom import ErrorFeed, MalformedFeed, Page, parse_page
from bot.config import ArxivSettings
from bot.errors import FetchError
from bot.models import Paper, parse_arxiv_id
from bot.ratelimit import RateLimiter, shared_limiter

log = logging.getLogger(__name__)

# "max_results ... 30000 per query; above that, HTTP 400": https://info.arxiv.org/help/api/user-manual.html
MAX_RESULTS_PER_QUERY = 30_000
EMPTY_FIRST_PAGE_RETRIES = 2
EMPTY_TAIL_RETRIES = 2
ID_BATCH_SIZE = 50  # id_list batches stay well under URL length limits
TITLE_SEARCH_MAX_RESULTS = 10
MAX_BODY_BYTES = 64 * 1024 * 1024

Progress = Callable[[int, int | None], None]


@dataclass
class FetchResult:
    papers: list[Paper]           # de-duplicated by base id, latest version wins, newest submission first
    requests: int                 # HTTP requests made, retries included
    pages: int                    # pages accepted
    total_results: int | None     # arXiv's totalResults (a hint, see the module docstring)
    skipped: int                  # malformed entries skipped (each logged)
    query: str                    # the search_query sent
    suspicious_empty: bool = False  # 0 results, even after re-asking: may be arXiv's empty-feed fault
    shortfall: int = 0            # results arXiv announced but never served at the end of the set
    retries: int = 0


class _Retryable(Exception):
    def __init__(self, reason: str, *, status: int | None = None, retry_after: float | None = None,
                 timeout: bool = False) -> None:
        super().__init__(reason)
        self.status = status
        self.retry_after = retry_after
        self.timeout = timeout


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def search_query(settings: ArxivSettings, since: datetime, until: datetime) -> str:
    """``(<query>) AND (cat:A OR ...) AND submittedDate:[since TO until]``, minutes in GMT."""
    if since.tzinfo is None or until.tzinfo is None:
        raise ValueError("since and until must be timezone-aware")
    if since > until:
        raise ValueError(f"empty window: {since.isoformat()} is after {until.isoformat()}")
    parts = []
    if settings.query.strip():
        parts.append(f"({settings.query.strip()})")
    if settings.categories:
        parts.append("(" + " OR ".join(f"cat:{cat}" for cat in settings.categories) + ")")
    stamp = "%Y%m%d%H%M"
    parts.append(f"submittedDate:[{since.astimezone(UTC).strftime(stamp)} "
                 f"TO {until.astimezone(UTC).strftime(stamp)}]")
    return " AND ".join(parts)


def title_query(title: str) -> str | None:
    """``ti:"..."`` for a title: only letters, digits, spaces and hyphens survive, lower-cased so no word
    reads as an operator (AND/OR/ANDNOT). None if nothing searchable is left."""
    words = "".join(ch if ch.isalnum() or ch == "-" else " " for ch in title.lower()).split()
    return f'ti:"{" ".join(words)}"' if words else None


def _params(*, query: str = "", id_list: Iterable[str] = (), sort_by: arxiv.SortCriterion, start: int,
            max_results: int) -> dict[str, str]:
    args = arxiv.Search(query=query, id_list=list(id_list), sort_by=sort_by,
                        sort_order=arxiv.SortOrder.Descending)._url_args()
    args.update(start=str(start), max_results=str(max_results))
    return args


class _Session:
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

    def __enter__(self) -> _Session:
        return self

    def __exit__(self, *exc: type[BaseException] | BaseException | TracebackType | None) -> None:
        self.client.close()

    def url(self, params: dict[str, str]) -> str:
        return f"{self.settings.api_url}?{urlencode(params)}"

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
                log.info("arXiv: %s; retry %d/%d in %.1f s: %s", exc, attempt, self.settings.max_retries,
                         wait, url)
                self.sleep(wait)
                self.lost_seconds += wait

    def _backoff(self, url: str, attempt: int, exc: _Retryable) -> float:
        s = self.settings
        if attempt > s.max_retries:
            if exc.timeout:
                raise FetchError(f"arXiv did not answer within {s.read_timeout_seconds:g} s "
                                 f"({attempt} attempts, {self.lost_seconds:.0f} s spent): {url}",
                                 url=url, attempt=attempt, status=exc.status)
            raise FetchError(f"arXiv failed {attempt} times for {url}: {exc}; try again later",
                             url=url, attempt=attempt, status=exc.status)
        cap = min(s.backoff_max_seconds, s.backoff_base_seconds * 2 ** (attempt - 1))
        wait = self.rng.uniform(0.0, cap)  # full jitter
        if exc.retry_after is not None:
            wait = max(wait, exc.retry_after)
        if self.lost_seconds + wait > s.retry_budget_seconds:
            what = "did not answer" if exc.timeout else f"failed ({exc})"
            raise FetchError(f"arXiv {what}; the next wait of {wait:.0f} s would exceed the retry budget "
                             f"of {s.retry_budget_seconds:g} s ({attempt} attempts, "
                             f"{self.lost_seconds:.0f} s spent): {url}",
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
                message = f"arXiv rejected the request (HTTP 400): {exc}"
                raise FetchError(message, url=url, status=400) from None
            except MalformedFeed:
                pass
            raise FetchError(f"arXiv rejected the request (HTTP 400): {url}", url=url, status=400)
        if status != 200:
            raise FetchError(f"arXiv returned HTTP {status} for {url}; not retrying", url=url, status=status)
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
                raise FetchError(f"arXiv response over {MAX_BODY_BYTES} bytes", url=str(response.url))
        return b"".join(chunks)


def _merge(papers: dict[str, Paper], new: Iterable[Paper]) -> None:
    """Keep one Paper per base id: the highest version, then the latest ``updated``."""
    for paper in new:
        old = papers.get(paper.arxiv_id)
        if old is None or (paper.version, paper.updated or datetime.min.replace(tzinfo=UTC)) > (
                old.version, old.updated or datetime.min.replace(tzinfo=UTC)):
            papers[paper.arxiv_id] = paper


def fetch_papers(settings: ArxivSettings, since: datetime, until: datetime, *,
                 progress: Progress | None = None, limiter: RateLimiter | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None) -> FetchResult:
    """Every paper matching the settings' query and categories submitted in ``[since, until]``.

    Returns a complete result or raises ``FetchError``; see the module docstring for the paging rule.
    """
    query = search_query(settings, since, until)
    papers: dict[str, Paper] = {}
    total: int | None = None
    offset = pages = skipped = 0
    with _Session(settings, limiter, clock, sleep, rng) as session:
        while True:
            params = _params(query=query, sort_by=arxiv.SortCriterion.SubmittedDate, start=offset,
                             max_results=settings.page_size)

            def empty_retries(page: Page, known_total: int | None = total, start: int = offset) -> int | None:
                if start == 0 and page.total_results == 0:
                    return EMPTY_FIRST_PAGE_RETRIES
                if known_total is not None and known_total - start < settings.page_size:
                    return EMPTY_TAIL_RETRIES
                return None

            page = session.get_page(params, empty_retries)
            if not page.entries:
                if offset == 0:
                    log.warning("arXiv returned no results for %s, even after re-asking", query)
                    result = FetchResult([], session.requests, pages, 0, 0, query, suspicious_empty=True,
                                         retries=session.retries)
                    return result
                announced = total or 0
                log.warning("arXiv announced %d results but served %d; stopping", announced, offset)
                return FetchResult(list(papers.values()), session.requests, pages, announced, skipped, query,
                                   shortfall=announced - offset, retries=session.retries)
            if offset == 0 and page.total_results > MAX_RESULTS_PER_QUERY:
                raise FetchError(f"arXiv has {page.total_results} results for this window, over its "
                                 f"{MAX_RESULTS_PER_QUERY} per-query limit; fetch a shorter window",
                                 url=session.url(params))
            pages += 1
            total = page.total_results
            skipped += page.skipped
            _merge(papers, page.papers)
            offset += page.entries
            if progress is not None:
                progress(offset, total)
            if offset >= total:
                return FetchResult(list(papers.values()), session.requests, pages, total, skipped, query,
                                   retries=session.retries)


def fetch_by_ids(settings: ArxivSettings, ids: Iterable[str], *, limiter: RateLimiter | None = None,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None) -> list[Paper]:
    """The latest version of each id (versions and URLs accepted), via ``id_list`` in batches.

    Ids that do not parse are logged and dropped; ids arXiv does not know are simply absent.
    """
    bases: dict[str, None] = {}
    for text in ids:
        try:
            bases[parse_arxiv_id(text)[0]] = None
        except ValueError:
            log.warning("not an arXiv id, not looked up: %r", text)
    wanted = list(bases)
    papers: dict[str, Paper] = {}
    with _Session(settings, limiter, clock, sleep, rng) as session:
        for i in range(0, len(wanted), ID_BATCH_SIZE):
            batch = wanted[i:i + ID_BATCH_SIZE]
            params = _params(id_list=batch, sort_by=arxiv.SortCriterion.Relevance, start=0,
                             max_results=len(batch))
            page = session.get_page(params, lambda p: EMPTY_FIRST_PAGE_RETRIES)
            _merge(papers, (p for p in page.papers if p.arxiv_id in bases))
    return [papers[base] for base in wanted if base in papers]


def search_titles(settings: ArxivSettings, title: str, *, max_results: int = TITLE_SEARCH_MAX_RESULTS,
                  limiter: RateLimiter | None = None, clock: Callable[[], float] = time.monotonic,
                  sleep: Callable[[float], None] = time.sleep,
                  rng: random.Random | None = None) -> list[Paper]:
    """Papers whose title matches ``title`` as a phrase, best first (one page, no paging).

    Zero hits is a normal answer here and is not re-asked.
    """
    query = title_query(title)
    if query is None:
        return []
    with _Session(settings, limiter, clock, sleep, rng) as session:
        params = _params(query=query, sort_by=arxiv.SortCriterion.Relevance, start=0,
                         max_results=max_results)
        page = session.get_page(params, lambda p: 0)
    papers: dict[str, Paper] = {}
    _merge(papers, page.papers)
    return list(papers.values())
