"""bot/arxiv/client.py against the loopback arXiv server: paging, versions, empty pages, id lists and title
search, over real HTTP and real Atom XML."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.arxiv.client import (
    EMPTY_FIRST_PAGE_RETRIES,
    EMPTY_TAIL_RETRIES,
    ID_BATCH_SIZE,
    fetch_by_ids,
    fetch_papers,
    search_query,
    search_titles,
)
from bot.core.errors import FetchError
from tests.support.arxiv import SINCE, UNTIL, assert_polite, corpus
from tests.support.arxiv_server import ArxivServer, EntrySpec, Fault  # fixture: tests/conftest.py

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


# -- empty pages ----------------------------------------------------------------------------------------

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
