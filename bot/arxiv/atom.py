"""Parse one arXiv API response (an Atom page) into ``Paper`` objects.

Pure: bytes in, a ``Page`` out. Used by ``bot/arxiv/http.py`` only. The XML is parsed strictly (lxml with
``recover=False``, no entities, no network), because a recovering parser (the ``arxiv`` package's) reads a
truncated page as a complete one. Each ``<entry>`` is read field by field (title, summary, authors,
categories, dates, comment, journal reference, DOI) straight into a ``Paper``.

* A page that is not a well-formed Atom feed with ``opensearch:totalResults`` raises ``MalformedFeed``.
* A page carrying arXiv's error entry (id ``http(s)://arxiv.org/api/errors#...``, title ``Error``) raises
  ``ErrorFeed`` with arXiv's message: it is never read as a paper titled "Error".
* An entry whose id is not an arxiv.org abstract URL, fails the id regex, or lacks a title or dates is
  logged and counted in ``Page.skipped``: one bad entry never sinks the page.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from bot.core.models import Paper, parse_arxiv_id

log = logging.getLogger(__name__)

_NS = {
    "atom": "http://www.w3.org/2005/Atom",
    "arxiv": "http://arxiv.org/schemas/atom",
    "opensearch": "http://a9.com/-/spec/opensearch/1.1/",
}
_FEED_TAG = "{http://www.w3.org/2005/Atom}feed"

ERROR_ID_RE = re.compile(r"^https?://(?:www\.)?arxiv\.org/api/errors\b")
ABS_URL_RE = re.compile(r"^https?://(?:www\.)?arxiv\.org/abs/(?P<id>\S+)$")

# Characters XML 1.0 forbids (C0 controls but tab, LF, CR), raw or as character references. Removed from
# the body before parsing, so a stray NUL in one abstract cannot make every retry of the page fail.
_RAW_CONTROL_RE = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTROL_REF_RE = re.compile(
    rb"&#(?:0*(?:[0-8]|1[124-9]|2[0-9]|3[01])|[xX]0*(?:[0-8bcefBCEF]|1[0-9a-fA-F]));"
)
# What XML does allow but no title or abstract needs: other C0 controls, DEL and the C1 controls.
_TEXT_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SPACE_RE = re.compile(r"\s+")


class MalformedFeed(ValueError):
    """The body is not a complete arXiv Atom feed (truncated, not XML, not a feed)."""


class ErrorFeed(ValueError):
    """arXiv answered with its error entry; ``str()`` is arXiv's own message."""


@dataclass(frozen=True)
class Page:
    papers: list[Paper]
    entries: int          # <entry> elements on the page, skipped ones included: what paging advances by
    skipped: int
    total_results: int
    start_index: int
    items_per_page: int


def clean_line(text: str | None) -> str:
    """Control characters removed and all whitespace collapsed to single spaces."""
    if not text:
        return ""
    return _SPACE_RE.sub(" ", _TEXT_CONTROL_RE.sub("", text)).strip()


def clean_block(text: str | None) -> str:
    """Control characters removed, line breaks kept, outer whitespace stripped (raw LaTeX untouched)."""
    if not text:
        return ""
    return _TEXT_CONTROL_RE.sub("", text).strip()


def _optional(text: str | None) -> str | None:
    return clean_line(text) or None


def parse_page(body: bytes) -> Page:
    """Parse one API response body. Raises ``MalformedFeed`` or ``ErrorFeed``."""
    body = _CONTROL_REF_RE.sub(b"", _RAW_CONTROL_RE.sub(b"", body))
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)
    try:
        root = etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError as exc:
        raise MalformedFeed(f"not well-formed XML: {exc}") from None
    if root is None or root.tag != _FEED_TAG:
        raise MalformedFeed(f"not an Atom feed (root element {getattr(root, 'tag', None)!r})")

    def header(name: str, *, required: bool) -> int:
        text = root.findtext(f"opensearch:{name}", namespaces=_NS)
        if text is None and not required:
            return 0
        try:
            return int((text or "").strip())
        except ValueError:
            raise MalformedFeed(f"opensearch:{name} is {text!r}, not a number") from None

    total = header("totalResults", required=True)
    entries = root.findall("atom:entry", _NS)
    for entry in entries:
        entry_id = (entry.findtext("atom:id", namespaces=_NS) or "").strip()
        if ERROR_ID_RE.match(entry_id):
            message = clean_line(entry.findtext("atom:summary", namespaces=_NS)) or entry_id
            raise ErrorFeed(message)

    papers: list[Paper] = []
    for entry in entries:
        paper = _paper(entry)
        if paper is not None:
            papers.append(paper)
    return Page(papers=papers, entries=len(entries), skipped=len(entries) - len(papers),
                total_results=total, start_index=header("startIndex", required=False),
                items_per_page=header("itemsPerPage", required=False))


def _paper(entry: etree._Element) -> Paper | None:
    """One ``<entry>`` as a Paper, or None (logged) if it is not a usable arXiv paper."""
    raw_id = (entry.findtext("atom:id", namespaces=_NS) or "").strip()
    match = ABS_URL_RE.match(raw_id)
    if match is None:
        log.warning("skipping feed entry: id %r is not an arxiv.org abstract URL", raw_id[:200])
        return None
    try:
        base, version = parse_arxiv_id(match.group("id"))
    except ValueError:
        log.warning("skipping feed entry: %r is not an arXiv id", raw_id[:200])
        return None
    try:
        published, updated = _when(entry, "published"), _when(entry, "updated")
    except ValueError as exc:  # an unparseable date
        log.warning("skipping feed entry %s: %s", base, exc)
        return None
    if published is None or updated is None:
        log.warning("skipping feed entry %s: no <published> or <updated>", base)
        return None
    title = clean_line(_text(entry, "atom:title"))
    if not title:
        log.warning("skipping feed entry %s: empty title", base)
        return None
    names = (clean_line(_text(author, "atom:name")) for author in entry.iterfind("atom:author", _NS))
    terms = (clean_line(category.get("term")) for category in entry.iterfind("atom:category", _NS))
    primary = entry.find("arxiv:primary_category", _NS)
    return Paper(
        arxiv_id=base,
        title=title,
        abstract=clean_block(_text(entry, "atom:summary")) or None,
        version=version or 1,
        authors=tuple(name for name in names if name),
        categories=tuple(dict.fromkeys(term for term in terms if term)),
        primary_category=_optional(primary.get("term") if primary is not None else None),
        published=published,
        updated=updated,
        comment=_optional(_text(entry, "arxiv:comment")),
        journal_ref=_optional(_text(entry, "arxiv:journal_ref")),
        doi=_optional(_text(entry, "arxiv:doi")),
    )


def _text(element: etree._Element, path: str) -> str | None:
    """The text of the first ``path`` child (namespaced as ``atom:``/``arxiv:``), or None."""
    found = element.find(path, _NS)
    return found.text if found is not None else None


def _when(entry: etree._Element, name: str) -> datetime | None:
    """``<published>`` or ``<updated>`` (RFC 3339, e.g. ``2016-05-26T17:59:46Z``) in UTC; None if absent."""
    text = _text(entry, f"atom:{name}")
    if text is None or not text.strip():
        return None
    moment = datetime.fromisoformat(text.strip())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
