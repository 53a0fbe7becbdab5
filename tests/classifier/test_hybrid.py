"""classifier/hybrid.py: the recorded answers' file, the asking order and caps the pipeline shares, and the
hybrid of the local model and the answers (band, caps per set, unanswered papers, the tally)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.core.config import JudgeSettings
from bot.core.errors import ClassifierError
from bot.core.labels import Label
from bot.core.models import Prediction
from classifier.corpus import LabelledPaper
from classifier.hybrid import Answer, Hybrid, LocalPredictions, asking_cap, asking_order, load_answers


def rule(low: float, high: float, *, label_below: float = 0.0, doubt: float = 0.0, cap: int = 30,
         share: float = 1.0) -> JudgeSettings:
    return JudgeSettings(band_low=low, band_high=high, label_below=label_below, section_share_below=doubt,
                         max_papers_per_run=cap, max_share_per_run=share)


def prediction(label: Label, relevant: float) -> Prediction:
    section = label if label.is_section else Label.OTHER
    probabilities = {x.value: 0.0 for x in Label} | {section.value: relevant, "irrelevant": 1 - relevant}
    return Prediction(label, max(relevant, 1 - relevant), probabilities, Label.IRRELEVANT, 1 - relevant,
                      False, "", "test")


def test_the_band_is_asked_least_confident_first_edges_included() -> None:
    relevance = {"a": 0.875, "b": 0.5, "c": 0.25, "d": 0.75, "e": 0.4375, "f": 0.5625, "g": 0.1875}
    predictions = {key: prediction(Label.PRUNING if p >= 0.5 else Label.IRRELEVANT, p)
                   for key, p in relevance.items()}
    # ties (0.5625, 0.75) by id
    assert asking_order(rule(0.25, 0.75), predictions) == ["b", "e", "f", "c", "d"]


def split(first: float, second: float, irrelevant: float, consensus: float | None = None) -> Prediction:
    """Filed under pruning at ``first``, distillation the runner-up at ``second``; ``consensus``: the least
    that any of the model's views gives pruning."""
    probabilities = {x.value: 0.0 for x in Label} | {"pruning": first, "distillation": second,
                                                      "irrelevant": irrelevant}
    return Prediction(Label.PRUNING, first, probabilities, Label.DISTILLATION, second, False, "", "t",
                      consensus)


def test_a_label_under_label_below_is_asked_beside_the_band_least_sure_first() -> None:
    predictions = {"sure": split(0.9, 0.05, 0.05), "sections": split(0.5, 0.45, 0.05),
                   "relevance": prediction(Label.IRRELEVANT, 0.45), "edge": split(0.65, 0.3, 0.05),
                   "filed": split(0.6, 0.1, 0.3)}
    # the band alone: only the relevance toss-up (P(relevant) 0.45; every other paper is at 0.7 or more)
    assert asking_order(rule(0.35, 0.65), predictions) == ["relevance"]
    # with label_below, a section toss-up (0.5) goes before the relevance one (0.55): the label's
    # probability orders them; the label held at exactly label_below is not asked
    assert asking_order(rule(0.35, 0.65, label_below=0.65), predictions) == ["sections", "relevance", "filed"]


def test_a_label_the_views_disagree_on_is_asked_by_its_consensus() -> None:
    # "split views": the blend gives pruning 0.85, but one of the model's views only 0.3
    predictions = {"sure": split(0.9, 0.05, 0.05, consensus=0.88), "split views": split(0.85, 0.1, 0.05, 0.3),
                   "relevance": prediction(Label.IRRELEVANT, 0.45), "old": split(0.6, 0.3, 0.1)}
    # no consensus known (a prediction stored before it): the probability stands in for it
    assert predictions["old"].sureness == 0.6 and predictions["split views"].sureness == 0.3
    assert asking_order(rule(0.35, 0.65, label_below=0.62), predictions) == [
        "split views", "relevance", "old"]
    assert asking_order(rule(0.35, 0.65), predictions) == ["relevance"]  # the band alone: P(relevant)


