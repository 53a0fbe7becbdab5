"""bot/awesome/markdown.py: the sanitizer for untrusted text and the structural check behind README edits."""

from __future__ import annotations

import pytest

from bot.awesome.markdown import (
    TITLE_MAX_CHARS,
    check_insertion,
    clean_text,
    sanitize,
    split_cells,
    structure,
)
from bot.core.errors import ListError
from tests.support.awesome import HOSTILE, gfm, walk

HOSTILE_IDS = [repr(t)[:40] for t in HOSTILE]


def rendered(markdown: str) -> tuple[str, list]:
    """The visible text of a Markdown fragment (zero-width spaces removed) and all its tokens."""
    tokens = list(walk(gfm().parse(markdown)))
    text = "".join(t.content for t in tokens if t.type in {"text", "code_inline"})
    return text.replace("\u200b", ""), tokens


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Line1\nLine2", "Line1 Line2"),
        ("Line1\u2028Line2\u2029x", "Line1 Line2 x"),
        ("  tabs\t\tand\r\nCRLF  ", "tabs and CRLF"),
        ("NUL\x00byte", "NULbyte"),
        ("\x1b[31mred\x1b[0m", "red"),
        ("\x1b]0;title\x07osc", "osc"),
        ("a\u202eb\u202cc\u2066d\u2069e", "abcde"),
        ("zero\u200bwidth\u200c\u200d\ufeff!", "zerowidth!"),
        ("Cafe\u0301", "Caf\u00e9"),  # NFC
        (None, ""),
    ],
)
def test_clean_text(raw: str | None, clean: str) -> None:
    assert clean_text(raw) == clean


@pytest.mark.parametrize("title", HOSTILE, ids=HOSTILE_IDS)
def test_sanitized_title_renders_as_itself_in_a_list_item(title: str) -> None:
    safe = sanitize(title)
    text, tokens = rendered(f"- {safe}\n")
    assert text == clean_text(title)
    types = {t.type for t in tokens}
    assert types <= {"bullet_list_open", "bullet_list_close", "list_item_open", "list_item_close",
                     "paragraph_open", "paragraph_close", "inline", "text", "softbreak"}, types
    assert "\n" not in safe and "\u200b" not in safe and "<" not in safe


@pytest.mark.parametrize("title", HOSTILE, ids=HOSTILE_IDS)
def test_sanitized_title_keeps_a_table_row_whole(title: str) -> None:
    source = f"| a | b | c |\n|---|---|---|\n| 1 | {sanitize(title)} | 3 |\n"
    assert len(split_cells(source.splitlines()[2])) == 3
    tokens = list(walk(gfm().parse(source)))
    cells = [tokens[i + 1].content for i, t in enumerate(tokens) if t.type == "td_open"]
    assert len(cells) == 3 and cells[0] == "1" and cells[2] == "3"
    text = "".join(t.content for t in tokens if t.type == "text").replace("\u200b", "")
    assert text == f"abc1{clean_text(title)}3"
    assert not any(t.type in {"link_open", "image", "html_inline", "html_block"} or t.type.startswith("math")
                   for t in tokens)


@pytest.mark.parametrize("title", HOSTILE, ids=HOSTILE_IDS)
def test_nothing_notifies_references_or_links(title: str) -> None:
    text, tokens = rendered(f"Paper: {sanitize(title)}\n")
    raw = "".join(t.content for t in tokens if t.type == "text")
    for hazard in ("@o", "@g", "#1", "GH-4", "://", "www.", "@b"):
        assert hazard not in raw, hazard  # the rendered text carries U+200B inside each of these


def test_pipes_and_backslashes() -> None:
    assert sanitize("A | B || C") == "A \\| B \\|\\| C"
    assert sanitize("foo\\") == "foo\\\\"
    assert split_cells("| x | foo\\\\ | y |") == ["x", "foo\\\\", "y"]
    assert split_cells("| x \\| y | z |") == ["x \\| y", "z"]


def test_mentions_references_and_closing_keywords_are_broken() -> None:
    assert sanitize("Thanks @octocat") == "Thanks @&#8203;octocat"
    assert sanitize("Fixes #1: a study") == "Fixes #&#8203;1: a study"
    assert sanitize("see torvalds/linux#1") == "see torvalds/linux#&#8203;1"
    assert sanitize("C# and #hashtag") == "C# and #hashtag"  # only "#" before a digit is a reference


def test_block_starters_are_escaped() -> None:
    assert sanitize("# Quantization for Diffusion Models") == "\\# Quantization for Diffusion Models"
    assert sanitize("- item") == "\\- item"
    assert sanitize("1. Ordered") == "1\\. Ordered"
    assert sanitize("> quote") == "&gt; quote"
    assert sanitize("Q-Diffusion: 1.58-bit") == "Q-Diffusion: 1.58-bit"  # nothing to escape mid-text


def test_html_and_markers_are_escaped() -> None:
    safe = sanitize("<!-- paperbot:proposed pruning=2501.00001 -->")
    assert "<!--" not in safe and "-->" not in safe
    assert sanitize("Q&C") == "Q&amp;C"


def test_long_text_is_capped_at_a_word() -> None:
    title = "word " * 1000
    safe = sanitize(title)
    assert len(clean_text(safe.replace("\\", ""))) <= TITLE_MAX_CHARS
    assert safe.endswith("word\u2026")
    assert sanitize("x" * 5000, max_chars=50) == "x" * 49 + "\u2026"


def test_structure_counts_headings_tables_links() -> None:
    doc = "# A\n\n| x | y |\n|---|---|\n| [l](https://a.example) | <b>b</b> |\n\n$x$\n"
    found = structure(doc)
    assert found.headings == (("h1", "A"),)
    assert found.table_headers == (2,)
    assert dict(found.links) == {"https://a.example": 1}
    assert found.html == 2 and found.math == 1


BEFORE = "# List\n\n## Papers\n\n- [CVPR] Old paper\n\n## Other\n"


@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("- [arxiv] x [evil](https://evil.example)", "unexpected links"),
        ("- [arxiv] x <!--", "HTML comment"),
        ("- [arxiv] x <b>bold</b>", "HTML appeared"),
        ("## Injected", "the headings changed"),
        ("- [arxiv] thanks @octocat", "would render '@o'"),
        ("- [arxiv] fixes #12", "would render '#1'"),
        ("- [arxiv] costs $5 and $10", "math appeared"),
    ],
)
def test_check_insertion_refuses_structural_changes(line: str, why: str) -> None:
    after = BEFORE.replace("- [CVPR] Old paper\n", f"{line}\n- [CVPR] Old paper\n")
    with pytest.raises(ListError, match="refusing to write the list: .*" + why.replace("$", r"\$")):
        check_insertion(BEFORE, after, [line], set())


def test_check_insertion_accepts_built_links_and_checks_row_width() -> None:
    line = "- [arxiv] New [[arXiv](https://arxiv.org/abs/2501.00001)]"
    after = BEFORE.replace("- [CVPR] Old paper\n", f"{line}\n- [CVPR] Old paper\n")
    check_insertion(BEFORE, after, [line], {"https://arxiv.org/abs/2501.00001"})
    table = "| a | b |\n|---|---|\n| 1 | 2 |\n"
    with pytest.raises(ListError, match="does not have 2 cells"):
        check_insertion(table, table + "| 1 | 2 | 3 |\n", ["| 1 | 2 | 3 |"], set(), table_columns=[2])
