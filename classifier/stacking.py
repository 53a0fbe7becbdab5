"""The embedding's relevance regression beside the SVMs, and the combiners that stack them into probabilities.

Runs inside ``classifier.model.train`` (``fit_embedding_learner`` on the training papers and on each
calibration fold, ``fit_combiner`` on the folds' out-of-fold scores, in ``classifier.calibrate``) and
``Model.predict`` (``EmbeddingLearner.log_odds``, ``Combiner.probabilities``). Pure: reads score arrays,
embedding vectors, labels and weights, returns fitted scikit-learn objects and probability arrays; writes
nothing.

The classifier decides in two stages, each by a logistic regression fitted on out-of-fold scores, so that
each input is weighed by how well it does on papers its learner did not see, and the outputs are
probabilities:
1. relevance: over the SVM's relevance margin (best section score less irrelevant score,
   ``classifier.learner``) and the log-odds of a logistic regression on the embedding alone, whose smooth
   view of a paper's neighbourhood the sparse SVM lacks; gives P(relevant);
2. section: a multinomial regression over the SVMs' four section scores, fitted on relevant papers only
   (class-balanced, as the SVMs are); gives P(section | relevant). It learns how far to trust each section
   score against the others, which the argmax of raw SVM scores cannot.
The five probabilities are P(relevant) x P(section | relevant) and 1 - P(relevant), and the label is their
argmax. A shift of the relevance log-odds, chosen to maximise relevance F1 on the out-of-fold rows read
against the rubric, sets the threshold (``classifier.calibrate.fit_bias``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.core.labels import LABEL_VALUES, Label
from classifier.learner import IRRELEVANT_COLUMN

SECTION_COLUMNS = [i for i, label in enumerate(LABEL_VALUES) if label != Label.IRRELEVANT.value]
EMBEDDING_C = 1.0  # inverse regularisation of the embedding's relevance regression
COMBINER_C = 1.0  # ... of both combiners (two and four inputs)


def _logistic(c: float, seed: int, *, balanced: bool) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=5000,
                              random_state=seed)


@dataclass
class EmbeddingLearner:
    """A logistic regression on the embedding alone: is the paper relevant?"""

    relevance: Any | None  # None when the training papers are all relevant or all irrelevant

    def log_odds(self, vectors: np.ndarray) -> np.ndarray:
        """The relevance log-odds, shape ``(n,)`` (zeros without a regression)."""
        if self.relevance is None:
            return np.zeros(len(vectors))
        return np.asarray(self.relevance.decision_function(vectors), dtype=np.float64)


def fit_embedding_learner(vectors: np.ndarray, labels: np.ndarray, weights: np.ndarray,
                          seed: int) -> EmbeddingLearner:
    """The regression fitted on the training rows (``labels`` are label values; class-balanced)."""
    relevant = labels != Label.IRRELEVANT.value
    if not 0 < relevant.sum() < len(labels):
        return EmbeddingLearner(None)
    return EmbeddingLearner(_logistic(EMBEDDING_C, seed, balanced=True).fit(vectors, relevant,
                                                                            sample_weight=weights))


def relevance_inputs(svm_scores: np.ndarray, embedding_log_odds: np.ndarray) -> np.ndarray:
    """The relevance combiner's inputs: the SVM's best section score less its irrelevant score, and the
    embedding's relevance log-odds."""
    margin = svm_scores[:, SECTION_COLUMNS].max(axis=1) - svm_scores[:, IRRELEVANT_COLUMN]
    return np.column_stack([margin, embedding_log_odds])


@dataclass
class Combiner:
    """The two fitted combiners and the relevance shift; turns the learners' scores into probabilities."""

    relevance: Any | None  # None: the relevance log-odds are the SVM's margin
    sections: Any | None  # None: P(section | relevant) is a softmax of the SVMs' section scores
    relevance_bias: float = 0.0

    def relevance_log_odds(self, svm_scores: np.ndarray, embedding_log_odds: np.ndarray) -> np.ndarray:
        """log P(relevant) / P(irrelevant), the bias included, shape ``(n,)``."""
        inputs = relevance_inputs(svm_scores, embedding_log_odds)
        raw = self.relevance.decision_function(inputs) if self.relevance is not None else inputs[:, 0]
        return np.asarray(raw, dtype=np.float64) + self.relevance_bias

    def section_probabilities(self, svm_scores: np.ndarray) -> np.ndarray:
        """P(section | relevant), shape ``(n, 4)`` in ``SECTION_COLUMNS`` order."""
        scores = svm_scores[:, SECTION_COLUMNS]
        if self.sections is None:
            shifted = np.exp(scores - scores.max(axis=1, keepdims=True))
            return shifted / shifted.sum(axis=1, keepdims=True)
        probs = np.zeros((len(svm_scores), len(SECTION_COLUMNS)))  # a section absent from training: 0
        raw = self.sections.predict_proba(scores)
        for column, label in enumerate(self.sections.classes_):
            probs[:, SECTION_COLUMNS.index(LABEL_VALUES.index(label))] = raw[:, column]
        return probs

    def probabilities(self, svm_scores: np.ndarray, embedding_log_odds: np.ndarray) -> np.ndarray:
        """The five probabilities, shape ``(n, 5)`` in ``LABEL_VALUES`` order; rows sum to 1."""
        return joint(self.relevance_log_odds(svm_scores, embedding_log_odds),
                     self.section_probabilities(svm_scores))


def joint(relevance_log_odds: np.ndarray, sections: np.ndarray) -> np.ndarray:
    """P(relevant) x P(section | relevant) in the section columns, 1 - P(relevant) in the irrelevant one."""
    relevant = 1.0 / (1.0 + np.exp(-np.clip(relevance_log_odds, -50.0, 50.0)))
    probs = np.zeros((len(sections), len(LABEL_VALUES)))
    probs[:, SECTION_COLUMNS] = relevant[:, None] * sections
    probs[:, IRRELEVANT_COLUMN] = 1.0 - relevant
    return probs


def fit_combiner(svm_scores: np.ndarray, embedding_log_odds: np.ndarray, labels: np.ndarray,
                 weights: np.ndarray, seed: int) -> Combiner:
    """Both combiners fitted on out-of-fold scores of the training rows, with bias 0 (``calibrate`` sets
    it). The relevance combiner is not class-balanced, so that P(relevant) keeps the labels' frequencies."""
    relevant = labels != Label.IRRELEVANT.value
    relevance = sections = None
    if 0 < relevant.sum() < len(labels):
        relevance = _logistic(COMBINER_C, seed, balanced=False).fit(
            relevance_inputs(svm_scores, embedding_log_odds), relevant, sample_weight=weights)
    if len(set(labels[relevant])) >= 2:
        sections = _logistic(COMBINER_C, seed, balanced=True).fit(
            svm_scores[relevant][:, SECTION_COLUMNS], labels[relevant], sample_weight=weights[relevant])
    return Combiner(relevance, sections)
