"""Measure classifiers against labelled papers and render the figures.

Runs for ``paperbot evaluate`` and ``paperbot train``. Pure: takes true and predicted labels (or labelled
papers with their vectors) and returns ``Metrics``; the text and JSON renderers return strings/dicts and
print nothing. Figures: relevance precision/recall/F1 (relevant = any label but ``irrelevant``), section
accuracy (over papers that are relevant and predicted relevant), macro-F1 over the five labels, per-label
P/R/F1 and the 5x5 confusion matrix (rows true, columns predicted, in ``Label`` order). When the labelled
papers say how sure their labeller was (``confidence``), the figures are also given for each level.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from bot.errors import ClassifierError
from classifier.corpus import RUBRIC_SOURCES, LabelledPaper
from classifier.labels import LABEL_VALUES, Label

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


def compare(
    predictors: dict[str, Predictor],
    train: Sequence[LabelledPaper], train_vectors: np.ndarray,
    test: Sequence[LabelledPaper], test_vectors: np.ndarray,
) -> dict[str, Metrics]:
    """Fit each predictor on ``train`` and score it on ``test`` (the same split for all).

    When ``test`` papers carry two or more labeller confidence levels, each Metrics also holds the figures
    on the papers of each level (``by_confidence``): they show how much of the error sits on papers whose
    label the labeller was unsure of.
    """
    truth = [paper.label for paper in test]
    levels = sorted({paper.confidence for paper in test if paper.confidence})
    results = {}
    for name, predict in predictors.items():
        predicted = predict(train, train_vectors, test, test_vectors)
        metrics = compute_metrics(truth, predicted)
        if len(levels) > 1:
            metrics = replace(metrics, by_confidence={
                level: _at_level(level, test, truth, predicted) for level in levels})
        results[name] = metrics
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
    later = [paper.published is not None and paper.published >= start for paper in examples]
    train_rows = [i for i, is_later in enumerate(later) if not is_later]
    test_rows = [i for i, is_later in enumerate(later) if is_later and examples[i].source in score_sources]
    if not test_rows:
        raise ClassifierError(f"no labelled paper to score was published on or after {start}")
    if len({examples[i].label for i in train_rows}) < 2:
        raise ClassifierError(f"too few labelled papers were published before {start} to train on")
    results = compare(predictors, [examples[i] for i in train_rows], vectors[train_rows],
                      [examples[i] for i in test_rows], vectors[test_rows])
    return results, len(train_rows), len(test_rows)


def render_text(results: dict[str, Metrics], *, title: str = "") -> str:
    """The figures of several classifiers side by side, then each one's confusion matrix."""
    names = list(results)
    width = max(12, *(len(name) + 2 for name in names))
    lines = [title] if title else []
    lines.append(f"{'':<28}" + "".join(f"{name:>{width}}" for name in names))

    def row(label: str, values: Sequence[float | int]) -> None:
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

