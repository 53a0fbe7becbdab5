"""The learning loop of ``paperbot run``: what the maintainers did with the bot's proposals.

Reads the bot's closed pull requests, the open one (its body marker and the list on its branch) and the
list on the default branch; records merges, removals and moves (``db/decisions.py``), which the classifier
then trains on. A paper the maintainers removed from the open pull request is kept in its body marker, so
a lost database never proposes it again. The boxes ticked in a pull request's review list are read from its
body (the open one before the run rewrites it): a section ticked files the paper there, "not for this list"
rejects it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import Engine

from bot.awesome.feedback import (
    Decision,
    decide_answers,
    decide_closed,
    decide_open,
    entry_labels,
    listed_labels,
)
from bot.awesome.insert import AwesomeList, build_index, parse_list
from bot.awesome.prbody import parse_declined, parse_pr_body_marker, parse_review_guesses
from bot.awesome.review import parse_review_ticks
from bot.core.config import Settings
from bot.core.labels import Label
from bot.core.states import ProposalState, Verdict
from db import decisions, store
from db.session import session_scope

if TYPE_CHECKING:
    from bot.github.pulls import ClosedPR, OpenPR

log = logging.getLogger(__name__)


def declined_in(engine: Engine, open_pr: OpenPR | None) -> dict[str, Label]:
    """The papers the maintainers removed from the open PR, as proposed: its body's marker keeps them."""
    if open_pr is None:
        return {}
    with session_scope(engine) as session:
        return {p.arxiv_id: p.label for p in decisions.proposals(session, ProposalState.REJECTED)
                if p.pr_number == open_pr.number}


def head_labels(settings: Settings, engine: Engine, head: AwesomeList,
                 proposed: dict[str, Label]) -> dict[str, Label]:
    """Where each proposed paper sits on the open PR's branch: by its link, else by its title (a maintainer
    may have dropped the link to match the list's own format; that is not removing the paper)."""
    found = listed_labels(head, settings.list)
    missing = [arxiv_id for arxiv_id in proposed if arxiv_id not in found]
    if missing:
        lines = entry_labels(head, settings.list)
        index = build_index(head, threshold=settings.list.title_match_threshold)
        with session_scope(engine) as session:
            papers = store.get_papers(session, missing)
        for arxiv_id, paper in papers.items():
            match = index.find(None, paper.title)
            if match is not None and match.line in lines:
                found[arxiv_id] = lines[match.line]
    return found


def learn(settings: Settings, engine: Engine, listed: dict[str, Label], history: Sequence[ClosedPR],
           open_pr: OpenPR | None) -> list[Decision]:
    """Settle the bot's past proposals against the list; pick up edits to the open PR."""
    learned: list[Decision] = []
    pending: list[Decision] = []
    for pr in sorted(history, key=lambda p: p.number):
        proposed = parse_pr_body_marker(pr.body)
        found = decide_closed(pr.number, pr.merged, proposed, listed)
        if pr.closed_by_bot and not pr.merged:  # the bot closed it: nothing was declined
            found = [d for d in found if d.state != Verdict.REJECTED]
        # ... but what the maintainers removed while it was open was, whoever closed it
        found += decide_closed(pr.number, pr.merged, parse_declined(pr.body), listed)
        pending.extend(found)
        pending.extend(answers(pr.number, pr.body, listed))  # ticked, then merged before the next run
    open_proposed = parse_pr_body_marker(open_pr.body) if open_pr else {}
    open_declined = parse_declined(open_pr.body) if open_pr else {}
    if open_pr is not None:
        pending.extend(decide_closed(open_pr.number, False, open_declined, listed))
        pending.extend(answers(open_pr.number, open_pr.body, listed))
    present = ensure_papers(settings, engine, sorted({d.arxiv_id for d in pending} | set(open_proposed)))
    if open_pr is not None and open_pr.readme is not None:
        head = head_labels(settings, engine, parse_list(open_pr.readme), open_proposed)
        pending.extend(decide_open(open_pr.number, open_proposed, head))
    with session_scope(engine) as session:
        if open_pr is not None:  # rebuilds "already proposed" when the database was lost
            known_open = {p.arxiv_id for p in decisions.proposals(session, ProposalState.OPEN)}
            missing = {i: label for i, label in open_proposed.items() if i in present and i not in known_open}
            for arxiv_id, label in missing.items():
                decisions.settle(session, arxiv_id, label, ProposalState.OPEN, pr_number=open_pr.number)
        for decision in pending:
            if decision.arxiv_id not in present:
                continue
            if decision.state == Verdict.MOVED and decision.final is not None:
                decisions.correct_open(session, decision.arxiv_id, decision.final)
                learned.append(decision)
            elif decision.state == Verdict.FILED and decision.final is not None and decision.pr_number:
                if decisions.file_answer(session, decision.arxiv_id, decision.proposed, decision.final,
                                         pr_number=decision.pr_number):
                    learned.append(decision)
            elif decisions.settle(session, decision.arxiv_id, decision.proposed,
                                  ProposalState(decision.state), pr_number=decision.pr_number,
                                  final_label=decision.final):
                learned.append(decision)
    for decision in learned:
        log.info("learned: %s", decision.describe())
    return learned


def answers(pr_number: int, body: str | None, listed: dict[str, Label]) -> list[Decision]:
    """The boxes ticked in a pull request's review list, as decisions (``decide_answers``)."""
    return decide_answers(pr_number, parse_review_ticks(body), parse_review_guesses(body), listed)


def ensure_papers(settings: Settings, engine: Engine, ids: list[str]) -> set[str]:
    """Make sure these papers are in the store (after a lost database); returns the ids now present."""
    from bot.arxiv.client import fetch_by_ids

    with session_scope(engine) as session:
        missing = sorted(set(ids) - set(store.get_papers(session, ids)))
    if missing:
        papers = fetch_by_ids(settings.arxiv, missing)
        with session_scope(engine) as session:
            store.upsert_papers(session, papers)
    with session_scope(engine) as session:
        return set(store.get_papers(session, ids))
