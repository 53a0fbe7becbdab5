"""Is this paper already on the list? Title normalisation and a strict fuzzy title match.

Used by ``bot/awesome/insert.py`` (against the README and the open PR) before anything is proposed. A paper is
listed when its base arXiv id is, or when its title matches a listed title after folding case, accents,
punctuation, Markdown escapes, HTML entities and LaTeX. The fuzzy part only forgives spelling-level
differences (``Quantisation``/``Quantization``, ``Model``/``Models``, ``Few-Step``/``FewStep``): a title
with a word added or removed ("Consistency Models" vs "Bidirectional Consistency Models") is another paper.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.core.models import parse_arxiv_id
from bot.core.text import normalize_title

DEFAULT_THRESHOLD = 92.0
WORD_THRESHOLD = 80.0  # two differing words are one word spelt two ways ("quantisation") at this ratio

def _stems(normalized: str) -> tuple[str, ...]:
    return tuple(word[:-1] if len(word) > 3 and word.endswith("s") else word for word in normalized.split())


def titles_match(a: str, b: str, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """True when two titles name the same paper (see the module docstring for what is forgiven)."""
    return _match_normalized(normalize_title(a), normalize_title(b), threshold) is not None


def _match_normalized(a: str, b: str, threshold: float) -> float | None:
    if not a or not b:
        return None
    if a.replace(" ", "") == b.replace(" ", ""):
        return 100.0
    stems_a, stems_b = _stems(a), _stems(b)
    if stems_a == stems_b:
        return 100.0
    if len(stems_a) != len(stems_b):
        return None
    for word_a, word_b in zip(stems_a, stems_b, strict=True):
        if word_a != word_b and fuzz.ratio(word_a, word_b) < WORD_THRESHOLD:
            return None  # another word, not another spelling: "Q-DM" vs "Q-DiT", "PTQD" vs "Towards"
    score = fuzz.ratio(a, b)
    return score if score >= threshold else None


@dataclass(frozen=True)
class Match:
    """Why a paper counts as listed: the id or the title it matched, and where."""

    by: str  # "id", "doi" or "title"
    title: str  # the listed title as written
    arxiv_id: str | None
    score: float
    line: int | None = None  # 0-based README line, None for ids/titles from elsewhere (the open PR)


@dataclass
class TitleIndex:
    """Listed ids and titles, built once and queried per paper."""

    threshold: float = DEFAULT_THRESHOLD
    _ids: dict[str, Match] = field(default_factory=dict)
    _dois: dict[str, Match] = field(default_factory=dict)
    _compact: dict[str, Match] = field(default_factory=dict)
    _by_length: dict[int, dict[str, Match]] = field(default_factory=dict)

    def add(self, title: str | None, arxiv_ids: Iterable[str] = (), line: int | None = None,
            dois: Iterable[str] = ()) -> None:
        """Record one listed entry (its title as written and any arXiv ids and DOIs in its links)."""
        ids = [base for base in (_base_id(i) for i in arxiv_ids) if base]
        normalized = normalize_title(title)
        for base in ids:
            self._ids.setdefault(base, Match("id", title or "", base, 100.0, line))
        for doi in dois:
            first = ids[0] if ids else None
            self._dois.setdefault(doi.lower(), Match("doi", title or "", first, 100.0, line))
        if normalized:
            match = Match("title", title or "", ids[0] if ids else None, 100.0, line)
            self._compact.setdefault(normalized.replace(" ", ""), match)
            self._by_length.setdefault(len(normalized.split()), {}).setdefault(normalized, match)

    def find(self, arxiv_id: str | None, title: str | None, doi: str | None = None) -> Match | None:
        """The listed entry this paper duplicates, by id first, then by DOI, then by title; None if new."""
        base = _base_id(arxiv_id) if arxiv_id else None
        if base and base in self._ids:
            return self._ids[base]
        if doi and doi.lower() in self._dois:
            return self._dois[doi.lower()]
        normalized = normalize_title(title)
        if not normalized:
            return None
        exact = self._compact.get(normalized.replace(" ", ""))
        if exact is not None:
            return Match("title", exact.title, exact.arxiv_id, 100.0, exact.line)
        candidates = self._by_length.get(len(normalized.split()), {})
        near = process.extract(normalized, list(candidates), scorer=fuzz.ratio, score_cutoff=self.threshold,
                               limit=None)
        for listed, _, _ in sorted(near, key=lambda hit: (-hit[1], hit[0])):
            score = _match_normalized(normalized, listed, self.threshold)
            if score is not None:
                found = candidates[listed]
                return Match("title", found.title, found.arxiv_id, score, found.line)
        return None


def _base_id(text: str) -> str | None:
    try:
        return parse_arxiv_id(text)[0]
    except ValueError:
        return None
