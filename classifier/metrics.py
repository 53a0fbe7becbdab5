"""The figures of one classifier's labels against the true ones, and their bootstrap intervals.

Runs for ``paperbot evaluate``, ``train`` and ``feedback --scores`` (through ``classifier.evaluate``,
``classifier.forward`` and ``classifier.feedback``). Pure: takes true and predicted labels (or labelled
papers and each classifier's labels for them) and returns ``Metrics``; reads and writes nothing. Figures:
relevance precision/recall/F1 (relevant = any label but ``irrelevant``), section accuracy (over papers that
are relevant and predicted relevant), macro-F1 over the five labels, per-label P/R/F1 and the 5x5 confusion
matrix (rows true, columns predicted, in ``Label`` order). When the labelled papers say how sure their
labeller was (``confidence``), the figures are also given for each level. ``score_predictions`` also gives
each headline figure a 95% interval, and the first classifier's lead over each of the others, from a seeded
paired bootstrap over the test papers: a few hundred papers leave figures a few points wide, and the
intervals say which differences the set can tell apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from bot.core.labels import LABEL_VALUES, Label
from classifier.corpus import LabelledPaper


@dataclass(frozen=True)
class LabelScores:
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class Metrics:
    n: int
    relevance: LabelScores
    section_accuracy: float
    section_n: int
    macro_f1: float
    per_label: dict[str, LabelScores]
    confusion: list[list[int]]
    by_confidence: dict[str, Metrics] = field(default_factory=dict)  # the figures per labeller confidence
    # 95% bootstrap interval of each headline figure (FIGURES), when ``score_predictions`` scored two or
    # more papers
    interval: dict[str, tuple[float, float]] = field(default_factory=dict)
    # on the first classifier ``score_predictions`` scored: the 95% interval of its lead over each other
    # classifier, per headline figure (positive: ahead)
    lead: dict[str, dict[str, tuple[float, float]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        def scores(s: LabelScores) -> dict[str, Any]:
            return {"precision": round(s.precision, 4), "recall": round(s.recall, 4),
                    "f1": round(s.f1, 4), "support": s.support}

        figures: dict[str, Any] = {
            "n": self.n,
            "relevance": scores(self.relevance),
            "section_accuracy": round(self.section_accuracy, 4),
            "section_n": self.section_n,
            "macro_f1": round(self.macro_f1, 4),
            "per_label": {name: scores(s) for name, s in self.per_label.items()},
            "confusion": {"labels": list(LABEL_VALUES), "rows_true_columns_predicted": self.confusion},
        }
        if self.interval:
            figures["interval_95"] = {name: [round(low, 4), round(high, 4)]
                                      for name, (low, high) in self.interval.items()}
        if self.lead:
            figures["lead_95"] = {other: {name: [round(low, 4), round(high, 4)]
                                          for name, (low, high) in by_figure.items()}
                                  for other, by_figure in self.lead.items()}
        if self.by_confidence:
            figures["by_confidence"] = {level: m.as_dict() for level, m in self.by_confidence.items()}
        return figures


def _prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def compute_metrics(y_true: Sequence[Label], y_pred: Sequence[Label]) -> Metrics:
    """All the figures for one classifier on one labelled set."""
    if len(y_true) != len(y_pred):
        raise ValueError(f"{len(y_true)} true labels but {len(y_pred)} predictions")
    index = {label: i for i, label in enumerate(Label)}
    confusion = np.zeros((len(index), len(index)), dtype=int)
    for true, pred in zip(y_true, y_pred, strict=True):
        confusion[index[Label(true)], index[Label(pred)]] += 1
    per_label: dict[str, LabelScores] = {}
    for label, i in index.items():
        tp = int(confusion[i, i])
        precision, recall, f1 = _prf(tp, int(confusion[:, i].sum()) - tp, int(confusion[i, :].sum()) - tp)
        per_label[label.value] = LabelScores(precision, recall, f1, int(confusion[i, :].sum()))
    irr = index[Label.IRRELEVANT]
    sections = [i for label, i in index.items() if label.is_section]
    rel_tp = int(confusion[np.ix_(sections, sections)].sum())
    rel_fp = int(confusion[irr, sections].sum())
    rel_fn = int(confusion[sections, irr].sum())
    precision, recall, f1 = _prf(rel_tp, rel_fp, rel_fn)
    section_correct = int(sum(confusion[i, i] for i in sections))
    return Metrics(
        n=len(y_true),
        relevance=LabelScores(precision, recall, f1, rel_tp + rel_fn),
        section_accuracy=section_correct / rel_tp if rel_tp else 0.0,
        section_n=rel_tp,
        macro_f1=float(np.mean([s.f1 for s in per_label.values()])),
        per_label=per_label,
        confusion=confusion.tolist(),
    )


FIGURES = ("relevance_f1", "section_accuracy", "macro_f1")  # the headline figures, in this order
INTERVAL_LEVEL = 0.95
RESAMPLES = 1000
BOOTSTRAP_SEED = 0
BOOTSTRAP_CELLS = 2_000_000  # papers x resamples drawn at once: bounds memory on large labelled files


def headline_figures(truth: np.ndarray, predicted: np.ndarray, axis: int = -1) -> np.ndarray:
    """Relevance F1, section accuracy and macro-F1 (``FIGURES``) of label indices (``Label`` order).

    Vectorised: ``truth`` and ``predicted`` may carry leading axes (one row per bootstrap resample), the
    papers lie along ``axis``; returns shape ``(3, *leading)``. Agrees with ``compute_metrics``.
    """
    truth, predicted = np.moveaxis(truth, axis, -1), np.moveaxis(predicted, axis, -1)
    n = len(LABEL_VALUES)
    confusion = np.stack([np.stack([np.sum((truth == i) & (predicted == j), axis=-1) for j in range(n)],
                                   axis=-1) for i in range(n)], axis=-2).astype(np.float64)
    hits = np.diagonal(confusion, axis1=-2, axis2=-1)
    label_f1 = _ratio(2 * hits, confusion.sum(axis=-2) + confusion.sum(axis=-1))
    irrelevant = LABEL_VALUES.index(Label.IRRELEVANT.value)
    sections = [i for i in range(n) if i != irrelevant]
    relevant_hits = confusion[..., sections, :][..., sections].sum(axis=(-2, -1))
    misses = (confusion[..., irrelevant, sections].sum(axis=-1)  # irrelevant papers filed
              + confusion[..., sections, irrelevant].sum(axis=-1))  # relevant papers turned away
    return np.stack([_ratio(2 * relevant_hits, 2 * relevant_hits + misses),
                     _ratio(hits[..., sections].sum(axis=-1), relevant_hits),
                     label_f1.mean(axis=-1)])


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator, 0 where the denominator is 0 (as ``compute_metrics`` scores empty cases)."""
    return np.divide(numerator, denominator, out=np.zeros_like(numerator, dtype=np.float64),
                     where=denominator > 0)


