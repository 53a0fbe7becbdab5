"""bot/awesome.py (with bot/entries.py and bot/titles.py): read the list, dedupe, insert like a maintainer."""

from __future__ import annotations

import difflib
import json
import os
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from mdit_py_plugins.dollarmath import dollarmath_plugin

from bot.awesome.entries import Venue, code_url_for, detect_venue, github_url
from bot.awesome.insert import add_entries, insert_entries, is_listed, parse_list, render_diff
from bot.awesome.markdown import clean_text, split_cells, structure, truncate
from bot.awesome.titles import normalize_title, plain_math, titles_match
from bot.core.config import ListSettings
from bot.core.errors import ListError
from bot.core.labels import Label
from bot.core.models import Addition, Paper

READMES = Path(__file__).parent / "fixtures" / "readme"
LIST = (READMES / "awesome-efficient-diffusion.md").read_text(encoding="utf-8")
TABLES = (READMES / "papers-on-efficient-diffusion-tables.md").read_text(encoding="utf-8")
HOSTILE = json.loads((READMES / "hostile-titles.json").read_text())

TABLE_SETTINGS = ListSettings(
    sections={
        "quantization": "_1-1-1_Post-Traning-Quantization",
        "pruning": "_2-2_Pruning_and_Structure_Distillation",
        "distillation": "_1-4_Timestep_Distillation",
        "other": "_1-7_Efficient_Attention",  # a table with no rows yet
    },
    order="oldest-first",
)


def paper(n: int, title: str, day: int = 1, **extra: object) -> Paper:
    return Paper(arxiv_id=f"2601.{n:05d}", title=title, authors=("Ada Lovelace", "Alan Turing"),
                 published=datetime(2026, 1, day, 12, tzinfo=UTC), **extra)  # type: ignore[arg-type]


def add(n: int, title: str, label: Label, day: int = 1, **extra: object) -> Addition:
    return Addition(paper(n, title, day, **extra), label, 0.9, "looks like it")


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


# --- reading ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    LIST, TABLES, LIST.replace("\n", "\r\n"), LIST.rstrip("\n"), TABLES.rstrip("\n"),
    LIST.replace("\n", "\r\n").rstrip("\r\n"), "", "\n", "no newline", "a\r\nb\nc\r",
    "# T\n\n- [x] line\u2028with separator \n\n```\n# not a heading\n```\n",
])
def test_parse_then_render_is_identity(text: str) -> None:
    assert parse_list(text).render() == text


def test_reads_sections_and_entries_of_the_bullet_list() -> None:
    doc = parse_list(LIST)
    headings = [(s.level, s.heading) for s in doc.sections]
    assert (2, "Knowledge Distillation for Diffusion Models") in headings and (3, "Papers") in headings
    entries = {e.title: e for e in doc.entries}
    assert entries["On Distillation of Guided Diffusion Models"].venue == "CVPR"
    assert entries["BinaryDM: Towards Accurate Binarization of Diffusion Model"].venue == "ArXiv"
    assert entries["LoRA-Enhanced Distillation on Guided Diffusion Models"].venue == "arxiv"
    quest = "QuEST: Low-bit Diffusion Model Quantization via Efficient Selective Finetuning"
    assert entries[quest].venue is None
    assert entries["Accelerating Parallel Sampling of Diffusion Models"].arxiv_ids == ()
    assert len([e for e in doc.entries if e.venue]) == 28 + 14 + 11


def test_reads_table_rows_with_links_and_venue() -> None:
    doc = parse_list(TABLES)
    rows = {e.title: e for e in doc.entries if e.kind == "row"}
    row = rows["Q-Diffusion: Quantizing Diffusion Models"]
    assert row.arxiv_ids == ("2302.04304",)
    assert row.code_urls == ("https://github.com/Xiuyu-Li/q-diffusion",)
    assert row.venue == "ICCV 2023" and row.title_linked
    assert rows["Temporal Dynamic Quantization for Diffusion Models"].code_urls == ()
    assert len(rows) > 150


