"""Evaluation: how far can any model get on labels its labeller was unsure of?

Run by hand (``python bench/label_ceiling.py``, about five minutes on two cores); not part of the test
suite. Each annotated paper says how sure its labeller was (``confidence``: high, or low when "genuinely
unsure between relevant and irrelevant", RUBRIC.md). On two judges of papers never trained on,

* the forward judge: retrained at the start of each month from ``--monthly-from`` on, scoring that month's
  annotated papers of the shipped corpus (``paperbot train --holdout-from 2025-06 --monthly``);
* ``dev.jsonl`` (``--data``), trained on the whole corpus (``paperbot evaluate``);

it prints the shipped model's figures on all papers and at each confidence level, then the figures a model
would reach were it right on **every** high-confidence paper and no better on the low-confidence ones, and
how many of its low-confidence errors it would also have to get right to meet the issue's targets (each
count tried on 1,000 random choices of which errors are fixed). Writes nothing but its ``--cache`` file.
"""

from __future__ import annotations

import argparse
import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.core.labels import Label
from classifier.corpus import LabelledPaper, load_jsonl, training_corpus
from classifier.embed import SentenceTransformerEmbedder
from classifier.forward import monthly_from
from classifier.metrics import compute_metrics
from classifier.model import paperbot_predictor

DEV = Path(__file__).resolve().parents[1] / "classifier" / "data" / "dev.jsonl"
TARGETS = {"relevance F1": 0.90, "section accuracy": 0.93, "macro-F1": 0.85}
DRAWS = 1000


def figures(truth: Sequence[Label], predicted: Sequence[Label]) -> tuple[float, float, float]:
    metrics = compute_metrics(truth, predicted)
    return metrics.relevance.f1, metrics.section_accuracy, metrics.macro_f1


def meets(values: tuple[float, float, float]) -> bool:
    return all(value >= target for value, target in zip(values, TARGETS.values(), strict=True))


def show(name: str, values: tuple[float, float, float]) -> None:
    print(f"  {name:<44}" + "".join(f"{value:>10.3f}" for value in values))


def report(title: str, papers: Sequence[LabelledPaper], predicted: Sequence[Label], seed: int) -> None:
    truth = [paper.label for paper in papers]
    print(f"\n{title}: {len(papers)} papers")
    print(f"  {'':<44}" + "".join(f"{name.split()[0]:>10}" for name in TARGETS))
    show("targets", tuple(TARGETS.values()))  # type: ignore[arg-type]
    show("paperbot", figures(truth, predicted))
    for level in ("high", "low"):
        rows = [i for i, paper in enumerate(papers) if paper.confidence == level]
        right = sum(truth[i] == predicted[i] for i in rows)
        show(f"{level}-confidence papers ({len(rows)}; {right / len(rows):.0%} right)",
             figures([truth[i] for i in rows], [predicted[i] for i in rows]))
    ceiling = [truth[i] if paper.confidence == "high" else predicted[i] for i, paper in enumerate(papers)]
    show("every high-confidence paper right", figures(truth, ceiling))
    low = [i for i, paper in enumerate(papers) if paper.confidence == "low"]
    wrong = [i for i in low if ceiling[i] != truth[i]]
    rng = np.random.default_rng(seed)
    print(f"  … and k of the {len(wrong)} low-confidence errors fixed too, share of {DRAWS} random draws "
          "meeting all three targets:")
    for k in range(len(wrong) + 1):
        met = 0
        for _ in range(DRAWS):
            trial = list(ceiling)
            for i in rng.choice(wrong, size=k, replace=False):
                trial[i] = truth[i]
            met += meets(figures(truth, trial))
        if met:
            accuracy = (len(low) - len(wrong) + k) / len(low)
            print(f"    k={k:>2} ({accuracy:.0%} of low-confidence papers right): {met / DRAWS:.0%}")
        if met >= 0.9 * DRAWS:
            break


def embed(papers: Sequence[LabelledPaper], cache: Path | None) -> np.ndarray:
    """The papers' vectors, from ``cache`` when it holds exactly these texts."""
    texts = [paper.text for paper in papers]
    key = hashlib.sha256("\0".join(texts).encode()).hexdigest()
    if cache and cache.exists():
        stored = np.load(cache)
        if str(stored["key"]) == key:
            return stored["vectors"]
    vectors = SentenceTransformerEmbedder().embed(texts)
    if cache:
        np.savez(cache, key=key, vectors=vectors)
    return vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEV, help="a labelled file never trained on")
    parser.add_argument("--monthly-from", default="2025-06-01", help="first month of the forward judge")
    parser.add_argument("--cache", type=Path, help="an .npz file to keep the vectors in between runs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    corpus = training_corpus()
    test, errors = load_jsonl(args.data)
    if errors:
        raise SystemExit(f"{args.data}: {len(errors)} bad rows, the first on line {errors[0].line}")
    vectors = embed([*corpus, *test], args.cache)
    corpus_vectors, test_vectors = vectors[:len(corpus)], vectors[len(corpus):]

    scored: list[LabelledPaper] = []
    predicted: list[Label] = []

    def recording(train_part, train_vectors, test_part, vectors_part):  # type: ignore[no-untyped-def]
        labels = paperbot_predictor(train_part, train_vectors, test_part, vectors_part)
        scored.extend(test_part)
        predicted.extend(labels)
        return labels

    monthly_from({"paperbot": recording}, corpus, corpus_vectors, start=args.monthly_from)
    report(f"retrained monthly from {args.monthly_from}", scored, predicted, args.seed)
    report(args.data.name, test, paperbot_predictor(corpus, corpus_vectors, test, test_vectors), args.seed)


if __name__ == "__main__":
    main()
