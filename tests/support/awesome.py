"""For the tests of bot/awesome/: the fixture lists, papers to add, the hostile titles, golden files, and the
GFM parser that checks what a change renders as."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

from bot.core.labels import Label
from bot.core.models import Addition, Paper
from tests.support.paths import READMES

LIST = (READMES / "awesome-efficient-diffusion.md").read_text(encoding="utf-8")
TABLES = (READMES / "papers-on-efficient-diffusion-tables.md").read_text(encoding="utf-8")
HOSTILE = json.loads((READMES / "hostile-titles.json").read_text())

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


def paper(n: int, title: str, day: int = 1, **extra: object) -> Paper:
    return Paper(arxiv_id=f"2601.{n:05d}", title=title, authors=("Ada Lovelace", "Alan Turing"),
                 published=datetime(2026, 1, day, 12, tzinfo=UTC), **extra)  # type: ignore[arg-type]


def add(n: int, title: str, label: Label, day: int = 1, **extra: object) -> Addition:
    return Addition(paper(n, title, day, **extra), label, 0.9, "looks like it")


def check_golden(name: str, text: str) -> None:
    path = READMES / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(text, encoding="utf-8", newline="")
    assert path.read_text(encoding="utf-8") == text, f"{name} changed; rerun with UPDATE_GOLDEN=1 if intended"


def gfm() -> MarkdownIt:
    """GitHub-flavoured Markdown as the checks read it: tables, autolinks (no fuzzy links) and ``$math$``."""
    md = MarkdownIt("gfm-like").use(dollarmath_plugin)
    md.linkify.set({"fuzzy_link": False})
    return md


def walk(tokens: Iterable[Token]) -> Iterator[Token]:
    for token in tokens:
        yield token
        yield from walk(token.children or [])


def tokens_of(markdown: str) -> list[Token]:
    """Every token of a Markdown text, inline children included, in document order."""
    return list(walk(gfm().parse(markdown)))
