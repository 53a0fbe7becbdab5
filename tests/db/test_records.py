"""db/records.py on a small real database: one paper's whole record."""

from __future__ import annotations


def test_paper_detail(any_connection) -> None:  # type: ignore[no-untyped-def]
    from db.records import paper_detail

    detail = paper_detail(any_connection, "2604.00555")
    assert detail is not None
    assert detail["status"] == "listed"
    assert detail["prediction"]["label"] == "pruning" and detail["prediction"]["needs_review"] is True
    assert list(detail["prediction"]["probabilities"])[0] == "pruning"
    assert detail["proposals"] == [{"pr_number": 7, "label": "pruning", "state": "merged",
                                    "final_label": "other", "proposed_at": "2026-04-20T00:00:00+00:00",
                                    "decided_at": "2026-04-22T00:00:00+00:00"}]
    assert detail["links"]["pdf"] == "https://arxiv.org/pdf/2604.00555"
    assert paper_detail(any_connection, "2604.99999") is None
