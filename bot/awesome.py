"""Read the awesome list's README and add new papers to it in the maintainers' own format.

Runs after classification, before publishing. Reads a README string; returns a README string. Human lines
are kept byte for byte (CRLF, trailing spaces, missing final newline included): ``parse_list(s).render()``
is ``s``, and ``add_entries`` only inserts lines. Sections come from ``ListSettings.sections`` (label value
-> heading text); entries are bullet lines (``- [CVPR] Title``) or table rows. ``bot/entries.py`` renders a
new entry, ``bot/titles.py`` decides what is already listed, ``bot/markdown.py`` checks the result.
Pure: no I/O.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from bot import entries as fmt
from bot.config import ListSettings
from bot.errors import ListError
from bot.markdown import check_insertion, clean_text, split_cells, structure
from bot.models import Addition, Paper, parse_arxiv_id
from bot.titles import Match, TitleIndex
from classifier.labels import Label

log = logging.getLogger(__name__)

ORDERS = ("newest-first", "oldest-first")

_HEADING_RE = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE_RE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_BULLET_RE = re.compile(r"^(?P<prefix>(?P<indent> {0,3})[-*+][ \t]+)(?P<body>\S.*)$")
_DELIMITER_RE = re.compile(r"^ {0,3}\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")
_VENUE_TAG_RE = re.compile(r"^\[(?P<venue>[^\[\]]+)\](?!\()[ \t]*")
_LINK_RE = re.compile(r"\[(?P<text>(?:[^\[\]]|\[[^\[\]]*\])*)\]\((?P<url>[^()\s]+)\)")
_ARXIV_RE = re.compile(r"(?:arxiv\.org/(?:abs|pdf|html)/|arXiv:\s?)((?:[a-z-]+(?:\.[A-Z]{2})?/\d{7})"
                       r"|\d{4}\.\d{4,6})", re.IGNORECASE)
_PAPER_HEADING_RE = re.compile(r"paper", re.IGNORECASE)


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


@dataclass(frozen=True)
class Block:
    """A run of entries: a bullet list, or a table (``start`` is its header line)."""

    kind: str  # "bullet" or "table"
    start: int
    end: int  # exclusive
    entries: tuple[Entry, ...]
    columns: tuple[str, ...] = ()  # table column kinds (see bot/entries.py TableStyle)


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
        return tuple(entry for block in self.blocks for entry in block.entries)

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
        elif match := _BULLET_RE.match(lines[i]):
            indent, end, items = match.group("indent"), i, []
            while end < len(lines) and end not in skip:
                item = _BULLET_RE.match(lines[end])
                if item and item.group("indent") == indent:
                    items.append(_bullet_entry(end, item))
                elif not _continues(lines, end, indent):
                    break
                end += 1
            yield Block("bullet", i, end, tuple(items))
            i = end
        else:
            i += 1


def _continues(lines: Sequence[str], i: int, indent: str) -> bool:
    """An indented continuation of the item above, or a blank line inside a loose list."""
    if lines[i].strip():
        return lines[i].startswith(indent + "  ")
    after = _BULLET_RE.match(lines[i + 1]) if i + 1 < len(lines) else None
    return after is not None and after.group("indent") == indent


def _links(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ids = []
    for match in _ARXIV_RE.finditer(text):
        try:
            ids.append(parse_arxiv_id(match.group(1))[0])
        except ValueError:
            continue
    codes = [url for m in _LINK_RE.finditer(text) if (url := fmt.github_url(m.group("url")))]
    return tuple(dict.fromkeys(ids)), tuple(dict.fromkeys(codes))


def _bullet_entry(line_no: int, match: re.Match[str]) -> Entry:
    body = match.group("body")
    venue_match = _VENUE_TAG_RE.match(body)
    rest = body[venue_match.end():] if venue_match else body
    first_link = _LINK_RE.search(rest)
    linked = first_link is not None and first_link.start() == 0
    if first_link is not None and linked:
        title = first_link.group("text")
    else:
        title = rest[: first_link.start()] if first_link else rest
        title = title.rstrip().rstrip("[(").rstrip(" -\u2013\u2014|,:")
    ids, codes = _links(rest)
    return Entry(line_no, "bullet", venue_match.group("venue") if venue_match else None, title.strip(),
                 linked, ids, codes, match.group("prefix"))


def _row_entry(line_no: int, line: str, columns: tuple[str, ...]) -> Entry:
    cells = split_cells(line)
    title_cell = cells[columns.index("title")] if "title" in columns and columns.index("title") < len(cells) \
        else ""
    link = _LINK_RE.fullmatch(title_cell)
    venue_cells = [cells[k] for k, kind in enumerate(columns) if kind == "venue" and k < len(cells)]
    venue = venue_cells[0].replace("**", "").strip() if venue_cells else None
    ids, codes = _links(line)
    return Entry(line_no, "row", venue or None, link.group("text") if link else title_cell, link is not None,
                 ids, codes)


# --- already listed? --------------------------------------------------------------------------------------


def build_index(awesome_list: AwesomeList | None, *, extra_ids: Iterable[str] = (),
                extra_titles: Iterable[str] = (), threshold: float = 92.0) -> TitleIndex:
    """Every id and title on the list, plus ids/titles from elsewhere (the open PR), for repeated look-ups."""
    index = TitleIndex(threshold)
    for entry in awesome_list.entries if awesome_list else ():
        index.add(entry.title, entry.arxiv_ids, entry.line)
    for arxiv_id in extra_ids:
        index.add(None, [arxiv_id])
    for title in extra_titles:
        index.add(title)
    return index


def is_listed(paper: Paper, awesome_list: AwesomeList | None, *, extra_ids: Iterable[str] = (),
              extra_titles: Iterable[str] = (), threshold: float = 92.0) -> Match | None:
    """The entry that already lists this paper (same base arXiv id, or the same title), else None."""
    index = build_index(awesome_list, extra_ids=extra_ids, extra_titles=extra_titles, threshold=threshold)
    return index.find(paper.arxiv_id, paper.title)


# --- adding entries ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Insertion:
    """What ``insert_entries`` did: the new README, the additions written, and why others were not."""

    readme: str
    added: tuple[Addition, ...]
    skipped: tuple[tuple[Addition, str], ...]


def add_entries(readme: str, additions: Sequence[Addition], settings: ListSettings | None = None) -> str:
    """The README with each new paper inserted into its section; already-listed papers are left out."""
    return insert_entries(readme, additions, settings or ListSettings()).readme


def insert_entries(readme: str, additions: Sequence[Addition], settings: ListSettings) -> Insertion:
    """``add_entries`` with a report. Deterministic; running it twice adds nothing the second time."""
    if settings.order not in ORDERS:
        raise ListError(f"list.order must be one of {ORDERS}, not {settings.order!r}")
    if settings.entry_template is not None:
        fmt.check_template(settings.entry_template)
    doc = parse_list(readme)
    sections = {label: doc.section(heading) for label, heading in settings.sections.items()}
    index = build_index(doc, threshold=settings.title_match_threshold)
    chosen: dict[str, list[Addition]] = {}
    added, skipped = [], []
    for addition in sorted(additions, key=lambda a: (_label(a.label), a.paper.arxiv_id)):
        label = _label(addition.label)
        if label not in sections:
            raise ListError(f"no section is configured for label {label!r} (list.sections)")
        try:
            parse_arxiv_id(addition.paper.arxiv_id)
        except ValueError:
            skipped.append((addition, "invalid arXiv id"))
            continue
        match = index.find(addition.paper.arxiv_id, addition.paper.title)
        if match is not None or not clean_text(addition.paper.title):
            why = f"already listed ({match.by}: {clean_text(match.title)[:80]})" if match else "empty title"
            log.info("skipping %s: %s", addition.paper.arxiv_id, why)
            skipped.append((addition, why))
            continue
        index.add(addition.paper.title, [addition.paper.arxiv_id])
        chosen.setdefault(label, []).append(addition)
        added.append(addition)
    if not added:
        return Insertion(readme, (), tuple(skipped))
    inserts: dict[int, list[str]] = {}
    columns: list[int | None] = []
    built: set[str] = set()
    new_lines: list[str] = []
    for label, batch in chosen.items():
        position, lines, width = _section_lines(doc, sections[label], batch, settings, built)
        inserts.setdefault(position, []).extend(lines)
        new_lines.extend(lines)
        columns.extend([width if line.strip() else None for line in lines])
    after = _render_with(doc, inserts)
    check_insertion(readme, after, new_lines, built, table_columns=columns)
    return Insertion(after, tuple(added), tuple(skipped))


def _label(value: Label | str) -> str:
    return Label(value).value


def _sort_key(addition: Addition, newest_first: bool) -> tuple[int, str, str]:
    published = fmt.utc(addition.paper.published)
    stamp = published.isoformat() if published else ""
    if newest_first:  # newest first, undated last, ties by id
        return (0 if stamp else 1, "".join(chr(0x10FFFF - ord(c)) for c in stamp), addition.paper.arxiv_id)
    return (1 if not stamp else 0, stamp, addition.paper.arxiv_id)


def _section_lines(doc: AwesomeList, section: Section, batch: list[Addition], settings: ListSettings,
                   built: set[str]) -> tuple[int, list[str], int | None]:
    """Where the section's new lines go, the lines, and the cell count they must have (tables)."""
    newest_first = settings.order == "newest-first"
    batch = sorted(batch, key=lambda a: _sort_key(a, newest_first))
    block = _target_block(doc, section)
    preprint = _preprint_tag(block, doc)
    fields = [fmt.entry_fields(a.paper, a.code_url, preprint) for a in batch]
    width: int | None = None
    render: Callable[[fmt.EntryFields, int], str]
    if settings.entry_template is not None:
        template = settings.entry_template
        render = lambda f, n: fmt.render_template(template, f)  # noqa: E731
    elif block is not None and block.kind == "table":
        table = _table_style(doc, block)
        render = lambda f, n: fmt.render_row(table, f, n)  # noqa: E731
        width = len(split_cells(doc.lines[block.start]))
    else:
        bullet = _bullet_style(block, doc)
        render = lambda f, n: fmt.render_bullet(bullet, f)  # noqa: E731
    top = max((n for e in block.entries for n in _row_number(doc.lines[e.line])), default=0) if block else 0
    # Row numbers follow the papers' dates, whichever end of the table they are written at.
    numbers = [top + len(fields) - k if newest_first else top + k + 1 for k in range(len(fields))]
    lines = [render(f, n) for f, n in zip(fields, numbers, strict=True)]
    for f in fields:  # every link in a line with no free text in it was built by us
        built.update(structure(render(replace(f, title="x", authors="x", first_author="x"), 0)).links)
    if block is None:
        first_sub = next((s.line for s in doc.sections if section.line < s.line < section.end), section.end)
        last = max(i for i in range(section.line, first_sub) if doc.lines[i].strip())
        tail = [""] if last + 1 < len(doc.lines) and doc.lines[last + 1].strip() else []
        return last + 1, ["", *lines, *tail], width
    if newest_first and block.entries:
        return block.entries[0].line, lines, width
    return block.end, lines, width


