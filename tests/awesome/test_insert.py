"""bot/awesome/insert.py: add papers to the list like a maintainer, in its own format, and only add lines."""

from __future__ import annotations

import difflib
import random
from datetime import UTC, datetime

import pytest

from bot.awesome.insert import add_entries, insert_entries, parse_list, render_diff
from bot.awesome.markdown import clean_text, split_cells, structure, truncate
from bot.core.config import ListSettings
from bot.core.errors import ListError
from bot.core.labels import Label
from bot.core.models import Addition, Paper
from bot.core.text import plain_math
from tests.support.awesome import HOSTILE, LIST, TABLES, add, check_golden, paper, tokens_of

TABLE_SETTINGS = ListSettings(
    sections={
        "quantization": "_1-1-1_Post-Traning-Quantization",
        "pruning": "_2-2_Pruning_and_Structure_Distillation",
        "distillation": "_1-4_Timestep_Distillation",
        "other": "_1-7_Efficient_Attention",  # a table with no rows yet
    },
    order="oldest-first",
)


def assert_only_added(before: str, after: str) -> list[str]:
    """The diff adds lines and removes none; returns the added lines."""
    diff = list(difflib.ndiff(before.splitlines(keepends=True), after.splitlines(keepends=True)))
    assert not [line for line in diff if line.startswith("- ")], "a human line changed"
    return [line[2:].rstrip("\r\n") for line in diff if line.startswith("+ ")]


def section_of(readme: str, needle: str) -> str:
    """The innermost heading above the first line containing ``needle``."""
    doc = parse_list(readme)
    line = next(i for i, text in enumerate(doc.lines) if needle in text)
    return [s.heading for s in doc.sections if s.line < line < s.end][-1]


# --- adding entries: nested and numbered lists, math --------------------------------------------------------


@pytest.mark.parametrize(("entries", "new_line"), [
    ("1. [CVPR] Human One\n2. [ICLR] Human Two\n", "1. [arxiv] New Paper [[arXiv]"),
    ("- Images\n  - [CVPR] Human One\n  - [ICLR] Human Two\n", "  - [arxiv] New Paper [[arXiv]"),
])
def test_a_new_entry_joins_a_numbered_or_nested_list(entries: str, new_line: str) -> None:
    readme = "# L\n\n## Other\n\n" + entries + "\n## Pruning\n\n- [a] One\n- [b] Two\n- [c] Three\n"
    settings = ListSettings(sections={"other": "Other", "pruning": "Pruning"})
    after = add_entries(readme, [add(1, "New Paper", Label.OTHER)], settings)
    added = assert_only_added(readme, after)
    assert len(added) == 1 and added[0].startswith(new_line)
    assert section_of(after, "New Paper") == "Other"


def test_latex_greek_is_written_as_unicode_in_new_entries() -> None:
    title = "$\\alpha$-Flow: $O(n\\log n)$ Attention for $x^2$ Steps"
    after = add_entries(LIST, [add(1, title, Label.OTHER)], ListSettings())
    assert "- [arxiv] α-Flow: O\\(n log n\\) Attention for \\$x^2\\$ Steps [[arXiv]" in after


# --- adding entries: the first list ------------------------------------------------------------------------

SECTION_OF = {
    Label.DISTILLATION: "Papers", Label.PRUNING: "Papers", Label.QUANTIZATION: "Papers", Label.OTHER: "Other",
}


@pytest.mark.parametrize("label", [Label.DISTILLATION, Label.PRUNING, Label.QUANTIZATION, Label.OTHER])
def test_insertion_adds_one_line_in_the_right_section(label: Label) -> None:
    after = add_entries(LIST, [add(42, "A Brand New Method", label)], ListSettings())
    added = assert_only_added(LIST, after)
    heading = ListSettings().sections[label.value]
    spelling = "ArXiv" if label is Label.QUANTIZATION else "arxiv"
    assert added == [f"- [{spelling}] A Brand New Method [[arXiv](https://arxiv.org/abs/2601.00042)]"]
    doc = parse_list(after)
    line = next(i for i, text in enumerate(doc.lines) if "2601.00042" in text)
    around = [s.heading for s in doc.sections if s.line < line < s.end]
    assert heading in around and around[-1] == SECTION_OF[label]
    assert "- " in doc.lines[line + 1] and doc.lines[line - 1] == ""  # above the first human entry


def test_venue_and_code_link_like_the_maintainers() -> None:
    p = paper(5, "Fast Distillation", comment="Accepted to CVPR 2026. Code: https://github.com/lab/fast")
    after = add_entries(LIST, [Addition(p, Label.DISTILLATION)], ListSettings())
    assert assert_only_added(LIST, after) == [
        "- [CVPR] Fast Distillation [[arXiv](https://arxiv.org/abs/2601.00005)] [[Code](https://github.com/lab/fast)]"
    ]