@pytest.mark.parametrize(("readme", "why"), [
    (LIST.replace("## Other\n", "## Others\n"), "'Other' is missing"),
    (LIST + "\n## Other\n", "'Other' appears 2 times"),
    (LIST.replace("## Other\n", "```\n## Other\n```\n"), "'Other' is missing"),
])
def test_missing_or_repeated_heading_is_an_error(readme: str, why: str) -> None:
    with pytest.raises(ListError, match=why):
        add_entries(readme, [add(1, "A new paper", Label.OTHER)], ListSettings())


# --- never a duplicate -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("title", "listed"), [
    ("On Distillation of Guided Diffusion Models", True),
    ("on distillation of guided diffusion models.", True),
    ("On Distillation of Guided  Diffusion-Models", True),
    ("SwiftBrush: One-Step Text-to-Image Diffusion Model with Variational Score Distillation", True),
    ("Latent Consistency Models: Synthesizing High-Resolution Images with Few-Step Inference", True),
    ("$Q$-Diffusion: Quantizing Diffusion Models", True),
    ("\\emph{Consistency} Models", True),
    ("Consistency Model", True),
    ("Post-training Quantisation on Diffusion Models", True),
    ("Adversarial Diffusion Distillation for Video", False),
    ("Bidirectional Consistency Models: Part 2", False),
    ("Consistency Models Made Easy", False),
    ("Towards Accurate Post-training Quantization on Diffusion Models", False),
    ("Post-training Quantization on Transformer Models", False),
])
def test_listed_by_title_without_a_link(title: str, listed: bool) -> None:
    found = is_listed(paper(99999, title), parse_list(LIST))
    assert (found is not None) is listed, found


@pytest.mark.parametrize(("a", "b"), [
    ("Consistency Models", "Improved Techniques for Training Consistency Models"),
    ("Consistency Models", "Bidirectional Consistency Models"),
    ("Consistency Models", "Consistency Trajectory Model"),
    ("Q-DM: An Efficient Low-bit Quantized Diffusion Model",
     "Q-DiT: An Efficient Low-bit Quantized Diffusion Model"),
    ("PTQD: Accurate Post-Training Quantization for Diffusion Models",
     "Towards Accurate Post-training Quantization for Diffusion Models"),
])
def test_near_misses_are_different_papers(a: str, b: str) -> None:
    assert not titles_match(a, b)


def test_normalize_title_folds_latex_markdown_and_entities() -> None:
    assert normalize_title("Q\\&amp;C: \\emph{When} $\\mathcal{Q}$ Meets  Caf\u00e9\u2014Cache.") == \
        "q and c when q meets cafe cache"
    assert normalize_title("A \\| B") == "a b"


NESTED = """# L

## Pruning and Sparsity for Diffusion Models

- Caching
  - [CVPR] Kappa Nested Cache Title
    - [arxiv] Lambda Deeper Title [[arXiv](https://arxiv.org/abs/2401.00012)]
- Token merging
    [arxiv] not an item, a description
1. [ICML] Iota Numbered Title
2) [arxiv] Eta Title
   [[arXiv](https://arxiv.org/abs/2401.00007)]
- [arxiv] Theta Wrapped Title That Is
  Very Long Indeed
- [CVPR] Published Name Differs [[Paper](https://doi.org/10.1109/CVPR.2024.01234)]
- [arxiv] Zeta [[DOI](https://doi.org/10.48550/arXiv.2401.00006)] [[HF](https://huggingface.co/papers/2401.00021)]
- [arxiv] Textual Id Title, arXiv 2401.00030
- [arxiv] Delta-DiT: Accelerating Sampling
- [arxiv] α-Quant: Low-bit Caches
- [arxiv] Prune & Merge Tokens
"""


