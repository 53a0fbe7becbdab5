"""Read-only search queries and filters behind ``paperbot search``, ``similar`` and ``stats`` (whole
records for ``show`` and ``export`` are in ``db/records.py``).

Reads papers, predictions, list entries and proposals; writes nothing (connections are read-only:
``PRAGMA query_only``, or PostgreSQL's ``default_transaction_read_only``). It talks to SQLite through the
standard library's ``sqlite3`` rather than SQLAlchemy: importing SQLAlchemy and Alembic alone takes longer
than the half second a fresh ``paperbot search`` may take. PostgreSQL goes through ``db/pgread.py`` (the
same interface) and its keyword search through ``db/pgsearch.py``. A database that lacks a table these
queries need is handed to ``db.session.open_database`` once, which migrates it, as every command would.

Every value a user typed is a bound parameter. The only SQL assembled at run time is chosen from the fixed
fragments in this module (filter clauses per dialect, ``?`` placeholders for a list of ids).
"""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bot.core.errors import BotError, StoreError
from bot.core.files import sqlite_file
from bot.core.models import ABS_URL
from db.filters import (  # noqa: F401 - the filters' names, re-exported for the query side's callers
    FROM,
    NO_FILTERS,
    STATUS_SQL,
    STATUSES,
    UNCLASSIFIED,
    Filters,
    filter_sql,
    newest_first,
    no_limit,
    where_sql,
)
from db.pgread import connect_at, dialect, is_postgres

# Title matches count five times an abstract match, author matches twice (bm25 column weights).
RANK = "bm25(5.0, 1.0, 2.0)"
MAX_QUERY_CHARS = 500
RANK_WINDOW = 10_000  # rank at most this many matches (the newest): bm25 costs ~2-4 us per match
# The schema revision these queries are written for: Alembic's head (tests/db/test_query.py checks it).
# A database at another revision goes through ``db.session.open_database`` first.
SCHEMA_REVISION = "0014"
REQUIRED_TABLES = frozenset({"papers", "papers_fts", "classifications", "embeddings", "list_entries",
                             "proposals"})

ROW_COLUMNS = ("p.arxiv_id, p.title, p.authors, p.published, c.label, c.probability, "
               f"{STATUS_SQL} AS status")
_FTS_ERRORS = ("fts5", "syntax error", "unterminated string", "no such column", "unknown special query")


class QueryError(BotError):
    """A query that cannot be answered: says why in one line."""




# --- connection ---------------------------------------------------------------------------------------

def sqlite_path(url: str) -> str:
    """The file behind a ``sqlite:///`` URL; QueryError for other databases or an in-memory one."""
    path = sqlite_file(url)
    if path is not None:
        return path
    scheme, sep, _ = url.partition("://")
    if not sep or scheme.split("+")[0] != "sqlite":
        raise QueryError("search, show, similar, stats and export need a SQLite or PostgreSQL database "
                         f"(sqlite:///paperbot.db), not {scheme or url!r}")
    raise QueryError("the query commands need a database file, not an in-memory database")


def _open(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(f"file:{quote(str(path))}?mode=rw", uri=True, timeout=10.0)
    connection.row_factory = sqlite3.Row
    connection.execute("PRAGMA query_only = ON")
    return connection


def connect(url: str) -> sqlite3.Connection:
    """A read-only connection to the database at ``url`` (migrated first if it lacks a needed table):
    ``sqlite3`` for a SQLite file, a ``db.pgread.PgConnection`` (the same interface) for PostgreSQL."""
    if is_postgres(url):
        return connect_at(url, SCHEMA_REVISION)  # type: ignore[return-value]
    path = Path(sqlite_path(url)).expanduser()
    if not path.is_file():
        raise QueryError(f"no database at {path}; run `paperbot fetch` first or pass --db")
    try:
        connection = _open(path)
        tables = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
        version = connection.execute("SELECT version_num FROM alembic_version").fetchone() \
            if "alembic_version" in tables else None
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path} is not a readable database ({exc})") from None
    if tables >= REQUIRED_TABLES and version is not None and version[0] == SCHEMA_REVISION:
        return connection
    connection.close()
    # slow import; only for a database that is behind (migrated now) or newer than this code (refused)
    from db.session import open_database

    open_database(url).dispose()
    return _open(path)


