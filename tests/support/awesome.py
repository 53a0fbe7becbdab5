"""For the tests of bot/awesome/: the hostile titles, golden files, and the GFM parser that checks renders."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

from tests.support.paths import READMES

HOSTILE = json.loads((READMES / "hostile-titles.json").read_text())


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
