"""Render the body of the bot's one rolling pull request, and read back what an open one proposed.

Called by the pipeline after ``bot/awesome/insert.py`` has inserted the papers; ``bot/github/pulls.py`` sends
the text. The body opens with a hidden marker naming every proposed arXiv id and its label, then the counts, a
table per section (a row whose section is a toss-up names the other one), the borderline papers that were not
added, each with a checkbox per section (``bot/awesome/review.py``), the older borderline papers and those
the LLM judge turned away collapsed, and how to give feedback. It always fits GitHub's body limit: rows
that do not fit are summarised.
Every arXiv string goes through ``sanitize``; the marker holds only validated ids and ``Label`` values.
Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from bot.awesome.entries import format_authors, utc
from bot.awesome.markdown import sanitize
from bot.awesome.review import (
    REASON_MAX_CHARS,
    older_block,
    older_item,
    paper_date,
    paper_link,
    review_item,
    turned_away_block,
    turned_away_item,
)
from bot.core.errors import PublishError
from bot.core.labels import Label
from bot.core.models import Addition, parse_arxiv_id

# GitHub refuses a larger body: "body is too long (maximum is 65536 characters)".
GITHUB_BODY_LIMIT_CHARS = 65_536
MARKER_NAME = "paperbot:proposed"

INTRO = "paperbot found **{proposed}** for the list.{review}"
FEEDBACK = """### How to give feedback

- **Accept**: merge this pull request. Every paper in the README diff goes on the list.
- **Reject a paper**: delete its line from the README in this pull request. The bot never proposes it again.
- **Wrong section**: move the line to the section where it belongs. The bot records the corrected label.
- **Needs review**: those papers are not in the README diff. Tick the section a paper belongs in, or *not
  for this list*, one box per paper: the next run adds it to that section (or never proposes it again).
