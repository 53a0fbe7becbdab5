"""Learn from the maintainers: compare what the bot proposed with what ended up on the list.

Pure: takes the proposals recorded in a pull request's body marker and the labels of papers on a README,
returns decisions. ``bot/pipeline/run.py`` feeds it the bot's closed pull requests (merged or not), the list
on the default branch, and the open pull request's head; ``db/decisions.py`` stores what it returns.

- merged PR: each proposed paper now on the list is *merged*, under the section it ended up in (moved →
  the corrected label); one that is not on the list was removed before merging: *rejected*.
- PR closed unmerged: each proposed paper is *rejected*, unless a maintainer listed it anyway.
- open PR edited by a maintainer: a proposed paper missing from its head is *rejected*; one moved to
  another section keeps being proposed there.
- a box ticked in a PR's review list (``bot/awesome/review.py``): one section ticked *files* the paper
  there; "not for this list" ticked *rejects* it. Several boxes ticked for one paper decide nothing (the
  body keeps them ticked and asks for one); a paper already on the list keeps the list's section.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from bot.awesome.insert import AwesomeList
from bot.core.config import ListSettings
from bot.core.labels import Label
from bot.core.states import Verdict


@dataclass(frozen=True)
class Decision:
    arxiv_id: str
    proposed: Label
    state: Verdict
    final: Label | None
    pr_number: int | None

    def describe(self) -> str:
        if self.state == Verdict.REJECTED:
            return f"{self.arxiv_id}: rejected (proposed as {self.proposed.value})"
        if self.state == Verdict.FILED and self.final is not None:
            return (f"{self.arxiv_id}: filed as {self.final.value} by a tick in the review list "
                    f"(best guess {self.proposed.value})")
        if self.final and self.final != self.proposed:
            return f"{self.arxiv_id}: {self.state}, moved {self.proposed.value} → {self.final.value}"
        return f"{self.arxiv_id}: {self.state} as {self.proposed.value}"


def entry_labels(doc: AwesomeList, settings: ListSettings) -> dict[int, Label]:
    """README line → label for every entry inside a configured section (the innermost one wins)."""
    spans = []
    for label, heading in settings.sections.items():
        section = doc.section(heading)
        spans.append((section.line, section.end, Label(label)))
    result: dict[int, Label] = {}
    for entry in doc.entries:
        holding = [s for s in spans if s[0] <= entry.line < s[1]]
        if holding:
            result[entry.line] = max(holding, key=lambda s: s[0])[2]
    return result


def listed_labels(doc: AwesomeList, settings: ListSettings) -> dict[str, Label]:
    """arXiv id → label for every linked entry that sits inside a configured section."""
    lines = entry_labels(doc, settings)
    result: dict[str, Label] = {}
    for entry in doc.entries:
        if entry.line in lines:
            for arxiv_id in entry.arxiv_ids:
                result.setdefault(arxiv_id, lines[entry.line])
    return result


def decide_closed(pr_number: int, merged: bool, proposed: Mapping[str, Label],
                  listed: Mapping[str, Label]) -> list[Decision]:
    decisions = []
    for arxiv_id, label in sorted(proposed.items()):
        if arxiv_id in listed:
            final = listed[arxiv_id]
            decisions.append(Decision(arxiv_id, label, Verdict.MERGED, final, pr_number))
        else:
            decisions.append(Decision(arxiv_id, label, Verdict.REJECTED, None, pr_number))
    return decisions


def decide_open(pr_number: int, proposed: Mapping[str, Label],
                head_listed: Mapping[str, Label]) -> list[Decision]:
    """Edits a maintainer pushed to the open PR's branch (the next rebuild would otherwise undo them)."""
    decisions = []
    for arxiv_id, label in sorted(proposed.items()):
        if arxiv_id not in head_listed:
            decisions.append(Decision(arxiv_id, label, Verdict.REJECTED, None, pr_number))
        elif head_listed[arxiv_id] != label:
            decisions.append(Decision(arxiv_id, label, Verdict.MOVED, head_listed[arxiv_id], pr_number))
    return decisions


def decide_answers(pr_number: int, ticks: Mapping[str, frozenset[Label]], asked: Mapping[str, Label],
                   listed: Mapping[str, Label]) -> list[Decision]:
    """The boxes ticked in a PR's review list. ``asked``: the papers that list asked about, with the bot's
    best guess (the body's marker); a tick on any other paper, or on one already listed, is not read."""
    decisions = []
    for arxiv_id, labels in sorted(ticks.items()):
        if arxiv_id not in asked or arxiv_id in listed or len(labels) != 1:
            continue
        (label,) = labels
        if label.is_section:
            decisions.append(Decision(arxiv_id, asked[arxiv_id], Verdict.FILED, label, pr_number))
        else:
            decisions.append(Decision(arxiv_id, asked[arxiv_id], Verdict.REJECTED, None, pr_number))
    return decisions
