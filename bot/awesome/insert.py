"""Read the awesome list's README and add new papers to it in the maintainers' own format.

Runs after classification, before publishing. Reads a README string; returns a README string. Human lines are
kept byte for byte (CRLF, trailing spaces, missing final newline included): ``parse_list(s).render()`` is
``s``, and ``add_entries`` only inserts lines. Sections come from ``ListSettings.sections`` (label value ->
heading text); entries are bullet lines (``- [CVPR] Title``) or table rows. ``bot/awesome/entries.py`` renders
a new entry, ``bot/awesome/parse.py`` reads the list, ``bot/awesome/titles.py`` decides what is already
listed, ``bot/awesome/markdown.py`` checks the result. Pure: no I/O.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from bot.awesome import entries as fmt
from bot.awesome.markdown import check_insertion, clean_text, split_cells, structure
from bot.awesome.parse import (
    LINK_RE,
    AwesomeList,
    Block,
    Entry,
    Section,
    parse_list,
)
from bot.awesome.titles import Match, TitleIndex
from bot.core.config import ListSettings
from bot.core.errors import ListError
from bot.core.labels import Label
from bot.core.models import Addition, Paper, parse_arxiv_id
from bot.core.states import ListOrder
from bot.core.template import check_template

log = logging.getLogger(__name__)

_PAPER_HEADING_RE = re.compile(r"paper", re.IGNORECASE)


# --- already listed? --------------------------------------------------------------------------------------


def build_index(awesome_list: AwesomeList | None, *, extra_ids: Iterable[str] = (),
                extra_titles: Iterable[str] = (), threshold: float = 92.0) -> TitleIndex:
    """Every id and title on the list, plus ids/titles from elsewhere (the open PR), for repeated look-ups."""
    index = TitleIndex(threshold)
    for entry in awesome_list.entries if awesome_list else ():
        index.add(entry.title, entry.arxiv_ids, entry.line, entry.dois)
        if entry.wrapped_title:
            index.add(entry.wrapped_title, entry.arxiv_ids, entry.line)
    for arxiv_id in extra_ids:
        index.add(None, [arxiv_id])
    for title in extra_titles:
        index.add(title)
    return index


def is_listed(paper: Paper, awesome_list: AwesomeList | None, *, extra_ids: Iterable[str] = (),
              extra_titles: Iterable[str] = (), threshold: float = 92.0) -> Match | None:
    """The entry that already lists this paper (same base arXiv id, or the same title), else None."""
    index = build_index(awesome_list, extra_ids=extra_ids, extra_titles=extra_titles, threshold=threshold)
    return index.find(paper.arxiv_id, paper.title, paper.doi)


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
    if settings.order not in tuple(ListOrder):
        raise ListError(f"list.order must be one of {', '.join(ListOrder)}, not {settings.order!r}")
    if settings.entry_template is not None:
        check_template(settings.entry_template)
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
        match = index.find(addition.paper.arxiv_id, addition.paper.title, addition.paper.doi)
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
    newest_first = settings.order == ListOrder.NEWEST_FIRST
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
    own: Sequence[Entry] = block.entries if block else ()
    sample = own
    if len(sample) < 3:
        sample = [e for b in doc.blocks if b.kind == "bullet" and _paper_like(b) for e in b.entries] or sample
    if not sample:
        return fmt.BulletStyle()
    # The marker and indentation are the block's own, so a new line joins its list (nested, numbered):
    # a numbered list takes its first number, with which Markdown numbers the whole list.
    if own:
        prefix = own[0].prefix if own[0].prefix.strip()[:1].isdigit() else \
            Counter(e.prefix for e in own).most_common(1)[0][0]
    else:
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
            elif kind in {"code", "other"} and not LINK_RE.search(cell):
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
    out: list[str] = []
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