@pytest.mark.parametrize(("cap", "share", "classified", "asked"), [
    (30, 1.0, 200, 30), (30, 0.15, 200, 30), (30, 0.15, 100, 15), (30, 0.15, 101, 16), (30, 0.15, 10, 2),
    (30, 0.15, 3, 1), (30, 0.15, 0, 0), (0, 0.15, 100, 0), (30, 0.0, 100, 0), (30, 1.0, 7, 7),
])
def test_a_run_asks_at_most_the_cap_and_the_share_rounded_up(cap: int, share: float, classified: int,
                                                           asked: int) -> None:
    assert asking_cap(rule(0.35, 0.65, cap=cap, share=share), classified) == asked


def test_load_answers_reads_what_the_export_writes(tmp_path: Path) -> None:
    path = tmp_path / "answers.jsonl"
    path.write_text('{"arxiv_id": "2601.00001", "label": "pruning", "secondary": "other", '
                    '"reason": "Sparse.", "model": "m", "prompt_version": "judge-v1"}\n\n'
                    '{"arxiv_id": " 2601.00002 ", "label": "irrelevant"}\n')
    assert load_answers(path) == {"2601.00001": Answer(Label.PRUNING, Label.OTHER, "Sparse."),
                                  "2601.00002": Answer(Label.IRRELEVANT)}


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", "line 2: invalid JSON: "),
    ('{"arxiv_id": "2601.00009", "label": "caching"}', "line 2: label 'caching' is not one of distil"),
    ('{"arxiv_id": "2601.00009", "label": "other", "secondary": "x"}', "line 2: secondary 'x' is not one of"),
    ('{"label": "other"}', "line 2: no arxiv_id"),
    ('{"arxiv_id": "2601.00009"}', "line 2: no label"),
    ('["2601.00009", "other"]', "line 2: not a JSON object"),
    ('{"arxiv_id": "2601.00001", "label": "other"}', "line 2: 2601.00001 is answered twice"),
])
def test_a_bad_line_is_one_error_naming_the_file_and_the_line(tmp_path: Path, line: str,
                                                              message: str) -> None:
    path = tmp_path / "answers.jsonl"
    path.write_text('{"arxiv_id": "2601.00001", "label": "pruning"}\n' + line + "\n")
    with pytest.raises(ClassifierError) as error:
        load_answers(path)
    assert str(error.value).startswith(f"{path}: {message}"), str(error.value)
    assert "\n" not in str(error.value)


# id -> (local label, P(relevant), true label)
PAPERS = {"2601.00001": (Label.PRUNING, 0.95, Label.PRUNING),        # sure: never asked
          "2601.00002": (Label.QUANTIZATION, 0.52, Label.PRUNING),   # least confident: asked first
          "2601.00003": (Label.OTHER, 0.70, Label.IRRELEVANT),       # in the band
          "2601.00004": (Label.IRRELEVANT, 0.25, Label.OTHER),       # in the band, last
          "2601.00005": (Label.IRRELEVANT, 0.05, Label.IRRELEVANT)}  # sure: never asked


def labelled(arxiv_id: str) -> LabelledPaper:
    return LabelledPaper(arxiv_id, f"Paper {arxiv_id}", "An abstract.", PAPERS[arxiv_id][2])


class CountingLocal:
    """A stand-in for the trained model: the fixed predictions above, counting how often it was trained."""

    def __init__(self) -> None:
        self.trained = 0

    def __call__(self, train_part, train_vectors, test_part, test_vectors):  # type: ignore[no-untyped-def]
        self.trained += 1
        return [prediction(*PAPERS[p.arxiv_id][:2]) for p in test_part]


