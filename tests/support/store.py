"""Papers as db/store.py stores them, for the store tests and the pipeline's candidate check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.core.models import Paper

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)


def paper(arxiv_id: str, version: int = 1, title: str = "A paper", **kw: object) -> Paper:
    return Paper(arxiv_id=arxiv_id, version=version, title=title, abstract="An abstract.",
                 authors=("Ada Lovelace", "Alan Turing"), categories=("cs.CV", "cs.LG"),
                 primary_category="cs.CV", published=T0, updated=T0 + timedelta(days=version - 1),
                 **kw)  # type: ignore[arg-type]
