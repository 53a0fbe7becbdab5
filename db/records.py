"""Whole records of papers, for ``paperbot export`` and ``paperbot show``: every column, the prediction,
the list entry and the proposal history. Read-only, through ``db.query``'s read-only connection (SQLite or
PostgreSQL) and its filters; every user value is a bound parameter.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from db.filters import FROM, NO_FILTERS, STATUS_SQL, Filters, filter_sql, newest_first, no_limit, where_sql
from db.pgread import dialect
from db.query import abs_url

# --- export -------------------------------------------------------------------------------------------

EXPORT_FIELDS = ("arxiv_id", "version", "title", "authors", "abstract", "published", "updated", "categories",
                 "primary_category", "comment", "journal_ref", "doi", "label", "probability", "status",
                 "list_venue", "url")
_LIST_VENUE = ("(SELECT le.venue FROM list_entries le WHERE le.arxiv_id = p.arxiv_id "
               "ORDER BY le.line_no, le.id LIMIT 1)")
EXPORT_COLUMNS = ("p.arxiv_id, p.version, p.title, p.authors, p.abstract, p.published, p.updated, "
                  "p.categories, p.primary_category, p.comment, p.journal_ref, p.doi, c.label, "
                  f"c.probability, {STATUS_SQL} AS status, {_LIST_VENUE} AS list_venue")
def _export_row(row: sqlite3.Row) -> dict[str, Any]:
    probability = row["probability"]
    return {
        "arxiv_id": row["arxiv_id"], "version": row["version"], "title": row["title"],
        "authors": json.loads(row["authors"] or "[]"), "abstract": row["abstract"],
        "published": _iso(row["published"]), "updated": _iso(row["updated"]),
        "categories": json.loads(row["categories"] or "[]"), "primary_category": row["primary_category"],
        "comment": row["comment"], "journal_ref": row["journal_ref"], "doi": row["doi"],
        "label": row["label"], "probability": None if probability is None else round(probability, 4),
        "status": row["status"], "list_venue": row["list_venue"], "url": abs_url(row["arxiv_id"]),
    }


def export_rows(connection: sqlite3.Connection, filters: Filters = NO_FILTERS, *,
                ids: Sequence[str] | None = None, limit: int | None = None) -> Iterator[dict[str, Any]]:
    """Every field (``EXPORT_FIELDS``) of the papers matching ``filters``, newest first, or of ``ids`` in
    that order. (CSV is written by the database itself: ``db/csvexport.py``.)

    Streams (on PostgreSQL through a server-side cursor): 100,000 rows never sit in memory at once.
    """
    flavour = dialect(connection)
    columns, convert = EXPORT_COLUMNS, _export_row
    if ids is not None:
        wanted = list(ids)[:limit] if limit is not None else list(ids)
        for start in range(0, len(wanted), 500):
            chunk = wanted[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = {row[0]: row for row in connection.execute(
                f"SELECT {columns} FROM {FROM} WHERE p.arxiv_id IN ({marks})", chunk)}
            yield from (convert(rows[i]) for i in chunk if i in rows)
        return
    params: dict[str, Any] = {"limit": no_limit(connection) if limit is None else limit}
    sql = (f"SELECT {columns} FROM {FROM}{where_sql(filter_sql(filters, params, flavour))} "
           f"{newest_first(flavour)} LIMIT :limit")
    stream = getattr(connection, "stream", None)  # a PgConnection's server-side cursor
    for row in stream(sql, params) if stream is not None else connection.execute(sql, params):
        yield convert(row)


# --- one paper ----------------------------------------------------------------------------------------

def _iso(text: str | datetime | None) -> str | None:
    """A stored naive-UTC time (text on SQLite, a datetime on PostgreSQL) as ISO 8601 with its zone:
    ``2026-03-02T17:00:00+00:00``."""
    if isinstance(text, datetime):
        return text.replace(tzinfo=UTC).isoformat()
    if not text:
        return None
    if len(text) >= 19 and text[10] == " ":  # SQLAlchemy's layout; string surgery is 10x faster
        fraction = text[19:].rstrip("0").rstrip(".")
        return f"{text[:10]}T{text[11:19]}{fraction and '.' + text[20:26]}+00:00"
    return datetime.fromisoformat(text).replace(tzinfo=UTC).isoformat()


def paper_detail(connection: sqlite3.Connection, arxiv_id: str) -> dict[str, Any] | None:
    """Everything known about one paper, or None: metadata, prediction, proposals, list entry, links."""
    row = connection.execute(f"SELECT p.*, {STATUS_SQL} AS status FROM papers p WHERE p.arxiv_id = ?",
                             (arxiv_id,)).fetchone()
    if row is None:
        return None
    prediction = connection.execute("SELECT * FROM classifications WHERE arxiv_id = ?",
                                    (arxiv_id,)).fetchone()
    proposals = connection.execute(
        "SELECT pr_number, label, state, final_label, proposed_at, decided_at FROM proposals "
        "WHERE arxiv_id = ? ORDER BY proposed_at, id", (arxiv_id,)).fetchall()
    entries = connection.execute(
        "SELECT section, label, title, venue, line_no, resolved_by FROM list_entries WHERE arxiv_id = ? "
        "ORDER BY line_no", (arxiv_id,)).fetchall()
    return {
        "arxiv_id": row["arxiv_id"], "version": row["version"], "title": row["title"],
        "authors": json.loads(row["authors"] or "[]"), "published": _iso(row["published"]),
        "updated": _iso(row["updated"]), "primary_category": row["primary_category"],
        "categories": json.loads(row["categories"] or "[]"), "comment": row["comment"],
        "journal_ref": row["journal_ref"], "doi": row["doi"], "status": row["status"],
        "prediction": None if prediction is None else {
            "label": prediction["label"], "probability": round(prediction["probability"], 4),
            "probabilities": {k: round(v, 4) for k, v in sorted(
                json.loads(prediction["probabilities"]).items(), key=lambda kv: (-kv[1], kv[0]))},
            "runner_up": prediction["runner_up"], "needs_review": bool(prediction["needs_review"]),
            "reason": prediction["reason"], "model_version": prediction["model_version"],
            "classified_at": _iso(prediction["classified_at"]),
        },
        "proposals": [{"pr_number": p["pr_number"], "label": p["label"], "state": p["state"],
                       "final_label": p["final_label"], "proposed_at": _iso(p["proposed_at"]),
                       "decided_at": _iso(p["decided_at"])} for p in proposals],
        "list_entry": None if not entries else {
            "section": entries[0]["section"], "label": entries[0]["label"], "title": entries[0]["title"],
            "venue": entries[0]["venue"], "line_no": entries[0]["line_no"],
            "resolved_by": entries[0]["resolved_by"]},
        "links": {"abs": abs_url(row["arxiv_id"]), "pdf": f"https://arxiv.org/pdf/{row['arxiv_id']}"},
        "abstract": row["abstract"],
    }
