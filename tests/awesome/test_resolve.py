"""bot/awesome/resolve.py through bot.pipeline.stages.resolve_list, against the loopback arXiv server: what a
list resolution asks arXiv, and that it never asks the same thing twice in a row."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from bot.arxiv.client import ArxivLookup
from bot.awesome.insert import parse_list
from bot.awesome.resolve import NOT_FOUND_RETRY_AFTER, resolve
from bot.core.config import ListSettings, Settings
from bot.pipeline.stages import resolve_list
from db import decisions
from db.session import session_scope
from tests.fixtures.atom.synthetic import EntrySpec
from tests.support.arxiv_server import ArxivServer, Fault

T0 = datetime(2026, 3, 2, tzinfo=UTC)
LIST = """# List

## Other

- [CVPR] Found By Its Title On arXiv
- [ICML] A Title arXiv Has Never Heard Of
- [arxiv] Linked But Withdrawn [[arXiv](https://arxiv.org/abs/2601.09999)]
- [arxiv] Linked And Served [[arXiv](https://arxiv.org/abs/2601.00001)]
"""


def served(arxiv_id: str, title: str) -> EntrySpec:
    return EntrySpec(arxiv_id=arxiv_id, version=1, published=T0, updated=T0, title=title, summary="x")


def settings(server: ArxivServer, **arxiv: object) -> Settings:
    return Settings(arxiv=server.settings(delay_seconds=0.0, **arxiv),
                    list=ListSettings(sections={"other": "Other"}))


def asked_for(server: ArxivServer, *, since: int = 0) -> set[str]:
    """What the requests from the ``since``-th on asked (an empty page is asked again: counted once)."""
    return {r.query.get("search_query") or f"id_list={r.query.get('id_list')}"
            for r in server.requests[since:]}


def statuses(engine: Engine) -> dict[str, tuple[str | None, str]]:
    with session_scope(engine) as session:
        return {e.title: (e.arxiv_id, e.resolved_by) for e in decisions.list_entries(session)}


def test_a_second_resolution_asks_arxiv_nothing(arxiv_server: ArxivServer, engine: Engine) -> None:
    arxiv_server.add(served("2601.00001", "Linked And Served"),
                     served("2601.00002", "Found By Its Title On arXiv"))
    doc, s = parse_list(LIST), settings(arxiv_server)
    first = resolve_list(s, engine, doc)
    asked = len(arxiv_server.requests)
    assert asked == 3 and first.searched == 2  # the two links in one id_list request, two title searches
    assert statuses(engine) == {
        "Found By Its Title On arXiv": ("2601.00002", "search"),
        "A Title arXiv Has Never Heard Of": (None, "not-found"),
        "Linked But Withdrawn": (None, "not-found"),
        "Linked And Served": ("2601.00001", "link"),
    }
    again = resolve_list(s, engine, doc)
    assert len(arxiv_server.requests) == asked and again.searched == 0
    assert statuses(engine)["Found By Its Title On arXiv"] == ("2601.00002", "title")  # now known locally
    assert [t for t, (_, how) in statuses(engine).items() if how == "not-found"] == [
        "A Title arXiv Has Never Heard Of", "Linked But Withdrawn"]
    assert set(again.listed) == {"2601.00001", "2601.00002", "2601.09999"}
    retried = resolve_list(s, engine, doc, retry_not_found=True)  # --retry: the misses are asked again
    assert asked_for(arxiv_server, since=asked) == {"id_list=2601.09999",
                                                    'ti:"a title arxiv has never heard of"'}
    assert retried.searched == 1


def test_a_miss_is_asked_again_once_it_is_old(arxiv_server: ArxivServer, engine: Engine) -> None:
    doc, s = parse_list(LIST), settings(arxiv_server)
    lookup = ArxivLookup(s.arxiv)
    resolve(s, engine, doc, lookup=lookup, corpus_titles={}, now=T0)
    asked = len(arxiv_server.requests)
    soon = T0 + NOT_FOUND_RETRY_AFTER - timedelta(hours=1)
    resolve(s, engine, doc, lookup=lookup, corpus_titles={}, now=soon)
    assert len(arxiv_server.requests) == asked
    resolve(s, engine, doc, lookup=lookup, corpus_titles={}, now=T0 + NOT_FOUND_RETRY_AFTER)
    assert asked_for(arxiv_server, since=asked) == {  # both links again, and both titles
        "id_list=2601.00001,2601.09999", 'ti:"found by its title on arxiv"',
        'ti:"a title arxiv has never heard of"'}


def test_arxiv_unreachable_matches_by_link_and_title_and_remembers_no_miss(
        arxiv_server: ArxivServer, engine: Engine, caplog: pytest.LogCaptureFixture) -> None:
    arxiv_server.fail(Fault.HTTP_503, times=100)
    doc, s = parse_list(LIST), settings(arxiv_server, max_retries=0)
    with caplog.at_level(logging.WARNING, logger="bot.awesome.resolve"):
        resolution = resolve_list(s, engine, doc)
    assert len(arxiv_server.requests) == 1  # the id_list request failed: no title search follows
    assert "the list is matched by link and title only" in caplog.text
    assert set(resolution.listed) == {"2601.00001", "2601.09999"}  # links still count as listed
    assert {how for _, how in statuses(engine).values()} == {"unresolved"}  # nothing remembered as missing
