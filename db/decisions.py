"""What is on the list, what the bot proposed, and what the maintainers decided: the SQL for it.

The list's entries are re-read on every run (``replace_list_entries``); proposals live as long as the
paper: ``open`` while in the bot's pull request, then ``merged`` (with the section it ended up in),
``rejected`` (removed from the PR, or left in a PR closed unmerged) or ``withdrawn`` (the bot dropped it,
for instance because a maintainer added it by hand). These rows are the maintainers' labelled data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from bot.core.labels import Label
from bot.core.models import Paper
from bot.core.states import ProposalState
from db.schema import DECIDED_PROPOSAL, OPEN_PROPOSAL, ListEntryRow, PaperRow, ProposalRow
from db.store import from_db, known_ids, paper_from_row, to_db, utcnow
from db.upsert import upsert

LISTED = "list"  # the source of a label read from the list itself (the section a paper is under)
# The sources ``labelled_papers`` gives its rows: the list, and proposals the maintainers merged, rejected
# or moved (a move in a still-open pull request, or a section ticked in its review list, keeps the source
# ``open``; "not for this list" ticked is a rejection).
MAINTAINER_SOURCES = frozenset({LISTED, ProposalState.OPEN, ProposalState.MERGED, ProposalState.REJECTED})
NOT_FOUND = "not-found"  # an entry whose title arXiv did not find: not searched again unless asked


@dataclass(frozen=True)
class ListedEntry:
    section: str
    label: Label | None
    title: str
    venue: str | None
    arxiv_id: str | None
    resolved_by: str  # link | title | search | not-found | unresolved
    line_no: int
    looked_up_at: datetime | None = None  # not-found entries: when arXiv last did not find the title


@dataclass(frozen=True)
class ProposalInfo:
    arxiv_id: str
    label: Label
    pr_number: int | None
    state: ProposalState
    final_label: Label | None
    proposed_at: datetime
    decided_at: datetime | None


def replace_list_entries(session: Session, entries: Iterable[ListedEntry]) -> None:
    entries = list(entries)
    session.execute(delete(ListEntryRow))
    known = known_ids(session, {entry.arxiv_id for entry in entries if entry.arxiv_id})
    now = to_db(utcnow())
    for entry in entries:
        arxiv_id = entry.arxiv_id if entry.arxiv_id in known else None
        session.add(ListEntryRow(
            section=entry.section, label=entry.label.value if entry.label else None, title=entry.title,
            venue=entry.venue, arxiv_id=arxiv_id,
            resolved_by=entry.resolved_by if arxiv_id or entry.resolved_by == NOT_FOUND else "unresolved",
            line_no=entry.line_no,
            read_at=now, looked_up_at=to_db(entry.looked_up_at) if entry.resolved_by == NOT_FOUND else None))
    session.flush()


def list_entries(session: Session) -> list[ListedEntry]:
    rows = session.scalars(select(ListEntryRow).order_by(ListEntryRow.line_no))
    return [ListedEntry(r.section, Label(r.label) if r.label else None, r.title, r.venue, r.arxiv_id,
                        r.resolved_by, r.line_no, from_db(r.looked_up_at)) for r in rows]


def _info(row: ProposalRow) -> ProposalInfo:
    return ProposalInfo(row.arxiv_id, Label(row.label), row.pr_number, ProposalState(row.state),
                        Label(row.final_label) if row.final_label else None,
                        from_db(row.proposed_at) or utcnow(), from_db(row.decided_at))


def proposals(session: Session, state: ProposalState | None = None) -> list[ProposalInfo]:
    query = select(ProposalRow).order_by(ProposalRow.id)
    if state is not None:
        query = query.where(ProposalRow.state == state)
    return [_info(row) for row in session.scalars(query)]


def history(session: Session, arxiv_id: str) -> list[ProposalInfo]:
    rows = session.scalars(select(ProposalRow).where(ProposalRow.arxiv_id == arxiv_id)
                           .order_by(ProposalRow.id))
    return [_info(row) for row in rows]


def _insert_proposal(session: Session, state: ProposalState, **values: object) -> bool:
    """One new proposal row, unless its unique key (one open row per paper, one decision per paper and
    pull request: migration 0011) is taken, by another process too; returns whether it was inserted."""
    row = {"state": state.value, **values}
    if state == ProposalState.OPEN:
        return upsert(session, ProposalRow, [row], ignore=True, on=["arxiv_id"],
                      where=text(OPEN_PROPOSAL)) > 0
    if state in {ProposalState.MERGED, ProposalState.REJECTED} and values.get("pr_number") is not None:
        return upsert(session, ProposalRow, [row], ignore=True, on=["arxiv_id", "pr_number"],
                      where=text(DECIDED_PROPOSAL)) > 0
    session.add(ProposalRow(**row))
    session.flush()
    return True


def record_open(session: Session, pr_number: int | None, proposed: Mapping[str, Label]) -> None:
    """The bot's PR now proposes exactly ``proposed``: add new rows, withdraw open ones it dropped."""
    now = to_db(utcnow())
    for row in session.scalars(select(ProposalRow).where(ProposalRow.state == ProposalState.OPEN)):
        if row.arxiv_id not in proposed:
            row.state, row.decided_at = ProposalState.WITHDRAWN, now
    session.flush()
    # the open row of a paper already proposed takes the new PR and label; its proposed_at and final_label
    # (a maintainer's move) stay
    upsert(session, ProposalRow, [
        {"arxiv_id": arxiv_id, "label": label.value, "pr_number": pr_number,
         "state": ProposalState.OPEN.value, "proposed_at": now} for arxiv_id, label in proposed.items()],
        keep=["state", "proposed_at"], on=["arxiv_id"], where=text(OPEN_PROPOSAL))