"""
TABLE_HEAD = "| Paper | Authors | Date | Confidence | Why |\n| --- | --- | --- | --- | --- |\n"
MORE_ROWS = "\n\u2026 and {n} more in this section; the README diff has every paper.\n"
MORE_REVIEW = "\n\u2026 and {n} more borderline papers not shown.\n"

DECLINED = "declined-"  # marker groups of papers the maintainers removed from the open PR
REVIEW = "review-"  # marker groups of the papers the review list asks about, under the bot's best guess
_MARKER_RE = re.compile(r"<!--\s*" + re.escape(MARKER_NAME) + r"\b(?P<body>.*?)-->", re.DOTALL)


def render_marker(additions: Sequence[Addition], declined: Mapping[str, Label] | None = None,
                  review: Sequence[Addition] = ()) -> str:
    """``<!-- paperbot:proposed v1 pruning=2501.01234,2501.05678 other=... declined-pruning=... -->``: ids
    and labels only. ``declined`` are the papers the maintainers removed from this pull request while it
    was open: kept here so that the decision outlives the database (it is GitHub's copy of it).
    ``review`` are the papers the review list asks about (``review-pruning=...``, the best guess)."""
    return _marker({a.paper.arxiv_id: Label(a.label) for a in additions}, declined or {},
                   {a.paper.arxiv_id: Label(a.label) for a in review})


def _marker(proposed: Mapping[str, Label], declined: Mapping[str, Label],
            review: Mapping[str, Label]) -> str:
    groups: dict[str, list[str]] = {}
    for prefix, papers in (("", proposed), (DECLINED, declined), (REVIEW, review)):
        for arxiv_id, label in papers.items():
            base, _ = parse_arxiv_id(arxiv_id)  # raises on anything that is not an id
            groups.setdefault(prefix + Label(label).value, []).append(base)
    parts = [f"{label}={','.join(sorted(set(ids)))}" for label, ids in sorted(groups.items())]
    return f"<!-- {MARKER_NAME} v1 {' '.join(parts)} -->".replace("  ", " ")


def parse_pr_body_marker(body: str | None) -> dict[str, Label]:
    """The arXiv ids (base, no version) and labels an open bot PR proposed; {} when there is no marker.

    Anything in the marker that is not ``label=id,id`` with a known label and a valid id is ignored.
    """
    return _marker_groups(body, "")


def parse_declined(body: str | None) -> dict[str, Label]:
    """The papers the marker says the maintainers removed from the PR while it was open, with the label
    each was proposed under."""
    return _marker_groups(body, DECLINED)


def parse_review_guesses(body: str | None) -> dict[str, Label]:
    """The papers the body's review list asks about, with the bot's best guess for each: only their
    ticks are read back (``bot/awesome/review.py``)."""
    return _marker_groups(body, REVIEW)


def with_declined(body: str, declined: Mapping[str, Label]) -> str:
    """``body`` with its marker rewritten to also name ``declined`` (for a PR closed with nothing left)."""
    marker = _marker(parse_pr_body_marker(body), {**parse_declined(body), **declined},
                     parse_review_guesses(body))
    return _MARKER_RE.sub(lambda _: marker, body, count=1) if _MARKER_RE.search(body) else f"{marker}\n{body}"


def _marker_groups(body: str | None, prefix: str) -> dict[str, Label]:
    match = _MARKER_RE.search(body or "")
    if match is None:
        return {}
    found: dict[str, Label] = {}
    for group in match.group("body").split():
        name, sep, ids = group.partition("=")
        if not sep or not name.startswith(prefix):
            continue
        label_text = name[len(prefix):]
        if label_text not in Label._value2member_map_:
            continue
        for text in ids.split(","):
            try:
                found[parse_arxiv_id(text)[0]] = Label(label_text)
            except ValueError:
                continue
    return found


def render_pr_body(additions: Mapping[Label, Sequence[Addition]] | Sequence[Addition],
                   needs_review: Sequence[Addition] = (), counts: Mapping[str, int] | None = None, *,
                   sections: Mapping[str, str] | None = None,
                   declined: Mapping[str, Label] | None = None,
                   older: Sequence[Addition] = (), review_days: int = 30,
                   ticked: Mapping[str, frozenset[Label]] | None = None,
                   turned_away: Sequence[Addition] = (),
                   limit_chars: int = GITHUB_BODY_LIMIT_CHARS) -> str:
    """The PR body: marker, counts, a table per section, needs-review list, feedback help.

    ``additions`` are the papers inserted into the README (a flat sequence or grouped by label);
    ``needs_review`` borderline papers that were not inserted, each with its checkboxes (``ticked``: the
    boxes a maintainer ticked that are still to be acted on); ``older`` borderline papers published more
    than ``review_days`` ago, listed collapsed; ``counts`` e.g. ``{"fetched": 120, ...}`` in display
    order; ``sections`` maps label values to the list's headings (``ListSettings.sections``);
    ``turned_away`` papers the LLM judge labelled irrelevant (``local_label`` and ``judge_reason`` set),
    listed collapsed.
    """
    flat = [a for group in additions.values() for a in group] if isinstance(additions, Mapping) \
        else list(additions)
    names = dict(sections or {})
    marker = render_marker(flat, declined, needs_review)
    by_label: dict[str, list[Addition]] = {}
    for addition in sorted(flat, key=_order):
        by_label.setdefault(Label(addition.label).value, []).append(addition)
    order = [label for label in names if label in by_label] + sorted(set(by_label) - set(names))
    rows = [(label, _row(a, names)) for label in order for a in by_label[label]]
    ticks = ticked or {}
    review = [review_item(a, names, ticks.get(parse_arxiv_id(a.paper.arxiv_id)[0], frozenset()))
              for a in sorted(needs_review, key=_order)]
    old = [older_item(a, names) for a in sorted(older, key=_order)]
    away = [turned_away_item(a, names) for a in sorted(turned_away, key=_order)]
    head = _head(marker, len(flat), len(needs_review), counts,
                 uncertain=sum(a.other_section is not None for a in flat), turned_away=len(away))

    def build(shown: int) -> str:
        parts = [head]
        for label in order:
            section_rows = [row for lab, row in rows[:shown] if lab == label]
            total = len(by_label[label])
            title = sanitize(names.get(label, label.capitalize()))
            parts.append(f"### {title} ({total})\n\n")
            parts.append(TABLE_HEAD + "".join(section_rows) if section_rows else "")
            parts.append(MORE_ROWS.format(n=total - len(section_rows)) if total > len(section_rows) else "")
            parts.append("\n")
        if review:
            shown_review = review[: max(0, shown - len(rows))]
            parts.append("### Needs review (not added)\n\n" + "".join(shown_review))
            if len(shown_review) < len(review):
                parts.append(MORE_REVIEW.format(n=len(review) - len(shown_review)))
            parts.append("\n")
        parts.append(older_block(old[: max(0, shown - len(rows) - len(review))], len(old), review_days))
        parts.append(turned_away_block(away[: max(0, shown - len(rows) - len(review) - len(old))], len(away)))
        parts.append(FEEDBACK)
        return "".join(parts)

    total_items = len(rows) + len(review) + len(old) + len(away)
    if _size(build(0)) > limit_chars:
        raise PublishError(f"{len(flat)} papers are too many for one pull request body "
                           f"({limit_chars} characters); lower max_new_papers")
    low, high = 0, total_items  # the largest number of rows that fits
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if _size(build(mid)) <= limit_chars else (low, mid - 1)
    return build(low)


def _size(text: str) -> int:
    """Characters as GitHub may count them (UTF-16 code units: never fewer than code points)."""
    return len(text.encode("utf-16-le")) // 2


def _order(addition: Addition) -> tuple[str, str]:
    published = utc(addition.paper.published)
    stamp = published.isoformat() if published else ""
    return ("".join(chr(0x10FFFF - ord(c)) for c in stamp), addition.paper.arxiv_id)  # newest first


def _head(marker: str, proposed: int, review: int, counts: Mapping[str, int] | None, *,
          uncertain: int = 0, turned_away: int = 0) -> str:
    papers = f"{proposed} new paper{'s' if proposed != 1 else ''}"
    note = " 1 borderline paper needs review." if review == 1 else \
        f" {review} borderline papers need review." if review else ""
    if uncertain:
        note += (" 1 paper's section is uncertain" if uncertain == 1 else
                 f" {uncertain} papers' sections are uncertain") + ": look for *or …?* in the tables."
    if turned_away:
        note += (" The LLM judge turned away 1 paper" if turned_away == 1 else
                 f" The LLM judge turned away {turned_away} papers") + " (listed, collapsed, below)."
    lines = [marker, "", INTRO.format(proposed=papers, review=note), ""]
    if counts:
        shown = [f"{sanitize(key.replace('_', ' ').capitalize(), max_chars=40)}: {int(value)}"
                 for key, value in counts.items()]
        lines += [" \u00b7 ".join(shown), ""]
    return "\n".join(lines) + "\n"


def _row(addition: Addition, names: Mapping[str, str]) -> str:
    why = sanitize(addition.reason, max_chars=REASON_MAX_CHARS) or "-"
    if addition.local_label is not None:  # filed by the LLM judge, where the local model differs
        local = addition.local_label.value
        judge = sanitize(addition.judge_reason or "", max_chars=REASON_MAX_CHARS) or "-"
        why = (f"**LLM judge**: {judge} · *local model: {sanitize(names.get(local, local), max_chars=80)}"
               f"{' (unsure)' if addition.local_label is addition.label else ''}*: {why}")
    if addition.other_section is not None:
        other = addition.other_section.value
        why = f"*or {sanitize(names.get(other, other), max_chars=80)}?* {why}"
    return (f"| {paper_link(addition)} | {format_authors(addition.paper.authors)} | {paper_date(addition)} | "
            f"{addition.probability:.0%} | {why} |\n")

