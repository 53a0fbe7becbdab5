"""Labelled papers: the shipped training corpus and any labelled JSONL file.

Runs whenever the classifier is trained or evaluated. Reads the files of ``TRAINING_FILES`` (copies of the
project's labelled training data) or a file the user names; writes nothing. A bad row (invalid JSON, no
title, unknown label) is reported with its 1-based line number and skipped, never fatal.

Where a second reader labelled a paper too, ``training_corpus`` trains on what the readers settled
(``settle_readers``): their label where they agree, the third reader's where one settled a disagreement, and
the first reader's at ``UNSETTLED_WEIGHT`` where nobody did.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

from bot.core.errors import ClassifierError
from bot.core.labels import Label
from classifier.embed import paper_text
from classifier.features import loose_filing

T = TypeVar("T")

DATA_DIR = Path(__file__).resolve().parent / "data"
# The shipped corpus, in order: every reader of the corpus (training, its shipped vectors, the tests) takes
# the files from here. train.jsonl: 2025 and earlier; train2026.jsonl: arXiv listings of Jan-Apr 2026.
TRAINING_FILES = (DATA_DIR / "train.jsonl", DATA_DIR / "train2026.jsonl")

# How far each label source is trusted (data/README.md): papers read against the rubric are the reference;
# list entries are filed loosely by some lists; keyword negatives were never checked one by one. The
# maintainers' own list and decisions (supplied by the database layer) use MAINTAINER_WEIGHT.
SOURCE_WEIGHTS: dict[str, float] = {
    "annotated": 1.0,
    "awesome-list": 1.0,
    "keyword-negative": 0.5,
}
DEFAULT_WEIGHT = 1.0
MAINTAINER_WEIGHT = 2.0
# Sources whose papers were read against the rubric as they came in arXiv listings: they look like what the
# bot classifies, so the evaluations score them and the model tunes its relevance threshold on them.
RUBRIC_SOURCES = frozenset({"annotated"})
# A paper whose two readers gave different labels and no third reader settled: trained on the first
# reader's label at this fraction of its weight (data/README.md: the readers agree on 87% of the papers
# a second one read; a third reader sided with the first in 12 of 33 disagreements).
UNSETTLED_WEIGHT = 0.5


@dataclass(frozen=True)
class Reading:
    """Another reader's label of a paper (``second_reader`` / ``third_reader`` in the data files)."""

    label: Label
    secondary: Label | None = None


@dataclass(frozen=True)
class LabelledPaper:
    """One paper with the label it should get."""

    arxiv_id: str | None
    title: str
    abstract: str | None
    label: Label
    source: str = "annotated"
    weight: float = DEFAULT_WEIGHT
    secondary: Label | None = None
    confidence: str | None = None  # how sure the labeller was ("high", "low"), when the row says
    published: str | None = None  # ISO date (YYYY-MM-DD) the paper first appeared, when known
    second_reader: Reading | None = None  # a second reader's label, blind to the first, when the row has one
    third_reader: Reading | None = None  # the label a third reader chose between the two, when they differed

    @property
    def text(self) -> str:
        return paper_text(self.title, self.abstract)


@dataclass(frozen=True)
class RowError:
    """A row that could not be read, by 1-based line number."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def _optional_str(row: dict[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"{key!r} must be a string or null")
    return value.strip() or None


def _label(value: Any, key: str) -> Label:
    try:
        return Label(value)
    except ValueError:
        allowed = ", ".join(label.value for label in Label)
        raise ValueError(f"unknown {key} {value!r} (expected one of {allowed})") from None


def parse_row(row: Any) -> LabelledPaper:
    """One JSON object -> LabelledPaper; ValueError says what is wrong with it."""
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    title = _optional_str(row, "title")
    if not title:
        raise ValueError("no title")
    if "label" not in row:
        raise ValueError("no label")
    label = _label(row["label"], "label")
    secondary = row.get("secondary")
    source = _optional_str(row, "label_source") or "annotated"
    weight = row.get("weight", SOURCE_WEIGHTS.get(source, DEFAULT_WEIGHT))
    if not isinstance(weight, int | float) or isinstance(weight, bool) or not 0 < weight < math.inf:
        raise ValueError(f"weight must be a positive number, not {weight!r}")
    return LabelledPaper(
        arxiv_id=_optional_str(row, "arxiv_id"),
        title=title,
        abstract=_optional_str(row, "abstract"),
        label=label,
        source=source,
        weight=float(weight),
        secondary=_label(secondary, "secondary") if secondary else None,
        confidence=_optional_str(row, "confidence"),
        published=_published(row),
        second_reader=_reading(row, "second_reader"),
        third_reader=_reading(row, "third_reader"),
    )


def _reading(row: dict[str, Any], key: str) -> Reading | None:
    """A ``second_reader`` / ``third_reader`` field: an object with a ``label`` (and ``secondary``), or
    null."""
    value = row.get(key)
    if value is None:
        return None
    if not isinstance(value, dict) or "label" not in value:
        raise ValueError(f"{key} must be an object with a label, or null")
    secondary = value.get("secondary")
    return Reading(_label(value["label"], f"{key} label"),
                   _label(secondary, f"{key} secondary") if secondary else None)


def _published(row: dict[str, Any]) -> str | None:
    """The row's ``published`` date as YYYY-MM-DD (a longer ISO timestamp is cut to its date)."""
    value = _optional_str(row, "published")
    if value is None:
        return None
    try:
        return date.fromisoformat(value[:10]).isoformat()
    except ValueError:
        raise ValueError(f"published must be an ISO date, not {value!r}") from None


