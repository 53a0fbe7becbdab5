"""What one new entry on the list says: venue, links, dates, and the line in the list's own format.

``bot/awesome/insert.py`` learns a ``BulletStyle`` or ``TableStyle`` from the human entries of a section and
calls ``render_bullet``/``render_row``, or ``render_template`` when the maintainers configured
``entry_template``. Every value put into a line is either sanitized (``bot/awesome/markdown.py``) or built
from a validated arXiv id or GitHub ``owner/repo``. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.awesome.markdown import NAME_MAX_CHARS, sanitize
from bot.core.models import Paper, abs_url, parse_arxiv_id
from bot.core.template import PLACEHOLDERS
from bot.core.text import plain_math

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Canonical venue name -> pattern. Longer names first where one contains another (SIGGRAPH Asia).
VENUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern)) for name, pattern in (
        ("CVPR", r"\bCVPR(?P<w>W)?\b|(?i:\bComputer Vision and Pattern Recognition\b)"),
        ("ICCV", r"\bICCV(?P<w>W)?\b|(?i:\bInternational Conference on Computer Vision\b)"),
        ("ECCV", r"\bECCV(?P<w>W)?\b|(?i:\bEuropean Conference on Computer Vision\b)"),
        ("NeurIPS", r"(?i:\bNeur\s?IPS\b|\bNIPS\b|\bNeural Information Processing Systems\b)"),
        ("ICLR", r"(?i:\bICLR\b|\bInternational Conference on Learning Representations\b)"),
        ("ICML", r"(?i:\bICML\b|\bInternational Conference on Machine Learning\b)"),
        ("AAAI", r"\bAAAI\b"),
        ("IJCAI", r"\bIJCAI\b"),
        ("ACM MM", r"(?i:\bACM\s?MM\b|\bACM Multimedia\b|\bACM International Conference on Multimedia\b)"),
        ("WACV", r"\bWACV\b"),
        ("BMVC", r"\bBMVC\b"),
        ("TPAMI", r"\bT-?PAMI\b|(?i:Transactions on Pattern Analysis and Machine Intelligence)"),
        ("IJCV", r"\bIJCV\b|(?i:International Journal of Computer Vision)"),
        ("TIP", r"\b(?:IEEE[- ])?TIP\b|(?i:Transactions on Image Processing)"),
        ("TMLR", r"\bTMLR\b|(?i:Transactions on Machine Learning Research)"),
        ("SIGGRAPH Asia", r"(?i:\bSIGGRAPH[- ]Asia\b)"),
        ("SIGGRAPH", r"(?i:\bSIGGRAPH\b)"),
        ("TOG", r"\b(?:ACM )?TOG\b|(?i:ACM Transactions on Graphics)"),
        ("ACL", r"\bACL\b"),
        ("EMNLP", r"\bEMNLP\b"),
        ("NAACL", r"\bNAACL\b"),
        ("COLING", r"\bCOLING\b"),
        ("KDD", r"\b(?:SIG)?KDD\b"),
        ("ICASSP", r"\bICASSP\b"),
        ("ICME", r"\bICME\b"),
        ("ICIP", r"\bICIP\b"),
        ("MLSys", r"(?i:\bMLSys\b)"),
        ("DAC", r"\bDAC\b"),
        ("AISTATS", r"\bAISTATS\b"),
        ("UAI", r"\bUAI\b"),
        ("3DV", r"\b3DV\b"),
    )
)
_NEGATIVE_RE = re.compile(
    r"submit|submission|under review|in review|under consideration|rejected|withdrawn|extended version of"
    r"|extension of|preprint of|invited to", re.IGNORECASE)
_POSITIVE_RE = re.compile(
    r"accept|to appear|appear(?:s|ing)? (?:in|at)|published|camera[- ]ready|proceedings|\boral\b|spotlight"
    r"|highlight|poster|main (?:conference|track)|findings|workshop", re.IGNORECASE)
_CLAUSE_SPLIT_RE = re.compile(r"[;()\[\]\n]|,\s|\.\s")
_YEAR_AFTER_RE = re.compile(r"^\s?(?:['\u2019-]\s?)?(20\d\d|\d\d)\b")
_YEAR_RE = re.compile(r"\b(20\d\d)\b")

_GITHUB_RE = re.compile(
    r"(?:https?://)?(?:www\.)?github\.com/([A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38})"
    r"/([A-Za-z0-9._-]{1,100})", re.IGNORECASE)
_GITHUB_RESERVED = frozenset({"orgs", "topics", "features", "sponsors", "settings", "marketplace", "about",
                              "collections", "apps", "login", "search", "site", "pricing", "enterprise"})


@dataclass(frozen=True)
class Venue:
    """An accepted venue named by the paper: ``Venue("CVPR", 2026)``, ``Venue("ACL", 2025, "Findings")``."""

    name: str
    year: int | None = None
    qualifier: str = ""  # "Workshop" or "Findings"

    @property
    def tag(self) -> str:
        return f"{self.name} {self.qualifier}".strip()


def detect_venue(comment: str | None, journal_ref: str | None = None) -> Venue | None:
    """The venue a paper was accepted at, from its journal-ref or arXiv comment; None for preprints.

    "Accepted to CVPR 2026", "CVPR 2026 (Highlight)" and a journal-ref count; "Submitted to CVPR",
    "under review at ICLR" and "extended version of our ECCV paper" do not.
    """
    for text, published in ((journal_ref, True), (comment, False)):
        for clause in _CLAUSE_SPLIT_RE.split(text or ""):
            venue = _clause_venue(clause, published)
            if venue is not None and venue.year is None and published:
                year = _YEAR_RE.search(text or "")  # "IEEE Transactions on ..., 2025"
                return Venue(venue.name, int(year.group(1)), venue.qualifier) if year else venue
            if venue is not None:
                return venue
    return None


def _clause_venue(clause: str, published: bool) -> Venue | None:
    if not clause.strip() or _NEGATIVE_RE.search(clause):
        return None
    for name, pattern in VENUES:
        match = pattern.search(clause)
        if match is None:
            continue
        year_match = _YEAR_AFTER_RE.match(clause[match.end():]) or _YEAR_RE.search(clause)
        if not (published or _POSITIVE_RE.search(clause) or year_match):
            return None
        year = None
        if year_match:
            digits = year_match.group(1)
            year = int(digits) if len(digits) == 4 else 2000 + int(digits)
        workshop = "workshop" in clause.casefold() or bool(match.groupdict().get("w"))
        qualifier = "Workshop" if workshop else "Findings" if "findings" in clause.casefold() else ""
        return Venue(name, year, qualifier)
    return None


def github_url(text: str | None) -> str | None:
    """``https://github.com/owner/repo`` for the first GitHub repository named in the text, else None."""
    for match in _GITHUB_RE.finditer(text or ""):
        owner, repo = match.group(1), match.group(2).rstrip(".")
        repo = repo.removesuffix(".git")
        if owner.casefold() in _GITHUB_RESERVED or repo in {"", ".", ".."}:
            continue
        return f"https://github.com/{owner}/{repo}"
    return None


