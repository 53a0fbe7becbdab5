"""File mode: classify papers from a JSONL file into a JSONL file of predictions.

Runs for ``paperbot classify --input PAPERS.jsonl --output PREDICTIONS.jsonl``. Reads one paper a line
(``arxiv_id``, ``title``, ``abstract`` (may be null), optional ``authors`` and ``categories``), embeds and
classifies the readable rows, and writes one prediction a line, in input order, to standard output or to a
file, atomically (``bot/core/files.py``). A bad row (invalid JSON, no title) is reported with its line number
and skipped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from bot.core.config import ClassifierSettings
from bot.core.errors import ClassifierError
from bot.core.files import atomic_text
from bot.core.models import Prediction
from classifier.corpus import RowError, read_rows
from classifier.embed import Embedder, paper_text
from classifier.model import Model


@dataclass(frozen=True)
class FileResult:
    n_written: int
    errors: list[RowError] = field(default_factory=list)


def _paper(row: Any) -> tuple[str | None, str, str | None]:
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    values: dict[str, str | None] = {}
    for key in ("arxiv_id", "title", "abstract"):
        value = row.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"{key!r} must be a string or null")
        values[key] = value.strip() if value and value.strip() else None
    title = values["title"]
    if title is None:
        raise ValueError("no title")
    return values["arxiv_id"], title, values["abstract"]


def prediction_row(arxiv_id: str | None, prediction: Prediction) -> dict[str, Any]:
    """The JSON object written for one prediction."""
    return {
        "arxiv_id": arxiv_id,
        "label": prediction.label.value,
        "probability": prediction.probability,
        "probabilities": prediction.probabilities,
        "runner_up": prediction.runner_up.value,
        "runner_up_probability": prediction.runner_up_probability,
        "needs_review": prediction.needs_review,
        "reason": prediction.reason,
        "model_version": prediction.model_version,
    }


def classify_file(input_path: Path | str, output: Path | str | TextIO, model: Model, embedder: Embedder,
                  settings: ClassifierSettings, *, progress: bool = False) -> FileResult:
    """Classify every readable row of ``input_path`` into ``output`` (a file, replaced atomically, or an
    open text stream); bad rows come back as errors."""
    papers, errors = read_rows(input_path, _paper)
    pairs = [(title, abstract) for _, title, abstract in papers]
    vectors = embedder.embed([paper_text(title, abstract) for title, abstract in pairs], progress=progress)
    predictions = model.predict(pairs, vectors, review_low=settings.review_low,
                                review_high=settings.review_high)
    lines = (json.dumps(prediction_row(arxiv_id, prediction), ensure_ascii=False) + "\n"
             for (arxiv_id, _, _), prediction in zip(papers, predictions, strict=True))
    if not isinstance(output, str | Path):
        output.writelines(lines)
        return FileResult(n_written=len(predictions), errors=errors)
    target = Path(output)
    try:
        with atomic_text(target) as stream:
            stream.writelines(lines)
    except OSError as exc:
        raise ClassifierError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return FileResult(n_written=len(predictions), errors=errors)
