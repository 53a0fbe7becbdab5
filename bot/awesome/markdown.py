"""Make untrusted text safe for Markdown, and check that a Markdown edit kept its structure.

Titles, author names, comments and classifier reasons come from strangers. ``sanitize`` is the one function
every such string goes through before it reaches the README, the PR title, the PR body or a commit message.
``clean_text`` is its first step alone, for logs and comparisons.

``check_insertion`` is the fail-safe behind ``bot/awesome/insert.py``: it parses the README before and after
an insertion with markdown-it-py (GFM tables, autolinks and ``$math$`` enabled) and raises ``ListError``
unless headings, tables, HTML and links are unchanged apart from the lines and links the bot built.
Pure: no I/O.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache

from markdown_it import MarkdownIt
from markdown_it.token import Token
from mdit_py_plugins.dollarmath import dollarmath_plugin

from bot.core.errors import ListError
from bot.core.text import clean_text

TITLE_MAX_CHARS = 300
NAME_MAX_CHARS = 100
ELLIPSIS = "\u2026"
# A zero-width space written as an entity: it breaks @mentions, #123 references and autolinks once GitHub
# renders it, while the file itself stays free of hidden characters (no "hidden Unicode" banner).
ZWSP = "&#8203;"

_HTML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_BACKSLASHED = frozenset("\\`*_{}[]()|~$")
_LEADING_BLOCK_RE = re.compile(r"^(?:[-+#=]|\d{1,9}(?=[.)]))")

# Text that GitHub turns into a notification, a reference or a link once rendered.
_HAZARD_RE = re.compile(r"@[A-Za-z0-9_-]|#\d|\bGH-\d|://|\bwww\.", re.IGNORECASE)


def truncate(text: str, max_chars: int) -> str:
    """Cut plain text to at most ``max_chars`` characters, at a word boundary when one is near."""
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1]
    space = cut.rfind(" ")
    if space >= max_chars - 40:
        cut = cut[:space]
    return cut.rstrip() + ELLIPSIS


def sanitize(text: str | None, *, max_chars: int = TITLE_MAX_CHARS) -> str:
    """Untrusted text as inline Markdown that renders as the same words and nothing else.

    The result is safe inside a list item, a table cell, a link text, a PR title or body and a commit
    message: it is one line; ``& < >`` are HTML-escaped (no tags, no ``<!--``); Markdown punctuation is
    backslash-escaped (no links, emphasis, code, math, cell breaks); a leading ``#``, ``-``, ``+``, ``=``
    or ``1.`` cannot start a block; ``@name``, ``#123``, ``GH-1``, ``://`` and ``www.`` carry an invisible
    break (``&#8203;``), so nobody is mentioned, no issue is referenced or closed and nothing is autolinked.
    """
    plain = truncate(clean_text(text), max_chars)
    out: list[str] = []
    leading = _LEADING_BLOCK_RE.match(plain)
    for i, ch in enumerate(plain):
        nxt = plain[i + 1] if i + 1 < len(plain) else ""
        if ch in _HTML_ESCAPES:
            out.append(_HTML_ESCAPES[ch])
        elif ch in _BACKSLASHED or (leading is not None and _starts_block(plain, i, leading.end())):
            out.append("\\" + ch)
        else:
            out.append(ch)
        if _needs_break(plain, i, nxt):
            out.append(ZWSP)
    return "".join(out)


def _starts_block(text: str, i: int, end: int) -> bool:
    """The character that would make the text a heading, list item or setext underline at a line start."""
    return (i == 0 and text[0] in "-+#=") or (i == end and text[i] in ".)")


def _needs_break(text: str, i: int, nxt: str) -> bool:
    ch = text[i]
    if ch == "@":
        return True
    if ch == "#" and nxt.isdigit():
        return True
    if ch == "-" and nxt.isdigit() and text[max(0, i - 2):i].upper() == "GH":
        return True
    if ch == "/" and nxt == "/" and text[i - 1:i] == ":":
        return True
    return ch in "wW" and nxt == "." and text[max(0, i - 2):i + 1].lower() == "www"


# --- structural check ---------------------------------------------------------------------------------------


@cache
def _parser() -> MarkdownIt:
    """GFM as GitHub renders it, near enough: tables, strikethrough, scheme autolinks, ``$math$``."""
    md = MarkdownIt("gfm-like").use(dollarmath_plugin)
    if md.linkify is not None:  # GitHub links www. and scheme URLs, not bare domains
        md.linkify.set({"fuzzy_link": False})
    return md


@dataclass(frozen=True)
class Structure:
    """What must not change when the bot adds entries to a README."""

    headings: tuple[tuple[str, str], ...]
    table_headers: tuple[int, ...]  # cell count of each table's header row
    links: Counter[str]
    html: int
    math: int


def split_cells(row: str) -> list[str]:
    """The cells of a GFM table row; ``\\|`` does not split (GFM spec §4.10)."""
    body = row.strip()
    if body.startswith("|"):
        body = body[1:]
    if body.endswith("|") and not body.endswith("\\|"):
        body = body[:-1]
    cells: list[str] = []
    current: list[str] = []
    escaped = False
    for ch in body:
        if ch == "|" and not escaped:
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
        escaped = ch == "\\" and not escaped
    cells.append("".join(current).strip())
    return cells


def structure(markdown: str) -> Structure:
    """Headings, table shapes, link targets and HTML/math counts of a Markdown document."""
    tokens = _parser().parse(markdown)
    lines = markdown.split("\n")
    headings: list[tuple[str, str]] = []
    tables: list[int] = []
    links: Counter[str] = Counter()
    html = math = 0
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            headings.append((token.tag, tokens[i + 1].content))
        elif token.type == "table_open" and token.map:
            tables.append(len(split_cells(lines[token.map[0]])))
        elif token.type in {"html_block", "html_inline"}:
            html += 1
        elif token.type.startswith("math_"):
            math += 1
        for child in _walk(token):
            if child.type in {"html_inline", "html_block"}:
                html += 1
            elif child.type.startswith("math_"):
                math += 1
            elif child.type == "link_open":
                links[str(child.attrs.get("href", ""))] += 1
            elif child.type == "image":
                links[str(child.attrs.get("src", ""))] += 1
    return Structure(tuple(headings), tuple(tables), links, html, math)


def _walk(token: Token) -> Iterable[Token]:
    for child in token.children or ():
        yield child
        yield from _walk(child)


@lru_cache(maxsize=4)
def _structure_of_original(markdown: str) -> Structure:
    """The README before insertion is often the same text run after run (and test after test)."""
    return structure(markdown)


def check_insertion(before: str, after: str, new_lines: Sequence[str], built_links: Collection[str],
                    *, table_columns: Sequence[int | None] = ()) -> None:
    """Raise ``ListError`` unless ``after`` is ``before`` plus harmless entry lines.

    ``new_lines`` are the inserted lines, ``table_columns`` (same length, or empty) the cell count each one
    must have when it is a table row, ``built_links`` every URL the bot wrote into them.
    """
    old, new = _structure_of_original(before), structure(after)
    problems = []
    if new.headings != old.headings:
        problems.append("the headings changed")
    if new.table_headers != old.table_headers:
        problems.append("a table's header changed")
    if new.html != old.html:
        problems.append("HTML appeared")
    if new.math != old.math:
        problems.append("math appeared")
    extra_links = set((new.links - old.links).keys()) - set(built_links)
    if extra_links:
        problems.append(f"unexpected links {sorted(extra_links)!r}")
    for i, line in enumerate(new_lines):
        columns = table_columns[i] if i < len(table_columns) else None
        if columns is not None and len(split_cells(line)) != columns:
            problems.append(f"row {line[:80]!r} does not have {columns} cells")
        if "<!--" in line or "-->" in line:
            problems.append(f"line {line[:80]!r} holds an HTML comment marker")
        hazard = _text_hazard(line)
        if hazard:
            problems.append(f"line {line[:80]!r} would render {hazard!r}")
    if problems:
        raise ListError("refusing to write the list: " + "; ".join(problems))


def _text_hazard(line: str) -> str | None:
    """A mention, reference or bare URL in the rendered text (link targets excluded) of one line."""
    md = _parser()
    source = line if not line.lstrip().startswith("|") else f"{line}\n"
    for token in md.parse(source):
        for child in _walk(token):
            if child.type == "text":
                match = _HAZARD_RE.search(child.content)
                if match:
                    return match.group(0)
    return None
