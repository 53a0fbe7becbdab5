"""bot/fetch.py (with bot/atom.py and bot/ratelimit.py) against the loopback arXiv server: real HTTP,
real Atom XML, faults injected at the wire."""

from __future__ import annotations

import logging
import random
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from bot.arxiv.atom import ErrorFeed, MalformedFeed, parse_page
from bot.arxiv.client import (
    EMPTY_FIRST_PAGE_RETRIES,
    EMPTY_TAIL_RETRIES,
    ID_BATCH_SIZE,
    fetch_by_ids,
    fetch_papers,
    search_query,
    search_titles,
)
from bot.arxiv.http import parse_retry_after
from bot.arxiv.ratelimit import RateLimiter
from bot.core.errors import FetchError
from tests.support.arxiv_server import FIXTURES, ArxivServer, EntrySpec, Fault  # fixture: tests/conftest.py

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


# -- paging and results -------------------------------------------------------------------------------

def test_pages_through_more_than_250_results(arxiv_server: ArxivServer) -> None:
    specs = corpus(arxiv_server, 260)
    arxiv_server.add_synthetic(30, start=SINCE - timedelta(days=30), end=SINCE - timedelta(days=1), seed=9)
    seen: list[tuple[int, int | None]] = []
    settings = arxiv_server.settings(categories=("cs.CV", "cs.LG", "cs.AI", "cs.CL", "cs.GR", "eess.IV",
                                                 "stat.ML", "cs.RO"), query="ti:diffusion OR abs:diffusion")

    result = fetch_papers(settings, SINCE, UNTIL, progress=lambda done, total: seen.append((done, total)))

    assert {p.arxiv_id for p in result.papers} == {s.arxiv_id for s in specs}
    assert (result.total_results, result.pages, result.requests, result.skipped) == (260, 6, 6, 0)
    assert seen == [(50, 260), (100, 260), (150, 260), (200, 260), (250, 260), (260, 260)]
    assert result.query == ("(ti:diffusion OR abs:diffusion) AND (cat:cs.CV OR cat:cs.LG OR cat:cs.AI OR "
                            "cat:cs.CL OR cat:cs.GR OR cat:eess.IV OR cat:stat.ML OR cat:cs.RO) AND "
                            "submittedDate:[202611131200 TO 202611201200]")
    queries = [r.query for r in arxiv_server.requests]
    assert [q["start"] for q in queries] == ["0", "50", "100", "150", "200", "250"]
    assert all(q["max_results"] == "50" and q["sortBy"] == "submittedDate" and q["sortOrder"] == "descending"
               and q["search_query"] == result.query for q in queries)
    published = [p.published or UNTIL for p in result.papers]
    assert published == sorted(published, reverse=True)
    assert_polite(arxiv_server)


def test_default_page_size_fetches_a_synthetic_set_of_1200(arxiv_server: ArxivServer) -> None:
    specs = corpus(arxiv_server, 1200, seed=3)
    result = fetch_papers(arxiv_server.settings(page_size=200), SINCE, UNTIL)
    assert len(result.papers) == 1200 and result.pages == 6 and result.requests == 6
    assert {p.arxiv_id: p.version for p in result.papers} == {s.arxiv_id: s.version for s in specs}
    assert_polite(arxiv_server)


def test_same_window_twice_gives_the_same_set(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 120)
    settings = arxiv_server.settings()
    first = fetch_papers(settings, SINCE, UNTIL)
    second = fetch_papers(settings, SINCE, UNTIL)
    assert first.papers == second.papers and len(first.papers) == 120
    assert_polite(arxiv_server)


def test_v1_and_v2_become_one_paper_at_version_2(arxiv_server: ArxivServer) -> None:
    specs = corpus(arxiv_server, 80)
    v1 = next(s for s in specs if s.version == 1)
    settings = arxiv_server.settings()
    before = {p.arxiv_id: p for p in fetch_papers(settings, SINCE, UNTIL).papers}
    assert before[v1.arxiv_id].version == 1

    arxiv_server.revise(v1.arxiv_id, version=2)  # both entries are now served, on different pages or not
    after = fetch_papers(settings, SINCE, UNTIL)

    mine = [p for p in after.papers if p.arxiv_id == v1.arxiv_id]
    assert len(mine) == 1 and mine[0].version == 2
    assert mine[0].updated and mine[0].published and mine[0].updated > mine[0].published
    assert len(after.papers) == 80 and after.total_results == 81


