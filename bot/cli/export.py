"""Write exported papers as CSV, JSON, JSON lines, BibTeX or the awesome list's own Markdown.

``paperbot export`` streams rows from ``db.records.export_rows`` into ``write``. Pure apart from the stream it
is handed: no database, no network. Titles and names come from strangers, so BibTeX values are escaped
(braces, ``& % $ # _ ~ ^ \\``) and Markdown lines go through ``sanitize`` via ``bot/awesome/entries.py``.
"""

from __future__ import annotations

import codecs
import csv
import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, TextIO

from bot.core.models import ABS_URL
from db.csvexport import CsvRecords
from db.records import EXPORT_FIELDS as CSV_COLUMNS

FORMATS = ("csv", "json", "jsonl", "bibtex", "markdown")
LIST_SEPARATOR = "; "  # authors and categories in one CSV cell (names may contain commas)
SECTION_ORDER = ("distillation", "pruning", "quantization", "other", "irrelevant", "unclassified")

_BIBTEX_ESCAPES = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
    "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}
_STOPWORDS = frozenset({"a", "an", "the", "on", "of", "for", "in", "to", "and", "with", "towards", "toward",
                        "via", "is", "are", "from", "by", "at", "do", "does", "can", "when", "what", "how",
                        "why"})
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]+")


def write(rows: Iterable[Any], fmt: str, out: TextIO, *,
          sections: Mapping[str, str] | None = None) -> int:
    """Write ``rows`` (``db.records.export_rows`` dicts) to ``out`` in ``fmt``; returns how many."""
    writer = {"csv": write_csv, "json": write_json, "jsonl": write_jsonl, "bibtex": write_bibtex}.get(fmt)
    if writer is not None:
        return writer(rows, out)
    if fmt == "markdown":
        return write_markdown(rows, out, sections or {})
    raise ValueError(f"unknown export format {fmt!r}")


