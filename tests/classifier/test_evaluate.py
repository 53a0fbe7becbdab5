"""classifier/evaluate.py, metrics.py, render.py and forward.py: the figures, their renderings,
cross-validation and the forward judges, paperbot against the baselines."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot.core.labels import LABEL_VALUES, Label
from classifier.baselines import BASELINES
from classifier.corpus import load_jsonl, training_corpus
from classifier.embed import HashingEmbedder
from classifier.evaluate import compare, cross_validate
from classifier.metrics import compute_metrics
from classifier.model import paperbot_predictor
from classifier.render import render_json, render_text
from tests.support.classifier import IR, OT, D, P, Q


def test_metrics_by_hand() -> None:
    truth = [D, D, P, Q, OT, IR, IR, IR]
    preds = [D, P, P, IR, OT, IR, D, IR]
    m = compute_metrics(truth, preds)
    # relevant: 5 true, predicted relevant 5; tp = 4 (D,D,P,O), fp = 1 (I->D), fn = 1 (Q->I)
    assert (m.relevance.precision, m.relevance.recall, m.relevance.f1) == (0.8, 0.8, pytest.approx(0.8))
    assert m.relevance.support == 5
    assert m.section_n == 4 and m.section_accuracy == 0.75  # D->P is the one section miss
    assert m.per_label["quantization"].f1 == 0.0 and m.per_label["other"].f1 == 1.0
    assert m.per_label["irrelevant"].precision == pytest.approx(2 / 3)
    assert m.macro_f1 == pytest.approx(sum(s.f1 for s in m.per_label.values()) / 5)
    assert m.confusion[0] == [1, 1, 0, 0, 0] and m.confusion[4] == [1, 0, 0, 0, 2]
    assert sum(map(sum, m.confusion)) == 8


def test_figures_are_split_by_the_labellers_confidence_when_the_file_gives_it() -> None:
    from classifier.corpus import LabelledPaper

    def paper(title: str, label: Label, confidence: str | None) -> LabelledPaper:
        return LabelledPaper(arxiv_id=None, title=title, abstract=None, label=label, confidence=confidence)

    test = [paper("a", P, "high"), paper("b", IR, "high"), paper("c", OT, "low"), paper("d", IR, "low")]
    answers = {"a": P, "b": IR, "c": IR, "d": D}

    def by_title(train, train_vectors, papers, vectors):  # type: ignore[no-untyped-def]
        return [answers[p.title] for p in papers]

    results = compare({"fixed": by_title}, [], np.zeros((0, 4)), test, np.zeros((4, 4)))
    overall, levels = results["fixed"], results["fixed"].by_confidence
    assert overall.relevance.f1 == pytest.approx(0.5)  # tp a, fp d, fn c
    assert list(levels) == ["high", "low"] and levels["high"].n == levels["low"].n == 2
    assert levels["high"].relevance.f1 == 1.0 and levels["high"].section_accuracy == 1.0
    assert levels["low"].relevance.f1 == 0.0
    text = render_text(results)
    for level in ("high", "low"):
        assert f"papers labelled with {level} confidence (2)" in text
    assert render_json(results)["fixed"]["by_confidence"]["low"]["relevance"]["f1"] == 0.0
    unsplit = compare({"fixed": by_title}, [], np.zeros((0, 4)), [replace(p, confidence=None) for p in test],
                      np.zeros((4, 4)))
    assert unsplit["fixed"].by_confidence == {} and "by_confidence" not in render_json(unsplit)["fixed"]
    assert "confidence" not in render_text(unsplit)


def test_vectorised_headline_figures_agree_with_compute_metrics_row_by_row() -> None:
    from classifier.metrics import headline_figures

    labels = list(Label)
    rng = np.random.default_rng(7)
    truth = rng.integers(0, 5, size=(200, 25))
    predicted = np.where(rng.random((200, 25)) < 0.6, truth, rng.integers(0, 5, size=(200, 25)))
    predicted[::9] = 4  # rows that turn every paper away: relevance and section figures are 0
    figures = headline_figures(truth, predicted)
    assert figures.shape == (3, 200)
    for row in range(200):
        m = compute_metrics([labels[i] for i in truth[row]], [labels[i] for i in predicted[row]])
        assert figures[:, row] == pytest.approx([m.relevance.f1, m.section_accuracy, m.macro_f1])
    assert np.array_equal(headline_figures(truth.T, predicted.T, axis=0), figures)


def test_compare_gives_seeded_bootstrap_intervals_and_the_first_classifiers_lead() -> None:
    from classifier.corpus import LabelledPaper
    from classifier.metrics import FIGURES

    truth = [D, P, Q, OT, IR] * 12
    test = [LabelledPaper(arxiv_id=None, title=f"paper {i}", abstract=None, label=label)
            for i, label in enumerate(truth)]
    sloppy = {p.title: (IR if i % 3 == 0 else p.label) for i, p in enumerate(test)}  # a third turned away

    def right(train, train_vectors, papers, vectors):  # type: ignore[no-untyped-def]
        return [p.label for p in papers]

    def wrong_third(train, train_vectors, papers, vectors):  # type: ignore[no-untyped-def]
        return [sloppy[p.title] for p in papers]

    def run() -> dict:  # type: ignore[type-arg]
        return compare({"right": right, "sloppy": wrong_third, "also-right": right},
                       [], np.zeros((0, 4)), test, np.zeros((len(test), 4)))

    results = run()
    assert results == run()  # seeded: the same intervals every time
    assert results["right"].interval == {figure: (1.0, 1.0) for figure in FIGURES}
    sloppy_interval = results["sloppy"].interval
    point = {"relevance_f1": results["sloppy"].relevance.f1, "macro_f1": results["sloppy"].macro_f1}
    for figure, value in point.items():
        low, high = sloppy_interval[figure]
        assert low < value < high < 1.0
    lead = results["right"].lead
    assert set(lead) == {"sloppy", "also-right"} and results["sloppy"].lead == {}
    assert lead["also-right"] == {figure: (0.0, 0.0) for figure in FIGURES}
    assert lead["sloppy"]["relevance_f1"][0] > 0 and lead["sloppy"]["section_accuracy"] == (0.0, 0.0)
    as_json = render_json(results)
    low, high = sloppy_interval["relevance_f1"]
    assert as_json["sloppy"]["interval_95"]["relevance_f1"] == [round(low, 4), round(high, 4)]
    assert as_json["right"]["lead_95"]["sloppy"]["section_accuracy"] == [0.0, 0.0]
    lines = render_text(results).splitlines()
    assert "95% intervals (1000 bootstrap resamples of the 60 papers)" in lines
    span = lines[lines.index("right's lead, 95% interval") + 1].split()
    assert span[:2] == ["relevance", "F1"] and span[3] == "+0.00–+0.00"
    one = compare({"right": right}, [], np.zeros((0, 4)), test[:1], np.zeros((1, 4)))
    assert one["right"].interval == {} and "95%" not in render_text(one)


def test_figures_per_fold_seed_and_their_mean() -> None:
    from classifier.metrics import headline
    from classifier.render import render_seeds

    truth = [D, P, OT, IR, IR]
    good = compute_metrics(truth, [D, P, OT, IR, IR])  # all right; macro-F1 0.8: no quantization paper
    fair = compute_metrics(truth, [D, OT, OT, IR, D])  # relevance 3 tp, 1 fp: F1 6/7; sections 2 of 3
    text = render_seeds({0: {"a": good, "b": fair}, 1: {"a": fair, "b": fair}})
    lines = text.splitlines()
    assert lines[1].split() == ["a", "b"]
    assert lines[2].split()[:2] == ["seed", "0"] and "1.000 / 1.000 / 0.800 (0.933)" in lines[2]
    assert f"0.857 / 0.667 / {fair.macro_f1:.3f} ({headline(fair):.3f})" in lines[3]
    mean = (1 + 6 / 7) / 2, (1 + 2 / 3) / 2, (0.8 + fair.macro_f1) / 2
    half_spread = (headline(good) - headline(fair)) / 2
    assert lines[4].startswith("mean") and (f"{mean[0]:.3f} / {mean[1]:.3f} / {mean[2]:.3f} "
                                            f"({sum(mean) / 3:.3f} ±{half_spread:.3f})") in lines[4]
    assert lines[4].endswith(f"({headline(fair):.3f} ±0.000)")


def test_evaluate_a_small_labelled_file_prints_every_figure(tmp_path: Path) -> None:
    corpus = training_corpus()
    train = [p for label in Label for p in corpus if p.label is label][::6]
    held = [p for label in Label for p in corpus if p.label is label][3::40]
    rows = [{"title": p.title, "abstract": p.abstract, "label": p.label.value} for p in held]
    path = tmp_path / "labelled.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n{broken\n", encoding="utf-8")
    test, errors = load_jsonl(path)
    assert [e.line for e in errors] == [len(rows) + 1]
    embedder = HashingEmbedder()
    results = compare({"paperbot": paperbot_predictor, **BASELINES},
                      train, embedder.embed([p.text for p in train]),
                      test, embedder.embed([p.text for p in test]))
    text = render_text(results, title="held-out file")
    for figure in ("relevance precision", "relevance recall", "relevance F1", "section accuracy",
                   "macro-F1", "confusion matrix, paperbot", "confusion matrix, keywords",
                   "confusion matrix, tfidf-svm", *(f"F1 {label}" for label in LABEL_VALUES)):
        assert figure in text
    assert text.splitlines()[1].split() == ["paperbot", "keywords", "tfidf-svm"]
    assert f"{results['paperbot'].relevance.f1:.3f}" in text
    as_json = json.loads(json.dumps(render_json(results)))
    assert set(as_json) == {"paperbot", "keywords", "tfidf-svm"}
    assert as_json["tfidf-svm"]["n"] == len(test)
    assert set(as_json["paperbot"]["per_label"]) == set(LABEL_VALUES)


def test_cross_validation_scores_only_the_chosen_sources() -> None:
    corpus = [p for label in Label for p in training_corpus() if p.label is label][::10]
    vectors = HashingEmbedder().embed([p.text for p in corpus])
    scored = sum(p.source == "annotated" for p in corpus)
    results = cross_validate(dict(BASELINES), corpus, vectors, folds=3, seed=0)
    assert results["keywords"].n == results["tfidf-svm"].n == scored < len(corpus)
    everything = cross_validate({"keywords": BASELINES["keywords"]}, corpus, vectors, folds=3,
                                score_sources=None)
    assert everything["keywords"].n == len(corpus)


def test_holdout_trains_only_on_earlier_papers_and_scores_the_later_rubric_read_ones() -> None:
    from bot.core.errors import ClassifierError
    from classifier.corpus import LabelledPaper
    from classifier.forward import holdout_from

    def paper(title: str, label: Label, published: str | None, source: str = "annotated") -> LabelledPaper:
        return LabelledPaper(None, title, None, label, source=source, published=published)

    papers = [paper("early pruning", P, "2025-03-02"), paper("early other", IR, "2025-08-31"),
              paper("undated list entry", D, None, source="awesome-list"),
              paper("later list entry", Q, "2025-09-10", source="awesome-list"),
              paper("later one", P, "2025-09-01"), paper("later two", IR, "2025-10-05")]
    vectors = HashingEmbedder().embed([p.text for p in papers])
    seen: dict[str, list[str]] = {}

    def recording(train_part, train_vectors, test_part, test_vectors):  # type: ignore[no-untyped-def]
        seen["train"] = [p.title for p in train_part]
        seen["test"] = [p.title for p in test_part]
        assert len(train_vectors) == len(train_part) and len(test_vectors) == len(test_part)
        return [P for _ in test_part]

    results, n_train, n_scored = holdout_from({"recording": recording}, papers, vectors, start="2025-09-01")
    assert seen["train"] == ["early pruning", "early other", "undated list entry"]
    assert seen["test"] == ["later one", "later two"]  # the later list entry is neither trained on nor scored
    assert (n_train, n_scored) == (3, 2)
    assert results["recording"].n == 2 and results["recording"].relevance.precision == 0.5
    with pytest.raises(ClassifierError, match="on or after 2026-01-01"):
        holdout_from({"recording": recording}, papers, vectors, start="2026-01-01")
    with pytest.raises(ClassifierError, match="before 2025-01-01"):
        holdout_from({"recording": recording}, papers, vectors, start="2025-01-01")


def test_monthly_retrains_before_each_month_and_pools_the_months_scores() -> None:
    from bot.core.errors import ClassifierError
    from classifier.corpus import LabelledPaper
    from classifier.forward import Window, monthly_from

    def paper(title: str, label: Label, published: str | None, source: str = "annotated") -> LabelledPaper:
        return LabelledPaper(None, title, None, label, source=source, published=published)

    papers = [paper("march", P, "2025-03-02"), paper("undated", D, None, source="awesome-list"),
              paper("mid july", IR, "2025-07-20"),
              paper("july list entry", Q, "2025-07-25", source="awesome-list"),
              paper("august", P, "2025-08-31"), paper("december", OT, "2025-12-01")]
    vectors = HashingEmbedder().embed([p.text for p in papers])
    calls: list[tuple[list[str], list[str]]] = []

    def recording(train_part, train_vectors, test_part, test_vectors):  # type: ignore[no-untyped-def]
        calls.append(([p.title for p in train_part], [p.title for p in test_part]))
        assert len(train_vectors) == len(train_part) and len(test_vectors) == len(test_part)
        return [P for _ in test_part]

    results, windows = monthly_from({"recording": recording}, papers, vectors, start="2025-07-15")
    assert calls == [(["march", "undated"], ["mid july"]),  # the first month starts at the date given
                     (["march", "undated", "mid july", "july list entry"], ["august"]),
                     (["march", "undated", "mid july", "july list entry", "august"], ["december"])]
    assert windows == [Window("2025-07-15", "2025-08-01", 2, 1), Window("2025-08-01", "2025-09-01", 4, 1),
                       Window("2025-12-01", "2026-01-01", 5, 1)]  # months with nothing to score are skipped
    pooled = results["recording"]
    assert pooled.n == 3 and pooled.confusion[4][1] == 1  # mid july (irrelevant) filed under pruning
    assert pooled.relevance.precision == pytest.approx(2 / 3)
    assert pooled.section_accuracy == 0.5  # august right, december (other) filed under pruning
    with pytest.raises(ClassifierError, match="on or after 2026-01-01"):
        monthly_from({"recording": recording}, papers, vectors, start="2026-01-01")


def test_training_report_fits_the_model_and_cross_validates_each_fold_seed() -> None:
    from classifier.evaluate import train_and_cross_validate

    corpus = [p for label in Label for p in training_corpus() if p.label is label][::10]
    vectors = HashingEmbedder().embed([p.text for p in corpus])
    keywords = {"keywords": BASELINES["keywords"]}
    report = train_and_cross_validate(keywords, corpus, vectors, folds=3, seed=3, seeds=2)
    assert report.training_papers == len(corpus) and report.training_seconds > 0
    assert list(report.by_seed) == [3, 4] and report.results is report.by_seed[3]
    assert render_json(report.by_seed[4]) == render_json(cross_validate(keywords, corpus, vectors, folds=3,
                                                                        seed=4))


def test_score_movement_embeds_only_with_enough_decisions() -> None:
    from classifier.feedback import MIN_DECISIONS, score_movement

    corpus = [p for label in Label for p in training_corpus() if p.label is label][::12]
    embedder = HashingEmbedder()
    embedded: list[int] = []

    def vectorise(texts: list[str]) -> np.ndarray:
        embedded.append(len(texts))
        return embedder.embed(texts)

    few = [replace(p, source="merged") for p in corpus[:MIN_DECISIONS - 1]] + corpus[MIN_DECISIONS - 1:]
    movement = score_movement(few, vectorise, decided_sources={"merged"}, seed=0)
    assert movement.decisions == MIN_DECISIONS - 1 and movement.before is movement.after is None
    assert embedded == []
    decided = [replace(p, source="merged") for p in corpus[::8]]
    movement = score_movement(corpus + decided, vectorise, decided_sources={"merged"}, seed=0)
    assert embedded == [len(corpus) + len(decided)]
    assert movement.decisions == len(decided) >= MIN_DECISIONS
    assert movement.before is not None and movement.after is not None
    assert movement.before.n == movement.after.n == len(decided)
