"""Calibration of the classifier: the relevant/irrelevant threshold and the softmax temperature.

Runs inside ``classifier.model.train`` (``calibrate``, on out-of-fold SVM scores of the training papers;
``softmax`` also in every ``Model.predict``). Pure: reads score arrays, labels and weights, returns numbers
and probability arrays; writes nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bot.core.labels import LABEL_VALUES
from classifier.learner import IRRELEVANT_COLUMN, fit_learner

CALIBRATION_FOLDS = 3
DEFAULT_TEMPERATURE = 0.5  # used when a label has too few papers to hold any out
# The relevance bias is tuned on the held-out rows of RUBRIC_SOURCES when the training papers hold enough
# of them, else on all rows. The maintainers' decisions are trained on but not used here: they judge only
# what the bot proposed, so they hold its false positives and never its false negatives, and would drag
# the threshold up.
MIN_RUBRIC_ROWS = 50
BIAS_GRID = np.round(np.arange(-1.0, 1.0001, 0.05), 2)  # shifts of the irrelevant score tried


def _relevance_f1(scores: np.ndarray, truth: np.ndarray) -> float:
    predicted_relevant = scores.argmax(axis=1) != IRRELEVANT_COLUMN
    relevant = truth != IRRELEVANT_COLUMN
    tp = int(np.sum(predicted_relevant & relevant))
    wrong = int(np.sum(predicted_relevant != relevant))
    return 2 * tp / (2 * tp + wrong) if tp else 0.0


def _fit_bias(scores: np.ndarray, labels: np.ndarray, rubric_rows: np.ndarray) -> float:
    """The shift of the irrelevant score that maximises relevance F1 on held-out scores (smallest on ties).

    Tuned on the rows labelled against the rubric when there are enough of them: they look like the arXiv
    listings the bot classifies, unlike list entries and keyword negatives.
    """
    rows = rubric_rows if rubric_rows.sum() >= MIN_RUBRIC_ROWS else np.ones(len(labels), dtype=bool)
    truth = np.array([LABEL_VALUES.index(label) for label in labels[rows]])
    if not np.any(truth == IRRELEVANT_COLUMN) or np.all(truth == IRRELEVANT_COLUMN):
        return 0.0
    best_f1, best_bias = -1.0, 0.0
    for bias in sorted(BIAS_GRID, key=abs):
        shifted = scores[rows].copy()
        shifted[:, IRRELEVANT_COLUMN] += bias
        f1 = _relevance_f1(shifted, truth)
        if f1 > best_f1 + 1e-9:
            best_f1, best_bias = f1, float(bias)
    return best_bias


def softmax(scores: np.ndarray, temperature: float) -> np.ndarray:
    """Probabilities from scores (rows sum to 1); a higher temperature flattens them."""
    scaled = scores / temperature
    shifted = np.exp(scaled - scaled.max(axis=1, keepdims=True))
    return shifted / shifted.sum(axis=1, keepdims=True)

def _fit_temperature(scores: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> float:
    """The softmax temperature that minimises the weighted log loss of held-out scores."""
    from scipy.optimize import minimize_scalar

    truth = np.array([LABEL_VALUES.index(label) for label in labels])

    def loss(log_t: float) -> float:
        probs = softmax(scores, float(np.exp(log_t)))
        return float(-np.sum(weights * np.log(probs[np.arange(len(truth)), truth] + 1e-12)))

    result = minimize_scalar(loss, bounds=(np.log(0.02), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


def calibrate(counts: Any, vectors: np.ndarray, terms: np.ndarray, labels: np.ndarray,
              weights: np.ndarray, rubric_rows: np.ndarray, seed: int) -> tuple[float, float]:
    """Irrelevant-score bias and softmax temperature, both fitted on out-of-fold SVM scores.

    The bias sets the relevant/irrelevant threshold (it can move a label to or from ``irrelevant``); the
    temperature only scales, so it keeps the argmax.
    """
    from sklearn.model_selection import StratifiedKFold

    _, counts_per_label = np.unique(labels, return_counts=True)
    folds = min(CALIBRATION_FOLDS, int(counts_per_label.min()))
    if folds < 2:
        return 0.0, DEFAULT_TEMPERATURE
    scores = np.zeros((len(labels), len(LABEL_VALUES)))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_idx, held_idx in splitter.split(np.zeros(len(labels)), labels):
        learner = fit_learner(counts[fit_idx], vectors[fit_idx], terms[fit_idx], labels[fit_idx],
                              weights[fit_idx], seed)
        scores[held_idx] = learner.scores(counts[held_idx], vectors[held_idx], terms[held_idx])
    bias = _fit_bias(scores, labels, rubric_rows)
    scores[:, IRRELEVANT_COLUMN] += bias
    return bias, _fit_temperature(scores, labels, weights)
