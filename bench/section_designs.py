"""Non-linear section models for ``bench/section_experiment.py``: the shipped relevance decision, another
section choice among the papers it calls relevant.

Run only by that script; not part of the product. Each design keeps the shipped model's relevance decision
(``model_experiment.shipped_scores``: the five-label SVM with its out-of-fold relevance bias) and, for the
papers it calls relevant, picks the section with the highest blend ``w * P_new + (1 - w) * P_shipped``, where
``P_shipped`` is the shipped model's P(section) / P(relevant) (its softmax, with the temperature fitted as
``classifier.calibrate`` fits it on the same out-of-fold scores) and ``P_new`` one of these learners' section
probabilities, fitted on the relevant training papers of the part with the shipped sample weights (paper
weight x recency) times class-balancing factors (the shipped SVMs are class-balanced):

* ``lr``: a multinomial logistic regression on the MiniLM embedding alone (the harness's
  ``embedding_scores`` one, C=10): the cheap baseline for the blend itself;
* ``mlp H a A``: an MLP (one hidden layer of H ReLU units, L2 ``alpha`` A, adam, 300 epochs, no early
  stopping, random_state 0) on the embedding beside the standardised rubric term features;
* ``hgb``: histogram gradient boosting (200 rounds, 15 leaves, learning rate 0.1, l2 1, no early stopping,
  random_state 0) on the same inputs;
* ``+svm``: the inputs also hold the shipped SVMs' section scores, out-of-fold for the training papers (the
  harness's three calibration folds) and full-fit for the test papers (each row less its maximum).

Every design on the selection judges (relevance F1 / section accuracy / macro-F1, monthly from 2025-09 (352
papers) then 5-fold CV (1,228); relevance F1 is shipped's by construction; ``blend 0`` reproduces shipped):

    shipped, = blend 0               0.794 0.840 0.767 / 0.832 0.872 0.799
    lr, w 0.3 / 0.5 / 1              0.794 0.867 0.779 / 0.832 0.883 0.805 | 0.794 0.827 0.760 /
                                     0.832 0.879 0.800 | 0.794 0.747 0.713 / 0.832 0.798 0.754
    mlp 64 a0.01, w 0.3 / 0.5 / 1    0.794 0.853 0.774 / 0.832 0.883 0.805 | 0.794 0.840 0.767 /
                                     0.832 0.890 0.806 | 0.794 0.827 0.764 / 0.832 0.872 0.796
    mlp 128 a0.001, w 0.3 / 0.5 / 1  0.794 0.840 0.767 / 0.832 0.876 0.798 | 0.794 0.840 0.767 /
                                     0.832 0.883 0.802 | 0.794 0.827 0.759 / 0.832 0.879 0.800
    mlp 128 a0.1, w 0.3 / 0.5 / 1    0.794 0.853 0.773 / 0.832 0.872 0.796 | 0.794 0.853 0.775 /
                                     0.832 0.883 0.802 | 0.794 0.840 0.766 / 0.832 0.869 0.794
    mlp 128 a1, w 0.3 / 0.5 / 1      0.794 0.840 0.768 / 0.832 0.862 0.794 | 0.794 0.867 0.779 /
                                     0.832 0.872 0.796 | 0.794 0.893 0.790 / 0.832 0.851 0.785
    mlp 256 a0.1, w 0.3 / 0.5 / 1    0.794 0.827 0.761 / 0.832 0.869 0.795 | 0.794 0.840 0.767 /
                                     0.832 0.887 0.804 | 0.794 0.840 0.764 / 0.832 0.872 0.798
    mlp 128 a0.1 +svm, w 0.3/0.5/1   0.794 0.853 0.775 / 0.832 0.876 0.798 | 0.794 0.867 0.782 /
                                     0.832 0.883 0.802 | 0.794 0.880 0.787 / 0.832 0.872 0.798
    hgb, w 0.3 / 0.5 / 1             0.794 0.840 0.768 / 0.832 0.869 0.797 | 0.794 0.827 0.762 /
                                     0.832 0.858 0.790 | 0.794 0.800 0.746 / 0.832 0.858 0.790
    hgb +svm, w 0.3 / 0.5 / 1        0.794 0.800 0.749 / 0.832 0.865 0.791 | 0.794 0.800 0.749 /
                                     0.832 0.869 0.793 | 0.794 0.787 0.745 / 0.832 0.876 0.797

No non-linear learner beats the linear baseline of the blend: ``lr, w 0.3`` ties the best on the mean of
the four section figures (with ``mlp 128 a0.1 +svm, w 0.5``) and is the only design whose section-accuracy
lead never goes below zero in the paired bootstrap on both judges (shipped's lead -0.067..+0.000 monthly,
-0.024..+0.000 CV; macro-F1 -0.033..+0.003, -0.013..+0.001). Gradient boosting loses; the MLPs' figures swing
with alpha and width with no setting ahead on both judges by more. ``lr, w 0.3``, the one design looked at on
the 2026 months (587 papers): 0.872 0.847 0.799 against shipped's 0.872 0.834 0.792 (shipped's lead
-0.039..+0.012 section accuracy, -0.021..+0.006 macro-F1). It ships (``classifier.learner.blend_sections``,
``SECTION_LR_SHARE``): ``shipped`` here is the model before it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from model_experiment import SECTIONS, shipped_scores

from bot.core.labels import LABEL_VALUES, Label
from classifier.calibrate import _fit_temperature, softmax
from classifier.learner import IRRELEVANT_COLUMN

Design = Callable[[dict[str, Any]], np.ndarray]
Learner = Callable[[dict[str, Any]], np.ndarray]  # a part's components -> test P(section), (n, 4)


def shipped_sections(c: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """The shipped relevance decision of the test papers and its P(section) / P(relevant)."""
    if "_shipped_sections" not in c:
        test = shipped_scores(c)
        bias = float(test[0, IRRELEVANT_COLUMN] - c["test_svm"][0, IRRELEVANT_COLUMN])
        oof = c["svm"].copy()
        oof[:, IRRELEVANT_COLUMN] += bias
        probs = softmax(test, _fit_temperature(oof, c["labels"], c["weights"]))[:, SECTIONS]
        c["_shipped_sections"] = (test.argmax(1) != IRRELEVANT_COLUMN,
                                  probs / probs.sum(1, keepdims=True))
    return c["_shipped_sections"]


def _relevant_rows(c: dict[str, Any]) -> np.ndarray:
    return c["labels"] != Label.IRRELEVANT.value


def balanced_weights(c: dict[str, Any]) -> np.ndarray:
    """The shipped sample weights of the relevant training papers times class-balancing factors, mean 1."""
    labels, weights = c["labels"][_relevant_rows(c)], c["weights"][_relevant_rows(c)]
    names, counts = np.unique(labels, return_counts=True)
    factor = dict(zip(names, len(labels) / (len(names) * counts), strict=True))
    out = weights * np.array([factor[label] for label in labels])
    return out / out.mean()


def dense_inputs(c: dict[str, Any], with_svm: bool) -> tuple[np.ndarray, np.ndarray]:
    """The relevant training papers' and the test papers' inputs: embedding, standardised term features
    and, ``with_svm``, the SVMs' section scores less each row's maximum."""
    from sklearn.preprocessing import StandardScaler

    relevant = _relevant_rows(c)
    scaler = StandardScaler().fit(c["terms"][relevant])
    train = [c["v"][relevant], scaler.transform(c["terms"][relevant])]
    test = [c["test_v"], scaler.transform(c["test_terms"])]
    if with_svm:
        for out, scores in ((train, c["svm"][relevant]), (test, c["test_svm"])):
            sections = scores[:, SECTIONS]
            out.append(sections - sections.max(1, keepdims=True))
    return np.hstack(train).astype(np.float64), np.hstack(test).astype(np.float64)


def _section_columns(model: Any, probs: np.ndarray) -> np.ndarray:
    out = np.zeros((len(probs), len(SECTIONS)))
    for column, label in enumerate(model.classes_):
        out[:, SECTIONS.index(LABEL_VALUES.index(label))] = probs[:, column]
    return out


def fitted(model: Any, with_svm: bool, weighted: bool = True) -> Learner:
    """A learner: ``model`` (an unfitted scikit-learn classifier) fitted on the dense inputs."""
    def learn(c: dict[str, Any]) -> np.ndarray:
        from sklearn.base import clone

        x, test = dense_inputs(c, with_svm)
        y = c["labels"][_relevant_rows(c)]
        estimator = clone(model)
        estimator.fit(x, y, **({"sample_weight": balanced_weights(c)} if weighted else {}))
        return _section_columns(estimator, estimator.predict_proba(test))
    return learn


def lr_sections(c: dict[str, Any]) -> np.ndarray:
    """The harness's embedding logistic regression (balanced, C=10, the shipped weights)."""
    return np.exp(c["test_sec"])