def _intervals(truth: Sequence[Label], predicted: Mapping[str, Sequence[Label]]) -> tuple[
        dict[str, dict[str, tuple[float, float]]], dict[str, dict[str, tuple[float, float]]]]:
    """Paired percentile bootstrap over the papers: each classifier's interval per figure, and the first
    classifier's lead over each other one (the same resamples for all, so the leads are paired)."""
    from scipy.stats import bootstrap

    order = {label: i for i, label in enumerate(Label)}
    names = list(predicted)
    samples = [np.array([order[Label(t)] for t in truth], dtype=np.int8)]
    samples += [np.array([order[Label(p)] for p in predicted[name]], dtype=np.int8) for name in names]

    def statistic(true: np.ndarray, *preds: np.ndarray, axis: int = -1) -> np.ndarray:
        figures = [headline_figures(true, pred, axis) for pred in preds]
        return np.concatenate(figures + [figures[0] - other for other in figures[1:]])

    result = bootstrap(samples, statistic, paired=True, vectorized=True, n_resamples=RESAMPLES,
                       confidence_level=INTERVAL_LEVEL, method="percentile",
                       batch=max(1, BOOTSTRAP_CELLS // len(truth)), rng=np.random.default_rng(BOOTSTRAP_SEED))
    bounds = list(zip(result.confidence_interval.low.tolist(), result.confidence_interval.high.tolist(),
                      strict=True))
    per_figure = [dict(zip(FIGURES, bounds[k:k + len(FIGURES)], strict=True))
                  for k in range(0, len(bounds), len(FIGURES))]
    return (dict(zip(names, per_figure[:len(names)], strict=True)),
            dict(zip(names[1:], per_figure[len(names):], strict=True)))


def headline(metrics: Metrics) -> float:
    """The mean of relevance F1, section accuracy and macro-F1: one number to compare models by."""
    return (metrics.relevance.f1 + metrics.section_accuracy + metrics.macro_f1) / 3


def score_predictions(test: Sequence[LabelledPaper],
                      predicted: Mapping[str, Sequence[Label]]) -> dict[str, Metrics]:
    """The Metrics of each classifier's labels for ``test`` (each classifier's labels in ``test`` order).

    When ``test`` papers carry two or more labeller confidence levels, each Metrics also holds the figures
    on the papers of each level (``by_confidence``): they show how much of the error sits on papers whose
    label the labeller was unsure of. With two or more test papers, each Metrics holds the 95% interval
    of its headline figures (``interval``), and the first one the interval of its lead over each other
    classifier (``lead``).
    """
    truth = [paper.label for paper in test]
    levels = sorted({paper.confidence for paper in test if paper.confidence})
    results = {}
    for name, labels in predicted.items():
        metrics = compute_metrics(truth, labels)
        if len(levels) > 1:
            metrics = replace(metrics, by_confidence={
                level: _at_level(level, test, truth, labels) for level in levels})
        results[name] = metrics
    if len(test) >= 2 and results:
        intervals, leads = _intervals(truth, predicted)
        results = {name: replace(metrics, interval=intervals[name]) for name, metrics in results.items()}
        first = next(iter(results))
        results[first] = replace(results[first], lead=leads)
    return results


def _at_level(level: str, test: Sequence[LabelledPaper], truth: Sequence[Label],
              predicted: Sequence[Label]) -> Metrics:
    rows = [i for i, paper in enumerate(test) if paper.confidence == level]
    return compute_metrics([truth[i] for i in rows], [predicted[i] for i in rows])
