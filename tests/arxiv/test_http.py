"""bot/arxiv/http.py against the loopback arXiv server: retries, Retry-After, timeouts and the retry budget,
malformed and error feeds, with faults injected at the wire."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

import pytest

from bot.arxiv.client import fetch_papers
from bot.core.errors import FetchError
from bot.core.retry import parse_retry_after
from tests.support.arxiv import DELAY, SINCE, UNTIL, assert_polite, corpus
from tests.support.arxiv_server import ArxivServer, Fault  # fixture: tests/conftest.py

# -- retries --------------------------------------------------------------------------------------------

def test_503_three_times_then_success(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 20)
    arxiv_server.fail(Fault.HTTP_503, times=3)
    result = fetch_papers(arxiv_server.settings(), SINCE, UNTIL)
    assert len(result.papers) == 20 and result.requests == 4 and result.retries == 3
    assert [r.fault for r in arxiv_server.requests] == [Fault.HTTP_503] * 3 + [None]
    assert_polite(arxiv_server)


def test_5xx_past_max_retries_fails(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 5)
    arxiv_server.fail(Fault.HTTP_500, times=10)
    with pytest.raises(FetchError, match="failed 4 times.*HTTP 500") as err:
        fetch_papers(arxiv_server.settings(max_retries=3), SINCE, UNTIL)
    assert err.value.status == 500 and len(arxiv_server.requests) == 4


def test_429_retry_after_is_honoured(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 60)
    arxiv_server.fail(Fault.HTTP_429, start=50, retry_after="1")
    result = fetch_papers(arxiv_server.settings(), SINCE, UNTIL)
    assert len(result.papers) == 60 and result.requests == 3
    rejected, retried = arxiv_server.requests[1], arxiv_server.requests[2]
    assert rejected.fault is Fault.HTTP_429 and retried.query["start"] == "50"
    assert rejected.finished is not None and retried.arrived - rejected.finished >= 1.0
    assert_polite(arxiv_server)


def test_429_retry_after_on_a_fake_clock_waits_the_full_time(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 5)
    arxiv_server.fail(Fault.HTTP_429, retry_after="120")
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    settings = arxiv_server.settings(retry_budget_seconds=900.0, backoff_base_seconds=5.0)
    result = fetch_papers(settings, SINCE, UNTIL, clock=lambda: now[0], sleep=sleep)
    assert len(result.papers) == 5 and sleeps == [120.0]


def test_429_every_time_fails_when_the_budget_runs_out_on_a_fake_clock(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 5)
    arxiv_server.fail(Fault.HTTP_429, times=100, retry_after="120")
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    settings = arxiv_server.settings(retry_budget_seconds=300.0, max_retries=10)
    with pytest.raises(FetchError, match="next wait of 120 s would exceed the retry budget of 300 s"):
        fetch_papers(settings, SINCE, UNTIL, clock=lambda: now[0], sleep=sleep)
    assert now[0] == 240.0 and len(arxiv_server.requests) == 3


def test_retry_after_beyond_the_budget_fails_at_once(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 5)
    arxiv_server.fail(Fault.HTTP_429, retry_after="3600")
    started = time.monotonic()
    with pytest.raises(FetchError, match="would exceed the retry budget of 30 s") as err:
        fetch_papers(arxiv_server.settings(), SINCE, UNTIL)
    assert time.monotonic() - started < 1 and err.value.status == 429 and len(arxiv_server.requests) == 1


def test_retry_after_parses_seconds_and_http_dates() -> None:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("Wed, 25 Nov 2026 12:01:30 GMT", now=now) == 90.0
    assert parse_retry_after("Wed, 25 Nov 2026 11:00:00 GMT", now=now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_dropped_connection_and_refused_port_are_retried(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 5)
    arxiv_server.fail(Fault.DROP)
    assert len(fetch_papers(arxiv_server.settings(), SINCE, UNTIL).papers) == 5
    settings = arxiv_server.settings(max_retries=2)
    arxiv_server.stop()
    with pytest.raises(FetchError, match="failed 3 times.*connection failed"):
        fetch_papers(settings, SINCE, UNTIL)


# -- timeouts and the overall budget --------------------------------------------------------------------

def test_stalled_socket_hits_the_read_timeout_and_recovers(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 10)
    arxiv_server.fail(Fault.STALL)
    started = time.monotonic()
    result = fetch_papers(arxiv_server.settings(read_timeout_seconds=0.5), SINCE, UNTIL)
    assert len(result.papers) == 10 and result.requests == 2
    assert 0.5 <= time.monotonic() - started < 2.5
    assert_polite(arxiv_server)


def test_server_that_never_answers_fails_within_the_time_budget(arxiv_server: ArxivServer) -> None:
    arxiv_server.fail(Fault.STALL, times=100)
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"arXiv did not answer within 0.5 s \(3 attempts"):
        fetch_papers(arxiv_server.settings(read_timeout_seconds=0.5, max_retries=2), SINCE, UNTIL)
    elapsed = time.monotonic() - started
    assert 1.5 <= elapsed < 1.5 + 2 * (DELAY + 0.05) + 1.0 and len(arxiv_server.requests) == 3
    assert arxiv_server.max_in_flight == 1


def test_never_answering_server_is_bounded_by_the_retry_budget(arxiv_server: ArxivServer) -> None:
    arxiv_server.fail(Fault.STALL, times=100)
    settings = arxiv_server.settings(read_timeout_seconds=0.5, max_retries=50, retry_budget_seconds=1.2,
                                     backoff_base_seconds=0.3, backoff_max_seconds=0.3)
    started = time.monotonic()
    with pytest.raises(FetchError, match="did not answer; the next wait .* retry budget of 1.2 s"):
        fetch_papers(settings, SINCE, UNTIL, rng=random.Random(1))
    assert time.monotonic() - started < 1.2 + 0.5 + 1.0 and len(arxiv_server.requests) <= 3


# -- malformed and error pages --------------------------------------------------------------------------

def test_truncated_xml_is_retried_not_read_as_empty(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 40)
    arxiv_server.fail(Fault.TRUNCATED)
    result = fetch_papers(arxiv_server.settings(), SINCE, UNTIL)
    assert len(result.papers) == 40 and result.requests == 2

    arxiv_server.fail(Fault.TRUNCATED, times=10)
    with pytest.raises(FetchError, match="malformed feed"):
        fetch_papers(arxiv_server.settings(), SINCE, UNTIL)


def test_http_200_error_feed_is_retried_and_never_a_paper(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 10)
    arxiv_server.fail(Fault.ERROR_200)
    result = fetch_papers(arxiv_server.settings(), SINCE, UNTIL)
    assert len(result.papers) == 10 and result.requests == 2
    assert all(p.title != "Error" for p in result.papers)

    arxiv_server.fail(Fault.ERROR_200, times=10, message="service is resting")
    with pytest.raises(FetchError, match="error feed: service is resting"):
        fetch_papers(arxiv_server.settings(), SINCE, UNTIL)


def test_http_400_error_feed_fails_at_once_with_arxivs_message(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 10)
    arxiv_server.fail(Fault.ERROR_400)
    with pytest.raises(FetchError, match="HTTP 400.*incorrect id format for abc") as err:
        fetch_papers(arxiv_server.settings(), SINCE, UNTIL)
    assert err.value.status == 400 and len(arxiv_server.requests) == 1
