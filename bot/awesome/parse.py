"""Parse an awesome-list README into headings, entry blocks and entries, keeping every byte.

Used by ``bot/awesome/insert.py`` (which inserts) and by anything that needs to know what the list holds.
``parse_list(s).render() == s`` for any text: line endings (CRLF, LF, none at the end), trailing spaces
and blank lines are kept. Entries are list items (``- [CVPR] Title [[arXiv](...)]``) or GFM table rows;
lines in fenced code or multi-line HTML comments are never headings or entries. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.awesome.entries import github_url
from bot.awesome.markdown import split_cells
from bot.core.errors import ListError
from bot.core.models import parse_arxiv_id

_HEADING_RE = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
# A list item: a bullet or a number ("1." / "1)"), at any indentation (nested items are their own blocks).
_BULLET_RE = re.compile(r"^(?P<prefix>(?P<indent>[ \t]*)(?:[-*+]|\d{1,9}[.)])[ \t]+)(?P<body>\S.*)$")
_DELIMITER_RE = re.compile(r"^ {0,3}\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
_VENUE_TAG_RE = re.compile(r"^\[(?P<venue>[^\[\]]+)\](?!\()[ \t]*")
LINK_RE = re.compile(r"\[(?P<text>(?:[^\[\]]|\[[^\[\]]*\])*)\]\((?P<url>[^()\s]+)\)")
# An arXiv id in a link or in text: arxiv.org/abs|pdf|html/, the arXiv DOI (10.48550/arXiv.ID), mirrors that
# keep the id in the path (huggingface.co/papers/, alphaxiv.org/abs/), or "arXiv:ID" / "arXiv ID".
_ARXIV_RE = re.compile(r"(?:arxiv\.org/(?:abs|pdf|html)/|10\.48550/arxiv\.|huggingface\.co/papers/|"
                       r"alphaxiv\.org/(?:abs/)?|arXiv:?\s?)((?:[a-z-]+(?:\.[A-Z]{2})?/\d{7})"
                       r"|\d{4}\.\d{4,6})", re.IGNORECASE)


@dataclass(frozen=True)
class Entry:
    """One human (or earlier bot) entry: a list item or a table row."""

    line: int
    kind: str  # "bullet" or "row"
    venue: str | None
    title: str  # as written (Markdown source)
    title_linked: bool
    arxiv_ids: tuple[str, ...]
    code_urls: tuple[str, ...]
    prefix: str = ""
    # The title with the item's second line added, when that line may be the title's end (no link in
    # either): matched too, so a wrapped title is never proposed again. Unlike ``title`` it may be wrong.
    wrapped_title: str | None = None
    dois: tuple[str, ...] = ()  # DOIs the entry links (doi.org/…), lower-cased


@dataclass(frozen=True)
class Block:
    """A run of entries: a bullet list, or a table (``start`` is its header line)."""

    kind: str  # "bullet" or "table"
    start: int
    end: int  # exclusive
    entries: tuple[Entry, ...]
    columns: tuple[str, ...] = ()  # table column kinds (see bot/awesome/entries.py TableStyle)


@dataclass(frozen=True)
class Section:
    heading: str
    level: int
    line: int
    end: int  # exclusive: the next heading of the same or a higher level


@dataclass(frozen=True)
class AwesomeList:
    """A parsed README. ``lines`` have no line endings; ``eols`` keep them ("\\n", "\\r\\n" or "")."""

    lines: tuple[str, ...]
    eols: tuple[str, ...]
    sections: tuple[Section, ...]
    blocks: tuple[Block, ...]

    def render(self) -> str:
        return "".join(line + eol for line, eol in zip(self.lines, self.eols, strict=True))

    @property
    def entries(self) -> tuple[Entry, ...]:
        """Every entry, nested ones included, in line order."""
        found = (entry for block in self.blocks for entry in block.entries)
        return tuple(sorted(found, key=lambda entry: entry.line))

    def section(self, heading: str) -> Section:
        """The one section with this heading text; ``ListError`` if it is missing or repeated."""
        found = [s for s in self.sections if _heading_key(s.heading) == _heading_key(heading)]
        if len(found) != 1:
            where = ", ".join(str(s.line + 1) for s in found)
            why = "is missing" if not found else f"appears {len(found)} times (lines {where})"
            raise ListError(f"the list's section heading {heading!r} {why}; fix the README or "
                            f"list.sections in the configuration")
        return found[0]


def _heading_key(text: str) -> str:
    return " ".join(text.replace("*", "").split()).casefold()


def column_kind(header: str) -> str:
    """What a table column holds, from its header text ("Pub. or Date" -> "venue")."""
    name = header.replace("*", "").strip().casefold()
    if name in {"no", "no.", "#", "id", "index", "number", "n"}:
        return "num"
    rules = (("arxiv", ("arxiv", "pdf", "link")), ("code", ("github", "code", "repo")),
             ("title", ("title", "paper", "name")), ("authors", ("author",)),
             ("venue", ("pub", "venue", "conference", "date", "year", "journal")))
    for kind, words in rules:
        if any(word in name for word in words):
            return kind
    return "other"


def parse_list(readme: str) -> AwesomeList:
    """Split a README into lines, headings and entry blocks, keeping every byte for ``render``."""
    lines, eols = [], []
    parts = readme.split("\n")
    for k, part in enumerate(parts):
        eol = "\n" if k < len(parts) - 1 else ""
        if not eol and not part:
            break  # the text ended with a newline
        if part.endswith("\r"):
            part, eol = part[:-1], "\r" + eol
        lines.append(part)
        eols.append(eol)
    skip = _skipped_lines(lines)
    headings = [(i, m) for i, line in enumerate(lines) if i not in skip and (m := _HEADING_RE.match(line))]
    sections = []
    for n, (i, match) in enumerate(headings):
        level = len(match.group(1))
        end = next((j for j, m in headings[n + 1:] if len(m.group(1)) <= level), len(lines))
        sections.append(Section((match.group(2) or "").strip(), level, i, end))
    return AwesomeList(tuple(lines), tuple(eols), tuple(sections), tuple(_blocks(lines, skip)))


def _skipped_lines(lines: Sequence[str]) -> set[int]:
    """Lines inside fenced code or multi-line HTML comments: never headings or entries."""
    skip: set[int] = set()
    fence: str | None = None
    comment = False
    for i, line in enumerate(lines):
        if fence is not None:
            skip.add(i)
            if line.strip().startswith(fence):
                fence = None
        elif comment:
            skip.add(i)
            comment = "-->" not in line
        elif match := _FENCE_RE.match(line):
            skip.add(i)
            fence = match.group(1)[0] * 3
        elif "<!--" in line and "-->" not in line.split("<!--", 1)[1]:
            skip.add(i)
            comment = True
    return skip


def _blocks(lines: Sequence[str], skip: set[int]) -> Iterable[Block]:
    i = 0
    while i < len(lines):
        if i in skip:
            i += 1
            continue
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        is_table = "|" in lines[i] and _DELIMITER_RE.match(nxt) is not None
        if is_table and len(split_cells(nxt)) == len(split_cells(lines[i])):
            columns = tuple(column_kind(cell) for cell in split_cells(lines[i]))
            end = i + 2
            while end < len(lines) and end not in skip and "|" in lines[end] and lines[end].strip():
                end += 1
            rows = tuple(_row_entry(j, lines[j], columns) for j in range(i + 2, end))
            yield Block("table", i, end, rows, columns)
            i = end
        elif _BULLET_RE.match(lines[i]):
            blocks, i = _bullet_blocks(lines, i, skip)
            yield from blocks
        else:
            i += 1


def _bullet_blocks(lines: Sequence[str], start: int, skip: set[int]) -> tuple[list[Block], int]:
    """The bullet list starting at ``start``, then the lists nested in it (each a block of its own), and
    the line after it. An item's indented continuation lines count as part of it: a link or the end of
    a title wrapped onto the next line."""
    match = _BULLET_RE.match(lines[start])
    assert match is not None
    indent, end = match.group("indent"), start
    items: list[tuple[int, str, list[str]]] = []  # line, prefix, the item's text lines
    nested: list[Block] = []
    open_item = False  # the last item can still take continuation lines
    while end < len(lines) and end not in skip:
        item = _BULLET_RE.match(lines[end])
        if item and item.group("indent") == indent:
            items.append((end, item.group("prefix"), [item.group("body")]))
            open_item = True
            end += 1
        elif item and len(item.group("indent")) > len(indent) and item.group("indent").startswith(indent):
            blocks, end = _bullet_blocks(lines, end, skip)
            nested.extend(blocks)
            open_item = False
        elif _continues(lines, end, indent):
            if open_item and lines[end].strip():
                items[-1][2].append(lines[end].strip())
            end += 1
        else:
            break
    entries = tuple(entry for line_no, prefix, text in items
                    if (entry := _bullet_entry(line_no, prefix, text)) is not None)
    return [Block("bullet", start, end, entries), *nested], end


def _continues(lines: Sequence[str], i: int, indent: str) -> bool:
    """An indented continuation of the item above, or a blank line inside a loose list."""
    if lines[i].strip():
        return lines[i].startswith(indent + "  ")
    after = _BULLET_RE.match(lines[i + 1]) if i + 1 < len(lines) else None
    return after is not None and after.group("indent") == indent


_DOI_RE = re.compile(r"doi\.org/(10\.\d{4,9}/[^\s()\]]+)", re.IGNORECASE)


def dois_in(text: str) -> tuple[str, ...]:
    """The DOIs linked in ``text`` (``https://doi.org/10.1109/…``), lower-cased, as DOIs compare."""
    return tuple(dict.fromkeys(match.group(1).rstrip(".,;").lower() for match in _DOI_RE.finditer(text)))


def _links(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ids = []
    for match in _ARXIV_RE.finditer(text):
        try:
            ids.append(parse_arxiv_id(match.group(1))[0])
        except ValueError:
            continue
    codes = [url for m in LINK_RE.finditer(text) if (url := github_url(m.group("url")))]
    return tuple(dict.fromkeys(ids)), tuple(dict.fromkeys(codes))


# Prose, not a paper: a sentence break inside, or a long line ending in a full stop.
_SENTENCE_BREAK_RE = re.compile(r"\.\s+[A-Z]")
PROSE_MIN_WORDS = 8


def is_prose(text: str) -> bool:
    """True for a list item that reads as a note ("This repository is a work in progress, and … Please …")
    rather than a paper title; only asked of items with no link and no venue tag."""
    words = text.split()
    return bool(_SENTENCE_BREAK_RE.search(text)) or (len(words) >= PROSE_MIN_WORDS and text.endswith("."))


def _bullet_entry(line_no: int, prefix: str, text: Sequence[str]) -> Entry | None:
    """An item from its first line and its continuation lines. The title may run onto the next line when
    the item's first link is there; other continuation lines (a description) only lend their links. An item
    with no link and no venue tag that reads as prose (``is_prose``) is not an entry: None."""
    body = text[0]
    venue_match = _VENUE_TAG_RE.match(body)
    if venue_match is None and not any(LINK_RE.search(line) or _ARXIV_RE.search(line) for line in text) \
            and is_prose(" ".join(line.strip() for line in text)):
        return None
    rest = body[venue_match.end():] if venue_match else body
    if LINK_RE.search(rest) is None and len(text) > 1 and LINK_RE.search(text[1]) is not None:
        rest = f"{rest} {text[1]}"
    first_link = LINK_RE.search(rest)
    linked = first_link is not None and first_link.start() == 0
    if first_link is not None and linked:
        title = first_link.group("text")
    else:
        title = rest[: first_link.start()] if first_link else rest
        title = title.rstrip().rstrip("[(").rstrip(" -\u2013\u2014|,:")
    whole = " ".join((rest, *text[1:]))
    ids, codes = _links(whole)
    wrapped = f"{title.strip()} {text[1]}" if first_link is None and len(text) > 1 else None
    return Entry(line_no, "bullet", venue_match.group("venue") if venue_match else None, title.strip(),
                 linked, ids, codes, prefix, wrapped, dois_in(whole))


def _row_entry(line_no: int, line: str, columns: tuple[str, ...]) -> Entry:
    cells = split_cells(line)
    title_cell = cells[columns.index("title")] if "title" in columns and columns.index("title") < len(cells) \
        else ""
    link = LINK_RE.fullmatch(title_cell)
    venue_cells = [cells[k] for k, kind in enumerate(columns) if kind == "venue" and k < len(cells)]
    venue = venue_cells[0].replace("**", "").strip() if venue_cells else None
    ids, codes = _links(line)
    return Entry(line_no, "row", venue or None, link.group("text") if link else title_cell, link is not None,
                 ids, codes, dois=dois_in(line))
