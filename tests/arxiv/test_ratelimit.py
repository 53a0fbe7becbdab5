"""bot/arxiv/ratelimit.py: one request in flight, the end-to-start gap, across threads and on a fake clock."""

from __future__ import annotations

import threading

from bot.arxiv.client import fetch_papers
from bot.arxiv.ratelimit import RateLimiter
from tests.support.arxiv import SINCE, UNTIL, assert_polite, corpus
from tests.support.arxiv_server import ArxivServer, Fault  # fixture: tests/conftest.py


def test_one_limiter_across_threads_keeps_spacing_and_one_in_flight(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 150)
    arxiv_server.fail(Fault.HTTP_503, times=2)
    settings = arxiv_server.settings()
    results: list[int] = []

    def run() -> None:
        results.append(len(fetch_papers(settings, SINCE, UNTIL).papers))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [150, 150, 150] and len(arxiv_server.requests) == 3 * 3 + 2
    assert_polite(arxiv_server)


def test_limiter_measures_end_to_start_on_a_fake_clock() -> None:
    now = [100.0]
    limiter = RateLimiter(3.0, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s))
    starts = []
    for duration in (0.0, 5.0, 1.0):
        with limiter.slot():
            starts.append(now[0])
            now[0] += duration
    assert starts == [100.0, 103.0, 111.0]
