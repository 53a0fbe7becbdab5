"""Experiment: does fine-tuning all-MiniLM-L6-v2 on the labelled corpus pay for itself on a CPU?

Run by hand (``python bench/tune_experiment.py --fold 0`` … ``--fold 4``, or ``--dev``); not part of the
test suite and not part of the product. It tunes the whole encoder with a linear five-label head
(cross-entropy, square-root balanced classes, AdamW, 3 epochs, 128 tokens: about 10 minutes on two cores)
on the training corpus less one stratified fold (or on all of it, with ``--dev``), then scores on the
held-out papers read against the rubric (or on ``dev.jsonl``):

* the shipped model (``classifier.model``: TF-IDF + frozen MiniLM + rubric terms, linear SVM);
* the tuned head alone;
* the head blended half and half with the SVM on TF-IDF + terms (tuned vectors cannot feed the SVM: they
  were fitted to its very training papers).

Writes nothing (the tuned encoder stays in memory); prints its figures. The result decided that paperbot
does not tune (see the README's "The classifier"): over folds 0 and 1 and dev.jsonl the blend moved the
mean of the three headline figures by -0.018, +0.022 and +0.023, inside the noise of sets this small, for
ten minutes of tuning per corpus.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.core.labels import LABEL_VALUES, Label
from classifier.corpus import LabelledPaper, load_jsonl, rubric_label, training_corpus
from classifier.embed import SentenceTransformerEmbedder, base_model_path
from classifier.metrics import Metrics, compute_metrics
from classifier.model import train

HEAD_SCALE = 20.0
DEV = Path(__file__).resolve().parents[1] / "classifier" / "data" / "dev.jsonl"


def tune(texts: Sequence[str], labels: Sequence[str], *, max_tokens: int, epochs: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """The tuned encoder and its head (weight, bias) as numpy arrays."""
    import torch
    from sentence_transformers import SentenceTransformer

    y = np.array([LABEL_VALUES.index(label) for label in labels])
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = SentenceTransformer(base_model_path(), device="cpu")
    model.max_seq_length = max_tokens
    head = torch.nn.Linear(384, len(LABEL_VALUES))
    optimiser = torch.optim.AdamW([{"params": model.parameters(), "lr": 3e-5},
                                   {"params": head.parameters(), "lr": 1e-3}], weight_decay=0.01)
    batch_size = 16
    total = epochs * -(-len(texts) // batch_size)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda step: min(1.0, (step + 1) / (0.1 * total)) * max(0.0, (total - step) / total))
    counts = np.bincount(y, minlength=len(LABEL_VALUES)).astype(np.float64)
    weights = torch.tensor(np.sqrt(counts.sum() / (len(LABEL_VALUES) * np.maximum(counts, 1))),
                           dtype=torch.float32)
    model.train()
    for _ in range(epochs):
        order = rng.permutation(len(texts))
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            vectors = model(model.preprocess([texts[i] for i in batch]))["sentence_embedding"]
            logits = head(torch.nn.functional.normalize(vectors, dim=-1) * HEAD_SCALE)
            loss = torch.nn.functional.cross_entropy(logits, torch.tensor(y[batch]), weight=weights)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
    model.eval()
    weight, bias = (p.detach().numpy().astype(np.float64) for p in (head.weight, head.bias))
    return model, weight, bias


def head_probabilities(vectors: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    logits = vectors.astype(np.float64) * HEAD_SCALE @ weight.T + bias
    exp = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exp / exp.sum(axis=1, keepdims=True)


def metrics(truth: Sequence[Label], probs: np.ndarray) -> Metrics:
    return compute_metrics(truth, [Label(LABEL_VALUES[i]) for i in probs.argmax(axis=1)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--fold", type=int, choices=range(5), help="hold out this fold of the corpus")
    where.add_argument("--dev", action="store_true", help=f"train on the whole corpus, score {DEV.name}")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    from sklearn.model_selection import StratifiedKFold

    corpus = training_corpus()
    test: list[LabelledPaper]
    if args.dev:
        fit, (test, _) = corpus, load_jsonl(DEV)
    else:
        labels = [paper.label.value for paper in corpus]
        folds = StratifiedKFold(5, shuffle=True, random_state=0).split(np.zeros(len(corpus)), labels)
        fit_idx, test_idx = list(folds)[args.fold]
        fit = [corpus[i] for i in fit_idx]
        test = [corpus[i] for i in test_idx if corpus[i].source == "annotated"]
    truth = [paper.label for paper in test]
    pairs = [(paper.title, paper.abstract) for paper in test]

    frozen = SentenceTransformerEmbedder()
    shipped = train(fit, frozen.embed([p.text for p in fit]), seed=0)
    shipped_probs = shipped.probabilities(pairs, frozen.embed([p.text for p in test]))

    started = time.perf_counter()
    encoder, weight, bias = tune([p.text for p in fit], [rubric_label(p) for p in fit],
                                 max_tokens=args.max_tokens, epochs=args.epochs)
    tune_seconds = time.perf_counter() - started
    tuned_test = encoder.encode([p.text for p in test], batch_size=16, normalize_embeddings=True)
    head = head_probabilities(np.asarray(tuned_test), weight, bias)
    no_vectors = np.zeros((len(fit), 0), dtype=np.float32)
    svm = train(fit, no_vectors, seed=0).probabilities(pairs, np.zeros((len(test), 0), dtype=np.float32))

    where_text = DEV.name if args.dev else f"fold {args.fold} of the corpus (rubric-read papers)"
    print(f"{len(fit)} training papers, {len(test)} test papers: {where_text}")
    print(f"tuning: {tune_seconds:.0f} s ({args.epochs} epochs, {args.max_tokens} tokens)")
    print(f"{'':34} {'rel F1':>7} {'section':>8} {'macro':>7} {'mean':>7}")
    for name, probs in [("shipped model (SVM, frozen MiniLM)", shipped_probs), ("tuned head alone", head),
                        ("tuned head + SVM (TF-IDF, terms)", 0.5 * head + 0.5 * svm)]:
        m = metrics(truth, probs)
        mean = (m.relevance.f1 + m.section_accuracy + m.macro_f1) / 3
        print(f"{name:34} {m.relevance.f1:7.3f} {m.section_accuracy:8.3f} {m.macro_f1:7.3f} {mean:7.3f}")


if __name__ == "__main__":
    main()