@pytest.mark.parametrize(("arxiv_id", "title", "doi"), [
    ("2401.09001", "Kappa Nested Cache Title", None),  # a nested item
    ("2401.00012", "Renamed", None),  # nested twice, linked
    ("2401.09002", "Iota Numbered Title", None),  # an ordered item
    ("2401.00007", "Renamed", None),  # the link on the item's second line
    ("2401.09003", "Theta Wrapped Title That Is Very Long Indeed", None),  # a title wrapped onto two lines
    ("2401.09004", "Preprint Name of the Same Paper", "10.1109/cvpr.2024.01234"),  # the published DOI
    ("2401.00006", "Renamed", None),  # the arXiv DOI
    ("2401.00021", "Renamed", None),  # a Hugging Face papers page
    ("2401.00030", "Renamed", None),  # "arXiv ID" in the text
    ("2401.09005", "$\\Delta$-DiT: Accelerating Sampling", None),  # LaTeX Greek against the spelled name
    ("2401.09006", "$\\alpha$-Quant: Low-bit Caches", None),  # LaTeX Greek against Unicode
    ("2401.09007", "Prune and Merge Tokens", None),  # "and" against "&"
])
def test_listed_however_the_list_writes_it(arxiv_id: str, title: str, doi: str | None) -> None:
    found = is_listed(Paper(arxiv_id=arxiv_id, title=title, doi=doi), parse_list(NESTED))
    assert found is not None, (arxiv_id, title)


def test_nested_and_numbered_lists_are_entries_and_descriptions_are_not() -> None:
    doc = parse_list(NESTED)
    assert parse_list(NESTED).render() == NESTED
    titles = [entry.title for entry in doc.entries]
    assert titles[:4] == ["Caching", "Kappa Nested Cache Title", "Lambda Deeper Title", "Token merging"]
    assert "not an item, a description" not in " ".join(titles)
    assert is_listed(Paper(arxiv_id="2401.09008", title="Token Merging for Fast Diffusion"), doc) is None


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


def test_listed_by_id_in_any_version_and_against_the_open_pr() -> None:
    doc = parse_list(TABLES)
    retitled = Paper(arxiv_id="2302.04304", title="A completely new title", version=3)
    found = is_listed(retitled, doc)
    assert found is not None and found.by == "id" and found.arxiv_id == "2302.04304"
    assert is_listed(paper(7, "Unlisted"), doc) is None
    assert is_listed(paper(7, "Unlisted"), doc, extra_ids=["2601.00007v2"]) is not None
    assert is_listed(paper(8, "Proposed in the open PR"), None, extra_titles=["proposed in the open PR."])


# --- venues and code links ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("comment", "journal_ref", "venue"), [
    ("Accepted to CVPR 2026", None, Venue("CVPR", 2026)),
    ("Accepted by NeurIPS 2025 (Spotlight). 12 pages", None, Venue("NeurIPS", 2025)),
    ("ICLR 2026; code at https://github.com/a/b", None, Venue("ICLR", 2026)),
    ("To appear in ICCV'25", None, Venue("ICCV", 2025)),
    ("Camera-ready version for ECCV 2024", None, Venue("ECCV", 2024)),
    ("Accepted at ICML 2025", None, Venue("ICML", 2025)),
    ("AAAI 2026 oral", None, Venue("AAAI", 2026)),
    ("Accepted by IJCAI 2025", None, Venue("IJCAI", 2025)),
    ("Accepted to ACM MM 2025", None, Venue("ACM MM", 2025)),
    ("Accepted to ACM Multimedia 2024", None, Venue("ACM MM", 2024)),
    ("WACV 2026", None, Venue("WACV", 2026)),
    (None, "IEEE Transactions on Pattern Analysis and Machine Intelligence, 2025", Venue("TPAMI", 2025)),
    ("Accepted by IEEE TIP", None, Venue("TIP")),
    ("SIGGRAPH Asia 2025 conference paper", None, Venue("SIGGRAPH Asia", 2025)),
    ("SIGGRAPH 2025", None, Venue("SIGGRAPH", 2025)),
    ("Accepted to ACL 2025 main conference", None, Venue("ACL", 2025)),
    ("Findings of EMNLP 2025", None, Venue("EMNLP", 2025, "Findings")),
    ("NAACL 2025", None, Venue("NAACL", 2025)),
    ("Published in TMLR", None, Venue("TMLR")),
    ("Accepted to KDD 2025", None, Venue("KDD", 2025)),
    ("Accepted to the CVPR 2026 Workshop on Efficient Vision", None, Venue("CVPR", 2026, "Workshop")),
    ("Submitted to CVPR 2026", None, None),
    ("Under review at ICLR 2026", None, None),
    ("Extended version of our ECCV 2024 paper", None, None),
    ("CVPR 2026 submission", None, None),
    ("Our method beats NeurIPS baselines", None, None),
    ("12 pages, 5 figures", None, None),
    (None, None, None),
    ("Submitted to TPAMI; accepted at ICCV 2025", None, Venue("ICCV", 2025)),
])
def test_detect_venue(comment: str | None, journal_ref: str | None, venue: Venue | None) -> None:
    assert detect_venue(comment, journal_ref) == venue


