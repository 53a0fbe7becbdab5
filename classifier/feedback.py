"""How the model moved on the maintainers' own labels: before and after learning from them.

Runs for ``paperbot feedback --scores``. Pure: takes the labelled papers (the corpus and the maintainers'
decisions, told apart by their label source) and a callable that embeds texts, and returns the figures
(``classifier.metrics``) of a model trained without the decisions and of one cross-validated with them;
reads and writes nothing itself, and calls ``vectorise`` only when there are enough decisions to measure.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from bot.core.labels import Label
from classifier.corpus import LabelledPaper
from classifier.metrics import Metrics, compute_metrics
from classifier.model import train

MIN_DECISIONS = 10  # fewer maintainer decisions measure nothing
MOVEMENT_FOLDS = 5


class Vectorise(Protocol):
    """Embedding vectors for texts, row for row (the CLI's is cached in the database)."""

    def __call__(self, texts: list[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Movement:
    """The figures on the maintainers' decisions; both None when there are fewer than ``MIN_DECISIONS``."""

    decisions: int
    before: Metrics | None  # trained without the decisions (on the rest of the training papers)
    after: Metrics | None  # learning from them: MOVEMENT_FOLDS-fold, each fold trained on the rest


def score_movement(examples: Sequence[LabelledPaper], vectorise: Vectorise, *,
                   decided_sources: Collection[str], seed: int) -> Movement:
    """Held-out figures on the papers whose label source is in ``decided_sources``, before and after
    learning from them.

    "Before" trains on every paper but the decided ones and the other rows of their arXiv ids;
    "after" splits the decisions into ``MOVEMENT_FOLDS`` folds and trains on those papers plus the other
    folds' decisions.
    """
    decided = [i for i, e in enumerate(examples) if e.source in decided_sources]
    if len(decided) < MIN_DECISIONS:
        return Movement(len(decided), None, None)
    vectors = vectorise([e.text for e in examples])
    decided_ids = {examples[i].arxiv_id for i in decided}
    corpus_only = [i for i, e in enumerate(examples) if e.arxiv_id not in decided_ids]
    truth = [examples[i].label for i in decided]

    def fit_predict(train_rows: list[int], test_rows: list[int]) -> list[Label]:
        model = train([examples[i] for i in train_rows], vectors[train_rows], seed=seed)
        pairs = [(examples[i].title, examples[i].abstract) for i in test_rows]
        return [p.label for p in model.predict(pairs, vectors[test_rows])]

    before = compute_metrics(truth, fit_predict(corpus_only, decided))
    after_pred: dict[int, Label] = {}
    for fold in np.array_split(np.array(decided), MOVEMENT_FOLDS):
        held = set(fold.tolist())
        rows = corpus_only + [i for i in decided if i not in held]
        after_pred.update(zip(fold.tolist(), fit_predict(rows, fold.tolist()), strict=True))
    after = compute_metrics(truth, [after_pred[i] for i in decided])
    return Movement(len(decided), before, after)