def mlp(hidden: int, alpha: float) -> Any:
    from sklearn.neural_network import MLPClassifier

    return MLPClassifier(hidden_layer_sizes=(hidden,), alpha=alpha, max_iter=300, early_stopping=False,
                         random_state=0)


def hgb() -> Any:
    from sklearn.ensemble import HistGradientBoostingClassifier

    return HistGradientBoostingClassifier(max_iter=200, learning_rate=0.1, max_leaf_nodes=15,
                                          l2_regularization=1.0, early_stopping=False, random_state=0)


def blended(key: str, learner: Learner, share: float) -> Design:
    """The shipped relevance decision; the section by ``share`` of the learner's probabilities (cached per
    part under ``key``) and the rest of the shipped model's."""
    def design(c: dict[str, Any]) -> np.ndarray:
        relevant, shipped = shipped_sections(c)
        if key not in c:
            c[key] = learner(c)
        sections = share * c[key] + (1 - share) * shipped
        out = np.zeros((len(relevant), len(LABEL_VALUES)))
        out[:, SECTIONS] = sections * relevant[:, None] + 1e-9
        out[:, IRRELEVANT_COLUMN] = ~relevant
        return out
    return design


LEARNERS: dict[str, Callable[[], Learner]] = {
    "lr": lambda: lr_sections,
    **{f"mlp {h} a{a:g}": (lambda h=h, a=a: fitted(mlp(h, a), False))
       for h, a in ((64, 1e-2), (128, 1e-3), (128, 1e-1), (128, 1.0), (256, 1e-1))},
    "mlp 128 a0.1 +svm": lambda: fitted(mlp(128, 1e-1), True),
    "hgb": lambda: fitted(hgb(), False),
    "hgb +svm": lambda: fitted(hgb(), True),
}
SHARES = (0.3, 0.5, 1.0)


def designs(learners: list[str]) -> dict[str, Design]:
    out: dict[str, Design] = {"shipped sections (blend 0)": blended("_none", lambda c: 0.0, 0.0)}
    for name in learners:
        learner = LEARNERS[name]()
        out.update({f"{name}, w {share:g}": blended(f"_sec {name}", learner, share) for share in SHARES})
    return out
