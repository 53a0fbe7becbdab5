"""Experiment (issue: model structure): do structurally different inputs beat the shipped model?

Run by hand, not part of the suite or the product: ``python bench/structure_experiment.py --blocks
/tmp/ms/blocks.npz`` (add ``--forward`` for the 2026 judge, at most twice, for designs chosen on the
selection judges). The judges and the shipped recomputation are ``bench/model_experiment.py``'s. Each design
is the shipped learner (``model_designs.Spec``) with extra dense blocks: MiniLM embeddings (the real
all-MiniLM-L6-v2, unit length) of other texts of each paper than the shipped ``title. abstract`` (which the
model truncates at 256 word pieces), computed once by hand and read from ``--blocks`` (an ``.npz`` with
``hashes``, the sha256 of each corpus ``LabelledPaper.text``, and one ``(n, 384)`` array per block):

* ``title``: the title alone;
* ``contrib``: the abstract's first two sentences saying "we propose|introduce|present", "this paper" or
  "in this work|paper" (a zero row when none does);
* ``first`` / ``second``: the first and the second half of the abstract's sentences.

Results are in the docstring of ``bench/structure_designs.py``: the one design ahead of shipped on all six
selection figures and on the 2026 months is the title's MiniLM vector in the five-label SVM at 0.7 with the
title's TF-IDF (``model_designs`` ``title``) in the section SVM at 1. Not shipped; what shipping it needs:

* a second vector per paper, of ``paper_text(title, None)`` (the title alone, whitespace-collapsed). It needs
  no new storage: ``bot.pipeline.stages.text_vectors`` and the database text cache are keyed by the text's
  hash, so titles are embedded and cached like any text (a title is ~15 word pieces; ~100/s on two cores);
* the shipped ``classifier/data/corpus-vectors.npz`` rebuilt with the corpus titles too
  (``bench/corpus_vectors.py`` ``corpus_texts`` adding them; ~2,300 more float16 rows, ~1.8 MB; rows with
  no abstract already have text == title), so a fresh database still embeds nothing for training;
* ``Model.predict``/``probabilities``, ``train``, ``fit_learner``, ``Learner.scores``, ``Features`` and
  ``calibrate`` taking the title vectors (or one ``(n, 768)`` array, text | title, so the signatures keep
  one ``vectors``; ``listed_vectors`` and the reason's neighbours use the first 384 columns), the title
  TF-IDF (a second ``Vocabulary`` over titles) in the section SVM's features only, the title vector at 0.7
  in the five-label SVM's only; every caller that builds vectors (``stages``, ``filemode``, ``feedback``,
  ``hybrid``, ``evaluate``, ``forward``) passing both; ``CODE_VERSION`` bumped.
"""

from __future__ import annotations

import argparse
import hashlib
from typing import Any

import numpy as np
from model_designs import spec_design
from model_experiment import run_judges, shipped_scores
from structure_designs import STRUCTURE_SPECS

from classifier.corpus import LabelledPaper


def with_blocks(design: Any, blocks: dict[str, np.ndarray], rows: dict[bytes, int], vector: str) -> Any:
    """The design run with the blocks beside the components, and the block ``vector`` instead of the
    shipped embedding when one is named (``Spec.vector``)."""
    def run(c: dict[str, Any]) -> np.ndarray:
        for name, matrix in blocks.items():
            for prefix, part in (("", c["train"]), ("test_", c["test"])):
                c.setdefault(f"{prefix}{name}_v", matrix[[rows[_hash(p)] for p in part]])
        if vector:
            return design({**c, "v": c[f"{vector}_v"], "test_v": c[f"test_{vector}_v"]})
        return design(c)
    return run


def _hash(paper: LabelledPaper) -> bytes:
    return hashlib.sha256(paper.text.encode()).hexdigest().encode()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", required=True, help="the .npz of extra embeddings")
    parser.add_argument("--forward", action="store_true", help="also score the 2026 months")
    parser.add_argument("--judge", default="", help="only the judges whose names start so")
    parser.add_argument("designs", nargs="*", default=list(STRUCTURE_SPECS))
    args = parser.parse_args()
    data = np.load(args.blocks, allow_pickle=False)
    rows = {h: i for i, h in enumerate(data["hashes"])}
    blocks = {k: np.asarray(data[k], dtype=np.float32) for k in data.files if k != "hashes"}
    designs = {"shipped": shipped_scores, **{
        name: with_blocks(spec_design(STRUCTURE_SPECS[name], shipped_scores), blocks, rows,
                          STRUCTURE_SPECS[name].vector) for name in args.designs}}
    run_judges(designs, args.forward, args.judge)


if __name__ == "__main__":
    main()
