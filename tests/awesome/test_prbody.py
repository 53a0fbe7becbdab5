"""bot/awesome/prbody.py: the rolling PR's body, its size limit and its machine-readable marker."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from bot.awesome.prbody import (
    GITHUB_BODY_LIMIT_CHARS,
    parse_declined,
    parse_pr_body_marker,
    parse_review_guesses,
    render_marker,
    render_pr_body,
    with_declined,
)
from bot.awesome.review import REVIEW_NAME, parse_review_ticks
from bot.core.config import DEFAULT_SECTIONS
from bot.core.labels import Label
from bot.core.models import Addition, Paper
from tests.support.awesome import HOSTILE, check_golden, tokens_of

LABELS = [Label.DISTILLATION, Label.PRUNING, Label.QUANTIZATION, Label.OTHER]
COUNTS = {"fetched": 120, "new": 31, "proposed": 4, "needs_review": 2, "already_listed": 3}


def addition(n: int, title: str, label: Label, probability: float = 0.9, reason: str = "why") -> Addition:
    paper = Paper(arxiv_id=f"2601.{n:05d}", title=title, authors=("Ada Lovelace", "Alan Turing"),
                  published=datetime(2026, 1, 1 + n % 28, 9, tzinfo=UTC))
    return Addition(paper, label, probability, reason)


def test_body_layout() -> None:
    additions = [addition(1, "Fast Distill", Label.DISTILLATION, 0.93, "few-step student"),
                 addition(2, "Prune Me", Label.PRUNING, 0.71)]
    review = [addition(3, "Maybe Quant", Label.QUANTIZATION, 0.51, "borderline")]
    body = render_pr_body(additions, review, COUNTS, sections=DEFAULT_SECTIONS)
    assert body.splitlines()[0] == ("<!-- paperbot:proposed v1 distillation=2601.00001 pruning=2601.00002 "
                                    "review-quantization=2601.00003 -->")
    assert body.index("Fetched: 120") < body.index("### Knowledge Distillation for Diffusion Models (1)")
    assert ("| [Fast Distill](https://arxiv.org/abs/2601.00001) | Ada Lovelace et al. | 2026-01-02 | 93% | "
            "few-step student |") in body
    assert "### Needs review (not added)\n\n- [Maybe Quant](https://arxiv.org/abs/2601.00003)" in body
    assert "best guess **Quantization for Diffusion Models** (relevant: 51%): borderline" in body
    assert "delete its line" in body and "never proposes it again" in body and "move the line" in body
    assert "### Quantization" not in body  # no empty section tables
    assert render_pr_body({Label.PRUNING: additions[1:], Label.DISTILLATION: additions[:1]}, review, COUNTS,
                          sections=DEFAULT_SECTIONS) == body  # grouped or flat, same body


def test_a_toss_up_section_names_the_runner_up_in_the_row_and_the_intro() -> None:
    sure = addition(1, "Fast Distill", Label.DISTILLATION, 0.93, "few-step student")
    toss_up = replace(addition(2, "Streaming Avatar", Label.DISTILLATION, 0.52, "closest listed: LCM"),
                      other_section=Label.OTHER)
    body = render_pr_body([sure, toss_up], (), COUNTS, sections=DEFAULT_SECTIONS)
    assert "| 52% | *or Other?* closest listed: LCM |" in body
    assert "| 93% | few-step student |" in body
    assert "1 paper's section is uncertain: look for *or …?* in the tables." in body
    two = render_pr_body([replace(sure, other_section=Label.PRUNING), toss_up], (), COUNTS,
                         sections=DEFAULT_SECTIONS)
    assert "*or Pruning and Sparsity for Diffusion Models?* few-step student" in two
    assert "2 papers' sections are uncertain" in two
    assert "uncertain" not in render_pr_body([sure], (), COUNTS, sections=DEFAULT_SECTIONS)


def test_hostile_body_golden_and_safe() -> None:
    additions = [addition(100 + n, title, LABELS[n % 4], reason=f"@octocat says {title}")
                 for n, title in enumerate(HOSTILE)]
    additions[0] = replace(additions[0], paper=replace(additions[0].paper, authors=("@octocat <b>|", "B")))
    review = [addition(200, "Fixes #3 @someone", Label.OTHER, 0.5, "<!-- x -->")]
    body = render_pr_body(additions, review, COUNTS, sections=DEFAULT_SECTIONS)
    check_golden("hostile-pr-body.md", body)
    tokens = tokens_of(body)
    html = [t for t in tokens if t.type in {"html_block", "html_inline"}]
    assert html[0].type == "html_block" and html[0].content.startswith("<!-- paperbot:proposed v1 ")
    # the rest: one hidden identifier per checkbox, our own text only (5 boxes for the one review paper)
    boxes = ("distillation", "pruning", "quantization", "other", "irrelevant")
    assert [t.content for t in html[1:]] == [f"<!-- {REVIEW_NAME} 2601.00200 {label} -->" for label in boxes]
    assert not [t for t in tokens if t.type.startswith("math")]
    links = {t.attrs["href"] for t in tokens if t.type == "link_open"}
    assert links == {f"https://arxiv.org/abs/{a.paper.arxiv_id}" for a in [*additions, *review]}
    text = "".join(t.content for t in tokens if t.type == "text")
    assert not re.search(r"@[A-Za-z0-9]|#\d|GH-\d|://|www\.", text)
    headings = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "heading_open"]
    assert headings == [f"{DEFAULT_SECTIONS[label.value]} (7)" for label in LABELS] + [
        "Needs review (not added)", "How to give feedback"]
    for table in (i for i, t in enumerate(tokens) if t.type == "table_open"):
        assert tokens[table].map is not None
    rows = [line for line in body.splitlines() if line.startswith("| [")]
    assert len(rows) == len(additions)
    assert parse_pr_body_marker(body) == {a.paper.arxiv_id: a.label for a in additions}


def test_three_thousand_papers_fit_under_the_limit() -> None:
    additions = [addition(n, f"Paper number {n} " + "about diffusion " * 12, LABELS[n % 4], reason="r" * 150)
                 for n in range(1, 3001)]
    review = [addition(5000 + n, f"Borderline {n}", Label.OTHER, 0.5) for n in range(200)]
    body = render_pr_body(additions, review, COUNTS, sections=DEFAULT_SECTIONS)
    assert len(body) <= GITHUB_BODY_LIMIT_CHARS
    assert len(body) > GITHUB_BODY_LIMIT_CHARS - 1000  # filled, not emptied
    assert "more in this section; the README diff has every paper." in body
    assert "\u2026 and 200 more borderline papers not shown." in body
    assert body.endswith("(or never proposes it again).\n")
    assert len(parse_pr_body_marker(body)) == 3000  # the marker is never truncated
    shown = sum(1 for line in body.splitlines() if line.startswith("| [Paper number"))
    hidden = sum(int(n) for n in re.findall(r"\u2026 and (\d+) more in this section", body))
    assert shown + hidden == 3000
    assert render_pr_body(list(reversed(additions)), review, COUNTS, sections=DEFAULT_SECTIONS) == body


def test_small_limit_summarises_everything() -> None:
    additions = [addition(n, f"Paper {n}", Label.PRUNING) for n in range(1, 50)]
    body = render_pr_body(additions, sections=DEFAULT_SECTIONS, limit_chars=2500)
    assert len(body) <= 2500 and "more in this section" in body


def test_marker_round_trip_and_junk() -> None:
    additions = [addition(2, "B", Label.PRUNING), addition(1, "A", Label.PRUNING),
                 addition(3, "C", Label.OTHER)]
    assert render_marker(additions) == \
        "<!-- paperbot:proposed v1 other=2601.00003 pruning=2601.00001,2601.00002 -->"
    assert parse_pr_body_marker("text\n" + render_marker(additions)) == {
        "2601.00001": Label.PRUNING, "2601.00002": Label.PRUNING, "2601.00003": Label.OTHER}
    junk = "<!-- paperbot:proposed v1 pruning=2601.00001v2,../../etc,javascript:x evil=2601.00009 other= -->"
    assert parse_pr_body_marker(junk) == {"2601.00001": Label.PRUNING}
    assert parse_pr_body_marker("no marker") == {} and parse_pr_body_marker(None) == {}


def test_a_title_cannot_forge_the_marker() -> None:
    forged = addition(1, "<!-- paperbot:proposed v1 other=2501.99999 -->", Label.PRUNING)
    body = render_pr_body([forged], sections=DEFAULT_SECTIONS)
    assert body.count("<!--") == 1
    assert parse_pr_body_marker(body) == {"2601.00001": Label.PRUNING}


# --- the review list's checkboxes ------------------------------------------------------------------------

BOXES = [*DEFAULT_SECTIONS.values(), "not for this list"]


def tick(body: str, arxiv_id: str, label: str, mark: str = "x") -> str:
    """What GitHub does when a maintainer clicks a box: ``[ ]`` becomes ``[x]`` on that line."""
    lines = body.splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if f"<!-- {REVIEW_NAME} {arxiv_id} {label} -->" in line)
    lines[at] = lines[at].replace("[ ]", f"[{mark}]", 1)
    return "".join(lines)


def test_each_review_paper_has_a_checkbox_per_section_and_one_for_not_listed() -> None:
    from mdit_py_plugins.tasklists import tasklists_plugin

    from tests.support.awesome import gfm

    review = [addition(3, "Maybe Quant", Label.QUANTIZATION, 0.51, "borderline"),
              addition(4, "Maybe Prune", Label.PRUNING, 0.44, "")]
    body = render_pr_body([addition(1, "Fast Distill", Label.DISTILLATION)], review, COUNTS,
                          sections=DEFAULT_SECTIONS)
    assert body.index("- [Maybe Prune]") < body.index("- [Maybe Quant]")  # newest first
    item = body[body.index("- [Maybe Quant]"):body.index("\n### How to give feedback")].strip()
    assert item.splitlines() == [
        "- [Maybe Quant](https://arxiv.org/abs/2601.00003) \u2014 Ada Lovelace et al., 2026-01-04: "
        "best guess **Quantization for Diffusion Models** (relevant: 51%): borderline",
        *[f"  - [ ] {text} <!-- {REVIEW_NAME} 2601.00003 {label} -->"
          for text, label in zip(BOXES, ["distillation", "pruning", "quantization", "other", "irrelevant"],
                                 strict=True)]]
    # GitHub renders them as task-list checkboxes, nested under the paper, the identifiers hidden
    html = gfm().use(tasklists_plugin).render(body)
    assert html.count('type="checkbox"') == 10 and "checked" not in html
    assert parse_review_ticks(body) == {}
    assert parse_review_guesses(body) == {"2601.00003": Label.QUANTIZATION, "2601.00004": Label.PRUNING}
    assert parse_pr_body_marker(body) == {"2601.00001": Label.DISTILLATION}  # review papers are not proposed


def test_ticks_are_read_by_their_hidden_identifier() -> None:
    review = [addition(3, "Maybe Quant", Label.QUANTIZATION, 0.51), addition(4, "Maybe Prune", Label.PRUNING)]
    body = render_pr_body([addition(1, "A", Label.OTHER)], review, COUNTS, sections=DEFAULT_SECTIONS)
    ticked = tick(tick(body, "2601.00003", "pruning"), "2601.00004", "irrelevant", mark="X")
    assert parse_review_ticks(ticked) == {"2601.00003": frozenset({Label.PRUNING}),
                                          "2601.00004": frozenset({Label.IRRELEVANT})}
    # a maintainer rewords the box and writes around it: the identifier still says which box it is
    edited = ticked.replace("- [x] Pruning and Sparsity for Diffusion Models <!--",
                            "- [x] pruning, surely (token merging) <!--").replace("\r\n", "\n")
    assert parse_review_ticks(edited) == parse_review_ticks(ticked)
    assert parse_review_ticks(edited.replace("\n", "\r\n")) == parse_review_ticks(ticked)
    two = tick(ticked, "2601.00003", "other")
    assert parse_review_ticks(two)["2601.00003"] == frozenset({Label.PRUNING, Label.OTHER})
    # only a task-list line with a well-formed identifier counts
    junk = ("- [x] Other <!-- paperbot:review 2601.00003 bogus -->\n"
            "- [x] Other <!-- paperbot:review ../etc other -->\n"
            "[x] Other <!-- paperbot:review 2601.00005 other -->\n"
            "- [x] Other <!-- paperbot:reviewed 2601.00006 other -->\n"
            "- [x] Other <!-- paperbot:review 2601.00007v2 other -->\n")
    assert parse_review_ticks(junk) == {"2601.00007": frozenset({Label.OTHER})}
    assert parse_review_ticks(None) == {} and parse_review_ticks("no boxes") == {}


def test_a_title_or_reason_cannot_forge_a_tick() -> None:
    forged = addition(3, "- [x] Other <!-- paperbot:review 2501.99999 other -->", Label.PRUNING, 0.5,
                      reason="\n  - [x] Other <!-- paperbot:review 2501.99998 pruning -->")
    body = render_pr_body([addition(1, "A", Label.OTHER)], [forged], COUNTS, sections=DEFAULT_SECTIONS)
    assert parse_review_ticks(body) == {}
    assert parse_review_ticks(tick(body, "2601.00003", "other")) == {"2601.00003": frozenset({Label.OTHER})}
    assert body.count("<!--") == 1 + len(BOXES)


def test_ticks_not_acted_on_stay_ticked_and_several_ask_for_one() -> None:
    review = [addition(3, "Maybe Quant", Label.QUANTIZATION, 0.51), addition(4, "Maybe Prune", Label.PRUNING)]
    ticks = {"2601.00003": frozenset({Label.PRUNING, Label.OTHER}), "2601.00004": frozenset({Label.OTHER})}
    body = render_pr_body([addition(1, "A", Label.OTHER)], review, COUNTS, sections=DEFAULT_SECTIONS,
                          ticked=ticks)
    assert parse_review_ticks(body) == ticks
    several = next(line for line in body.splitlines() if line.startswith("- [Maybe Quant]"))
    assert several.endswith("*several boxes are ticked: leave one ticked to file this paper*")
    assert "several" not in next(line for line in body.splitlines() if line.startswith("- [Maybe Prune]"))


def test_older_borderline_papers_are_listed_collapsed_without_checkboxes() -> None:
    older = [addition(7, "Old Maybe", Label.OTHER, 0.42), addition(8, "Older Maybe", Label.PRUNING, 0.38)]
    body = render_pr_body([addition(1, "A", Label.OTHER)], [addition(3, "Maybe", Label.PRUNING, 0.5)], COUNTS,
                          sections=DEFAULT_SECTIONS, older=older, review_days=30)
    block = body[body.index("<details>"):body.index("</details>")]
    assert block.startswith("<details>\n<summary>2 older papers that needed review (published more than 30 "
                            "days ago, no longer asked about)</summary>\n\n")
    assert "- [Older Maybe](https://arxiv.org/abs/2601.00008) \u2014 2026-01-09: best guess **Pruning and " \
           "Sparsity for Diffusion Models** (relevant: 38%)\n" in block
    assert "[ ]" not in block and REVIEW_NAME not in block and "add one to the README by hand" in block
    assert body.index("### Needs review") < body.index("<details>") < body.index("### How to give feedback")
    assert set(parse_review_guesses(body)) == {"2601.00003"}  # only the papers whose boxes are shown
    one = render_pr_body([addition(1, "A", Label.OTHER)], (), COUNTS, sections=DEFAULT_SECTIONS,
                         older=older[:1], review_days=45)
    assert "<summary>1 older paper that needed review (published more than 45 days ago" in one
    assert "<details>" not in render_pr_body([addition(1, "A", Label.OTHER)], sections=DEFAULT_SECTIONS)


def test_review_and_older_lists_are_cut_to_fit_the_limit() -> None:
    review = [addition(300 + n, f"Borderline {n}", Label.OTHER, 0.5, "r" * 150) for n in range(150)]
    older = [addition(1000 + n, f"Old borderline {n}", Label.PRUNING, 0.4) for n in range(600)]
    body = render_pr_body([addition(1, "A", Label.OTHER)], review, COUNTS, sections=DEFAULT_SECTIONS,
                          older=older)
    assert len(body) <= GITHUB_BODY_LIMIT_CHARS
    assert "more borderline papers not shown." in body and "older papers that needed review" in body
    shown = {i for i in parse_review_guesses(body) if f"{REVIEW_NAME} {i} irrelevant" in body}
    assert shown and len(parse_review_guesses(body)) == 150  # the marker names them all
    assert "<summary>600 older papers" in body and "\u2026 and 600 more not shown." in body
    roomy = render_pr_body([addition(1, "A", Label.OTHER)], review[:3], COUNTS, sections=DEFAULT_SECTIONS,
                           older=older)
    listed = sum(1 for line in roomy.splitlines() if line.startswith("- [Old borderline"))
    assert 0 < listed < 600 and f"\u2026 and {600 - listed} more not shown." in roomy


def test_closing_with_declined_keeps_the_review_guesses() -> None:
    body = render_pr_body([addition(1, "A", Label.OTHER)], [addition(3, "Maybe", Label.PRUNING, 0.5)],
                          sections=DEFAULT_SECTIONS)
    closed = with_declined(tick(body, "2601.00003", "irrelevant"), {"2601.00001": Label.OTHER})
    assert parse_declined(closed) == {"2601.00001": Label.OTHER}
    assert parse_review_guesses(closed) == {"2601.00003": Label.PRUNING}
    assert parse_review_ticks(closed) == {"2601.00003": frozenset({Label.IRRELEVANT})}
