"""The order of the stages, and the bookkeeping around each: fetch → embed → classify → list → publish.

This is the only module that knows the order. Each stage records a ``runs`` row (failed ones too) and
writes its results in one transaction, so an interrupted or failed stage leaves what was stored before
untouched and the fetch watermark where it was.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine

from bot.config import Settings
from bot.errors import BotError
from db import store
from db.session import session_scope

log = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True)
class FetchOutcome:
    run_id: int
    kind: str
    window_start: datetime
    window_end: datetime
    fetched: int
    new: int
    updated: int
    unchanged: int
    skipped: int
    requests: int
    status: str

    def summary(self) -> str:
        window = f"{self.window_start:%Y-%m-%d %H:%M} → {self.window_end:%Y-%m-%d %H:%M} UTC"
        text = (f"fetched {self.fetched} / new {self.new} / updated {self.updated} / "
                f"skipped {self.skipped + self.unchanged} ({window}, {self.requests} requests)")
        if self.status == EMPTY:
            text += "; arXiv returned nothing: the watermark stays put and the next run looks again"
        return text


EMPTY = "empty"


def fetch_window(settings: Settings, engine: Engine, since: datetime | None,
                 until: datetime | None) -> tuple[datetime, datetime, str]:
    """The window to fetch and the run kind: explicit bounds make a backfill (no watermark change)."""
    now = store.utcnow()
    kind = "backfill" if since is not None or until is not None else "fetch"
    if since is None:
        with session_scope(engine) as session:
            mark = store.watermark(session)
        since = (mark - timedelta(days=settings.arxiv.overlap_days) if mark is not None
                 else now - timedelta(days=settings.arxiv.first_run_days))
    until = until or now
    if since >= until:
        raise BotError(f"empty window: --since {since:%Y-%m-%d %H:%M} is not before --until "
                       f"{until:%Y-%m-%d %H:%M}")
    return since, until, kind


def fetch(settings: Settings, engine: Engine, *, since: datetime | None = None,
          until: datetime | None = None, progress: Progress | None = None) -> FetchOutcome:
    """Fetch every matching paper in the window and upsert it; advance the watermark only on success."""
    from bot.fetch import fetch_papers

    window_start, window_end, kind = fetch_window(settings, engine, since, until)
    with session_scope(engine) as session:
        run_id = store.start_run(session, kind, window_start, window_end)
    try:
        result = fetch_papers(settings.arxiv, window_start, window_end, progress=progress)
    except BaseException as exc:
        message = str(exc) if isinstance(exc, BotError) else f"{type(exc).__name__}: {exc}"
        with session_scope(engine) as session:
            store.finish_run(session, run_id, store.FAILED, error=message or type(exc).__name__)
        raise
    status = EMPTY if getattr(result, "suspicious_empty", False) else store.SUCCESS
    with session_scope(engine) as session:  # papers and the watermark land together, or not at all
        counts = store.upsert_papers(session, result.papers, run_id)
        store.finish_run(session, run_id, status, fetched=len(result.papers), new=counts.new,
                         updated=counts.updated, skipped=result.skipped, requests=result.requests)
    return FetchOutcome(run_id, kind, window_start, window_end, len(result.papers), counts.new,
                        counts.updated, counts.unchanged, result.skipped, result.requests, status)
