"""The figures of several classifiers as text tables or JSON-ready dicts.

Runs for ``paperbot evaluate`` and ``train``, after the judging (``classifier.evaluate``,
``classifier.forward``). Pure: takes ``Metrics`` and returns strings and dicts; prints and writes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bot.core.labels import LABEL_VALUES
from classifier.metrics import FIGURES, RESAMPLES, Metrics, headline


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
    """Each classifier's figures as a dict (``Metrics.as_dict``), by name."""
    return {name: metrics.as_dict() for name, metrics in results.items()}

