"""The hybrid of the local model and the LLM judge, scored from recorded answers, without a network.

Runs for ``paperbot evaluate --judge-answers`` and ``paperbot train --holdout-from ... --judge-answers``
(and ``bench/judge_ceiling.py``); the pipeline takes its asking rule from here (``asking_order``), so the
evaluation asks about exactly the papers a run would. Pure: reads and writes nothing but what it is given.

A recorded answer is one verdict per paper, keyed by arXiv id (``load_answers`` reads the JSONL that
``paperbot judge export`` writes). For each set the predictors are called on (one ``evaluate`` file, one
month of a forward judge), the hybrid takes the local model's predictions, orders the papers the model
is least sure of (``asking_order``) least sure first, asks about as many of them as a run would
(``asking_cap``: the pipeline's per-run caps, applied per set) and files each asked paper that has a
recorded answer under the answer's label; every other paper keeps the local label. ``JudgeTally`` counts
what was asked.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bot.core.config import JudgeSettings
from bot.core.errors import ClassifierError
from bot.core.labels import LABEL_VALUES, Label
from bot.core.models import Prediction
from classifier.corpus import LabelledPaper, iter_jsonl


def asking_order(rule: JudgeSettings, predictions: Mapping[str, Prediction]) -> list[str]:
    """The ids of the papers to ask about under ``rule`` (the ``[judge]`` settings), least sure first: the
    lower the local model's ``sureness`` of its label, the sooner (ties by id).

    Asked about: the papers whose P(relevant) lies in ``[band_low, band_high]`` (the needs-review band by
    default), those of whose label the model is less sure than ``label_below`` (every paper of the
    needs-review band is, when ``label_below`` is at least its upper edge), and, with
    ``section_share_below``, the filed papers whose section is a toss-up.

    ``sureness`` is the model's views' consensus on the label (``Prediction.consensus``: the least that the
    blend, the SVMs alone and the embedding's section regression give it), so a section two views disagree
    on is asked about as soon as a toss-up about relevance. On the 2025 months (the selection judge,
    ``bench/judge_ceiling.py``), asking about the same number of papers, it asked about more of the
    mistakes than ordering by the blend's probability or by P(relevant).
    """
    low, high, doubt, below = rule.band_low, rule.band_high, rule.section_share_below, rule.label_below

    def asked(p: Prediction) -> bool:
        return (low <= p.relevance <= high or p.sureness < below
                or (doubt > 0 and p.other_section(doubt) is not None))

    return sorted((key for key, p in predictions.items() if asked(p)),
                  key=lambda key: (predictions[key].sureness, key))


def asking_cap(rule: JudgeSettings, classified: int) -> int:
    """The most papers to ask about in a run (or a scored set) of ``classified`` papers:
    ``max_papers_per_run``, and ``max_share_per_run`` of ``classified`` rounded up (so that a run of a few
    papers may still ask about its least sure one)."""
    share = math.ceil(rule.max_share_per_run * classified - 1e-9)  # 0.15 * 100 is 15.000000000000002
    return max(0, min(rule.max_papers_per_run, share))


@dataclass(frozen=True)
class Answer:
    """One recorded verdict: the judge's label for a paper (and its secondary and reason, if recorded)."""

    label: Label
    secondary: Label | None = None
    reason: str = ""


def _label(value: Any, key: str) -> Label:
    if not isinstance(value, str) or value not in LABEL_VALUES:
        raise ValueError(f"{key} {value!r} is not one of {', '.join(LABEL_VALUES)}")
    return Label(value)


def parse_answer(row: Any) -> tuple[str, Answer]:
    """One JSON object ``{"arxiv_id", "label", "secondary"?, "reason"?}`` -> (id, Answer); other keys
    (``model``, ``prompt_version``, ``judged_at``: what the export adds) are ignored."""
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    arxiv_id = row.get("arxiv_id")
    if not isinstance(arxiv_id, str) or not arxiv_id.strip():
        raise ValueError("no arxiv_id")
    if "label" not in row:
        raise ValueError("no label")
    label = _label(row["label"], "label")
    secondary = row.get("secondary")
    reason = row.get("reason")
    if reason is not None and not isinstance(reason, str):
        raise ValueError("reason must be a string or null")
    return arxiv_id.strip(), Answer(label, _label(secondary, "secondary") if secondary is not None else None,
                                    reason or "")


def load_answers(path: Path | str) -> dict[str, Answer]:
    """Every recorded answer of a JSONL file; the first bad line (not JSON, no id, an unknown label, an id
    answered twice) raises ClassifierError naming the file and the line."""
    answers: dict[str, Answer] = {}
    for number, row in iter_jsonl(path):
        try:
            if isinstance(row, ValueError):
                raise row
            arxiv_id, answer = parse_answer(row)
            if arxiv_id in answers:
                raise ValueError(f"{arxiv_id} is answered twice")
        except ValueError as exc:
            raise ClassifierError(f"{path}: line {number}: {exc}") from None
        answers[arxiv_id] = answer
    return answers


@dataclass
class JudgeTally:
    """What the hybrid asked, summed over the sets it was called on."""

    classified: int = 0  # papers the hybrid labelled
    in_band: int = 0  # of them, the ones the asking rule picks (``asking_order``)
    asked: int = 0  # the in-band papers within the cap: the ones a run would ask about
    answered: int = 0  # asked and with a recorded answer: these take the judge's label
    changed: int = 0  # answered with a label other than the local one
    over_cap: int = 0  # picked but past the cap: not asked
    asked_by_set: list[int] = field(default_factory=list)  # asked, per call (per month of a forward judge)

    @property
    def unanswered(self) -> int:
        """Asked, but the recorded answers have none for them: the local label stands."""
        return self.asked - self.answered

    @property
    def asked_share(self) -> float:
        return self.asked / self.classified if self.classified else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"classified": self.classified, "in_band": self.in_band, "asked": self.asked,
                "asked_share": round(self.asked_share, 4), "answered": self.answered,
                "unanswered": self.unanswered, "changed": self.changed, "over_cap": self.over_cap,
                "asked_by_set": list(self.asked_by_set)}

    def describe(self, name: str, rule: JudgeSettings) -> str:
        return (f"{name}: asked about {self.asked} of the {self.classified} papers classified "
                f"({self.asked_share:.1%}): {self.in_band} {rule.describe_rule()}, "
                f"{rule.describe_cap()} ({self.over_cap} over the cap); {self.answered} had a recorded "
                f"answer ({self.changed} changed the label), {self.unanswered} had none and kept the local "
                "label")


