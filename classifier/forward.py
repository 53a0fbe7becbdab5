"""Forward judges: train on the papers published before a date, score the ones published from it on.

Runs for ``paperbot train --holdout-from`` (``holdout_from``) and ``--holdout-from --monthly``
(``monthly_from``), and for the benches. Pure: takes labelled papers with their publication dates and
embedding vectors, row for row, and returns ``Metrics`` per classifier with what each step trained on and
scored; reads and writes nothing. These judges show how the model does on papers later than any it learned
from, which is how the bot meets arXiv's new papers.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import NamedTuple

import numpy as np

from bot.core.errors import ClassifierError
from bot.core.labels import Label
from classifier.corpus import RUBRIC_SOURCES, LabelledPaper
from classifier.evaluate import Predictor
from classifier.metrics import Metrics, score_predictions


class Holdout(NamedTuple):
    """What ``holdout_from`` found: each predictor's figures, how many papers it trained on and scored."""

    results: dict[str, Metrics]
    trained_on: int
    scored: int


@dataclass(frozen=True)
class Window:
    """One step of a forward evaluation: papers published in [start, end) scored, earlier ones trained on."""

    start: str
    end: str | None
    trained_on: int
    scored: int


class Forward(NamedTuple):
    """What ``monthly_from`` found: the figures pooled over the months, and what each month (window) held."""

    results: dict[str, Metrics]
    windows: list[Window]

    @property
    def scored(self) -> int:
        """The papers scored, over all the windows."""
        return sum(window.scored for window in self.windows)


def holdout_from(
    predictors: Mapping[str, Predictor],
    examples: Sequence[LabelledPaper], vectors: np.ndarray,
    *, start: str, score_sources: Collection[str] = RUBRIC_SOURCES,
) -> Holdout:
    """Train on the papers published before ``start`` (an ISO date) and score the papers of
    ``score_sources`` published on or after it: the figures on papers later than any trained on.

    Later papers of other sources are left out altogether; papers without a date are trained on. Returns
    the figures of each predictor, the number of training papers and the number scored.
    """
    results, windows = _forward(predictors, examples, vectors, [(start, None)], score_sources)
    if not windows:
        raise ClassifierError(f"no labelled paper to score was published on or after {start}")
    return Holdout(results, windows[0].trained_on, windows[0].scored)


def monthly_from(
    predictors: Mapping[str, Predictor],
    examples: Sequence[LabelledPaper], vectors: np.ndarray,
    *, start: str, score_sources: Collection[str] = RUBRIC_SOURCES,
) -> Forward:
    """``holdout_from`` repeated month by month, the way the bot meets new papers: for each calendar month
    from ``start`` on, train on every paper published before it and score that month's papers of
    ``score_sources``. The figures pool the months' predictions; the windows say what each month held.
    """
    dates = [paper.published for paper in examples if paper.published and paper.source in score_sources]
    last = max(dates, default="")
    if last < start:
        raise ClassifierError(f"no labelled paper to score was published on or after {start}")
    bounds = [start]
    while bounds[-1] <= last:
        year, month = int(bounds[-1][:4]), int(bounds[-1][5:7])
        bounds.append(f"{year + month // 12:04d}-{month % 12 + 1:02d}-01")
    return _forward(predictors, examples, vectors, list(pairwise(bounds)), score_sources)


def _forward(predictors: Mapping[str, Predictor], examples: Sequence[LabelledPaper], vectors: np.ndarray,
             spans: Sequence[tuple[str, str | None]], score_sources: Collection[str]) -> Forward:
    """Each predictor trained before each span and run on the span's papers of ``score_sources``; the
    predictions pooled into one set of figures. Spans with nothing to score are skipped."""
    scored: list[LabelledPaper] = []
    predicted: dict[str, list[Label]] = {name: [] for name in predictors}
    windows: list[Window] = []
    for start, end in spans:
        train_rows = [i for i, paper in enumerate(examples) if paper.published is None
                      or paper.published < start]
        test_rows = [i for i, paper in enumerate(examples) if paper.source in score_sources
                     and paper.published is not None and start <= paper.published
                     and (end is None or paper.published < end)]
        if not test_rows:
            continue
        if len({examples[i].label for i in train_rows}) < 2:
            raise ClassifierError(f"too few labelled papers were published before {start} to train on")
        train_part, test_part = [examples[i] for i in train_rows], [examples[i] for i in test_rows]
        for name, predict in predictors.items():
            predicted[name] += predict(train_part, vectors[train_rows], test_part, vectors[test_rows])
        scored += test_part
        windows.append(Window(start, end, len(train_rows), len(test_rows)))
    return Forward(score_predictions(scored, predicted) if scored else {}, windows)

