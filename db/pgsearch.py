"""Keyword search on PostgreSQL: the query syntax of SQLite's FTS5 read into a ``tsquery``, ranked by
``ts_rank`` over the generated ``papers.search`` vector (migration 0010).

``db.query.keyword_hits`` hands PostgreSQL connections here; SQLite never imports this module. Reads
papers, predictions, list entries and proposals; writes nothing.

The syntax is FTS5's: words (all must occur), ``"a phrase"``, ``prefix*``, ``OR``, ``AND``, ``a NOT b``,
parentheses, column filters (``title:``, ``abstract:``, ``authors:``, ``{title authors}:``, ``-title:``)
and ``NEAR(a b, N)``, which is read as AND (``tsquery`` has no "within N words"). ``^`` (first token of a
column) is ignored. Text that is not valid syntax raises ``FtsSyntaxError`` and the caller searches it as
plain words, as on SQLite.

Safety: every lexeme is cut down to letters and digits (``[^\\W_]+``) before it enters the ``tsquery``
text, so no user character can act as a ``tsquery`` operator, and that text is one bound parameter of
``to_tsquery``. The SQL around it is fixed.
"""

from __future__ import annotations

import re
from typing import Any

from bot.core.errors import StoreError
from db.query import (
    ROW_COLUMNS,
    Filters,
    KeywordHits,
    QueryError,
    escape_query,
    filter_sql,
    paper_row,
    where_sql,
)

CONFIG = "paperbot_search"  # migration 0010: english stems, no stop words, diacritics folded
# ts_rank's weights for D, C (abstract), B (authors), A (title): 1 : 2 : 5, as bm25's on SQLite
WEIGHTS = "'{0.1, 0.2, 0.4, 1.0}'::float4[]"
NORMALIZATION = 1  # divide the rank by 1 + log(document length), as bm25 favours short documents
COLUMNS = {"title": "A", "authors": "B", "abstract": "C"}
ALL_WEIGHTS = "ABC"

_TOKEN_RE = re.compile(r'\s+|"((?:[^"]|"")*)"|((?:[A-Za-z0-9_\x1a]|[^\x00-\x7f])+)|([(){}:*,+^-])')
_LEXEME_RE = re.compile(r"[^\W_]+")
_STARTS_UNARY = {"str", "word", "(", "-", "{", "^", "NEAR"}


class FtsSyntaxError(ValueError):
    """The text is not valid FTS5 query syntax."""


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        match = _TOKEN_RE.match(text, position)
        if match is None:
            raise FtsSyntaxError(f"syntax error near {text[position:position + 10]!r}")
        position = match.end()
        string, word, punct = match.groups()
        if string is not None:
            tokens.append(("str", string.replace('""', '"')))
        elif word is not None:
            following = text[position:].lstrip()[:1]
            kind = word if word in ("AND", "OR", "NOT") else "NEAR" if word == "NEAR" and following == "(" \
                else "word"
            tokens.append((kind, word))
        elif punct is not None:
            tokens.append((punct, punct))
    return tokens


def _and(left: str | None, right: str | None) -> str | None:
    return None if left is None or right is None else f"({left} & {right})"


def _or(left: str | None, right: str | None) -> str | None:
    if left is None or right is None:
        return left if right is None else right
    return f"({left} | {right})"


def _not(left: str | None, right: str | None) -> str | None:
    return left if left is None or right is None else f"({left} & !{right})"


def phrase(text: str, prefix: bool, weights: str) -> str | None:
    """One phrase as ``tsquery`` text: lexemes joined by ``<->``; None when it holds no letter or digit."""
    lexemes = _LEXEME_RE.findall(text)
    if not lexemes:
        return None
    marks = "" if weights == ALL_WEIGHTS else weights
    parts = [f"{lexeme}:{marks}" if marks else lexeme for lexeme in lexemes]
    if prefix:
        parts[-1] = f"{lexemes[-1]}:*{marks}"
    return parts[0] if len(parts) == 1 else "(" + " <-> ".join(parts) + ")"


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self, ahead: int = 0) -> str | None:
        index = self.at + ahead
        return self.tokens[index][0] if index < len(self.tokens) else None

    def take(self, *kinds: str) -> str:
        kind = self.peek()
        if kind is None or kind not in kinds:
            raise FtsSyntaxError(f"expected {' or '.join(kinds)}")
        self.at += 1
        return self.tokens[self.at - 1][1]

    def parse(self) -> str | None:
        result = self.or_expr(ALL_WEIGHTS)
        if self.peek() is not None:
            raise FtsSyntaxError(f"unexpected {self.tokens[self.at][1]!r}")
        return result

    def or_expr(self, weights: str) -> str | None:
        result = self.and_expr(weights)
        while self.peek() == "OR":
            self.take("OR")
            result = _or(result, self.and_expr(weights))
        return result

    def and_expr(self, weights: str) -> str | None:
        result = self.not_expr(weights)
        while self.peek() == "AND" or self.peek() in _STARTS_UNARY:
            if self.peek() == "AND":
                self.take("AND")
            result = _and(result, self.not_expr(weights))
        return result

    def not_expr(self, weights: str) -> str | None:
        result = self.unary(weights)
        while self.peek() == "NOT":
            self.take("NOT")
            result = _not(result, self.unary(weights))
        return result

    def columns(self, weights: str) -> str:
        negate = self.peek() == "-"
        if negate:
            self.take("-")
        names = [self.take("word")] if self.peek() == "word" else []
        if not names:
            self.take("{")
            while self.peek() == "word":
                names.append(self.take("word"))
            self.take("}")
        self.take(":")
        unknown = [name for name in names if name not in COLUMNS]
        if unknown or not names:
            raise FtsSyntaxError(f"no such column: {unknown[0] if unknown else ''}")
        chosen = {COLUMNS[name] for name in names}
        if negate:
            chosen = set(ALL_WEIGHTS) - chosen
        return "".join(w for w in weights if w in chosen)

    def unary(self, weights: str) -> str | None:
        kind = self.peek()
        if kind in ("-", "{") or (kind == "word" and self.peek(1) == ":"):
            narrowed = self.columns(weights)
            result = self.unary(narrowed)
            return result if narrowed else None  # no column left: matches nothing
        if kind == "^":
            self.take("^")
        if self.peek() == "(":
            self.take("(")
            result = self.or_expr(weights)
            self.take(")")
            return result
        if self.peek() == "NEAR":
            return self.near(weights)
        return self.phrase(weights)

    def phrase(self, weights: str) -> str | None:
        text = self.take("str", "word")
        while self.peek() == "+":
            self.take("+")
            text += " " + self.take("str", "word")
        prefix = self.peek() == "*"
        if prefix:
            self.take("*")
        return phrase(text, prefix, weights)

    def near(self, weights: str) -> str | None:
        self.take("NEAR")
        self.take("(")
        result = self.phrase(weights)
        while self.peek() in ("str", "word"):
            result = _and(result, self.phrase(weights))
        if self.peek() == ",":
            self.take(",")
            if not self.take("word").isdigit():
                raise FtsSyntaxError("NEAR's distance must be a number")
        self.take(")")
        return result


