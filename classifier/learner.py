"""The feature matrix and the two linear SVMs of the classifier: fitting them and scoring papers with them.

Runs inside ``classifier.model.train`` (``fit_learner`` on the training papers, and on each calibration fold
of ``classifier.calibrate``) and ``Model.predict`` (``Learner.scores``). Pure: reads n-gram counts
(``classifier.ngrams``), embedding vectors and rubric term features (``classifier.features``), returns
fitted scikit-learn objects and score arrays; writes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bot.core.labels import LABEL_VALUES, Label

SVM_C = 1.0
TERM_SCALE = 0.3  # weight of the standardised term features beside unit-length embedding and TF-IDF rows
MISSING_SCORE = -10.0  # SVM score of a label absent from the training papers
# The section step's second opinion: a logistic regression on the embedding alone, fitted on the relevant
# papers, given this share of P(section | relevant) beside the SVMs' (bench/section_experiment.py)
SECTION_LR_C = 10.0
SECTION_LR_SHARE = 0.3
IRRELEVANT_COLUMN = LABEL_VALUES.index(Label.IRRELEVANT.value)  # of the scores, in LABEL_VALUES order


class Features:
    """TF-IDF weights, the embedding and scaled term features side by side, fitted on training rows.

    Term counts are computed once per training run (``classifier.ngrams.count_terms``); each fit only learns
    IDF weights and the term scaler, so the calibration folds do not tokenise the corpus again.
    """

    def __init__(self, counts: Any, terms: np.ndarray) -> None:
        from sklearn.feature_extraction.text import TfidfTransformer
        from sklearn.preprocessing import StandardScaler

        self.tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
        self.scaler = StandardScaler().fit(terms)

    def transform(self, counts: Any, vectors: np.ndarray, terms: np.ndarray) -> Any:
        import scipy.sparse as sp

        scaled = self.scaler.transform(terms) * TERM_SCALE
        return sp.hstack([self.tfidf.transform(counts), sp.csr_matrix(vectors), sp.csr_matrix(scaled)],
                         format="csr", dtype=np.float32)


@dataclass
class Learner:
    """The fitted features and SVMs: the five-label SVM, and the section SVM trained on relevant papers only.

    The five-label SVM decides relevance: its irrelevant score against its best section score. It decides the
    section less well, as each of its section scores was fitted against everything else, mostly irrelevant
    papers, so it says more about "relevant, and of roughly this kind" than about which section. The section
    SVM sees only the sections, and the section is chosen by the mean of the two SVMs' section scores.
    """

    features: Features
    svm: Any
    section_svm: Any | None  # None when the relevant training papers hold fewer than two sections

    def scores(self, counts: Any, vectors: np.ndarray, terms: np.ndarray) -> np.ndarray:
        """Scores in LABEL_VALUES order (a label missing from training gets a very low score).

        The irrelevant score and the best section score are the five-label SVM's, so the relevance decision
        is its alone; the sections are ranked below the best by the mean of both SVMs' scores.
        """
        x = self.features.transform(counts, vectors, terms)
        out = label_columns(self.svm, x)
        if self.section_svm is not None:
            sections = [LABEL_VALUES.index(label) for label in self.section_svm.classes_]
            blended = (out[:, sections] + label_columns(self.section_svm, x)[:, sections]) / 2
            best = out[:, sections].max(axis=1, keepdims=True)
            out[:, sections] = best + blended - blended.max(axis=1, keepdims=True)
        return out


def fit_learner(counts: Any, vectors: np.ndarray, terms: np.ndarray, labels: np.ndarray,
                weights: np.ndarray, seed: int) -> Learner:
    """The features and both SVMs fitted on the training rows (``labels`` are label values)."""
    from sklearn.svm import LinearSVC

    features = Features(counts, terms)
    x = features.transform(counts, vectors, terms)
    svm = LinearSVC(C=SVM_C, class_weight="balanced", random_state=seed)
    svm.fit(x, labels, sample_weight=weights)
    relevant = labels != Label.IRRELEVANT.value
    section_svm = None
    if len(set(labels[relevant])) >= 2:
        section_svm = LinearSVC(C=SVM_C, class_weight="balanced", random_state=seed)
        section_svm.fit(x[relevant], labels[relevant], sample_weight=weights[relevant])
    return Learner(features, svm, section_svm)


def fit_section_regression(vectors: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> Any | None:
    """The embedding's logistic regression over the sections, fitted on the relevant rows (class-balanced,
    weighted like the SVMs); None when they hold fewer than two sections."""
    from sklearn.linear_model import LogisticRegression

    relevant = labels != Label.IRRELEVANT.value
    if len(set(labels[relevant])) < 2:
        return None
    regression = LogisticRegression(C=SECTION_LR_C, class_weight="balanced", max_iter=5000)
    return regression.fit(vectors[relevant], labels[relevant], sample_weight=weights[relevant])


def section_regression_probabilities(regression: Any | None, vectors: np.ndarray) -> np.ndarray | None:
    """The regression's P(section | relevant), rows in LABEL_VALUES order (0 for irrelevant and for a
    section it was not fitted on); None without a regression."""
    if regression is None:
        return None
    out = np.zeros((len(vectors), len(LABEL_VALUES)))
    if len(vectors):
        columns = [LABEL_VALUES.index(label) for label in regression.classes_]
        out[:, columns] = regression.predict_proba(vectors)
    return out


def blend_sections(probabilities: np.ndarray, second: np.ndarray | None) -> np.ndarray:
    """``probabilities`` (rows in LABEL_VALUES order, summing to 1) with P(section | relevant) replaced by
    ``(1 - SECTION_LR_SHARE)`` of its own and ``SECTION_LR_SHARE`` of ``second`` (the regression's,
    ``section_regression_probabilities``). P(irrelevant), and so P(relevant), is left as it is; rows still
    sum to 1."""
    if second is None or len(probabilities) == 0:
        return probabilities
    sections = [i for i, label in enumerate(LABEL_VALUES) if i != IRRELEVANT_COLUMN]
    relevant = 1.0 - probabilities[:, IRRELEVANT_COLUMN]
    share = probabilities[:, sections] / np.maximum(relevant, 1e-12)[:, None]
    out = probabilities.copy()
    out[:, sections] = relevant[:, None] * ((1 - SECTION_LR_SHARE) * share
                                            + SECTION_LR_SHARE * second[:, sections])
    return out


def label_columns(svm: Any, x: Any) -> np.ndarray:
    """An SVM's scores in LABEL_VALUES order; labels it was not trained on get ``MISSING_SCORE``."""
    raw = svm.decision_function(x)
    if raw.ndim == 1:  # two classes: sklearn returns one column, positive for classes_[1]
        raw = np.column_stack([-raw, raw])
    out = np.full((x.shape[0], len(LABEL_VALUES)), MISSING_SCORE, dtype=np.float64)
    for column, label in enumerate(svm.classes_):
        out[:, LABEL_VALUES.index(label)] = raw[:, column]
    return out