def write_csv(rows: Iterable[dict[str, Any]] | CsvRecords, out: TextIO) -> int:
    """CSV with a header row; rows are export dicts, or the records the database wrote (``CsvRecords``:
    the same text, written with no Python per cell)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    if isinstance(rows, CsvRecords):
        binary = getattr(out, "buffer", None)  # a real file or standard output: bytes straight through
        if binary is not None and codecs.lookup(getattr(out, "encoding", None) or "ascii").name == "utf-8":
            out.flush()
            for data in rows.encoded():
                binary.write(data)
            binary.flush()
        else:
            for chunk in rows:
                out.write(chunk)
        return rows.rows
    count = 0
    join = LIST_SEPARATOR.join
    for row in rows:
        writer.writerow([join(value) if isinstance(value, list) else value
                         for value in map(row.get, CSV_COLUMNS)])
        count += 1
    return count


def write_json(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    """A JSON array, one object per line inside it, written as it streams."""
    count = 0
    out.write("[")
    for row in rows:
        out.write(("," if count else "") + "\n  " + json.dumps(row, ensure_ascii=False))
        count += 1
    out.write("\n]\n" if count else "]\n")
    return count


def write_jsonl(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    count = 0
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


# --- BibTeX -------------------------------------------------------------------------------------------

def bibtex_escape(text: str | None) -> str:
    """Plain text as a BibTeX/LaTeX value: one line, specials escaped, braces always balanced."""
    flat = " ".join(_CONTROL_RE.sub(" ", text or "").split())
    return "".join(_BIBTEX_ESCAPES.get(ch, ch) for ch in flat)


def _ascii_word(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]", "", folded.lower())


def _year(row: dict[str, Any]) -> str:
    published = row.get("published")
    return str(published)[:4] if published else "nd"


def base_key(row: dict[str, Any]) -> str:
    """``lastname + year + first title word``: ``bolya2023token``; ASCII letters and digits only."""
    authors = row.get("authors") or []
    last = _ascii_word(authors[0].split()[-1]) if authors and authors[0].split() else ""
    words = [_ascii_word(word) for word in str(row.get("title") or "").split()]
    first = next((word for word in words if word and word not in _STOPWORDS), "")
    return f"{last or 'anon'}{_year(row)}{first or 'untitled'}"


def bibtex_keys(rows: list[dict[str, Any]]) -> dict[str, str]:
    """A unique key per arXiv id: clashes get ``b``, ``c``, ... in arXiv-id order, so keys are stable."""
    keys: dict[str, str] = {}
    used: set[str] = set()
    for row in sorted(rows, key=lambda r: str(r["arxiv_id"])):
        base = base_key(row)
        key, n = base, 1
        while key in used:
            n += 1
            key = base + (chr(ord("a") + n - 1) if n <= 26 else f"-{n}")
        used.add(key)
        keys[row["arxiv_id"]] = key
    return keys


def _bib_name(name: str) -> str:
    escaped = bibtex_escape(name)
    # A name containing the word "and" would split into two authors; braces keep it whole.
    return "{" + escaped + "}" if re.search(r"\band\b", escaped, re.IGNORECASE) else escaped


def bibtex_entry(row: dict[str, Any], key: str) -> str:
    fields = [
        ("title", "{" + bibtex_escape(row.get("title")) + "}"),
        ("author", " and ".join(_bib_name(n) for n in row.get("authors") or []) or "Anonymous"),
        ("year", _year(row)),
        ("eprint", str(row["arxiv_id"])),
        ("archivePrefix", "arXiv"),
        ("primaryClass", bibtex_escape(row.get("primary_category"))),
        ("url", str(row.get("url") or f"{ABS_URL}{row['arxiv_id']}")),
    ]
    if row.get("doi"):
        fields.append(("doi", bibtex_escape(row["doi"])))
    if row.get("journal_ref"):
        fields.append(("note", bibtex_escape(row["journal_ref"])))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@misc{{{key},\n{body}\n}}\n"


def write_bibtex(rows: Iterable[dict[str, Any]], out: TextIO) -> int:
    materialised = list(rows)
    keys = bibtex_keys(materialised)
    for i, row in enumerate(materialised):
        out.write(("\n" if i else "") + bibtex_entry(row, keys[row["arxiv_id"]]))
    return len(materialised)


# --- Markdown -----------------------------------------------------------------------------------------

def markdown_entry(row: dict[str, Any]) -> str:
    """``- [VENUE] Title [[arXiv](https://arxiv.org/abs/ID)]`` as the bot adds entries to the list."""
    from bot.awesome.entries import BulletStyle, entry_fields, render_bullet
    from bot.awesome.markdown import sanitize
    from bot.core.models import Paper

    published = row.get("published")
    paper = Paper(
        arxiv_id=row["arxiv_id"], title=row.get("title") or "", abstract=row.get("abstract"),
        version=row.get("version") or 1, authors=tuple(row.get("authors") or ()),
        categories=tuple(row.get("categories") or ()), primary_category=row.get("primary_category"),
        published=datetime.fromisoformat(published) if published else None,
        comment=row.get("comment"), journal_ref=row.get("journal_ref"), doi=row.get("doi"))
    fields = entry_fields(paper, None, preprint_tag="arxiv")
    if row.get("list_venue"):  # the maintainers' own venue tag wins for papers already on the list
        from dataclasses import replace

        fields = replace(fields, venue=sanitize(row["list_venue"], max_chars=40))
    return render_bullet(BulletStyle(), fields)


def write_markdown(rows: Iterable[dict[str, Any]], out: TextIO, sections: Mapping[str, str]) -> int:
    """Entries grouped under one ``## Section`` heading per label, in the list's section order."""
    groups: dict[str, list[str]] = {}
    count = 0
    for row in rows:
        groups.setdefault(row.get("label") or "unclassified", []).append(markdown_entry(row))
        count += 1
    order = [label for label in SECTION_ORDER if label in groups]
    order += sorted(label for label in groups if label not in SECTION_ORDER)
    for i, label in enumerate(order):
        heading = sections.get(label) or label.capitalize()
        out.write(("\n" if i else "") + f"## {heading}\n\n" + "\n".join(groups[label]) + "\n")
    return count