def run(hybrid: Hybrid, local: LocalPredictions, ids: list[str]) -> tuple[list[Label], list[Label]]:
    test = [labelled(i) for i in ids]
    train = [labelled("2601.00001")]
    vectors, train_vectors = np.zeros((len(test), 2)), np.zeros((1, 2))
    return local.labels(train, train_vectors, test, vectors), hybrid(train, train_vectors, test, vectors)


def test_the_hybrid_takes_the_answer_for_the_asked_papers_within_the_cap() -> None:
    counting = CountingLocal()
    local = LocalPredictions(counting)
    answers = {i: Answer(truth) for i, (_, _, truth) in PAPERS.items() if i != "2601.00003"}
    hybrid = Hybrid(local, answers, rule(0.2, 0.8, cap=2))
    plain, mixed = run(hybrid, local, list(PAPERS))
    assert counting.trained == 1  # the plain and the hybrid predictor share one training per set
    assert plain == [Label.PRUNING, Label.QUANTIZATION, Label.OTHER, Label.IRRELEVANT, Label.IRRELEVANT]
    # asked: 00002 (answered: pruning) and 00003 (no answer: the local label stands); 00004 is over the cap
    assert mixed == [Label.PRUNING, Label.PRUNING, Label.OTHER, Label.IRRELEVANT, Label.IRRELEVANT]
    assert hybrid.tally.as_dict() == {"classified": 5, "in_band": 3, "asked": 2, "asked_share": 0.4,
                                      "answered": 1, "unanswered": 1, "changed": 1, "over_cap": 1,
                                      "asked_by_set": [2]}
    # a second set: the cap holds per set, the tally sums
    _, again = run(hybrid, local, ["2601.00004", "2601.00005"])
    assert again == [Label.OTHER, Label.IRRELEVANT] and counting.trained == 2
    assert (hybrid.tally.asked, hybrid.tally.changed, hybrid.tally.asked_by_set) == (3, 2, [2, 1])
    assert hybrid.tally.describe("x", rule(0.2, 0.8, cap=2)).startswith(
        "x: asked about 3 of the 7 papers classified (42.9%): 4 with P(relevant) in 0.20-0.80, "
        "at most 2 a set (1 over the cap)")


def test_the_share_cap_holds_per_set() -> None:
    local = LocalPredictions(CountingLocal())
    answers = {i: Answer(truth) for i, (_, _, truth) in PAPERS.items()}
    hybrid = Hybrid(local, answers, rule(0.2, 0.8, share=0.3))  # 30% of 5 papers, rounded up: 2
    _, mixed = run(hybrid, local, list(PAPERS))
    assert mixed == [Label.PRUNING, Label.PRUNING, Label.IRRELEVANT, Label.IRRELEVANT, Label.IRRELEVANT]
    assert (hybrid.tally.asked, hybrid.tally.over_cap) == (2, 1)
    assert "at most 30 and 30% a set" in hybrid.tally.describe("x", hybrid.rule)


def test_no_answers_or_no_cap_leave_the_local_labels() -> None:
    local = LocalPredictions(CountingLocal())
    none = Hybrid(local, {}, rule(0.2, 0.8, cap=20))
    plain, mixed = run(none, local, list(PAPERS))
    assert mixed == plain and none.tally.unanswered == 3
    capped = Hybrid(local, {i: Answer(Label.OTHER) for i in PAPERS}, rule(0.2, 0.8, cap=0))
    assert run(capped, local, list(PAPERS))[1] == plain and capped.tally.over_cap == 3


def test_section_toss_ups_are_asked_too_when_configured() -> None:
    predictions = {"sure": split(0.9, 0.05, 0.05), "toss-up": split(0.5, 0.45, 0.05),
                   "closer": split(0.48, 0.47, 0.05), "band": split(0.3, 0.1, 0.6)}
    assert asking_order(rule(0.2, 0.8), predictions) == ["band"]
    assert asking_order(rule(0.2, 0.8, doubt=0.6), predictions) == ["band", "closer", "toss-up"]
