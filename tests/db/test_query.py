"""db/query.py (and db/pgsearch.py) on a small real database: keyword search, filters, the read-only
connection, each on SQLite and on PostgreSQL.

The database (tests/support/database.py, the ``any_query_db`` and ``any_connection`` fixtures) is migrated
by Alembic and filled through the real store; list entries and proposals are ORM rows.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from db.session import head_revision
from tests.support.database import PAPERS, ids

T0 = datetime(2026, 1, 1, tzinfo=UTC)


# --- keyword search ------------------------------------------------------------------------------------

def test_keyword_search_ranks_title_matches_first(any_connection) -> None:  # type: ignore[no-untyped-def]
    from db.query import keyword_search

    rows = keyword_search(any_connection, "caching")
    assert ids(rows) == ["2604.00077", "2312.00858"]  # in the title beats in the abstract
    assert rows[0]["score"] > rows[1]["score"] > 0
    assert list(rows[0]) == ["arxiv_id", "title", "authors", "published", "label", "probability", "status",
                             "score", "url"]
    assert rows[0]["url"] == "https://arxiv.org/abs/2604.00077"


def test_phrases_prefixes_and_columns(any_connection) -> None:  # type: ignore[no-untyped-def]
    from db.query import keyword_search

    assert ids(keyword_search(any_connection, '"token merging"')) == ["2303.17604"]
    assert set(ids(keyword_search(any_connection, "quantiz*"))) == {"2302.04304", "2603.01234"}
    assert ids(keyword_search(any_connection, "title:caching")) == ["2604.00077"]
    assert ids(keyword_search(any_connection, "authors:bolya")) == ["2303.17604"]
    assert ids(keyword_search(any_connection, "muller")) == ["2604.00555"]  # diacritics folded


@pytest.mark.parametrize("query, expected", [
    ('"token merging', ["2303.17604"]),           # unbalanced quote: searched as words
    ("few-step", []),                             # FTS reads "-step" as a column filter: escaped
    ("W4A8 4-bit", ["2302.04304"]),
    ("cs.CV", []),
    ("NEAR", []),
    ("NOT diffusion", []),                        # a bare NOT is invalid syntax: the word "not"
    ("Müller", ["2604.00555"]),
    ("扩散模型", []),
    ("'; DROP TABLE papers; --", []),
    ("1; DELETE FROM papers", []),
    ("title:", []),
    ("{Heads} & 50%", ["2604.00555"]),
])
def test_odd_queries_never_fail_or_inject(any_connection, query: str, expected: list[str]) -> None:  # type: ignore[no-untyped-def]
    from db.query import keyword_search

    assert ids(keyword_search(any_connection, query)) == expected
    assert any_connection.execute("SELECT count(*) FROM papers").fetchone()[0] == len(PAPERS)


@pytest.mark.parametrize("query", ["*", "-", ":", '"', "'", "()", "  ", "\x00\x1b"])
def test_queries_without_words_are_a_clear_error(any_connection, query: str) -> None:  # type: ignore[no-untyped-def]
    from db.query import QueryError, keyword_search

    with pytest.raises(QueryError, match="nothing to search for"):
        keyword_search(any_connection, query)


def test_connection_is_read_only(any_connection) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    import psycopg

    with pytest.raises((sqlite3.OperationalError, psycopg.Error), match="readonly|read-only|query_only"):
        any_connection.execute("DELETE FROM papers")


# --- filters -------------------------------------------------------------------------------------------

def test_filters(any_connection) -> None:  # type: ignore[no-untyped-def]
    from db.query import Filters, browse, keyword_search

    def browse_ids(**kw: object) -> list[str]:
        return ids(browse(any_connection, Filters(**kw), limit=None))  # type: ignore[arg-type]

    assert browse_ids(labels=("quantization",)) == ["2603.01234", "2302.04304"]  # newest first
    assert browse_ids(labels=("unclassified",)) == ["2605.00001"]
    assert browse_ids(statuses=("listed",)) == ["2604.00555", "2303.17604", "2302.04304", "2202.00512"]
    assert browse_ids(statuses=("proposed",)) == ["2603.01234"]
    assert browse_ids(statuses=("rejected",)) == ["2312.00858"]
    assert browse_ids(statuses=("seen",)) == ["2605.00001", "2604.00077"]
    assert browse_ids(since=datetime(2026, 3, 1, tzinfo=UTC), until=datetime(2026, 4, 3, tzinfo=UTC)) == [
        "2604.00077", "2603.01234"]
    assert browse_ids(categories=("cs.CL",)) == ["2604.00077"]
    assert browse_ids(categories=("cs.LG", "cs.CL")) == ["2604.00077", "2603.01234"]
    assert browse_ids(authors=("hoffman",)) == ["2303.17604"]
    assert browse_ids(authors=("%",)) == []  # LIKE wildcards are literal
    # "What has come out on quantizing video diffusion models since March?"
    assert ids(keyword_search(any_connection, "quantiz* video diffusion",
                              Filters(since=datetime(2026, 3, 1, tzinfo=UTC)))) == ["2603.01234"]
    # "Which papers did the bot turn away that mention caching?"
    assert ids(keyword_search(any_connection, "caching", Filters(labels=("irrelevant",)))) == ["2604.00077"]




def test_connect_refuses_other_databases(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from db.query import QueryError, connect

    with pytest.raises(QueryError, match="SQLite or PostgreSQL"):
        connect("mysql://localhost/papers")
    with pytest.raises(QueryError, match="no database"):
        connect(f"sqlite:///{tmp_path / 'missing.db'}")


def test_the_query_layers_revision_is_alembics_head() -> None:
    from db.query import SCHEMA_REVISION

    assert head_revision() == SCHEMA_REVISION