LocalPredict = Callable[[Sequence[LabelledPaper], np.ndarray, Sequence[LabelledPaper], np.ndarray],
                        list[Prediction]]
"""Train on the first papers and vectors, predict the second: ``classifier.model`` by default."""


def train_and_predict(train_part: Sequence[LabelledPaper], train_vectors: np.ndarray,
                       test_part: Sequence[LabelledPaper], test_vectors: np.ndarray) -> list[Prediction]:
    from classifier.model import train

    model = train(train_part, train_vectors)
    return model.predict([(paper.title, paper.abstract) for paper in test_part], test_vectors)


class LocalPredictions:
    """The local model's predictions for the set it was last called on, shared by the plain and the hybrid
    predictors so that each set is trained on once however many of them score it."""

    def __init__(self, predict: LocalPredict = train_and_predict) -> None:
        self._predict = predict
        self._key: tuple[Any, ...] | None = None
        self._predictions: list[Prediction] = []

    def __call__(self, train_part: Sequence[LabelledPaper], train_vectors: np.ndarray,
                 test_part: Sequence[LabelledPaper], test_vectors: np.ndarray) -> list[Prediction]:
        key = (len(train_part), tuple(p.text for p in train_part[-3:]), tuple(p.text for p in test_part))
        if key != self._key:
            self._predictions = list(self._predict(train_part, train_vectors, test_part, test_vectors))
            self._key = key
        return self._predictions

    def labels(self, train_part: Sequence[LabelledPaper], train_vectors: np.ndarray,
               test_part: Sequence[LabelledPaper], test_vectors: np.ndarray) -> list[Label]:
        """The plain local model, in the shape ``classifier.evaluate`` compares."""
        return [p.label for p in self(train_part, train_vectors, test_part, test_vectors)]


class Hybrid:
    """A predictor: the local model, with the recorded answer's label for the papers it asks about under
    ``rule`` (``asking_order``, at most ``asking_cap`` a set)."""

    def __init__(self, local: LocalPredictions, answers: Mapping[str, Answer], rule: JudgeSettings) -> None:
        self.local, self.answers, self.rule = local, answers, rule
        self.tally = JudgeTally()
        self.band_ids: set[str] = set()  # every paper of every set that the rule picked

    def __call__(self, train_part: Sequence[LabelledPaper], train_vectors: np.ndarray,
                 test_part: Sequence[LabelledPaper], test_vectors: np.ndarray) -> list[Label]:
        predictions = self.local(train_part, train_vectors, test_part, test_vectors)
        labels = [p.label for p in predictions]
        keys = [paper.arxiv_id or f"\0row {row}" for row, paper in enumerate(test_part)]  # no id: no answer
        band = asking_order(self.rule, dict(zip(keys, predictions, strict=True)))
        asked = band[: asking_cap(self.rule, len(test_part))]
        self.band_ids.update(band)
        tally = self.tally
        tally.classified += len(test_part)
        tally.in_band += len(band)
        tally.asked += len(asked)
        tally.over_cap += len(band) - len(asked)
        tally.asked_by_set.append(len(asked))
        row_of = {key: row for row, key in enumerate(keys)}
        for key in asked:
            answer = self.answers.get(key)
            if answer is None:
                continue
            tally.answered += 1
            row = row_of[key]
            if answer.label is not labels[row]:
                tally.changed += 1
                labels[row] = answer.label
        return labels
