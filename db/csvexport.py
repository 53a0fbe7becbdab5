"""``paperbot export --format csv``: the CSV records written by the database itself, so that a
1,000,000-paper export runs no Python per cell (about a microsecond of Python per row is left).

SQLite builds each record as one text value (``printf`` over the quoted fields) in a query whose nested
subqueries are co-routines: every field is computed once, as rows stream. PostgreSQL formats the rows in
``COPY (...) TO STDOUT (FORMAT csv)`` and sends them as bytes. Either way the text is what Python's ``csv``
module writes for the records of ``db.records.export_rows`` (``tests/cli/test_export.py`` compares them):
lists joined with ``"; "``, times as ISO 8601 UTC, a field quoted only when it holds a delimiter, a quote
or a line end. One difference remains: PostgreSQL also quotes a field that holds a lone carriage return.

The papers' statuses and list venues come from two pre-aggregated tables joined once (the latest proposal
and the first list entry per paper) instead of three correlated subqueries per row. Read-only; every user
value is a bound parameter.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from typing import Any

from db.filters import FROM, NO_FILTERS, Filters, filter_sql, newest_first, no_limit, where_sql
from db.pgread import dialect
from db.query import ABS_URL

FIELDS = ("arxiv_id", "version", "title", "authors", "abstract", "published", "updated", "categories",
          "primary_category", "comment", "journal_ref", "doi", "label", "probability", "status",
          "list_venue", "url")
# the fields that may need quoting (arXiv ids, labels and statuses never hold a comma or a quote)
TEXT_FIELDS = frozenset(FIELDS) - {"arxiv_id", "version", "published", "updated", "label", "probability",
                                   "status", "url"}

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
_TIME = ("CASE WHEN substr(p.{0}, 11, 1) = ' ' AND length(p.{0}) >= 19 "
         "THEN substr(p.{0}, 1, 10) || 'T' || substr(p.{0}, 12, 8) || '+00:00' "
         "ELSE strftime('%Y-%m-%dT%H:%M:%S+00:00', p.{0}) END")
_PG_TIME = "to_char(p.{0}, 'YYYY-MM-DD\"T\"HH24:MI:SS\"+00:00\"')"
# A JSON list as json.dumps writes it (``["a", "b"]``, no escapes) is joined by string surgery; any other
# shape of list goes through the JSON functions.
_FAST_LIST = "replace(substr(p.{0}, 3, length(p.{0}) - 4), '\", \"', '; ')"
_FAST_OK = ("(substr(p.{0}, 1, 2) = '[\"' AND substr(p.{0}, -2) = '\"]' AND instr(p.{0}, '\\') = 0 "
            "AND instr(" + _FAST_LIST + ", '\"') = 0)")
_PG_FAST_OK = ("(left(p.{0}, 2) = '[\"' AND right(p.{0}, 2) = '\"]' AND strpos(p.{0}, '\\') = 0 "
               "AND strpos(f.{0}_fast, '\"') = 0)")
_PG_LIST = ("(SELECT string_agg(e.value, '; ' ORDER BY e.n) "
            "FROM json_array_elements_text(p.{0}::json) WITH ORDINALITY AS e(value, n))")


def _quote_characters() -> tuple[str, ...]:
    """The characters that make this Python's ``csv`` module quote a field (a lone ``\\r`` did not until
    Python 3.12)."""
    found = []
    for character in (",", '"', "\n", "\r"):
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerow([f"a{character}b", "x"])
        if buffer.getvalue().startswith('"'):
            found.append(character)
    return tuple(found)


QUOTE_CHARACTERS = _quote_characters()
_CHAR = {",": "','", '"': "'\"'", "\n": "char(10)", "\r": "char(13)"}


def _quoted(column: str) -> str:
    """The field as the csv module writes it. A delimiter is looked for first: most abstracts have one
    early, and ``instr`` costs about 15 instructions per byte it reads."""
    tests = " OR ".join(f"instr({column}, {_CHAR[c]})" for c in QUOTE_CHARACTERS)
    return f"CASE WHEN {tests} THEN '\"' || replace({column}, '\"', '\"\"') || '\"' ELSE {column} END"


def sqlite_sql(where: str, order: str) -> str:
    """One CSV record (with its line end) per row, and the paper's id."""
    lists = {name: f"CASE WHEN {_FAST_OK.format(name)} THEN {_FAST_LIST.format(name)} ELSE "
                   f"(SELECT group_concat(value, '; ') FROM json_each(p.{name})) END"
             for name in ("authors", "categories")}
    flat = (f"SELECT p.arxiv_id, p.version, p.title, {lists['authors']} AS authors, p.abstract, "
            f"{_TIME.format('published')} AS published, {_TIME.format('updated')} AS updated, "
            f"{lists['categories']} AS categories, p.primary_category, p.comment, p.journal_ref, p.doi, "
            f"c.label, round(c.probability, 4) AS probability, {STATUS} AS status, fe.venue AS list_venue "
            f"FROM {FROM}{JOINS}{where} {order} "
            "LIMIT :limit OFFSET 0")  # OFFSET: a co-routine, never flattened into the query around it
    cells = ", ".join(_quoted(f"t.{name}") if name in TEXT_FIELDS else f"t.{name}"
                      for name in FIELDS if name != "url")
    line = (f"printf('{','.join('%s' for _ in FIELDS)}' || char(10), {cells}, "
            f"'{ABS_URL}' || t.arxiv_id)")
    return f"SELECT t.arxiv_id, {line} FROM ({flat}) t"


