"""db/decisions.py on SQLite and PostgreSQL: proposals are recorded once, whoever records them again."""

from sqlalchemy import Engine, func, select

from bot.core.labels import Label
from bot.core.states import ProposalState
from db import decisions, store
from db.decisions import ListedEntry
from db.schema import ProposalRow
from db.session import session_scope
from tests.support.store import paper


def _rows(engine: Engine) -> list[tuple[str, str, int | None, str | None]]:
    with session_scope(engine) as s:
        return [(r.arxiv_id, r.state, r.pr_number, r.final_label)
                for r in s.scalars(select(ProposalRow).order_by(ProposalRow.id))]


def test_proposals_and_decisions_are_recorded_once(any_engine: Engine) -> None:
    with session_scope(any_engine) as s:
        store.upsert_papers(s, [paper("2501.00001"), paper("2501.00002"), paper("2501.00003")])
    for _ in range(2):  # the same run twice, or two runs
        with session_scope(any_engine) as s:
            decisions.record_open(s, 4, {"2501.00001": Label.PRUNING, "2501.00002": Label.OTHER})
    with session_scope(any_engine) as s:
        decisions.correct_open(s, "2501.00001", Label.QUANTIZATION)
        decisions.record_open(s, 5, {"2501.00001": Label.PRUNING})  # 2501.00002 dropped: withdrawn
        assert decisions.file_answer(s, "2501.00003", Label.OTHER, Label.PRUNING, pr_number=5)
        assert not decisions.file_answer(s, "2501.00003", Label.OTHER, Label.PRUNING, pr_number=5)
    assert _rows(any_engine) == [("2501.00001", "open", 5, "quantization"),
                                 ("2501.00002", "withdrawn", 4, None), ("2501.00003", "open", 5, "pruning")]
    with session_scope(any_engine) as s:
        assert decisions.settle(s, "2501.00001", Label.PRUNING, ProposalState.MERGED, pr_number=5,
                                final_label=Label.QUANTIZATION)
        assert not decisions.settle(s, "2501.00001", Label.PRUNING, ProposalState.MERGED, pr_number=5)
        # a decision on a paper with no open row (a lost database): inserted once
        assert decisions.settle(s, "2501.00002", Label.OTHER, ProposalState.REJECTED, pr_number=4)
        assert not decisions.settle(s, "2501.00002", Label.OTHER, ProposalState.REJECTED, pr_number=4)
        # an open proposal rebuilt from the PR body while one is open already: nothing added
        assert decisions.settle(s, "2501.00003", Label.OTHER, ProposalState.OPEN, pr_number=5)
        assert s.scalar(select(func.count()).select_from(ProposalRow)) == 4
    assert _rows(any_engine) == [("2501.00001", "merged", 5, "quantization"),
                                 ("2501.00002", "withdrawn", 4, None), ("2501.00003", "open", 5, None),
                                 ("2501.00002", "rejected", 4, None)]


def test_list_entries_keep_only_ids_the_store_holds(any_engine: Engine) -> None:
    with session_scope(any_engine) as s:
        store.upsert_papers(s, [paper("2501.00001")])
        decisions.replace_list_entries(s, [
            ListedEntry("Other", Label.OTHER, "Known", None, "2501.00001", "link", 3),
            ListedEntry("Other", Label.OTHER, "Unknown", None, "2501.09999", "link", 4)])
    with session_scope(any_engine) as s:
        assert [(e.arxiv_id, e.resolved_by) for e in decisions.list_entries(s)] == [
            ("2501.00001", "link"), (None, "unresolved")]
