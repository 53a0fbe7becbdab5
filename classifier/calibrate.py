"""Calibration of the classifier: the combiners of ``classifier.stacking`` and the relevance threshold.

Runs inside ``classifier.model.train`` (``calibrate``, on out-of-fold scores of the training papers). Pure:
reads n-gram counts, vectors, term features, labels and weights, returns a fitted ``Combiner``; writes
nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from bot.core.labels import LABEL_VALUES
from classifier.learner import IRRELEVANT_COLUMN, fit_learner
from classifier.stacking import Combiner, fit_combiner, fit_embedding_learner, joint

CALIBRATION_FOLDS = 3
# The relevance bias is tuned on the held-out rows of RUBRIC_SOURCES when the training papers hold enough
# of them, else on all rows. The maintainers' decisions are trained on but not used here: they judge only
# what the bot proposed, so they hold its false positives and never its false negatives, and would drag
# the threshold up.
MIN_RUBRIC_ROWS = 50
BIAS_GRID = np.round(np.arange(-2.0, 2.0001, 0.1), 2)  # shifts of the relevance log-odds tried


def _relevance_f1(probs: np.ndarray, truth: np.ndarray) -> float:
    predicted_relevant = probs.argmax(axis=1) != IRRELEVANT_COLUMN
    relevant = truth != IRRELEVANT_COLUMN
    tp = int(np.sum(predicted_relevant & relevant))
    wrong = int(np.sum(predicted_relevant != relevant))
    return 2 * tp / (2 * tp + wrong) if tp else 0.0


def fit_bias(log_odds: np.ndarray, sections: np.ndarray, labels: np.ndarray,
             rubric_rows: np.ndarray) -> float:
    """The shift of the relevance log-odds that maximises relevance F1 of the labels (the argmax of
    ``stacking.joint``) on held-out rows, the smallest on ties.

    Tuned on the rows labelled against the rubric when there are enough of them: they look like the arXiv
    listings the bot classifies, unlike list entries and keyword negatives.
    """
    rows = rubric_rows if rubric_rows.sum() >= MIN_RUBRIC_ROWS else np.ones(len(labels), dtype=bool)
    truth = np.array([LABEL_VALUES.index(label) for label in labels[rows]])
    if not np.any(truth == IRRELEVANT_COLUMN) or np.all(truth == IRRELEVANT_COLUMN):
        return 0.0
    best_f1, best_bias = -1.0, 0.0
    for bias in sorted(BIAS_GRID, key=abs):
        f1 = _relevance_f1(joint(log_odds[rows] + bias, sections[rows]), truth)
        if f1 > best_f1 + 1e-9:
            best_f1, best_bias = f1, float(bias)
    return best_bias


def calibrate(counts: Any, vectors: np.ndarray, terms: np.ndarray, labels: np.ndarray,
              weights: np.ndarray, rubric_rows: np.ndarray, seed: int) -> Combiner:
    """The combiners fitted on out-of-fold scores of the SVMs and the embedding's regression, and the
    relevance bias.

    With a label too rare to hold any out, the combiners are left out (``Combiner(None, None)``): the
    SVM's scores alone decide.
    """
    from sklearn.model_selection import StratifiedKFold

    _, counts_per_label = np.unique(labels, return_counts=True)
    folds = min(CALIBRATION_FOLDS, int(counts_per_label.min()))
    if folds < 2:
        return Combiner(None, None)
    svm_scores = np.zeros((len(labels), len(LABEL_VALUES)))
    log_odds = np.zeros(len(labels))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_idx, held_idx in splitter.split(np.zeros(len(labels)), labels):
        learner = fit_learner(counts[fit_idx], vectors[fit_idx], terms[fit_idx], labels[fit_idx],
                              weights[fit_idx], seed)
        svm_scores[held_idx] = learner.scores(counts[held_idx], vectors[held_idx], terms[held_idx])
        embedding = fit_embedding_learner(vectors[fit_idx], labels[fit_idx], weights[fit_idx], seed)
        log_odds[held_idx] = embedding.log_odds(vectors[held_idx])
    combiner = fit_combiner(svm_scores, log_odds, labels, weights, seed)
    combiner.relevance_bias = fit_bias(combiner.relevance_log_odds(svm_scores, log_odds),
                                       combiner.section_probabilities(svm_scores), labels, rubric_rows)
    return combiner