def test_real_recorded_entries_page_and_parse(arxiv_server: ArxivServer) -> None:
    assert arxiv_server.load_file("q_testing_s0_m100.xml") == 100
    settings = arxiv_server.settings(page_size=30)
    result = fetch_papers(settings, datetime(1990, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    ids = {p.arxiv_id: p for p in result.papers}
    assert len(ids) == 100 and result.pages == 4
    assert {"cs/0503050", "gr-qc/0103067", "0804.0970", "1009.3186", "2202.12139"} <= set(ids)
    assert ids["1009.3186"].version == 2
    first = ids["2202.12139"]
    assert first.title == ("Testing Deep Learning Models: "
                           "A First Comparative Study of Multiple Testing Techniques")
    assert first.authors == ("Mohit Kumar Ahuja", "Arnaud Gotlieb", "Helge Spieker")
    assert first.categories == ("cs.SE", "cs.LG") and first.primary_category == "cs.SE"
    assert first.doi == "10.1109/ICSTW55395.2022.00035"
    assert first.comment == "Artificial Intelligence in Software Testing 2022 workshop @ ICST 2022"
    assert first.journal_ref is not None and first.journal_ref.startswith("Artificial Intelligence")
    assert first.published == datetime(2022, 2, 24, 15, 5, 19, tzinfo=UTC)
    assert all(p.abstract and p.abstract == p.abstract.strip() for p in result.papers)


def test_edge_case_entries_are_cleaned_or_skipped_and_counted(arxiv_server: ArxivServer,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    arxiv_server.fail(Fault.FILE, file="edge_entries.xml")
    with caplog.at_level(logging.WARNING, logger="bot.arxiv.atom"):
        result = fetch_papers(arxiv_server.settings(), SINCE, UNTIL)
    assert result.skipped == 4 and result.total_results == 8
    assert [p.arxiv_id for p in result.papers] == ["2511.00001", "hep-th/9901001", "0704.0001", "2701.123456"]
    messy = result.papers[0]
    assert messy.title == "Control characters and wrapped whitespace"
    assert messy.abstract == ("Raw LaTeX $\\mathcal{O}(n^2)$ stays; NUL and C0 controls go.\n  Second line.")
    assert (messy.version, messy.comment, messy.journal_ref, messy.doi) == (
        3, "12 pages, 3 figures", "Proc. CVPR 2026", "10.1000/xyz123")
    assert result.papers[1].version == 2
    assert "not an arxiv.org abstract URL" in caplog.text and "not an arXiv id" in caplog.text


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


# -- empty, malformed and error pages -------------------------------------------------------------------

def test_empty_middle_page_once_is_recovered(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 250)
    arxiv_server.fail(Fault.EMPTY_PAGE, start=100)
    result = fetch_papers(arxiv_server.settings(), SINCE, UNTIL)
    assert len(result.papers) == 250 and result.requests == 6 and result.shortfall == 0
    assert_polite(arxiv_server)


def test_empty_middle_page_always_fails(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 250)
    arxiv_server.fail(Fault.EMPTY_PAGE, times=100, start=100)
    with pytest.raises(FetchError, match=r"empty page \(no entries, totalResults=250, start=100\)"):
        fetch_papers(arxiv_server.settings(), SINCE, UNTIL)
    assert [r.start for r in arxiv_server.requests] == [0, 50, 100, 100, 100, 100]


def test_empty_first_page_with_results_announced_is_an_error(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 30)
    arxiv_server.fail(Fault.EMPTY_PAGE, times=2)
    result = fetch_papers(arxiv_server.settings(), SINCE, UNTIL)
    assert len(result.papers) == 30 and result.requests == 3 and not result.suspicious_empty


def test_empty_first_page_is_re_asked_then_flagged(arxiv_server: ArxivServer) -> None:
    result = fetch_papers(arxiv_server.settings(), SINCE, UNTIL)
    assert result.papers == [] and result.suspicious_empty and result.total_results == 0
    assert result.requests == 1 + EMPTY_FIRST_PAGE_RETRIES
    assert_polite(arxiv_server)


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


def test_recorded_400_error_feed_parses_as_an_error() -> None:
    with pytest.raises(ErrorFeed, match="incorrect id format for abc"):
        parse_page((FIXTURES / "id_abc_s0_m100.xml").read_bytes())
    with pytest.raises(MalformedFeed):
        parse_page((FIXTURES / "truncated.xml").read_bytes())
    with pytest.raises(MalformedFeed):
        parse_page(b"<feed><entry><title>Foo")
    assert parse_page((FIXTURES / "id_0000.0000_s0_m100.xml").read_bytes()).entries == 0


def test_over_reported_total_stops_cleanly_after_the_last_entries(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 100)
    arxiv_server.over_report = 5  # "totalResults said 105 but only 100 exist"
    result = fetch_papers(arxiv_server.settings(), SINCE, UNTIL)
    assert len(result.papers) == 100 and result.total_results == 105 and result.shortfall == 5
    assert [r.start for r in arxiv_server.requests] == [0, 50] + [100] * (1 + EMPTY_TAIL_RETRIES)


def test_over_reported_by_a_page_or_more_fails(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 100)
    arxiv_server.over_report = 50
    with pytest.raises(FetchError, match="empty page"):
        fetch_papers(arxiv_server.settings(), SINCE, UNTIL)


def test_over_reported_single_response_still_stops(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 60)
    arxiv_server.fail(Fault.OVER_REPORT, start=50, extra=3)  # the last page claims 63
    result = fetch_papers(arxiv_server.settings(), SINCE, UNTIL)
    assert len(result.papers) == 60 and result.shortfall == 3


# -- politeness -----------------------------------------------------------------------------------------

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


# -- id lists and title search --------------------------------------------------------------------------

def test_fetch_by_ids_real_fixtures_old_style_4_and_5_digit(arxiv_server: ArxivServer) -> None:
    for name in ("id_astro-ph_0601001_s0_m100.xml", "id_quant-ph_0201082v1_s0_m100.xml",
                 "id_1605.08386_s0_m100.xml", "id_1707.08567_s0_m100.xml", "id_2104.12255v1_s0_m100.xml",
                 "q_testing_s0_m100.xml"):
        arxiv_server.load_file(name)
    wanted = ["https://arxiv.org/abs/astro-ph/0601001v1", "quant-ph/0201082", "1605.08386v1",
              "arXiv:1707.08567", "2104.12255", "0804.0970", "1009.3186v1", "not an id", "2999.99999"]
    papers = fetch_by_ids(arxiv_server.settings(), wanted)
    found = ["astro-ph/0601001", "quant-ph/0201082", "1605.08386", "1707.08567", "2104.12255", "0804.0970",
             "1009.3186"]
    assert [p.arxiv_id for p in papers] == found
    assert papers[-1].version == 2  # the version in the request is dropped: hydration wants the latest
    assert papers[0].authors[0] == "Andrew Gould" and papers[0].primary_category == "astro-ph"
    request = arxiv_server.requests[0].query
    assert request["id_list"].split(",") == [*found, "2999.99999"]
    assert_polite(arxiv_server)


def test_fetch_by_ids_batches_through_the_same_limiter(arxiv_server: ArxivServer) -> None:
    specs = corpus(arxiv_server, 120)
    arxiv_server.fail(Fault.HTTP_503)
    papers = fetch_by_ids(arxiv_server.settings(), [s.arxiv_id for s in specs])
    assert [p.arxiv_id for p in papers] == [s.arxiv_id for s in specs]
    sizes = [len(r.query["id_list"].split(",")) for r in arxiv_server.requests]
    assert sizes == [ID_BATCH_SIZE, ID_BATCH_SIZE, ID_BATCH_SIZE, 120 - 2 * ID_BATCH_SIZE]
    assert_polite(arxiv_server)


def test_search_titles_quotes_and_escapes(arxiv_server: ArxivServer) -> None:
    specs = corpus(arxiv_server, 50)
    title = 'Prune AND Distill: "Fast" Diffusion (v2) \\ in 100% of OR-cases'
    arxiv_server.add(EntrySpec(arxiv_id="2611.99999", version=1, published=specs[0].published,
                               updated=specs[0].published, title=title, summary="An abstract."))
    found = search_titles(arxiv_server.settings(), title)
    assert [p.arxiv_id for p in found] == ["2611.99999"] and found[0].title == title
    sent = arxiv_server.requests[0].query
    assert sent["search_query"] == 'ti:"prune and distill fast diffusion v2 in 100 of or-cases"'
    assert sent["sortBy"] == "relevance" and sent["max_results"] == "10"
    assert search_titles(arxiv_server.settings(), "no such title anywhere") == []
    assert search_titles(arxiv_server.settings(), ' "" :: ') == []
    assert len(arxiv_server.requests) == 2


def test_search_query_and_url_form() -> None:
    from bot.core.config import ArxivSettings

    settings = ArxivSettings(query="ti:a OR abs:b", categories=("cs.CV", "eess.IV"))
    since = datetime(2026, 11, 1, 23, 59, 59, tzinfo=UTC)
    until = datetime(2026, 11, 2, 9, 30, tzinfo=UTC).astimezone(tz=None)
    assert search_query(settings, since, until) == (
        "(ti:a OR abs:b) AND (cat:cs.CV OR cat:eess.IV) AND submittedDate:[202611012359 TO 202611020930]")
    with pytest.raises(ValueError):
        search_query(settings, since.replace(tzinfo=None), until)
    with pytest.raises(ValueError):
        search_query(settings, until, since)


def test_request_url_is_the_documented_form(arxiv_server: ArxivServer) -> None:
    corpus(arxiv_server, 3)
    fetch_papers(arxiv_server.settings(query="ti:x"), SINCE, UNTIL)
    raw = arxiv_server.requests[0]
    assert raw.path == "/api/query"
    assert set(raw.query) == {"search_query", "id_list", "sortBy", "sortOrder", "start", "max_results"}
