"""Bench: the local model against the model that shipped when the classifier's second round was filed.

Run by hand from a git clone (``python bench/filing_baseline.py``); not part of the test suite. It checks
out ``FILED_AT``, the last commit before the 2026 papers joined the corpus, into a temporary git worktree
of this repository, and runs that commit's own code on that commit's own corpus (``train.jsonl``, papers of
2025 and earlier) in a child process: the model a list had on the day the issue was filed, which never saw
a 2026 paper. Beside it, on the same 587 papers of February-April 2026:

* ``paperbot``: today's model as ``paperbot train --holdout-from 2026-02 --monthly`` trains it, on the
  grown corpus, retrained at the start of each month on every paper published before it;
* ``filed code, grown corpus``: the filed commit's code given the same monthly training as ``paperbot``
  (its corpus plus the 2026 papers published before each month; it reads only the label of a row, so the
  second and third readers of ``train.jsonl`` go unused).

Both processes take their vectors from the shipped corpus vectors (the same MiniLM model); the figures are
scored by today's metrics with paired bootstrap intervals. Writes nothing outside a temporary folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

FILED_AT = "bb56118"  # the merge before 81d6407 ("Corpus: ship the 693 rubric-read papers of Jan-Apr 2026")
START, MONTHS = "2026-02-01", ("2026-03-01", "2026-04-01", "2026-05-01")
ROOT = Path(__file__).resolve().parent.parent

CHILD = r'''
import json, sys
import numpy as np
from classifier.corpus import parse_row, training_corpus
from classifier.model import train

work = sys.argv[1]
data = np.load(f"{work}/vectors.npz", allow_pickle=True)
lookup = dict(zip(data["texts"], data["vectors"]))
later = [parse_row(json.loads(line)) for line in open(f"{work}/train2026.jsonl") if line.strip()]
start, months = sys.argv[2], sys.argv[3].split(",")
corpus = training_corpus()
def vectors(papers):
    return np.stack([lookup[p.text] for p in papers])
def predict(model, papers):
    return {p.arxiv_id: q.label.value for p, q in zip(papers, model.predict(
        [(p.title, p.abstract) for p in papers], vectors(papers)))}
scored = [p for p in later if p.published and p.published >= start and p.source == "annotated"]
out = {"filed": predict(train(corpus, vectors(corpus)), scored), "monthly": {}}
for begin, end in zip([start, *months], months):
    part = corpus + [p for p in later if p.published and p.published < begin]
    month = [p for p in scored if begin <= p.published < end]
    out["monthly"].update(predict(train(part, vectors(part)), month))
json.dump(out, open(f"{work}/predictions.json", "w"))
'''


def filed_predictions(examples: list, vectors: np.ndarray) -> dict[str, dict[str, str]]:  # type: ignore[type-arg]
    """The filed commit's labels, by arXiv id: ``filed`` (its own corpus) and ``monthly`` (grown)."""
    from classifier.corpus import DATA_DIR

    with tempfile.TemporaryDirectory() as work:
        tree = Path(work) / "filed"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(tree), FILED_AT],
                       check=True)
        try:
            np.savez(Path(work) / "vectors.npz", texts=np.array([p.text for p in examples], dtype=object),
                     vectors=vectors)
            (Path(work) / "train2026.jsonl").write_bytes((DATA_DIR / "train2026.jsonl").read_bytes())
            subprocess.run([sys.executable, "-c", CHILD, work, START, ",".join(MONTHS)], check=True,
                           env={**os.environ, "PYTHONPATH": str(tree)}, cwd=work)
            return json.loads((Path(work) / "predictions.json").read_text())  # type: ignore[no-any-return]
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)], check=True)


def main() -> None:
    sys.path.insert(0, str(ROOT / "bench"))
    from judge_ceiling import vectors_for

    from bot.core.labels import Label
    from classifier.corpus import training_corpus
    from classifier.forward import monthly_from
    from classifier.hybrid import LocalPredictions
    from classifier.metrics import FIGURES, score_predictions

    examples = training_corpus()
    vectors = vectors_for(examples)
    local, scored, ours = LocalPredictions(), [], []

    def shipped(train_part, train_vectors, test_part, test_vectors):  # type: ignore[no-untyped-def]
        labels = local.labels(train_part, train_vectors, test_part, test_vectors)
        scored.extend(test_part)
        ours.extend(labels)
        return labels

    monthly_from({"paperbot": shipped}, examples, vectors, start=START)
    found = filed_predictions(examples, vectors)
    results = score_predictions(scored, {
        "paperbot": ours,
        "filed model": [Label(found["filed"][p.arxiv_id]) for p in scored],
        "filed code, grown corpus": [Label(found["monthly"][p.arxiv_id]) for p in scored]})
    print(f"{len(scored)} rubric-read papers from {START[:7]}; the filed commit: {FILED_AT}")
    print(f"{'':<28}" + "".join(f"{name:>20}" for name in FIGURES))
    for name, m in results.items():
        values = (m.relevance.f1, m.section_accuracy, m.macro_f1)
        print(f"{name:<28}" + "".join(f"{v:>20.3f}" for v in values))
    for other, lead in results["paperbot"].lead.items():
        print(f"paperbot's lead over {other}, 95% interval: " + ", ".join(
            f"{name} {low:+.3f}..{high:+.3f}" for name, (low, high) in lead.items()))


if __name__ == "__main__":
    main()