def test_order_is_newest_first_ties_by_id_and_deterministic() -> None:
    additions = [add(3, "Paper C", Label.PRUNING, day=5), add(1, "Paper A", Label.PRUNING, day=9),
                 add(2, "Paper B", Label.PRUNING, day=5), add(4, "Paper D", Label.OTHER, day=2)]
    after = add_entries(LIST, additions, ListSettings())
    titles = [line.split("] ")[1].split(" [[")[0] for line in assert_only_added(LIST, after)]
    assert titles == ["Paper A", "Paper B", "Paper C", "Paper D"]
    for seed in range(5):
        shuffled = additions[:]
        random.Random(seed).shuffle(shuffled)
        assert add_entries(LIST, shuffled, ListSettings()) == after
    assert add_entries(after, additions, ListSettings()) == after  # a second run adds nothing


def test_duplicates_are_skipped_with_a_reason() -> None:
    result = insert_entries(LIST, [
        add(1, "Consistency Models", Label.DISTILLATION),  # listed by title
        add(2, "A New Idea", Label.PRUNING),
        add(3, "a new idea!", Label.QUANTIZATION),  # same title twice in one run
        add(2, "A New Idea", Label.OTHER),  # same id twice
    ], ListSettings())
    assert [a.paper.arxiv_id for a in result.added] == ["2601.00002"]
    assert sorted(why.split(" (")[0] for _, why in result.skipped) == ["already listed"] * 3


def test_crlf_and_missing_final_newline_are_kept() -> None:
    crlf = LIST.replace("\n", "\r\n").rstrip("\r\n")
    after = add_entries(crlf, [add(1, "New Other Paper", Label.OTHER)], ListSettings(order="oldest-first"))
    assert "- [arxiv] New Other Paper [[arXiv](https://arxiv.org/abs/2601.00001)]\r\n" in after
    assert after.count("\n") == after.count("\r\n") and not after.endswith("\n")
    assert_only_added(crlf, after)


def test_appending_at_the_end_of_a_file_without_final_newline() -> None:
    readme = "# L\n\n## Other\n\n- [arxiv] Old"
    after = add_entries(readme, [add(1, "New", Label.OTHER)],
                        ListSettings(sections={"other": "Other"}, order="oldest-first"))
    assert after == readme + "\n- [arxiv] New [[arXiv](https://arxiv.org/abs/2601.00001)]"


def test_a_section_without_entries_gets_a_new_list() -> None:
    readme = "# L\n\n## Other\n\nNothing here yet.\n## Next\n"
    after = add_entries(readme, [add(1, "New", Label.OTHER)], ListSettings(sections={"other": "Other"}))
    assert after == ("# L\n\n## Other\n\nNothing here yet.\n\n"
                     "- [arxiv] New [[arXiv](https://arxiv.org/abs/2601.00001)]\n\n## Next\n")


def test_entry_template_overrides_the_learned_format() -> None:
    settings = ListSettings(entry_template="* **{title}** ({venue_year}) [paper]({url}){code} by {authors}")
    p = paper(1, "Templated", comment="ICLR 2026", abstract="See https://github.com/t/p for code.")
    after = add_entries(LIST, [Addition(p, Label.OTHER)], settings)
    assert assert_only_added(LIST, after) == [
        "* **Templated** (ICLR 2026) [paper](https://arxiv.org/abs/2601.00001) [[Code](https://github.com/t/p)]"
        " by Ada Lovelace et al."
    ]


@pytest.mark.parametrize("template", ["- {title} {nope}", "- {title", "- {title}\n- x"])
def test_bad_entry_template_is_an_error(template: str) -> None:
    with pytest.raises(ListError, match="entry_template"):
        add_entries(LIST, [add(1, "X", Label.OTHER)], ListSettings(entry_template=template))


def test_unknown_order_and_label_are_errors() -> None:
    with pytest.raises(ListError, match="list.order"):
        add_entries(LIST, [add(1, "X", Label.OTHER)], ListSettings(order="random"))
    with pytest.raises(ListError, match="irrelevant"):
        add_entries(LIST, [add(1, "X", Label.IRRELEVANT)], ListSettings())


def test_render_diff_shows_only_additions() -> None:
    after = add_entries(LIST, [add(1, "New", Label.OTHER)], ListSettings())
    diff = render_diff(LIST, after)
    assert diff.startswith("--- a/README.md\n+++ b/README.md\n@@")
    changed = [line for line in diff.splitlines()[2:] if line[:1] in "+-"]
    assert changed == ["+- [arxiv] New [[arXiv](https://arxiv.org/abs/2601.00001)]"]
    assert render_diff(LIST, LIST) == ""


# --- adding entries: the table list ------------------------------------------------------------------------


