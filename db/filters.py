"""The filters of ``search``, ``similar``, ``stats`` and ``export`` as SQL WHERE clauses, per dialect, and
a paper's list status.

Pure: builds SQL text from fixed fragments and fills a parameter dict (every user value is a bound
parameter); ``db/query.py``, ``db/records.py`` and ``db/stats.py`` run it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from db.pgread import dialect

STATUSES = ("listed", "proposed", "rejected", "seen")
UNCLASSIFIED = "unclassified"
FROM = "papers p LEFT JOIN classifications c ON c.arxiv_id = p.arxiv_id"

# A paper's status: on the list (a list entry, or a merged proposal not yet read back from the list),
# else what its latest proposal says: open -> proposed, rejected -> rejected; withdrawn or never -> seen.
STATUS_SQL = """CASE
    WHEN EXISTS (SELECT 1 FROM list_entries le WHERE le.arxiv_id = p.arxiv_id) THEN 'listed'
    ELSE COALESCE((SELECT CASE pr.state WHEN 'merged' THEN 'listed' WHEN 'open' THEN 'proposed'
                                        WHEN 'rejected' THEN 'rejected' ELSE 'seen' END
                   FROM proposals pr WHERE pr.arxiv_id = p.arxiv_id
                   ORDER BY pr.proposed_at DESC, pr.id DESC LIMIT 1), 'seen')
END"""


@dataclass(frozen=True)
class Filters:
    """What ``--label``, ``--status``, ``--since``, ``--until``, ``--category`` and ``--author`` ask for.

    ``since`` is inclusive and ``until`` exclusive (the CLI turns ``--until 2026-03`` into April 1st).
    Values within one option are alternatives (OR); authors must all appear (AND).
    """

    labels: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    since: datetime | None = None
    until: datetime | None = None
    categories: tuple[str, ...] = ()
    authors: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.labels or self.statuses or self.since or self.until or self.categories
                    or self.authors)


NO_FILTERS = Filters()


# --- filters ------------------------------------------------------------------------------------------

def naive_utc(moment: datetime) -> datetime:
    """A time as the database keeps it: UTC without a zone."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment


def db_time(moment: datetime) -> str:
    """A time as SQLAlchemy's SQLite ``DateTime`` stores it (naive UTC text), for comparisons."""
    return naive_utc(moment).strftime("%Y-%m-%d %H:%M:%S.%f")


def _in(column: str, name: str, values: Sequence[str], params: dict[str, Any]) -> str:
    keys = []
    for i, value in enumerate(values):
        params[f"{name}{i}"] = value
        keys.append(f":{name}{i}")
    return f"{column} IN ({', '.join(keys)})"


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def no_limit(connection: Any) -> int | None:
    """The ``LIMIT`` value meaning "all rows": -1 on SQLite, NULL on PostgreSQL."""
    return None if dialect(connection) == "postgresql" else -1


def filter_sql(filters: Filters, params: dict[str, Any], flavour: str = "sqlite") -> list[str]:
    """WHERE clauses (over ``papers p`` and ``classifications c``) for ``filters``; fills ``params``.

    ``flavour`` is the connection's ``db.pgread.dialect``: SQLite compares times as naive-UTC text, reads
    JSON lists with ``json_each`` and its LIKE ignores case; PostgreSQL takes datetimes,
    ``json_array_elements_text`` and ILIKE.
    """
    postgres = flavour == "postgresql"
    clauses = []
    labels = [label for label in filters.labels if label != UNCLASSIFIED]
    if filters.labels:
        parts = [_in("c.label", "label", labels, params)] if labels else []
        if UNCLASSIFIED in filters.labels:
            parts.append("c.label IS NULL")
        clauses.append("(" + " OR ".join(parts) + ")")
    if filters.statuses:
        clauses.append(_in(f"({STATUS_SQL})", "status", filters.statuses, params))
    for name, moment, operator in (("since", filters.since, ">="), ("until", filters.until, "<")):
        if moment is not None:
            params[name] = naive_utc(moment) if postgres else db_time(moment)
            clauses.append(f"p.published {operator} :{name}")
    if filters.categories:
        in_list = _in("value", "category", filters.categories, params)
        elements = ("json_array_elements_text(p.categories::json) AS e(value)" if postgres
                    else "json_each(p.categories)")
        clauses.append(f"EXISTS (SELECT 1 FROM {elements} WHERE {in_list})")
    for i, author in enumerate(filters.authors):
        params[f"author{i}"] = f"%{_like_escape(author)}%"
        clauses.append(f"p.authors {'ILIKE' if postgres else 'LIKE'} :author{i} ESCAPE '\\'")
    return clauses


def newest_first(flavour: str = "sqlite") -> str:
    """``ORDER BY`` newest first, papers without a date last: SQLite sorts NULL lowest, PostgreSQL highest."""
    nulls = " NULLS LAST" if flavour == "postgresql" else ""
    return f"ORDER BY p.published DESC{nulls}, p.arxiv_id DESC"


def where_sql(clauses: Sequence[str]) -> str:
    return (" WHERE " + " AND ".join(clauses)) if clauses else ""
