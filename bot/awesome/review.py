"""The PR body's "Needs review" list: one task-list checkbox per section, and reading the ticks back.

Each borderline paper the bot did not add is a list item (title linked to arXiv, authors, date, best guess,
the probability that it belongs on the list at all, why) with one checkbox per section of the list and one
"not for this list". Every checkbox ends with a hidden identifier,
``<!-- paperbot:review 2501.01234 pruning -->``, so a tick is read back by that comment alone, whatever a
maintainer writes around it; ``parse_review_ticks`` returns the ticked ones.
Borderline papers older than the review window are listed in a collapsed block, without checkboxes, and
so are the papers the LLM judge turned away (labelled irrelevant), each with the judge's reason.
Every arXiv string goes through ``sanitize``; a comment holds only a validated id and a ``Label`` value.
Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from bot.awesome.entries import format_authors, utc
from bot.awesome.markdown import sanitize
from bot.core.labels import Label
from bot.core.models import Addition, abs_url, parse_arxiv_id

REVIEW_NAME = "paperbot:review"
NOT_FOR_THE_LIST = "not for this list"
REASON_MAX_CHARS = 200
SEVERAL_TICKED = " \u2014 *several boxes are ticked: leave one ticked to file this paper*"
OLDER_HEAD = ("<details>\n<summary>{n} older paper{s} that needed review (published more than {days} days "
              "ago, no longer asked about)</summary>\n\n")
OLDER_NOTE = "\nNo checkboxes here: add one to the README by hand if it belongs on the list.\n"
OLDER_TAIL = "\n</details>\n"
MORE_OLDER = "\n\u2026 and {n} more not shown.\n"

TURNED_AWAY_HEAD = ("<details>\n<summary>{n} paper{s} turned away by the LLM judge (the local model would "
                    "have proposed or asked about {them}; not added)</summary>\n\n")
TURNED_AWAY_NOTE = "\nThe judge is advice: add one to the README by hand if it belongs on the list.\n"
_TICK_RE = re.compile(r"^[ \t]*[-*+][ \t]+\[(?P<tick>[ xX])\][^\n]*?<!--[ \t]*" + re.escape(REVIEW_NAME)
                      + r"[ \t]+(?P<id>[^\s>]+)[ \t]+(?P<label>[a-z]+)[ \t]*-->", re.MULTILINE)


def paper_link(addition: Addition) -> str:
    return f"[{sanitize(addition.paper.title)}]({abs_url(addition.paper.arxiv_id)})"


def paper_date(addition: Addition) -> str:
    published = utc(addition.paper.published)
    return published.date().isoformat() if published else "-"


def choices(names: Mapping[str, str]) -> list[tuple[Label, str]]:
    """The checkboxes of one review item, in order: the list's sections (its own headings), then "not for
    this list"."""
    sections = [(Label(label), sanitize(heading, max_chars=80)) for label, heading in names.items()
                if Label(label).is_section]
    return [*sections, (Label.IRRELEVANT, NOT_FOR_THE_LIST)]


def review_item(addition: Addition, names: Mapping[str, str], ticked: frozenset[Label] = frozenset()) -> str:
    """One borderline paper with its checkboxes; ``ticked`` are boxes to keep ticked (a maintainer ticked
    them and the bot has not acted on them: several for one paper, or a paper arXiv could not serve)."""
    label = Label(addition.label).value
    section = sanitize(names.get(label, label), max_chars=80)
    why = sanitize(addition.reason, max_chars=REASON_MAX_CHARS)
    base, _ = parse_arxiv_id(addition.paper.arxiv_id)  # raises on anything that is not an id
    boxes = "".join(f"  - [{'x' if choice in ticked else ' '}] {text} <!-- {REVIEW_NAME} {base} {choice} "
                    "-->\n" for choice, text in choices(names))
    note = SEVERAL_TICKED if len(ticked) > 1 else ""
    return (f"- {paper_link(addition)} \u2014 {format_authors(addition.paper.authors)}, "
            f"{paper_date(addition)}: best guess **{section}** (relevant: {addition.probability:.0%})"
            f"{': ' + why if why else ''}{note}\n{boxes}")


def older_item(addition: Addition, names: Mapping[str, str]) -> str:
    label = Label(addition.label).value
    section = sanitize(names.get(label, label), max_chars=80)
    return (f"- {paper_link(addition)} \u2014 {paper_date(addition)}: best guess **{section}** "
            f"(relevant: {addition.probability:.0%})\n")


def older_block(items: Sequence[str], total: int, days: int) -> str:
    """The collapsed list of the borderline papers past the review window: ``items`` of ``total`` shown."""
    if not total:
        return ""
    more = MORE_OLDER.format(n=total - len(items)) if total > len(items) else ""
    return (OLDER_HEAD.format(n=total, s="s" if total != 1 else "", days=days) + "".join(items) + more
            + OLDER_NOTE + OLDER_TAIL + "\n")


def turned_away_item(addition: Addition, names: Mapping[str, str]) -> str:
    """A paper the LLM judge labelled irrelevant: the local model's section and P(relevant), the judge's
    reason."""
    local = (addition.local_label or Label(addition.label)).value
    section = sanitize(names.get(local, local), max_chars=80)
    judge = sanitize(addition.judge_reason or "", max_chars=REASON_MAX_CHARS) or "-"
    return (f"- {paper_link(addition)} \u2014 {paper_date(addition)}: local model **{section}** "
            f"(relevant: {addition.probability:.0%}); **LLM judge**: {judge}\n")


def turned_away_block(items: Sequence[str], total: int) -> str:
    """The collapsed list of the papers the judge turned away: ``items`` of ``total`` shown."""
    if not total:
        return ""
    more = MORE_OLDER.format(n=total - len(items)) if total > len(items) else ""
    return (TURNED_AWAY_HEAD.format(n=total, s="s" if total != 1 else "", them="them" if total != 1 else "it")
            + "".join(items) + more + TURNED_AWAY_NOTE + OLDER_TAIL + "\n")


def parse_review_ticks(body: str | None) -> dict[str, frozenset[Label]]:
    """The ticked boxes of the review list: arXiv id (base) → the labels ticked (irrelevant: "not for this
    list"). A box is read by its hidden identifier only; one with a malformed id or label is ignored."""
    found: dict[str, set[Label]] = {}
    for match in _TICK_RE.finditer(body or ""):
        if match.group("tick") == " " or match.group("label") not in Label._value2member_map_:
            continue
        try:
            base, _ = parse_arxiv_id(match.group("id"))
        except ValueError:
            continue
        found.setdefault(base, set()).add(Label(match.group("label")))
    return {arxiv_id: frozenset(labels) for arxiv_id, labels in found.items()}
