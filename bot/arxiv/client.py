"""Fetch papers from the arXiv API: a polite, bounded, never-silently-partial client.

Runs first in the cron pipeline (and for the list resolver). Reads nothing locally; returns ``Paper``
objects. Never writes to the database: that is ``db/store.py``'s job.

* The HTTP transport, politeness and retry policy live in ``bot/arxiv/http.py`` (``ArxivSession``), and
  ``bot/arxiv/atom.py`` reads each page. The ``arxiv`` package gives the sort keys; its client is not used
  (no timeout, no backoff, per-instance pacing, empty first pages read as "no results").

Paging rule (``fetch_papers``): pages are requested at ``start`` = entries received so far, until
``start >= totalResults`` (the latest page's value). An empty page is never "the end" by itself:

* empty first page with ``totalResults=0``: retried ``EMPTY_FIRST_PAGE_RETRIES`` times, then returned as an
  empty result flagged ``suspicious_empty`` (arXiv serves valid-but-empty feeds);
* empty page with less than one page of results outstanding (``totalResults - start < page_size``): retried
  ``EMPTY_TAIL_RETRIES`` times, then accepted as an over-reported total and recorded in ``shortfall``;
* any other empty page (a page or more outstanding): retried like an error, then ``FetchError``.

An under-reported ``totalResults`` cannot be seen from here; the overlapping windows catch it next run.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import arxiv

from bot.arxiv.atom import Page
from bot.arxiv.http import ArxivSession
from bot.arxiv.ratelimit import RateLimiter
from bot.core.config import ArxivSettings
from bot.core.errors import FetchError
from bot.core.models import Paper, parse_arxiv_id

log = logging.getLogger(__name__)

# "max_results ... 30000 per query; above that, HTTP 400": https://info.arxiv.org/help/api/user-manual.html
MAX_RESULTS_PER_QUERY = 30_000
EMPTY_FIRST_PAGE_RETRIES = 2
EMPTY_TAIL_RETRIES = 2
ID_BATCH_SIZE = 50  # id_list batches stay well under URL length limits
TITLE_SEARCH_MAX_RESULTS = 10

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
    """The API's query parameters (https://info.arxiv.org/help/api/user-manual.html#query_details), newest
    or best first; ``sort_by`` is the ``arxiv`` package's public enum of the API's sort keys."""
    return {"search_query": query, "id_list": ",".join(id_list), "sortBy": sort_by.value,
            "sortOrder": arxiv.SortOrder.Descending.value, "start": str(start),
            "max_results": str(max_results)}


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
    with ArxivSession(settings, limiter, clock, sleep, rng) as session:
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
    with ArxivSession(settings, limiter, clock, sleep, rng) as session:
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
    with ArxivSession(settings, limiter, clock, sleep, rng) as session:
        params = _params(query=query, sort_by=arxiv.SortCriterion.Relevance, start=0,
                         max_results=max_results)
        page = session.get_page(params, lambda p: 0)
    papers: dict[str, Paper] = {}
    _merge(papers, page.papers)
    return list(papers.values())


@dataclass(frozen=True)
class ArxivLookup:
    """The arXiv client as a ``PaperLookup`` for list resolution (``bot/awesome/resolve.py``)."""

    settings: ArxivSettings

    def by_ids(self, arxiv_ids: list[str]) -> list[Paper]:
        return fetch_by_ids(self.settings, arxiv_ids)

    def by_title(self, title: str) -> list[Paper]:
        return search_titles(self.settings, title)