def _target_block(doc: AwesomeList, section: Section) -> Block | None:
    """The block new entries join: the section's own list or table, else its first papers subsection."""
    first_sub = next((s.line for s in doc.sections if section.line < s.line < section.end), section.end)
    direct = [b for b in doc.blocks if section.line < b.start < first_sub]
    if direct:
        return next((b for b in direct if b.kind == "table" and "title" in b.columns),
                    next((b for b in direct if _paper_like(b)), direct[0]))
    for block in (b for b in doc.blocks if first_sub <= b.start < section.end):
        heading = next(s for s in reversed(doc.sections) if s.line < block.start)
        if _paper_like(block) or _PAPER_HEADING_RE.search(heading.heading):
            return block
    return None


def _paper_like(block: Block) -> bool:
    if block.kind == "table":
        return "title" in block.columns
    return any(e.venue or e.arxiv_ids for e in block.entries)


def _preprint_tag(block: Block | None, doc: AwesomeList) -> str:
    """How the list spells a preprint venue ("arxiv", "ArXiv"): this block's habit, else the list's."""
    for entries in ((block.entries if block else ()), doc.entries):
        spellings = Counter(e.venue for e in entries if e.kind == "bullet" and e.venue
                            and e.venue.strip().casefold() in {"arxiv", "preprint"})
        if spellings:
            return spellings.most_common(1)[0][0].strip()
    return "arxiv"


