"""``paperbot export --format csv``: the CSV records written by the database itself, so that a
1,000,000-paper export runs no Python per cell (about a microsecond of Python per row is left).

Most of a record is the paper's own twelve fields (``HEAD_FIELDS``: id, title, authors, abstract, dates,
...), and formatting them (quoting, joining the JSON lists, ISO times) is most of the work. So it is done
once, when the paper is written: ``papers.csv_fields`` holds them as CSV text, kept by triggers
(migration 0012: SQLite ``AFTER INSERT`` / ``AFTER UPDATE OF`` those columns, PostgreSQL a ``BEFORE``
trigger), whatever program writes the row. An export reads that column and appends the five fields that
come from other tables (label, probability, status, list venue, URL); a row without it (triggers bypassed)
gets the same text computed on the spot (``sqlite_head`` / ``postgres_head``).

The text is what Python's ``csv`` module writes for the records of ``db.records.export_rows``
(``tests/cli/test_export.py`` compares them): lists joined with ``"; "``, times as ISO 8601 UTC, a field
quoted only when it holds a delimiter, a quote or a line end. A lone carriage return counts as a line end,
as in the ``csv`` module from Python 3.12 on (3.11's leaves such a field unquoted).

The papers' statuses and list venues come from two pre-aggregated tables joined once (the latest proposal
and the first list entry per paper) instead of three correlated subqueries per row. Read-only; every user
value is a bound parameter.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator, Sequence
from typing import Any

from db.filters import FROM, NO_FILTERS, Filters, filter_sql, newest_first, no_limit, where_sql
from db.pgread import dialect
from db.query import ABS_URL, mapped

FIELDS = ("arxiv_id", "version", "title", "authors", "abstract", "published", "updated", "categories",
          "primary_category", "comment", "journal_ref", "doi", "label", "probability", "status",
          "list_venue", "url")

# The latest proposal and the first list entry of each paper, joined once: a paper's status and venue.
LATEST_PROPOSAL = ("(SELECT arxiv_id, state FROM (SELECT arxiv_id, state, row_number() OVER ("
                   "PARTITION BY arxiv_id ORDER BY proposed_at DESC, id DESC) AS n FROM proposals) pn "
                   "WHERE n = 1)")
FIRST_ENTRY = ("(SELECT arxiv_id, venue FROM (SELECT arxiv_id, venue, row_number() OVER ("
               "PARTITION BY arxiv_id ORDER BY line_no, id) AS n FROM list_entries "
               "WHERE arxiv_id IS NOT NULL) en WHERE n = 1)")
JOINS = (f" LEFT JOIN {LATEST_PROPOSAL} lp ON lp.arxiv_id = p.arxiv_id"
         f" LEFT JOIN {FIRST_ENTRY} fe ON fe.arxiv_id = p.arxiv_id")
STATUS = ("CASE WHEN fe.arxiv_id IS NOT NULL THEN 'listed' ELSE CASE lp.state WHEN 'merged' THEN 'listed' "
          "WHEN 'open' THEN 'proposed' WHEN 'rejected' THEN 'rejected' ELSE 'seen' END END")
# SQLAlchemy's layout (``2026-03-02 17:00:00.000000``) is cut and pasted; any other goes through strftime
_TIME = ("CASE WHEN substr({0}, 11, 1) = ' ' AND length({0}) >= 19 "
         "THEN substr({0}, 1, 10) || 'T' || substr({0}, 12, 8) || '+00:00' "
         "ELSE strftime('%Y-%m-%dT%H:%M:%S+00:00', {0}) END")
_PG_TIME = "to_char({0}, 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')"
# A JSON list as json.dumps writes it (``["a", "b"]``, no escapes) is joined by string surgery; any other
# shape of list goes through the JSON functions.
_FAST_LIST = "replace(substr({0}, 3, length({0}) - 4), '\", \"', '; ')"
_FAST_OK = ("(substr({0}, 1, 2) = '[\"' AND substr({0}, -2) = '\"]' AND instr({0}, '\\') = 0 "
            "AND instr(" + _FAST_LIST + ", '\"') = 0)")
_PG_LIST = ("(SELECT string_agg(e.value, '; ' ORDER BY e.n) "
            "FROM json_array_elements_text(({0})::json) WITH ORDINALITY AS e(value, n))")


QUOTE_CHARACTERS = (",", '"', "\n", "\r")  # a field holding any of them is quoted
_CHAR = {",": "','", '"': "'\"'", "\n": "char(10)", "\r": "char(13)"}
HEAD_FIELDS = FIELDS[:FIELDS.index("doi") + 1]  # the paper's own fields: ``papers.csv_fields``


def _quoted(column: str) -> str:
    """The field as the csv module writes it. A delimiter is looked for first: most abstracts have one
    early, and ``instr`` costs about 15 instructions per byte it reads."""
    tests = " OR ".join(f"instr({column}, {_CHAR[c]})" for c in QUOTE_CHARACTERS)
    return f"CASE WHEN {tests} THEN '\"' || replace({column}, '\"', '\"\"') || '\"' ELSE {column} END"


def _pg_quoted(column: str) -> str:
    return (f"CASE WHEN {column} ~ ('[,\"' || chr(10) || chr(13) || ']') "
            f"THEN '\"' || replace({column}, '\"', '\"\"') || '\"' ELSE {column} END")


def sqlite_head(prefix: str = "p.") -> str:
    """The record's first twelve fields (``HEAD_FIELDS``, without the comma after them) from the columns
    of one ``papers`` row, each column named ``prefix`` + its name. Migration 0012 froze a copy of it
    (``prefix=""``) in the triggers that keep ``papers.csv_fields``."""
    def column(name: str) -> str:
        return prefix + name

    def listed(name: str) -> str:
        c = column(name)
        return (f"CASE WHEN {_FAST_OK.format(c)} THEN {_FAST_LIST.format(c)} ELSE "
                f"(SELECT group_concat(value, '; ') FROM json_each({c})) END")

    cells = [column("arxiv_id"), column("version"), _quoted(column("title")), _quoted(listed("authors")),
             _quoted(column("abstract")), _TIME.format(column("published")), _TIME.format(column("updated")),
             _quoted(listed("categories")), *(_quoted(column(name)) for name in HEAD_FIELDS[8:])]
    return f"printf('{','.join('%s' for _ in cells)}', {', '.join(cells)})"


def postgres_head(prefix: str = "p.") -> str:
    """``sqlite_head`` in PostgreSQL's SQL (migration 0012's trigger function, ``prefix="NEW."``)."""
    def column(name: str) -> str:
        return prefix + name

    def listed(name: str) -> str:
        c = column(name)
        fast = _FAST_LIST.format(c)
        return (f"CASE WHEN left({c}, 2) = '[\"' AND right({c}, 2) = '\"]' AND strpos({c}, '\\') = 0 "
                f"AND strpos({fast}, '\"') = 0 THEN {fast} ELSE {_PG_LIST.format(c)} END")

    cells = [column("arxiv_id"), f"{column('version')}::text", _pg_quoted(column("title")),
             _pg_quoted(listed("authors")), _pg_quoted(column("abstract")),
             _PG_TIME.format(column("published")), _PG_TIME.format(column("updated")),
             _pg_quoted(listed("categories")), *(_pg_quoted(column(name)) for name in HEAD_FIELDS[8:])]
    return " || ',' || ".join(f"coalesce({cell}, '')" for cell in cells)


def _tail(quote: Any, probability: str) -> list[str]:
    return ["c.label", probability, STATUS, quote("fe.venue"), f"'{ABS_URL}' || p.arxiv_id"]


def sqlite_sql(where: str, order: str) -> str:
    """One CSV record (with its line end) per row, and the paper's id: the paper's stored fields, the
    fallback computed for a row without them, then its label, probability, status, venue and URL."""
    head = f"coalesce(p.csv_fields, {sqlite_head()})"
    cells = [head, *_tail(_quoted, "round(c.probability, 4)")]
    line = f"printf('{','.join('%s' for _ in cells)}' || char(10), {', '.join(cells)})"
    return f"SELECT p.arxiv_id, {line} FROM {FROM}{JOINS}{where} {order} LIMIT :limit"


def postgres_sql(where: str, order: str, fallback: bool = True) -> str:
    """``sqlite_sql`` for PostgreSQL: each record as one text value (COPY ends the line); probabilities
    as Python prints a float (``1.0``, ``0.91``). Without ``fallback`` only ``csv_fields`` is read: the
    sort then carries the record alone, not every column the fallback would need (a third of the time)."""
    # the probability's text once per row, before the sort, which then carries it instead of the float
    probability = ("(SELECT CASE WHEN r = trunc(r) THEN trunc(r)::bigint::text || '.0' ELSE r::float8::text "
                   "END FROM (SELECT round(c.probability::numeric, 4) AS r) x)")
    tail = " || ',' || ".join(f"coalesce({cell}, '')" for cell in _tail(_pg_quoted, "f.probability"))
    head = f"coalesce(p.csv_fields, {postgres_head()})" if fallback else "p.csv_fields"
    return (f"SELECT {head} || ',' || {tail} FROM {FROM}{JOINS} "
            f"CROSS JOIN LATERAL (SELECT {probability} AS probability) f{where} {order} LIMIT :limit")


CHUNK_BYTES = 1 << 20
# COPY's text format, undone: a backslash before a control character's letter, or before a backslash.
# Each record is one value here, so its own line ends arrive as ``\\n`` and COPY's end of row as a line end.
_ESCAPE = re.compile(rb"\\(.)", re.DOTALL)
_ESCAPED = {b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v", b"\\": b"\\"}


class CsvRecords:
    """The CSV records of an export as text chunks, each ending a record; ``rows`` counts the records
    once the chunks are consumed."""

    def __init__(self, connection: Any, filters: Filters = NO_FILTERS, *, ids: Sequence[str] | None = None,
                 limit: int | None = None) -> None:
        self.connection, self.filters, self.ids, self.limit = connection, filters, ids, limit
        self.rows = 0

    def __iter__(self) -> Iterator[str]:
        for chunk in self._chunks(binary=False):
            yield chunk if isinstance(chunk, str) else chunk.decode("utf-8")

    def encoded(self) -> Iterator[bytes]:
        """The same records as UTF-8 bytes: on SQLite the stored text as it is, never decoded (a fifth of
        a 1,000,000-paper export's time is spent turning it into Python strings and back)."""
        for chunk in self._chunks(binary=True):
            yield chunk if isinstance(chunk, bytes) else chunk.encode("utf-8")

    def _chunks(self, binary: bool) -> Iterator[str | bytes]:
        flavour = dialect(self.connection)
        if self.ids is not None:
            yield from self._by_ids(flavour)
            return
        params: dict[str, Any] = {"limit": no_limit(self.connection) if self.limit is None else self.limit}
        where = where_sql(filter_sql(self.filters, params, flavour))
        if flavour == "postgresql":
            sql = postgres_sql(where, newest_first(flavour), fallback=self._fields_missing())
            yield from self._copied(sql, params, binary)
            return
        sql = sqlite_sql(where, newest_first(flavour))
        before = self.connection.text_factory
        self.connection.text_factory = bytes if binary else str
        try:
            with mapped(self.connection):
                cursor = self.connection.execute(sql, params)
                empty = b"" if binary else ""
                while batch := cursor.fetchmany(2000):
                    self.rows += len(batch)
                    yield empty.join([row[1] for row in batch])
        finally:
            self.connection.text_factory = before

    def _fields_missing(self) -> bool:
        """Whether a paper lacks ``csv_fields`` (an empty partial index answers, migration 0012)."""
        return bool(self.connection.execute(
            "SELECT EXISTS (SELECT 1 FROM papers WHERE csv_fields IS NULL)").fetchone()[0])

    def _copied(self, sql: str, params: dict[str, Any], binary: bool = False) -> Iterator[str | bytes]:
        """The records of ``postgres_sql`` as ``COPY ... (FORMAT text)`` sends them, unescaped, in chunks of
        whole records (so an escape is never split); UTF-8 bytes when ``binary``."""
        copy = self.connection.copy_out(f"COPY ({sql}) TO STDOUT", params)
        pending: list[bytes] = []
        size = 0
        for data in copy.blocks():
            pending.append(data)
            size += len(data)
            if size >= CHUNK_BYTES and data.endswith(b"\n"):
                yield self._record_text(b"".join(pending), copy.encoding, binary)
                pending, size = [], 0
        if pending:
            yield self._record_text(b"".join(pending), copy.encoding, binary)
        self.rows += copy.rows

    @staticmethod
    def _record_text(data: bytes, encoding: str, binary: bool) -> str | bytes:
        if b"\\" in data:
            data = _ESCAPE.sub(lambda match: _ESCAPED.get(match.group(1), match.group(1)), data)
        if binary and codecs.lookup(encoding).name == "utf-8":
            return data
        text = data.decode(encoding)
        return text.encode("utf-8") if binary else text

    def _by_ids(self, flavour: str) -> Iterator[str | bytes]:
        wanted = list(self.ids or ())[:self.limit] if self.limit is not None else list(self.ids or ())
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            if flavour == "postgresql":  # in the given order: the array's
                sql = postgres_sql(" WHERE p.arxiv_id = ANY(CAST(:ids AS text[]))",
                                   "ORDER BY array_position(CAST(:ids AS text[]), p.arxiv_id::text)")
                yield from self._copied(sql, {"ids": chunk, "limit": None})
                continue
            params: dict[str, Any] = {f"id{i}": arxiv_id for i, arxiv_id in enumerate(chunk)}
            where = f" WHERE p.arxiv_id IN ({', '.join(f':id{i}' for i in range(len(chunk)))})"
            lines = {row[0]: row[1] for row in self.connection.execute(
                sqlite_sql(where, ""), {**params, "limit": -1})}
            for arxiv_id in chunk:
                if arxiv_id in lines:
                    self.rows += 1
                    yield lines[arxiv_id]
