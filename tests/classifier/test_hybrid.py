"""classifier/hybrid.py: the recorded answers' file, the band order the pipeline shares, and the hybrid of
the local model and the answers (band, cap per set, unanswered papers, the tally)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.core.errors import ClassifierError
from bot.core.labels import Label
from bot.core.models import Prediction
from classifier.corpus import LabelledPaper
from classifier.hybrid import Answer, Hybrid, LocalPredictions, asking_order, load_answers


def prediction(label: Label, relevant: float) -> Prediction:
    section = label if label.is_section else Label.OTHER
    probabilities = {x.value: 0.0 for x in Label} | {section.value: relevant, "irrelevant": 1 - relevant}
    return Prediction(label, max(relevant, 1 - relevant), probabilities, Label.IRRELEVANT, 1 - relevant,
                      False, "", "test")


def test_the_band_is_asked_least_confident_first_edges_included() -> None:
    relevance = {"a": 0.875, "b": 0.5, "c": 0.25, "d": 0.75, "e": 0.4375, "f": 0.5625, "g": 0.1875}
    predictions = {key: prediction(Label.PRUNING if p >= 0.5 else Label.IRRELEVANT, p)
                   for key, p in relevance.items()}
    assert asking_order(predictions, 0.25, 0.75) == ["b", "e", "f", "c", "d"]  # ties (0.5625, 0.75) by id


def split(first: float, second: float, irrelevant: float) -> Prediction:
    """Filed under pruning at ``first``, distillation the runner-up at ``second``."""
    probabilities = {x.value: 0.0 for x in Label} | {"pruning": first, "distillation": second,
                                                      "irrelevant": irrelevant}
    return Prediction(Label.PRUNING, first, probabilities, Label.DISTILLATION, second, False, "", "t")


def test_a_label_under_label_below_is_asked_beside_the_band_least_sure_first() -> None:
    predictions = {"sure": split(0.9, 0.05, 0.05), "sections": split(0.5, 0.45, 0.05),
                   "relevance": prediction(Label.IRRELEVANT, 0.45), "edge": split(0.65, 0.3, 0.05),
                   "filed": split(0.6, 0.1, 0.3)}
    # the band alone: only the relevance toss-up (P(relevant) 0.45; every other paper is at 0.7 or more)
    assert asking_order(predictions, 0.35, 0.65) == ["relevance"]
    # with label_below, a section toss-up (0.5) goes before the relevance one (0.55): the label's
    # probability orders them; the label held at exactly label_below is not asked
    assert asking_order(predictions, 0.35, 0.65, label_below=0.65) == ["sections", "relevance", "filed"]


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
    hybrid = Hybrid(local, answers, band_low=0.2, band_high=0.8, max_asked=2)
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
    assert "asked about 3 of the 7 papers classified (42.9%)" in hybrid.tally.describe("x", "picked", 2)


def test_no_answers_or_no_cap_leave_the_local_labels() -> None:
    local = LocalPredictions(CountingLocal())
    none = Hybrid(local, {}, band_low=0.2, band_high=0.8, max_asked=20)
    plain, mixed = run(none, local, list(PAPERS))
    assert mixed == plain and none.tally.unanswered == 3
    capped = Hybrid(local, {i: Answer(Label.OTHER) for i in PAPERS}, band_low=0.2, band_high=0.8, max_asked=0)
    assert run(capped, local, list(PAPERS))[1] == plain and capped.tally.over_cap == 3


def test_section_toss_ups_are_asked_too_when_configured() -> None:
    predictions = {"sure": split(0.9, 0.05, 0.05), "toss-up": split(0.5, 0.45, 0.05),
                   "closer": split(0.48, 0.47, 0.05), "band": split(0.3, 0.1, 0.6)}
    assert asking_order(predictions, 0.2, 0.8) == ["band"]
    assert asking_order(predictions, 0.2, 0.8, 0.6) == ["band", "closer", "toss-up"]
