"""Judge classifiers on labelled papers: on a held-out set, by cross-validation, and fitted for ``train``.

Runs for ``paperbot evaluate`` (``compare``) and ``paperbot train`` (``train_and_cross_validate``; its
``--holdout-from`` judges are in ``classifier.forward``). Pure: takes labelled papers and their embedding
vectors, row for row, and returns ``Metrics`` (``classifier.metrics``) per classifier; reads and writes
nothing, and neither embeds nor touches the database. Each judge runs every predictor it is given on the
same split (the commands give paperbot and the two baselines, ``contenders``), so their figures can be set
side by side (``classifier.render``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from bot.core.labels import Label
from classifier.baselines import BASELINES
from classifier.corpus import RUBRIC_SOURCES, LabelledPaper
from classifier.metrics import Metrics, compute_metrics, score_predictions
from classifier.model import paperbot_predictor
from classifier.model import train as fit_model

Predictor = Callable[[Sequence[LabelledPaper], np.ndarray, Sequence[LabelledPaper], np.ndarray],
                     list[Label]]
"""Train on the first papers and vectors, return a label for each of the second."""


def contenders() -> dict[str, Predictor]:
    """paperbot and the two baselines it must beat, in the order the reports show them."""
    return {"paperbot": paperbot_predictor, **BASELINES}


def compare(
    predictors: Mapping[str, Predictor],
    train: Sequence[LabelledPaper], train_vectors: np.ndarray,
    test: Sequence[LabelledPaper], test_vectors: np.ndarray,
) -> dict[str, Metrics]:
    """Fit each predictor on ``train`` and score it on ``test`` (the same split for all).

    The Metrics hold the figures per labeller confidence level, and the 95% intervals and leads, as
    ``classifier.metrics.score_predictions`` gives them.
    """
    return score_predictions(test, {name: predict(train, train_vectors, test, test_vectors)
                                    for name, predict in predictors.items()})


def cross_validate(
    predictors: Mapping[str, Predictor],
    examples: Sequence[LabelledPaper], vectors: np.ndarray,
    *, folds: int = 5, seed: int = 0, score_sources: Collection[str] | None = RUBRIC_SOURCES,
) -> dict[str, Metrics]:
    """Stratified, seeded k-fold CV; out-of-fold predictions pooled and scored.

    Only papers whose label source is in ``score_sources`` are scored (all are trained on): by default the
    papers read against the rubric, which look like the arXiv listings the bot classifies.
    """
    from sklearn.model_selection import StratifiedKFold

    labels = np.array([paper.label.value for paper in examples])
    scored = np.array([score_sources is None or paper.source in score_sources for paper in examples])
    predictions: dict[str, list[Label | None]] = {name: [None] * len(examples) for name in predictors}
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(np.zeros(len(labels)), labels):
        test_idx = test_idx[scored[test_idx]]
        train_part = [examples[int(i)] for i in train_idx]
        test_part = [examples[int(i)] for i in test_idx]
        for name, predict in predictors.items():
            labels_out = predict(train_part, vectors[train_idx], test_part, vectors[test_idx])
            for i, label in zip(test_idx, labels_out, strict=True):
                predictions[name][int(i)] = label
    keep = np.flatnonzero(scored)
    truth = [examples[int(i)].label for i in keep]
    return {name: compute_metrics(truth, [pred[int(i)] or Label.IRRELEVANT for i in keep])
            for name, pred in predictions.items()}


@dataclass(frozen=True)
class TrainingReport:
    """``paperbot train``'s figures: the model fitted on every labelled paper, and the contenders'
    cross-validated figures for each fold seed (``first_seed`` is the configured seed)."""

    model_version: str
    training_papers: int
    training_seconds: float
    folds: int
    first_seed: int
    by_seed: dict[int, dict[str, Metrics]]

    @property
    def results(self) -> dict[str, Metrics]:
        """The figures of the first fold seed: the report's."""
        return self.by_seed[self.first_seed]


def train_and_cross_validate(
    predictors: Mapping[str, Predictor],
    examples: Sequence[LabelledPaper], vectors: np.ndarray,
    *, folds: int = 5, seed: int = 0, seeds: int = 1,
) -> TrainingReport:
    """Fit the model on all ``examples`` with ``seed`` (timed), then ``cross_validate`` the predictors with
    fold seeds ``seed``, ``seed + 1``, ... (``seeds`` of them): a difference between models smaller than
    the spread between fold seeds is noise."""
    started = time.perf_counter()
    model = fit_model(examples, vectors, seed=seed)
    seconds = time.perf_counter() - started
    by_seed = {fold_seed: cross_validate(predictors, examples, vectors, folds=folds, seed=fold_seed)
               for fold_seed in range(seed, seed + seeds)}
    return TrainingReport(model.version, model.n_train, seconds, folds, seed, by_seed)