def iter_jsonl(path: Path | str) -> Iterator[tuple[int, Any]]:
    """``(line_number, parsed_or_error)`` for each non-blank line; a line that is not UTF-8 or not JSON
    comes back as a ValueError."""
    try:
        with open(path, "rb") as handle:
            lines = handle.read().split(b"\n")
    except OSError as exc:
        raise ClassifierError(f"cannot read {path}: {exc.strerror or exc}") from exc
    for number, raw in enumerate(lines, start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            yield number, ValueError(f"not UTF-8 text (byte {exc.start + 1})")
            continue
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except json.JSONDecodeError as exc:
            yield number, ValueError(f"invalid JSON: {exc.msg} (column {exc.colno})")
        except RecursionError:
            yield number, ValueError("invalid JSON: nested too deeply")


def read_rows(path: Path | str, parse: Callable[[Any], T]) -> tuple[list[T], list[RowError]]:
    """Every row of a JSONL file that ``parse`` accepts, and a line-numbered error for each other one
    (invalid JSON, or a ``ValueError`` from ``parse``)."""
    items: list[T] = []
    errors: list[RowError] = []
    for number, row in iter_jsonl(path):
        try:
            if isinstance(row, ValueError):
                raise row
            items.append(parse(row))
        except ValueError as exc:
            errors.append(RowError(number, str(exc)))
    return items, errors


def load_jsonl(path: Path | str) -> tuple[list[LabelledPaper], list[RowError]]:
    """All readable labelled rows of ``path`` and the errors of the others."""
    return read_rows(path, parse_row)


def rubric_label(paper: LabelledPaper) -> str:
    """The label to train on: a rubric look-alike that a loose list files in a section becomes irrelevant."""
    listed = paper.source == "awesome-list" and paper.label.is_section
    if listed and loose_filing(paper.title, paper.abstract):
        return Label.IRRELEVANT.value
    return paper.label.value


def settle_readers(paper: LabelledPaper) -> LabelledPaper:
    """The paper as the model learns it from its readers: unchanged where a second reader agrees (or there
    is none); the third reader's label and secondary where the two differ and a third settled it; else the
    first reader's label at ``UNSETTLED_WEIGHT`` of its weight. Deterministic: one row in, one row out."""
    second, third = paper.second_reader, paper.third_reader
    if second is None or second.label is paper.label:
        return paper
    if third is not None:
        return replace(paper, label=third.label, secondary=third.secondary)
    return replace(paper, weight=paper.weight * UNSETTLED_WEIGHT)


def corpus_rows(paths: Iterable[Path] = TRAINING_FILES) -> list[LabelledPaper]:
    """Every row of the corpus files, as the files give them (a row that cannot be read is a packaging
    bug)."""
    papers: list[LabelledPaper] = []
    for path in paths:
        rows, errors = load_jsonl(path)
        if errors:
            raise ClassifierError(f"{path}: {len(errors)} unreadable rows, first {errors[0]}")
        if not rows:
            raise ClassifierError(f"{path} holds no labelled papers")
        papers += rows
    return papers


def training_corpus() -> list[LabelledPaper]:
    """The labelled corpus shipped with the package, with its readers' disagreements settled."""
    return [settle_readers(paper) for paper in corpus_rows()]


RUBRIC_FILE = "RUBRIC.md"


def rubric_text() -> str:
    """The labelling rubric (``classifier/data/RUBRIC.md``, package data): what the LLM judge is given."""
    from importlib.resources import files

    return (files("classifier") / "data" / RUBRIC_FILE).read_text(encoding="utf-8")
