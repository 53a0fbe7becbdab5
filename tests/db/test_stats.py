"""db/stats.py on a small real database: papers per month and label, list status, and agreement."""

from __future__ import annotations

import pytest


def test_stats(any_connection) -> None:  # type: ignore[no-untyped-def]
    from db.stats import summary

    result = summary(any_connection)
    assert result["papers"] == 8
    months = {row["month"]: row for row in result["per_month"]}
    assert months["2026-04"]["pruning"] == 1 and months["2026-04"]["irrelevant"] == 1
    assert months["2026-05"]["unclassified"] == 1
    assert result["status"] == {"listed": 4, "proposed": 1, "rejected": 1, "seen": 2}
    agreement = result["agreement"]
    assert agreement["proposals"] == {"open": 1, "merged": 2, "rejected": 1, "withdrawn": 0}
    assert (agreement["decided"], agreement["merged_same_label"], agreement["merged_relabelled"],
            agreement["rejected"]) == (3, 1, 1, 1)
    assert agreement["proposal_agreement"] == pytest.approx(1 / 3, abs=1e-4)
    assert (agreement["listed_with_prediction"], agreement["list_agreement"]) == (2, 1.0)