def test_table_rows_copy_the_badges_and_keep_the_column_count() -> None:
    additions = [
        add(1, "Quant One", Label.QUANTIZATION, day=3, comment="Accepted to ICLR 2026",
            abstract="Code is at https://github.com/q/one."),
        add(2, "Quant Two", Label.QUANTIZATION, day=2),
        add(3, "Prune One", Label.PRUNING),
        add(4, "Distill One", Label.DISTILLATION),
        add(5, "Attend One", Label.OTHER, day=7),
    ]
    after = add_entries(TABLES, additions, TABLE_SETTINGS)
    added = assert_only_added(TABLES, after)
    rows = {line.split("](")[0].split("[")[-1]: line for line in added}
    assert rows["Quant One"] == (
        "| [48] | [Quant One](https://arxiv.org/abs/2601.00001) | "
        "[![arXiv](https://img.shields.io/badge/arXiv-b31b1b.svg)](https://arxiv.org/abs/2601.00001) | "
        "[![Star](https://img.shields.io/github/stars/q/one.svg?style=social&label=Star)](https://github.com/q/one)"
        " | - | **ICLR 2026** |")
    assert rows["Quant Two"].startswith("| [47] | [Quant Two]")  # oldest first: Jan 2 before Jan 3
    assert rows["Attend One"].startswith("| [1] | [Attend One]")  # the empty table gets its first row
    for line in added:
        assert len(split_cells(line)) == 6
    assert section_of(after, "Quant One") == "_1-1-1_Post-Traning-Quantization"
    assert section_of(after, "Prune One") == "_2-2_Pruning_and_Structure_Distillation"
    assert section_of(after, "Attend One") == "_1-7_Efficient_Attention"
    doc = parse_list(after)
    assert doc.lines.index(rows["Quant One"]) == doc.lines.index(rows["Quant Two"]) + 1
    assert "[46] | [Q-Sched" in doc.lines[doc.lines.index(rows["Quant Two"]) - 1]
    assert structure(after).table_headers == structure(TABLES).table_headers


def test_table_newest_first_goes_above_the_human_rows() -> None:
    settings = ListSettings(sections=TABLE_SETTINGS.sections)
    after = add_entries(TABLES, [add(1, "Top Row", Label.QUANTIZATION)], settings)
    doc = parse_list(after)
    i = next(k for k, line in enumerate(doc.lines) if "Top Row" in line)
    assert doc.lines[i - 1].startswith("|:-----:|") and doc.lines[i + 1].startswith("| [1] |")
    assert add_entries(TABLES, [add(2, "Q-Diffusion: Quantizing Diffusion Models", Label.QUANTIZATION)],
                       settings) == TABLES  # listed by title in a linked table cell


# --- hostile titles ----------------------------------------------------------------------------------------


def hostile_additions() -> list[Addition]:
    labels = [Label.DISTILLATION, Label.PRUNING, Label.QUANTIZATION, Label.OTHER]
    titles = [*HOSTILE, "Long " + "x" * 5000]
    return [Addition(Paper(arxiv_id=f"2601.{n + 100:05d}", title=title, authors=("@octocat", "Fixes #1"),
                           published=datetime(2026, 1, 1 + n % 28, tzinfo=UTC)),
                     labels[n % 4], 0.5 + n / 100, f"why {title}")
            for n, title in enumerate(titles)]


def test_hostile_titles_golden_readme_and_structure() -> None:
    additions = hostile_additions()
    after = add_entries(LIST, additions, ListSettings())
    check_golden("hostile-after.md", after)
    added = assert_only_added(LIST, after)
    assert len(added) == len(additions)
    before_tokens, after_tokens = tokens_of(LIST), tokens_of(after)
    def headings(tokens: list) -> list[str]:
        return [t.content for i, t in enumerate(tokens) if i and tokens[i - 1].type == "heading_open"]
    assert headings(after_tokens) == headings(before_tokens)
    links = sorted(t.attrs["href"] for t in after_tokens if t.type == "link_open")
    assert links == sorted(f"https://arxiv.org/abs/{a.paper.arxiv_id}" for a in additions)
    assert not [t for t in after_tokens if t.type in {"html_inline", "html_block"}]
    assert not [t for t in after_tokens if t.type.startswith("math")]
    for addition in additions:  # each line renders as its title, cleaned, and nothing else
        line = next(x for x in added if f"/{addition.paper.arxiv_id})" in x)
        tokens = tokens_of(line)
        text = "".join(t.content for t in tokens if t.type == "text").replace("\u200b", "")
        title = truncate(clean_text(plain_math(addition.paper.title)), 300)  # $\\alpha$ -> α
        tag = "ArXiv" if addition.label is Label.QUANTIZATION else "arxiv"
        assert text == f"[{tag}] {title} [arXiv]"
    long_line = next(x for x in added if "Long xxx" in x)
    assert len(long_line) < 420


def test_hostile_titles_in_the_table_list() -> None:
    additions = hostile_additions()
    after = add_entries(TABLES, additions, TABLE_SETTINGS)
    added = assert_only_added(TABLES, after)
    assert len(added) == len(additions)
    assert all(len(split_cells(line)) == 6 for line in added)
    assert structure(after).table_headers == structure(TABLES).table_headers
    assert structure(after).headings == structure(TABLES).headings
