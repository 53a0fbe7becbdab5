"""For the tests of bot/arxiv/: the fetch window, a synthetic corpus inside it, and the politeness check."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.arxiv_server import ArxivServer, EntrySpec

UNTIL = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
SINCE = UNTIL - timedelta(days=7)
DELAY = 0.2


def corpus(server: ArxivServer, n: int, seed: int = 0) -> list[EntrySpec]:
    return server.add_synthetic(n, start=SINCE, end=UNTIL - timedelta(minutes=1), seed=seed)


def assert_polite(server: ArxivServer, delay: float = DELAY) -> None:
    """Every request spaced by at least the delay, one at a time, with our headers."""
    assert server.max_in_flight == 1
    assert all(gap >= delay for gap in server.gaps()), server.gaps()
    for request in server.requests:
        assert request.headers["User-Agent"] == "paperbot-tests/0 (test suite)"
        assert request.headers["Accept"] == "application/atom+xml"