def code_url_for(paper: Paper, given: str | None = None) -> str | None:
    """The code link of a paper: the given URL if it is a GitHub repository, else one in comment/abstract."""
    if given:
        url = github_url(given)
        if url is not None and given.strip().rstrip("/").lower().startswith(("https://github.com/",
                                                                            "http://github.com/")):
            return url
    return github_url(paper.comment) or github_url(paper.abstract)


def month_year(when: datetime | None) -> str:
    """"Jan 2026" without the locale (``%b`` follows LC_TIME)."""
    return f"{_MONTHS[when.month - 1]} {when.year}" if when else "-"


def utc(when: datetime | None) -> datetime | None:
    """A naive UTC datetime, so sorting never depends on the machine's time zone."""
    if when is None or when.tzinfo is None:
        return when
    return when.astimezone(UTC).replace(tzinfo=None)


def format_authors(authors: tuple[str, ...], max_names: int = 1) -> str:
    """"First Author et al." (or all names when there are at most ``max_names``), sanitized."""
    names = [sanitize(name, max_chars=NAME_MAX_CHARS) for name in authors[:max_names]]
    names = [name for name in names if name]
    if not names:
        return "-"
    return ", ".join(names) + (" et al." if len(authors) > max_names else "")


@dataclass(frozen=True)
class EntryFields:
    """Markdown-safe values for one new entry; the keys of ``entry_template``."""

    venue: str
    venue_year: str
    title: str
    url: str
    arxiv_id: str
    code_url: str
    code: str
    date: str
    year: str
    first_author: str
    authors: str
    has_venue: bool


