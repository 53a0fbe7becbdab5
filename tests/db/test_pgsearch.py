"""db/pgsearch.py: FTS5 query syntax read into a PostgreSQL tsquery, and keyword search on both backends'
real databases (ranking weights, the window over the newest matches, hostile input)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from tests.support.database import PAPERS, ids


@pytest.mark.parametrize("query, tsquery", [
    ("token merging", "(token & merging)"),
    ('"token merging"', "(token <-> merging)"),
    ("quantiz*", "quantiz:*"),
    ('"video diff"*', "(video <-> diff:*)"),
    ("a OR b c", "(a | (b & c))"),
    ("(a OR b) c", "((a | b) & c)"),
    ("a AND b NOT c", "(a & (b & !c))"),
    ("title:caching", "caching:A"),
    ("authors:bolya hoffman", "(bolya:B & hoffman)"),
    ("{title authors}:quant*", "quant:*AB"),
    ("-title:cache", "cache:BC"),
    ("title:(a OR abstract:b)", "a:A"),  # no column is left for b
    ("NEAR(token merging, 3)", "(token & merging)"),
    ("^token", "token"),
    ('"token" + "merging"', "(token <-> merging)"),
    ("W4A8 few_step", "(W4A8 & (few <-> step))"),
    ('"it\'s <-> a | b:*"', "(it <-> s <-> a <-> b)"),  # tsquery operators inside a phrase are dropped
    ("Müller 扩散", "(Müller & 扩散)"),
    ('"" OR token', "token"),
    ("✓", None),
])
def test_fts5_syntax_as_a_tsquery(query: str, tsquery: str | None) -> None:
    from db.pgsearch import to_tsquery_text

    assert to_tsquery_text(query) == tsquery


@pytest.mark.parametrize("query", ["'); DROP TABLE papers; --", "a:b:c", "!!&|", "few-step", "cs.CV",
                                   "token AND", "NOT token", '"unbalanced', "title:", "a OR", "((", ")",
                                   "NEAR(a b, x)", "{title nope}:a", "%_%", "\\"])
def test_what_fts5_refuses_is_a_syntax_error(query: str) -> None:
    from db.pgsearch import FtsSyntaxError, to_tsquery_text

    with pytest.raises(FtsSyntaxError):
        to_tsquery_text(query)


@pytest.fixture
def pg_connection(pg_url: str) -> Iterator:  # type: ignore[type-arg]
    from db.query import connect
    from db.session import open_database
    from tests.support.database import fill

    engine = open_database(pg_url)
    fill(engine)
    engine.dispose()
    conn = connect(pg_url)
    yield conn
    conn.close()


HOSTILE = ["'); DROP TABLE papers; --", "a:b:c", "!!&|", "'", "\\", "a <-> b", "x:*", "!x", "&", "|",
           "title:'; DELETE FROM papers", '"a" & "b"', "(((a", "NEAR(", "{", "}:", "*a*", "a''b", "%s %(x)s",
           "Robert'); DROP TABLE classifications;--", "Ünïcødé ✓ 扩散", "x" * 400, "-", "OR OR", "NOT"]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_input_gives_rows_or_a_query_error_never_a_crash(pg_connection, query: str) -> None:  # type: ignore[no-untyped-def]
    from db.query import Filters, QueryError, keyword_search

    for filters in (Filters(), Filters(authors=(query,), categories=(query,))):
        try:
            rows = keyword_search(pg_connection, query, filters)
        except QueryError as exc:
            assert "nothing to search for" in str(exc)
        else:
            assert isinstance(rows, list)
    assert pg_connection.execute("SELECT count(*) FROM papers").fetchone()[0] == len(PAPERS)
    assert pg_connection.execute("SELECT count(*) FROM classifications").fetchone()[0] == 7


def test_translated_queries_find_what_fts5_finds(pg_connection) -> None:  # type: ignore[no-untyped-def]
    from db.query import keyword_search

    def found(query: str) -> list[str]:
        return ids(keyword_search(pg_connection, query))

    assert found("caching OR quantizing") == ["2604.00077", "2302.04304", "2603.01234", "2312.00858"]
    assert set(found("diffusion NOT video NOT quantiz*")) == {
        "2312.00858", "2303.17604", "2202.00512", "2605.00001"}
    assert set(found("abstract:caching")) == {"2604.00077", "2312.00858"}  # ranked on every column
    assert found("-abstract:caching") == ["2604.00077"]
    assert found('"fast stable"') == ["2303.17604"] and found('"stable fast"') == []
    assert found("distill*") == ["2202.00512"]
    assert found("a:b:c") == [] and found("cs.CV") == []


def test_ranking_weighs_title_then_authors_then_abstract(any_db_url: str) -> None:
    """bm25's column weights on SQLite (5, 2, 1) and ts_rank's on PostgreSQL rank alike."""
    from bot.core.models import Paper
    from db.query import connect, keyword_hits
    from db.session import open_database, session_scope
    from db.store import upsert_papers

    when = datetime(2026, 1, 1, tzinfo=UTC)
    papers = [Paper(arxiv_id="2601.00003", title="Horses", abstract="A study of zebras.", authors=("Ann",),
                    published=when),
              Paper(arxiv_id="2601.00002", title="Horses", abstract="A study.", authors=("Zebra Smith",),
                    published=when),
              Paper(arxiv_id="2601.00001", title="Zebra Crossings", abstract="A study.", authors=("Bo",),
                    published=when)]
    papers += [Paper(arxiv_id=f"2601.0010{i}", title="Horses", abstract="A study.", published=when)
               for i in range(6)]  # papers without the word, so that it weighs something in bm25
    engine = open_database(any_db_url)
    with session_scope(engine) as session:
        upsert_papers(session, papers)
    engine.dispose()
    connection = connect(any_db_url)
    try:
        hits = keyword_hits(connection, "zebra*")
        assert ids(hits.rows) == ["2601.00001", "2601.00002", "2601.00003"] and not hits.windowed
        assert hits.rows[0]["score"] > hits.rows[1]["score"] > hits.rows[2]["score"] > 0
        windowed = keyword_hits(connection, "zebra*", limit=1, window=2)
        assert windowed.windowed and len(windowed.rows) == 1
    finally:
        connection.close()