@pytest.mark.parametrize(("text", "url"), [
    ("Code: https://github.com/foo/bar.", "https://github.com/foo/bar"),
    ("\\url{https://github.com/Foo-Lab/1.58bit.flux}", "https://github.com/Foo-Lab/1.58bit.flux"),
    ("at github.com/a/b.git and https://github.com/c/d", "https://github.com/a/b"),
    ("https://github.com/orgs/x and https://github.com/real/repo/tree/main", "https://github.com/real/repo"),
    ("https://github.com/-bad/x", None),
    ("https://gitlab.com/a/b", None),
    ("https://evil.example/github.com/a/b", "https://github.com/a/b"),  # only owner/repo survives
    ("no code", None),
])
def test_github_url(text: str, url: str | None) -> None:
    assert github_url(text) == url


def test_code_url_prefers_a_valid_given_url_and_ignores_others() -> None:
    p = paper(1, "T", comment="code: https://github.com/from/comment")
    assert code_url_for(p, "https://github.com/given/repo") == "https://github.com/given/repo"
    assert code_url_for(p, "https://evil.example/?u=https://github.com/x/y") == "https://github.com/from/comment"
    assert code_url_for(p, "javascript:alert(1)") == "https://github.com/from/comment"


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


def check_golden(name: str, text: str) -> None:
    path = READMES / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8", newline="")
    assert path.read_text(encoding="utf-8") == text, f"{name} changed; rerun with UPDATE_GOLDEN=1 if intended"


def rendered_tokens(markdown: str) -> list:
    md = MarkdownIt("gfm-like").use(dollarmath_plugin)
    md.linkify.set({"fuzzy_link": False})

    def walk(tokens: list) -> list:
        return [x for t in tokens for x in [t, *walk(t.children or [])]]
    return walk(md.parse(markdown))


def test_hostile_titles_golden_readme_and_structure() -> None:
    additions = hostile_additions()
    after = add_entries(LIST, additions, ListSettings())
    check_golden("hostile-after.md", after)
    added = assert_only_added(LIST, after)
    assert len(added) == len(additions)
    before_tokens, after_tokens = rendered_tokens(LIST), rendered_tokens(after)
    def headings(tokens: list) -> list[str]:
        return [t.content for i, t in enumerate(tokens) if i and tokens[i - 1].type == "heading_open"]
    assert headings(after_tokens) == headings(before_tokens)
    links = sorted(t.attrs["href"] for t in after_tokens if t.type == "link_open")
    assert links == sorted(f"https://arxiv.org/abs/{a.paper.arxiv_id}" for a in additions)
    assert not [t for t in after_tokens if t.type in {"html_inline", "html_block"}]
    assert not [t for t in after_tokens if t.type.startswith("math")]
    for addition in additions:  # each line renders as its title, cleaned, and nothing else
        line = next(x for x in added if f"/{addition.paper.arxiv_id})" in x)
        tokens = rendered_tokens(line)
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