def _bullet_style(block: Block | None, doc: AwesomeList) -> fmt.BulletStyle:
    """Majority habits of the block's entries; the whole list's when the block has fewer than three."""
    sample: Sequence[Entry] = block.entries if block else ()
    if len(sample) < 3:
        sample = [e for b in doc.blocks if b.kind == "bullet" and _paper_like(b) for e in b.entries] or sample
    if not sample:
        return fmt.BulletStyle()
    prefix = Counter(e.prefix for e in sample).most_common(1)[0][0]
    with_venue = sum(1 for e in sample if e.venue)
    linked = sum(1 for e in sample if e.title_linked and e.arxiv_ids)
    return fmt.BulletStyle(prefix, 2 * with_venue >= len(sample), 2 * linked > len(sample))


def _row_number(line: str) -> list[int]:
    cell = split_cells(line)[0] if line.strip() else ""
    match = re.fullmatch(r"\[?(\d{1,6})\]?\.?", cell)
    return [int(match.group(1))] if match else []


def _table_style(doc: AwesomeList, block: Block) -> fmt.TableStyle:
    """Cell formats copied from the human rows of this table, else of any table with the same columns."""
    header = doc.lines[block.start].strip()
    similar = [b for b in doc.blocks if b.kind == "table" and b.columns == block.columns and b is not block]
    rows = [*block.entries, *(e for b in similar for e in b.entries)]
    arxiv, code, num, empty = Counter[str](), Counter[str](), Counter[str](), Counter[str]()
    bold = Counter[bool]()
    for entry in rows:
        cells = split_cells(doc.lines[entry.line])
        if len(cells) != len(block.columns):
            continue  # an irregular human row teaches nothing
        for kind, cell in zip(block.columns, cells, strict=True):
            if kind == "arxiv" and entry.arxiv_ids and entry.arxiv_ids[0] in cell:
                hosts = ("img.shields.io", "arxiv.org")
                arxiv[_cell_template(cell, entry.arxiv_ids[0], "{arxiv_id}", hosts)] += 1
            elif kind == "code" and entry.code_urls:
                repo = entry.code_urls[0].removeprefix("https://github.com/")
                code[_cell_template(cell, repo, "{code_repo}", ("img.shields.io", "github.com"))] += 1
            elif kind == "num":
                num["[{n}]" if cell.startswith("[") else "{n}"] += 1
            elif kind == "venue" and any(p.search(cell) for _, p in fmt.VENUES):
                bold[cell.startswith("**")] += 1
            elif kind in {"code", "other"} and not _LINK_RE.search(cell):
                empty[cell] += 1
    arxiv.pop("", None)
    code.pop("", None)
    return fmt.TableStyle(
        columns=block.columns, leading_pipe=header.startswith("|"), trailing_pipe=header.endswith("|"),
        num_format=num.most_common(1)[0][0] if num else "{n}",
        title_linked=sum(e.title_linked for e in rows) * 2 >= len(rows),
        arxiv_cell=arxiv.most_common(1)[0][0] if arxiv else "[arXiv]({url})",
        code_cell=code.most_common(1)[0][0] if code else "[Code]({code_url})",
        venue_bold=bold.most_common(1)[0][0] if bold else False,
        empty=empty.most_common(1)[0][0] if empty and len(empty.most_common(1)[0][0]) <= 3 else "-",
    )