def postgres_sql(where: str, order: str) -> str:
    """The export's rows as text cells for ``COPY ... (FORMAT csv)``: empty text as NULL (unquoted, as the
    ``csv`` module writes it), probabilities as Python prints a float (``1.0``, ``0.91``)."""
    def text(expression: str) -> str:
        return f"NULLIF({expression}, '')"

    lists = {name: f"CASE WHEN {_PG_FAST_OK.format(name)} THEN f.{name}_fast ELSE {_PG_LIST.format(name)} END"
             for name in ("authors", "categories")}
    probability = ("CASE WHEN f.r = trunc(f.r) THEN trunc(f.r)::bigint::text || '.0' "
                   "ELSE f.r::float8::text END")
    cells = [text("p.arxiv_id"), "p.version", text("p.title"), text(lists["authors"]), text("p.abstract"),
             _PG_TIME.format("published"), _PG_TIME.format("updated"), text(lists["categories"]),
             text("p.primary_category"), text("p.comment"), text("p.journal_ref"), text("p.doi"),
             text("c.label"), probability, STATUS, text("fe.venue"), f"'{ABS_URL}' || p.arxiv_id"]
    lateral = (f"CROSS JOIN LATERAL (SELECT {_FAST_LIST.format('authors')} AS authors_fast, "
               f"{_FAST_LIST.format('categories')} AS categories_fast, "
               "round(c.probability::numeric, 4) AS r) f")
    return f"SELECT {', '.join(cells)} FROM {FROM}{JOINS} {lateral}{where} {order} LIMIT :limit"


class CsvRecords:
    """The CSV records of an export as text chunks, each ending a record; ``rows`` counts the records
    once the chunks are consumed."""

    def __init__(self, connection: Any, filters: Filters = NO_FILTERS, *, ids: Sequence[str] | None = None,
                 limit: int | None = None) -> None:
        self.connection, self.filters, self.ids, self.limit = connection, filters, ids, limit
        self.rows = 0

    def __iter__(self) -> Iterator[str]:
        flavour = dialect(self.connection)
        if self.ids is not None:
            yield from self._by_ids(flavour)
            return
        params: dict[str, Any] = {"limit": no_limit(self.connection) if self.limit is None else self.limit}
        where = where_sql(filter_sql(self.filters, params, flavour))
        if flavour == "postgresql":
            copy = self.connection.copy_out(f"COPY ({postgres_sql(where, newest_first(flavour))}) "
                                            "TO STDOUT (FORMAT csv)", params)
            yield from copy
            self.rows = copy.rows
            return
        cursor = self.connection.execute(sqlite_sql(where, newest_first(flavour)), params)
        while batch := cursor.fetchmany(1000):
            self.rows += len(batch)
            yield "".join([row[1] for row in batch])

    def _by_ids(self, flavour: str) -> Iterator[str]:
        wanted = list(self.ids or ())[:self.limit] if self.limit is not None else list(self.ids or ())
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            if flavour == "postgresql":  # in the given order: the array's
                sql = postgres_sql(" WHERE p.arxiv_id = ANY(CAST(:ids AS text[]))",
                                   "ORDER BY array_position(CAST(:ids AS text[]), p.arxiv_id::text)")
                copy = self.connection.copy_out(f"COPY ({sql}) TO STDOUT (FORMAT csv)",
                                                {"ids": chunk, "limit": None})
                yield from copy
                self.rows += copy.rows
                continue
            params: dict[str, Any] = {f"id{i}": arxiv_id for i, arxiv_id in enumerate(chunk)}
            where = f" WHERE p.arxiv_id IN ({', '.join(f':id{i}' for i in range(len(chunk)))})"
            lines = {row[0]: row[1] for row in self.connection.execute(
                sqlite_sql(where, ""), {**params, "limit": -1})}
            for arxiv_id in chunk:
                if arxiv_id in lines:
                    self.rows += 1
                    yield lines[arxiv_id]
