"""The numbers behind ``paperbot stats``: papers per label per month, list status, and agreement.

Reads papers, predictions, list entries and proposals through a read-only ``db.query`` connection (SQLite
or PostgreSQL);
writes nothing. Agreement compares the classifier with what the maintainers decided: a merged proposal
agrees when it kept its label (``final_label`` empty or equal), a rejected one disagrees, and every list
entry with a prediction agrees when the prediction names the entry's section.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from bot.core.labels import LABEL_VALUES
from bot.core.states import ProposalState
from db.filters import FROM, NO_FILTERS, STATUS_SQL, STATUSES, UNCLASSIFIED, Filters, filter_sql, where_sql
from db.pgread import dialect

PROPOSAL_STATES = tuple(state.value for state in ProposalState)
PROPOSALS = ("proposals pr JOIN papers p ON p.arxiv_id = pr.arxiv_id "
             "LEFT JOIN classifications c ON c.arxiv_id = p.arxiv_id")


def per_month(connection: sqlite3.Connection, filters: Filters = NO_FILTERS) -> list[dict[str, Any]]:
    """One row per month of first publication: ``{"month": "2026-03", <label>: n, ..., "total": n}``."""
    params: dict[str, Any] = {}
    flavour = dialect(connection)
    month = "to_char(p.published, 'YYYY-MM')" if flavour == "postgresql" else "substr(p.published, 1, 7)"
    sql = (f"SELECT COALESCE({month}, 'unknown') AS month, "
           f"COALESCE(c.label, '{UNCLASSIFIED}') AS label, count(*) AS n "
           f"FROM {FROM}{where_sql(filter_sql(filters, params, flavour))} GROUP BY 1, 2 ORDER BY 1")
    months: dict[str, dict[str, Any]] = {}
    for month, label, count in connection.execute(sql, params):
        row = months.setdefault(month, {"month": month, **dict.fromkeys(LABEL_VALUES, 0),
                                        UNCLASSIFIED: 0, "total": 0})
        row[label] = row.get(label, 0) + count
        row["total"] += count
    return list(months.values())


def status_counts(connection: sqlite3.Connection, filters: Filters = NO_FILTERS) -> dict[str, int]:
    params: dict[str, Any] = {}
    where = where_sql(filter_sql(filters, params, dialect(connection)))
    sql = f"SELECT {STATUS_SQL} AS status, count(*) FROM {FROM}{where} GROUP BY 1"
    counts = dict.fromkeys(STATUSES, 0)
    counts.update({status: n for status, n in connection.execute(sql, params)})
    return counts


def _rate(agree: int, total: int) -> float | None:
    return round(agree / total, 4) if total else None


def _blank(label: str) -> dict[str, Any]:
    return {"label": label, "merged_same_label": 0, "merged_relabelled": 0, "rejected": 0,
            "listed_with_prediction": 0, "listed_same_label": 0}


def agreement(connection: sqlite3.Connection, filters: Filters = NO_FILTERS) -> dict[str, Any]:
    """How often the maintainers' decisions matched the classifier, overall and per label."""
    params: dict[str, Any] = {}
    flavour = dialect(connection)
    where = where_sql(["pr.state IN ('merged', 'rejected')", *filter_sql(filters, params, flavour)])
    by_label = {label: _blank(label) for label in LABEL_VALUES}
    states = dict.fromkeys(PROPOSAL_STATES, 0)
    params_all: dict[str, Any] = {}
    for state, n in connection.execute(
            f"SELECT pr.state, count(*) FROM {PROPOSALS}"
            f"{where_sql(filter_sql(filters, params_all, flavour))} GROUP BY pr.state", params_all):
        states[state] = n
    for label, state, final in connection.execute(
            f"SELECT pr.label, pr.state, pr.final_label FROM {PROPOSALS}{where}", params):
        row = by_label.setdefault(label, _blank(label))
        if state == "rejected":
            row["rejected"] += 1
        elif final in (None, "", label):
            row["merged_same_label"] += 1
        else:
            row["merged_relabelled"] += 1
    params = {}
    where = where_sql(["le.label IS NOT NULL", "c.label IS NOT NULL",
                       *filter_sql(filters, params, flavour)])
    for listed, predicted in connection.execute(
            f"SELECT le.label, c.label FROM list_entries le JOIN papers p ON p.arxiv_id = le.arxiv_id "
            f"LEFT JOIN classifications c ON c.arxiv_id = p.arxiv_id{where}",
            params):
        entry = by_label.get(listed)
        if entry is None:
            continue
        entry["listed_with_prediction"] += 1
        entry["listed_same_label"] += int(predicted == listed)
    rows = list(by_label.values())
    for row in rows:
        decided = row["merged_same_label"] + row["merged_relabelled"] + row["rejected"]
        row["proposal_agreement"] = _rate(row["merged_same_label"], decided)
        row["list_agreement"] = _rate(row["listed_same_label"], row["listed_with_prediction"])
    same = sum(r["merged_same_label"] for r in rows)
    decided = same + sum(r["merged_relabelled"] + r["rejected"] for r in rows)
    listed = sum(r["listed_with_prediction"] for r in rows)
    listed_same = sum(r["listed_same_label"] for r in rows)
    return {
        "proposals": states,
        "decided": decided, "merged_same_label": same,
        "merged_relabelled": sum(r["merged_relabelled"] for r in rows),
        "rejected": sum(r["rejected"] for r in rows), "proposal_agreement": _rate(same, decided),
        "listed_with_prediction": listed, "listed_same_label": listed_same,
        "list_agreement": _rate(listed_same, listed),
        "by_label": rows,
    }


def summary(connection: sqlite3.Connection, filters: Filters = NO_FILTERS) -> dict[str, Any]:
    """Everything ``paperbot stats`` prints."""
    months = per_month(connection, filters)
    return {
        "papers": sum(row["total"] for row in months),
        "per_month": months,
        "status": status_counts(connection, filters),
        "agreement": agreement(connection, filters),
    }