def entry_fields(paper: Paper, code_url: str | None, preprint_tag: str = "arxiv") -> EntryFields:
    """Everything a template or style needs, from a paper (base id validated here)."""
    base, _ = parse_arxiv_id(paper.arxiv_id)
    venue = detect_venue(paper.comment, paper.journal_ref)
    published = utc(paper.published)
    year = venue.year if venue and venue.year else (published.year if published else None)
    code = code_url_for(paper, code_url) or ""
    return EntryFields(
        venue=venue.tag if venue else preprint_tag,
        venue_year=f"{venue.tag} {year}".strip() if venue and year else venue.tag if venue
        else month_year(published),
        title=sanitize(plain_math(paper.title)),  # $\alpha$-Quant is written α-Quant, as lists do
        url=abs_url(base),
        arxiv_id=base,
        code_url=code,
        code=f" [[Code]({code})]" if code else "",
        date=month_year(published),
        year=str(published.year) if published else "-",
        first_author=format_authors(paper.authors[:1]),
        authors=format_authors(paper.authors),
        has_venue=venue is not None,
    )


def render_template(template: str, fields: EntryFields) -> str:
    """Fill a maintainer's ``entry_template`` (checked with ``bot.core.template.check_template`` first)."""
    return template.format_map({name: getattr(fields, name) for name in PLACEHOLDERS})


@dataclass(frozen=True)
class BulletStyle:
    """How a section writes list entries: ``- [CVPR] Title``; learned by ``bot/awesome/insert.py``."""

    prefix: str = "- "
    venue: bool = True
    title_linked: bool = False


def render_bullet(style: BulletStyle, fields: EntryFields) -> str:
    """One list entry; the arXiv link (and code link) are appended unless the title itself is the link."""
    head = f"{style.prefix}[{fields.venue}] " if style.venue else style.prefix
    if style.title_linked:
        return f"{head}[{fields.title}]({fields.url}){fields.code}"
    return f"{head}{fields.title} [[arXiv]({fields.url})]{fields.code}"


@dataclass(frozen=True)
class TableStyle:
    """How a table writes rows: column kinds and cell templates learned from its human rows."""

    columns: tuple[str, ...]  # num, title, arxiv, code, venue, authors, other
    leading_pipe: bool = True
    trailing_pipe: bool = True
    num_format: str = "[{n}]"
    title_linked: bool = True
    arxiv_cell: str = "[arXiv]({url})"
    code_cell: str = "[Code]({code_url})"
    venue_bold: bool = True
    empty: str = "-"


def render_row(style: TableStyle, fields: EntryFields, number: int) -> str:
    """One table row with a cell for every column; unknown cells get the table's empty marker."""
    cells = []
    for kind in style.columns:
        if kind == "num":
            cells.append(style.num_format.format(n=number))
        elif kind == "title":
            cells.append(f"[{fields.title}]({fields.url})" if style.title_linked else fields.title)
        elif kind == "arxiv":
            cells.append(style.arxiv_cell.format(url=fields.url, arxiv_id=fields.arxiv_id))
        elif kind == "code" and fields.code_url:
            repo = fields.code_url.removeprefix("https://github.com/")
            cells.append(style.code_cell.format(code_url=fields.code_url, code_repo=repo))
        elif kind == "venue":
            bold = fields.has_venue and style.venue_bold
            cells.append(f"**{fields.venue_year}**" if bold else fields.venue_year)
        elif kind == "authors":
            cells.append(fields.authors)
        else:
            cells.append(style.empty)
    row = " | ".join(cells)
    return ("| " if style.leading_pipe else "") + row + (" |" if style.trailing_pipe else "")
