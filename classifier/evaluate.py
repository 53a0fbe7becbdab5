"""Measure classifiers against labelled papers and render the figures.

Runs for ``paperbot evaluate`` and ``paperbot train``. Pure: takes true and predicted labels (or labelled
papers with their vectors) and returns ``Metrics``; the text and JSON renderers return strings/dicts and
print nothing. Figures: relevance precision/recall/F1 (relevant = any label but ``irrelevant``), section
accuracy (over papers that are relevant and predicted relevant), macro-F1 over the five labels, per-label
P/R/F1 and the 5x5 confusion matrix (rows true, columns predicted, in ``Label`` order). When the labelled
papers say how sure their labeller was (``confidence``), the figures are also given for each level.
``compare`` also gives each headline figure a 95% interval, and the first classifier's lead over each of the
others, from a seeded paired bootstrap over the test papers: a few hundred papers leave figures a few points
wide, and the intervals say which differences the set can tell apart.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import Any

import numpy as np

from bot.core.errors import ClassifierError
from bot.core.labels import LABEL_VALUES, Label
from classifier.corpus import RUBRIC_SOURCES, LabelledPaper

Predictor = Callable[[Sequence[LabelledPaper], np.ndarray, Sequence[LabelledPaper], np.ndarray],
                     list[Label]]


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
    # 95% bootstrap interval of each headline figure (FIGURES), when ``compare`` scored two or more papers
    interval: dict[str, tuple[float, float]] = field(default_factory=dict)
    # on the first classifier of a ``compare``: the 95% interval of its lead over each other classifier,
    # per headline figure (positive: ahead)
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


def compare(
    predictors: dict[str, Predictor],
    train: Sequence[LabelledPaper], train_vectors: np.ndarray,
    test: Sequence[LabelledPaper], test_vectors: np.ndarray,
) -> dict[str, Metrics]:
    """Fit each predictor on ``train`` and score it on ``test`` (the same split for all).

    When ``test`` papers carry two or more labeller confidence levels, each Metrics also holds the figures
    on the papers of each level (``by_confidence``): they show how much of the error sits on papers whose
    label the labeller was unsure of. With two or more test papers, each Metrics holds the 95% interval
    of its headline figures (``interval``), and the first one the interval of its lead over each other
    classifier (``lead``).
    """
    return _score(test, {name: predict(train, train_vectors, test, test_vectors)
                         for name, predict in predictors.items()})


def _score(test: Sequence[LabelledPaper], predicted: Mapping[str, Sequence[Label]]) -> dict[str, Metrics]:
    """The Metrics of each classifier's labels for ``test``, as ``compare`` describes them."""
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


