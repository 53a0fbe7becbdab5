"""bot/awesome/parse.py: the list read into sections and entries, every byte kept."""

from __future__ import annotations

import pytest

from bot.awesome.insert import add_entries, is_listed
from bot.awesome.parse import parse_list
from bot.core.config import ListSettings
from bot.core.errors import ListError
from bot.core.labels import Label
from bot.core.models import Paper
from tests.support.awesome import LIST, NESTED, TABLES, add


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


def test_nested_and_numbered_lists_are_entries_and_descriptions_are_not() -> None:
    doc = parse_list(NESTED)
    assert parse_list(NESTED).render() == NESTED
    titles = [entry.title for entry in doc.entries]
    assert titles[:4] == ["Caching", "Kappa Nested Cache Title", "Lambda Deeper Title", "Token merging"]
    assert "not an item, a description" not in " ".join(titles)
    assert is_listed(Paper(arxiv_id="2401.09008", title="Token Merging for Fast Diffusion"), doc) is None