def settle(session: Session, arxiv_id: str, label: Label, state: ProposalState, *, pr_number: int | None,
           final_label: Label | None = None) -> bool:
    """Record a maintainer decision once; returns False when it was already recorded."""
    rows = list(session.scalars(select(ProposalRow).where(ProposalRow.arxiv_id == arxiv_id)
                                .order_by(ProposalRow.id)))
    decided = [r for r in rows
               if r.state in {ProposalState.MERGED, ProposalState.REJECTED} and r.pr_number == pr_number]
    if decided:
        return False
    now = to_db(utcnow())
    final = final_label.value if final_label else None
    target = next((r for r in reversed(rows) if r.state == ProposalState.OPEN), None)
    if target is None:
        return _insert_proposal(session, state, arxiv_id=arxiv_id, label=label.value, pr_number=pr_number,
                                proposed_at=now, decided_at=now, final_label=final)
    target.state, target.decided_at, target.pr_number, target.final_label = state, now, pr_number, final
    session.flush()
    return True


def file_answer(session: Session, arxiv_id: str, guess: Label, label: Label, *, pr_number: int) -> bool:
    """A maintainer ticked ``label`` for a paper the review list asked about (``guess``: the bot's best
    guess): propose it there, as their label (an open proposal with ``final_label``, like a move). Nothing
    happens, and False is returned, when the paper was proposed or decided already."""
    states = set(session.scalars(select(ProposalRow.state).where(ProposalRow.arxiv_id == arxiv_id)))
    if states - {ProposalState.WITHDRAWN}:
        return False
    return _insert_proposal(session, ProposalState.OPEN, arxiv_id=arxiv_id, label=guess.value,
                            final_label=label.value, pr_number=pr_number, proposed_at=to_db(utcnow()))


def correct_open(session: Session, arxiv_id: str, final_label: Label) -> None:
    """A maintainer moved an open proposal to another section: propose it there from now on."""
    for row in session.scalars(select(ProposalRow).where(ProposalRow.arxiv_id == arxiv_id,
                                                        ProposalRow.state == ProposalState.OPEN)):
        row.final_label = final_label.value
    session.flush()


def rejected_ids(session: Session) -> set[str]:
    rejected = select(ProposalRow.arxiv_id).where(ProposalRow.state == ProposalState.REJECTED)
    return set(session.scalars(rejected))


def listed_ids(session: Session) -> set[str]:
    return {i for i in session.scalars(select(ListEntryRow.arxiv_id)) if i}


def labelled_papers(session: Session) -> list[tuple[Paper, Label, str]]:
    """The maintainers' labels: listed papers (their section), merged and rejected proposals."""
    result: dict[str, tuple[Paper, Label, str]] = {}
    listed = session.execute(select(PaperRow, ListEntryRow.label).join(
        ListEntryRow, ListEntryRow.arxiv_id == PaperRow.arxiv_id)).all()
    for row, label in listed:
        if label:
            result[row.arxiv_id] = (paper_from_row(row), Label(label), LISTED)
    decided = session.execute(select(PaperRow, ProposalRow).join(
        ProposalRow, ProposalRow.arxiv_id == PaperRow.arxiv_id).where(
        (ProposalRow.state.in_([ProposalState.MERGED, ProposalState.REJECTED]))
        | (ProposalRow.final_label.is_not(None))
    ).order_by(ProposalRow.id)).all()
    for row, proposal in decided:
        if proposal.state == ProposalState.REJECTED:
            result[row.arxiv_id] = (paper_from_row(row), Label.IRRELEVANT, "rejected")
        elif row.arxiv_id not in result:
            final = Label(proposal.final_label or proposal.label)
            result[row.arxiv_id] = (paper_from_row(row), final, proposal.state)
    return [result[key] for key in sorted(result)]


def statuses(session: Session, arxiv_ids: Sequence[str] | None = None) -> dict[str, str]:
    """listed | proposed | rejected | seen for each paper (the order of precedence)."""
    query = select(PaperRow.arxiv_id)
    if arxiv_ids is not None:
        query = query.where(PaperRow.arxiv_id.in_(list(arxiv_ids)))
    result = {arxiv_id: "seen" for arxiv_id in session.scalars(query)}
    open_ids = select(ProposalRow.arxiv_id).where(ProposalRow.state == ProposalState.OPEN)
    for arxiv_id in session.scalars(open_ids):
        if arxiv_id in result:
            result[arxiv_id] = "proposed"
    for arxiv_id in rejected_ids(session):
        if arxiv_id in result:
            result[arxiv_id] = "rejected"
    for arxiv_id in listed_ids(session):
        if arxiv_id in result:
            result[arxiv_id] = "listed"
    return result