def cross_validate(
    predictors: dict[str, Predictor],
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


def holdout_from(
    predictors: dict[str, Predictor],
    examples: Sequence[LabelledPaper], vectors: np.ndarray,
    *, start: str, score_sources: Collection[str] = RUBRIC_SOURCES,
) -> tuple[dict[str, Metrics], int, int]:
    """Train on the papers published before ``start`` (an ISO date) and score the papers of
    ``score_sources`` published on or after it: the figures on papers later than any trained on.

    Later papers of other sources are left out altogether; papers without a date are trained on. Returns
    the figures of each predictor, the number of training papers and the number scored.
    """
    results, windows = _forward(predictors, examples, vectors, [(start, None)], score_sources)
    if not windows:
        raise ClassifierError(f"no labelled paper to score was published on or after {start}")
    return results, windows[0].trained_on, windows[0].scored


@dataclass(frozen=True)
class Window:
    """One step of a forward evaluation: papers published in [start, end) scored, earlier ones trained on."""

    start: str
    end: str | None
    trained_on: int
    scored: int


def monthly_from(
    predictors: dict[str, Predictor],
    examples: Sequence[LabelledPaper], vectors: np.ndarray,
    *, start: str, score_sources: Collection[str] = RUBRIC_SOURCES,
) -> tuple[dict[str, Metrics], list[Window]]:
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


def _forward(predictors: dict[str, Predictor], examples: Sequence[LabelledPaper], vectors: np.ndarray,
             spans: Sequence[tuple[str, str | None]], score_sources: Collection[str],
             ) -> tuple[dict[str, Metrics], list[Window]]:
    """Each predictor trained before each span and run on the span's papers of ``score_sources``; the
    predictions pooled into one set of figures. Spans with nothing to score are skipped."""
    scored: list[LabelledPaper] = []
    predicted: dict[str, list[Label]] = {name: [] for name in predictors}
    windows = []
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
    return (_score(scored, predicted) if scored else {}), windows


def render_text(results: dict[str, Metrics], *, title: str = "") -> str:
    """The figures of several classifiers side by side, then each one's confusion matrix."""
    names = list(results)
    width = max(13, *(len(name) + 2 for name in names))
    lines = [title] if title else []
    lines.append(f"{'':<28}" + "".join(f"{name:>{width}}" for name in names))

    def row(label: str, values: Sequence[float | int | str]) -> None:
        cells = "".join(f"{v:>{width}.3f}" if isinstance(v, float) else f"{v:>{width}}" for v in values)
        lines.append(f"{label:<28}{cells}")

    metrics = [results[name] for name in names]
    def headline_rows(part: Sequence[Metrics], indent: str = "") -> None:
        row(f"{indent}relevance precision", [m.relevance.precision for m in part])
        row(f"{indent}relevance recall", [m.relevance.recall for m in part])
        row(f"{indent}relevance F1", [m.relevance.f1 for m in part])
        row(f"{indent}section accuracy", [m.section_accuracy for m in part])
        row(f"{indent}macro-F1", [m.macro_f1 for m in part])

    row("papers", [m.n for m in metrics])
    headline_rows(metrics)
    for label in LABEL_VALUES:
        row(f"F1 {label} (n={metrics[0].per_label[label].support})",
            [m.per_label[label].f1 for m in metrics])
    figure_names = dict(zip(FIGURES, ("relevance F1", "section accuracy", "macro-F1"), strict=True))
    if metrics[0].interval:
        lines.append("")
        lines.append(f"95% intervals ({RESAMPLES} bootstrap resamples of the {metrics[0].n} papers)")
        for figure, label in figure_names.items():
            row(f"  {label}", [_span(m.interval[figure]) for m in metrics])
    if metrics[0].lead:
        lead = metrics[0].lead
        lines.append(f"{names[0]}'s lead, 95% interval")
        for figure, label in figure_names.items():
            row(f"  {label}", ["", *(_span(lead[name][figure], signed=True) for name in names[1:])])
    for level in metrics[0].by_confidence:
        part = [m.by_confidence[level] for m in metrics]
        lines.append("")
        lines.append(f"papers labelled with {level} confidence ({part[0].n})")
        headline_rows(part, "  ")
    short = [label[:5] for label in LABEL_VALUES]
    for name, m in results.items():
        lines.append("")
        lines.append(f"confusion matrix, {name} (rows true, columns predicted)")
        lines.append(f"{'':<14}" + "".join(f"{s:>7}" for s in short))
        for label, counts in zip(LABEL_VALUES, m.confusion, strict=True):
            lines.append(f"{label:<14}" + "".join(f"{c:>7}" for c in counts))
    return "\n".join(lines)


def _span(bounds: tuple[float, float], *, signed: bool = False) -> str:
    low, high = bounds
    return f"{low:+.2f}–{high:+.2f}" if signed else f"{low:.2f}–{high:.2f}"


def headline(metrics: Metrics) -> float:
    """The mean of relevance F1, section accuracy and macro-F1: one number to compare models by."""
    return (metrics.relevance.f1 + metrics.section_accuracy + metrics.macro_f1) / 3


def render_seeds(by_seed: dict[int, dict[str, Metrics]]) -> str:
    """Relevance F1 / section accuracy / macro-F1 of each classifier for each fold seed, then their means
    and, after ±, half the spread of the headline mean between seeds."""
    names = list(next(iter(by_seed.values())))

    def cell(rel: float, sec: float, mac: float, tail: str = "") -> str:
        return f"{rel:.3f} / {sec:.3f} / {mac:.3f} ({(rel + sec + mac) / 3:.3f}{tail})"

    rows = [(f"seed {seed}", [cell(m.relevance.f1, m.section_accuracy, m.macro_f1)
                              for m in (results[name] for name in names)])
            for seed, results in by_seed.items()]
    means = []
    for name in names:
        runs = [results[name] for results in by_seed.values()]
        rel, sec, mac = (float(np.mean(values)) for values in zip(
            *[(m.relevance.f1, m.section_accuracy, m.macro_f1) for m in runs], strict=True))
        spread = max(map(headline, runs)) - min(map(headline, runs))
        means.append(cell(rel, sec, mac, f" ±{spread / 2:.3f}"))
    rows.append(("mean", means))
    width = max(len(text) for _, cells in rows for text in [*cells, *names]) + 2
    lines = ["per fold seed: relevance F1 / section accuracy / macro-F1 (their mean)",
             f"{'':<8}" + "".join(f"{name:>{width}}" for name in names)]
    lines += [f"{label:<8}" + "".join(f"{text:>{width}}" for text in cells) for label, cells in rows]
    return "\n".join(lines)


def render_json(results: dict[str, Metrics]) -> dict[str, Any]:
    return {name: metrics.as_dict() for name, metrics in results.items()}

