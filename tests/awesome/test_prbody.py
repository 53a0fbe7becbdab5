"""bot/awesome/prbody.py: the rolling PR's body, its size limit and its machine-readable marker."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from bot.awesome.prbody import (
    GITHUB_BODY_LIMIT_CHARS,
    parse_pr_body_marker,
    render_marker,
    render_pr_body,
)
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
    assert body.splitlines()[0] == "<!-- paperbot:proposed v1 distillation=2601.00001 pruning=2601.00002 -->"
    assert body.index("Fetched: 120") < body.index("### Knowledge Distillation for Diffusion Models (1)")
    assert ("| [Fast Distill](https://arxiv.org/abs/2601.00001) | Ada Lovelace et al. | 2026-01-02 | 93% | "
            "few-step student |") in body
    assert "### Needs review (not added)\n\n- [Maybe Quant](https://arxiv.org/abs/2601.00003)" in body
    assert "best guess **Quantization for Diffusion Models** (51%): borderline" in body
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
    assert [t.type for t in tokens if t.type in {"html_block", "html_inline"}] == ["html_block"]  # the marker
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
    assert body.endswith("add one by hand if it belongs on the list.\n")
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