def _cell_template(cell: str, value: str, placeholder: str, hosts: tuple[str, ...]) -> str:
    """A human cell with its paper-specific value replaced, if it links nowhere but the expected hosts."""
    template = cell.replace("{", "{{").replace("}", "}}").replace(value, placeholder)
    urls = re.findall(r"\]\((https?://[^)\s]+)\)", template)
    hosts_seen = {m.group(1) if (m := re.match(r"https://(?:www\.)?([^/]+)/", url)) else "" for url in urls}
    return template if urls and hosts_seen <= set(hosts) and placeholder in template else ""


def _render_with(doc: AwesomeList, inserts: dict[int, list[str]]) -> str:
    eol = Counter(e for e in doc.eols if e).most_common(1)[0][0] if any(doc.eols) else "\n"
    out = []
    for i, (line, line_eol) in enumerate(zip(doc.lines, doc.eols, strict=True)):
        out.extend(new + eol for new in inserts.get(i, ()))
        grows = len(doc.lines) in inserts and i == len(doc.lines) - 1  # lines are appended after the last
        out.append(line + (line_eol or (eol if grows else "")))
    tail = inserts.get(len(doc.lines), [])
    if tail:
        final = doc.eols[-1] if doc.eols else eol
        out.extend(new + eol for new in tail[:-1])
        out.append(tail[-1] + final)
    return "".join(out)


def render_diff(before: str, after: str, path: str = "README.md") -> str:
    """A unified diff of the README, as ``git diff`` would show it (for the dry-run output)."""
    old, new = _split_keep(before), _split_keep(after)
    lines = []
    for line in difflib.unified_diff(old, new, f"a/{path}", f"b/{path}"):
        lines.append(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n")
    return "".join(lines)


def _split_keep(text: str) -> list[str]:
    """Lines with their endings, split at "\\n" only (not at U+2028 or a lone "\\r" as splitlines would)."""
    return re.findall(r"[^\n]*\n|[^\n]+\Z", text)