def to_tsquery_text(text: str) -> str | None:
    """``text`` (FTS5 syntax) as ``tsquery`` text for ``to_tsquery(CONFIG, ...)``; None when it can match
    nothing (only empty phrases); FtsSyntaxError when it is not valid syntax."""
    return _Parser(text).parse()


def _sql(filters: Filters, params: dict[str, Any], windowed: bool) -> str:
    """The ranked rows. ``windowed``: ranks only the ``:window`` newest matches (read along the newest-first
    index, which stops once it has them, or from the GIN index and sorted) and counts them as ``matched``;
    ``ts_rank`` runs above the window's LIMIT, so it scores those matches only (computed below it, it read
    the tsvector of every match: 2 s for 'protein folding' at a million papers)."""
    query = f"to_tsquery('{CONFIG}', :tsquery) AS q(query)"
    score = f"ts_rank({WEIGHTS}, p.search, q.query, {NORMALIZATION}) AS score"
    matches = f"SELECT p.arxiv_id, {score} FROM papers p CROSS JOIN {query} WHERE p.search @@ q.query"
    if windowed:  # the window's ids first, then their scores: ts_rank reads each match's whole tsvector
        newest = (f"SELECT p.arxiv_id FROM papers p CROSS JOIN {query} WHERE p.search @@ q.query "
                  "ORDER BY p.published DESC NULLS LAST, p.arxiv_id DESC LIMIT :window")
        source = (f"(SELECT p.arxiv_id, {score}, count(*) OVER () AS matched FROM ({newest}) x "
                  f"JOIN papers p ON p.arxiv_id = x.arxiv_id CROSS JOIN {query}) w")
    else:
        source = f"(SELECT m.*, NULL::bigint AS matched FROM ({matches}) m) w"
    if filters.active:
        source += (" JOIN papers p ON p.arxiv_id = w.arxiv_id "
                   "LEFT JOIN classifications c ON c.arxiv_id = p.arxiv_id")
    ranked = (f"SELECT w.arxiv_id, w.score, w.matched FROM {source}"
              f"{where_sql(filter_sql(filters, params, 'postgresql'))} ORDER BY w.score DESC, w.arxiv_id "
              "LIMIT :limit")
    return (f"SELECT {ROW_COLUMNS}, top.score AS score, top.matched AS matched FROM ({ranked}) top "
            "JOIN papers p ON p.arxiv_id = top.arxiv_id "
            "LEFT JOIN classifications c ON c.arxiv_id = p.arxiv_id ORDER BY top.score DESC, p.arxiv_id")


def keyword_hits(connection: Any, query: str, filters: Filters, limit: int | None, *,
                 window: int | None) -> KeywordHits:
    """``db.query.keyword_hits`` on PostgreSQL (``query`` already cleaned and not empty): the same rows,
    best first (``score`` is ``ts_rank``: higher is better), the same window, over the newest matches by
    publication date. A query with fewer matches than the window ranks them all in the windowed form."""
    import psycopg

    for expression in (query, escape_query(query)):
        if not expression:
            break
        try:
            tsquery = to_tsquery_text(expression)
        except FtsSyntaxError:
            continue
        if tsquery is None:
            return KeywordHits([])
        params: dict[str, Any] = {"tsquery": tsquery, "limit": limit, "window": window}
        try:
            windowed = window is not None and limit is not None and limit < window
            rows = connection.execute(_sql(filters, params, windowed), params).fetchall()
            if windowed and len(rows) < limit:  # type: ignore[operator]  # the filters kept too few
                rows = connection.execute(_sql(filters, params, False), params).fetchall()
                windowed = False
            windowed = windowed and bool(rows) and rows[0]["matched"] >= window
        except psycopg.Error as exc:
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise StoreError(f"search failed: {first}") from None
        return KeywordHits([paper_row(row, row["score"]) for row in rows], windowed=windowed)
    raise QueryError(f"nothing to search for in {query!r}: give words, \"a phrase\" or a prefix*")