# --- keyword expressions ------------------------------------------------------------------------------

_TERM_RE = re.compile(r'"([^"]*)"|(\S+)')
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def clean_query(text: str | None) -> str:
    """The query with control characters turned into spaces, trimmed; QueryError when it is too long."""
    cleaned = _CONTROL_RE.sub(" ", text or "").strip()
    if len(cleaned) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(cleaned)} characters long; keep it under {MAX_QUERY_CHARS}")
    return cleaned


def _has_word(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def escape_query(text: str) -> str:
    """The query as plain FTS5 strings: ``"a phrase"`` stays a phrase, ``quant*`` a prefix, the rest words.

    Used when the text is not valid FTS5 syntax. Pieces without a letter or digit are dropped (they
    would match nothing); an empty result means there is nothing to search for.
    """
    parts = []
    for match in _TERM_RE.finditer(text):
        phrase, word = match.group(1), match.group(2)
        if phrase is not None:
            if _has_word(phrase):
                parts.append('"' + phrase + '"')
            continue
        word = word.replace('"', "")
        prefix = word.endswith("*")
        word = word.rstrip("*")
        if _has_word(word):
            parts.append('"' + word + '"' + ("*" if prefix else ""))
    return " ".join(parts)


# --- rows ---------------------------------------------------------------------------------------------

def abs_url(arxiv_id: str) -> str:
    """The abstract page of a stored (already version-less) id, without re-parsing it."""
    return f"{ABS_URL}{arxiv_id}"


def _date(value: str | datetime | None) -> str | None:
    """``YYYY-MM-DD`` of a stored time: text on SQLite, a datetime on PostgreSQL."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    return value[:10] if value else None


def paper_row(row: sqlite3.Row, score: float | None = None) -> dict[str, Any]:
    """The stable fields of one result: arxiv_id, title, authors, published, label, probability,
    status, score, url."""
    probability = row["probability"]
    return {
        "arxiv_id": row["arxiv_id"], "title": row["title"], "authors": json.loads(row["authors"] or "[]"),
        "published": _date(row["published"]), "label": row["label"],
        "probability": None if probability is None else round(probability, 4),
        "status": row["status"], "score": None if score is None else round(score, 4),
        "url": abs_url(row["arxiv_id"]),
    }


@dataclass(frozen=True)
class KeywordHits:
    """Ranked rows; ``windowed`` when only the most recently added matches were ranked."""

    rows: list[dict[str, Any]]
    windowed: bool = False


def keyword_hits(connection: sqlite3.Connection, query: str, filters: Filters = NO_FILTERS,
                 limit: int | None = 20, *, window: int | None = RANK_WINDOW) -> KeywordHits:
    """Papers matching ``query`` (FTS5 syntax, or plain words when it is not valid syntax), best first.

    Ranking (bm25) costs microseconds per matching paper, so when ``query`` matches more than ``window``
    papers only the ``window`` most recently added matches are ranked (and filtered); if fewer than
    ``limit`` of those pass the filters, every match is. ``window=None`` always ranks every match.
    Raises QueryError when the query holds nothing to search for.
    """
    query = clean_query(query)
    if not query:
        raise QueryError("nothing to search for: give words, \"a phrase\" or a prefix*")
    if dialect(connection) == "postgresql":
        from db import pgsearch

        return pgsearch.keyword_hits(connection, query, filters, limit, window=window)
    params: dict[str, Any] = {"limit": -1 if limit is None else limit}
    clauses = ["f.papers_fts MATCH :match", f"f.rank MATCH '{RANK}'", "f.rowid >= :floor",
               *filter_sql(filters, params)]
    joins = (" JOIN papers p ON p.rowid = f.rowid LEFT JOIN classifications c ON c.arxiv_id = p.arxiv_id"
             if filters.active else "")
    ranked = (f"SELECT f.rowid AS rid, f.rank AS rank FROM papers_fts f{joins}{where_sql(clauses)} "
              "ORDER BY f.rank LIMIT :limit")
    sql = (f"SELECT {ROW_COLUMNS}, -top.rank AS score FROM ({ranked}) top "
           "JOIN papers p ON p.rowid = top.rid LEFT JOIN classifications c ON c.arxiv_id = p.arxiv_id "
           "ORDER BY top.rank, p.arxiv_id")
    floor_sql = "SELECT rowid FROM papers_fts WHERE papers_fts MATCH ? ORDER BY rowid DESC LIMIT 1 OFFSET ?"
    lowest = -(2 ** 63)
    for expression in (query, escape_query(query)):
        if not expression:
            break
        try:
            floor = None
            if window is not None and limit is not None and limit < window:
                floor = connection.execute(floor_sql, (expression, window - 1)).fetchone()
            rows = connection.execute(sql, {**params, "match": expression,
                                            "floor": floor[0] if floor else lowest}).fetchall()
            if floor and len(rows) < params["limit"]:  # the filters kept too few of the newest matches
                floor = None
                rows = connection.execute(sql, {**params, "match": expression, "floor": lowest}).fetchall()
        except sqlite3.OperationalError as exc:
            if not any(marker in str(exc) for marker in _FTS_ERRORS):
                raise StoreError(f"search failed: {exc}") from None
            continue
        return KeywordHits([paper_row(row, row["score"]) for row in rows], windowed=floor is not None)
    raise QueryError(f"nothing to search for in {query!r}: give words, \"a phrase\" or a prefix*")


def keyword_search(connection: sqlite3.Connection, query: str, filters: Filters = NO_FILTERS,
                   limit: int | None = 20, *, window: int | None = RANK_WINDOW) -> list[dict[str, Any]]:
    """The rows of ``keyword_hits``."""
    return keyword_hits(connection, query, filters, limit, window=window).rows


def browse(connection: sqlite3.Connection, filters: Filters = NO_FILTERS,
           limit: int | None = 20) -> list[dict[str, Any]]:
    """Papers matching ``filters`` (no query), newest first."""
    params: dict[str, Any] = {"limit": no_limit(connection) if limit is None else limit}
    flavour = dialect(connection)
    sql = (f"SELECT {ROW_COLUMNS} FROM {FROM}{where_sql(filter_sql(filters, params, flavour))} "
           f"{newest_first(flavour)} LIMIT :limit")
    return [paper_row(row) for row in connection.execute(sql, params)]


def filtered_ids(connection: sqlite3.Connection, filters: Filters) -> set[str]:
    """The ids of every paper matching ``filters``."""
    params: dict[str, Any] = {}
    sql = f"SELECT p.arxiv_id FROM {FROM}{where_sql(filter_sql(filters, params, dialect(connection)))}"
    return {row[0] for row in connection.execute(sql, params)}


def rows_for(connection: sqlite3.Connection, scored: Sequence[tuple[str, float]]) -> list[dict[str, Any]]:
    """Result rows for ``(arxiv_id, score)`` pairs, in the given order."""
    found: dict[str, sqlite3.Row] = {}
    ids = [arxiv_id for arxiv_id, _ in scored]
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in connection.execute(f"SELECT {ROW_COLUMNS} FROM {FROM} WHERE p.arxiv_id IN ({marks})",
                                      chunk):
            found[row["arxiv_id"]] = row
    return [paper_row(found[arxiv_id], score) for arxiv_id, score in scored if arxiv_id in found]


SCAN_MMAP_BYTES = 1 << 40  # SQLite caps it at its own maximum (2 GB unless compiled otherwise)


@contextlib.contextmanager
def mapped(connection: Any) -> Iterator[None]:
    """SQLite reads the file through mmap meanwhile (a scan of a large table a sixth to a third faster: no
    copy into its page cache); then as it was. Nothing on PostgreSQL."""
    if dialect(connection) != "sqlite":
        yield
        return
    before = int(connection.execute("PRAGMA mmap_size").fetchone()[0])
    connection.execute(f"PRAGMA mmap_size = {SCAN_MMAP_BYTES}")
    try:
        yield
    finally:
        connection.execute(f"PRAGMA mmap_size = {before}")
