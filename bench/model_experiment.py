"""Experiment: does a stacked design, another section learner or more inputs beat the shipped model?

Run by hand (``python bench/model_experiment.py``, add ``--forward`` for the 2026 judge); not part of the
test suite and not part of the product. Designs are chosen on the selection judges, which see nothing
published from February 2026 on: the corpus cut at 2026-02-01, then (a) retrained month by month from
2025-09 (352 rubric-read papers of 2025-09, 2025-10 and 2026-01) and (b) 5-fold cross-validation
(1,228 rubric-read papers scored). ``--forward`` adds the judge of ``paperbot train --holdout-from 2026-02
--monthly`` (587 papers), to be looked at once for the chosen design. For every training part it fits the
shipped SVMs (``classifier.learner``) and logistic regressions on the embedding, on three out-of-fold
calibration folds and on the whole part, then scores each design on the same numbers:

* ``shipped``: the five-label SVM's scores with the relevance bias fitted as ``classifier.calibrate``
  fitted it (the model as shipped before the section blend of ``bench/section_experiment.py``, which
  ships now and which these designs were measured against, recomputed);
* ``stacked``: relevance by a logistic regression over the SVM's margin and the embedding's relevance
  log-odds, section by a class-balanced multinomial regression over the SVMs' section scores, both fitted on
  out-of-fold scores; labels the argmax of P(relevant) x P(section | relevant) and 1 - P(relevant), with
  the relevance bias fitted for that rule;
* ``stacked + embedding sections``: the same, the section regression also given the embedding's section
  log-probabilities;
* ``shipped relevance + section combiner``: the shipped relevance decision, the section from the stacked
  section regression;
* ``shipped relevance + TF-IDF section SVM``: the section from a linear SVM over word 1-2-gram and
  character 3-5-gram TF-IDF fitted on the relevant training papers alone (the baseline's strength);
* the specs of ``bench/model_designs.py`` (issue 15): the shipped learner with a title-only TF-IDF block,
  rubric precedence features, secondary-label copies, a kNN vote on the embedding or another C; its
  docstring gives all 43 on the selection judges. ``C 2, title 1``: both SVMs at C=2, the section SVM also
  reading the title's TF-IDF at weight 1; ``title 1, five-label 0.3``: the title's TF-IDF at weight 1 for
  the section SVM and 0.3 for the five-label SVM. They are run by default; ``--designs`` names others.

Writes nothing; prints each design's three figures with 95% bootstrap intervals and the paired interval of
its lead over ``shipped``. The result (README, "The classifier") kept the shipped model. Relevance F1 /
section accuracy / macro-F1, selection monthly, selection CV, then the 2026 months:

    shipped                                  0.794 0.840 0.767   0.832 0.872 0.799   0.872 0.834 0.792
    stacked                                  0.798 0.853 0.775   0.837 0.886 0.814   0.855 0.843 0.786
    stacked, threshold rule                  0.816 0.849 0.780   0.848 0.886 0.820   0.856 0.841 0.785
    stacked + embedding sections             0.809 0.792 0.747   0.829 0.883 0.799   0.857 0.862 0.806
    shipped relevance + section combiner     0.794 0.840 0.766   0.832 0.879 0.802   0.872 0.828 0.789
    shipped relevance + TF-IDF section SVM   0.794 0.773 0.710   0.832 0.837 0.775   0.872 0.834 0.818
    C 2, title 1                             0.798 0.853 0.776   0.835 0.891 0.812   0.871 0.833 0.791
    title 1, five-label 0.3                  0.796 0.855 0.777   0.832 0.890 0.808   0.879 0.822 0.789

The designs that led on the selection judges lost relevance F1 on the 2026 months, and those that did
well there had lost on the selection judges; every lead's interval on the 2026 months spans zero. ``C 2,
title 1``, the spec ahead on all six selection figures by most (its cross-validated section-accuracy lead's
interval +0.002..+0.037 clears zero), was a paper behind on each figure on the 2026 months (shipped's lead
-0.012..+0.014, -0.021..+0.023, -0.011..+0.013); ``title 1, five-label 0.3`` gained relevance F1 there
(shipped's lead -0.015..+0.000) and lost the other two (-0.007..+0.037, -0.009..+0.019).
"""

from __future__ import annotations

import argparse
import hashlib
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from model_designs import _FITS, LOOKED_AT, SPECS, spec_design

from bot.core.labels import LABEL_VALUES, Label
from classifier.corpus import RUBRIC_SOURCES, LabelledPaper, rubric_label, training_corpus
from classifier.corpus_vectors import read
from classifier.features import term_matrix
from classifier.learner import IRRELEVANT_COLUMN, fit_learner
from classifier.metrics import FIGURES, Metrics, score_predictions
from classifier.model import recency_factors
from classifier.ngrams import count_terms

SELECTION_END = "2026-02-01"
SECTIONS = [i for i, label in enumerate(LABEL_VALUES) if label != Label.IRRELEVANT.value]
OLD_BIAS_GRID = np.round(np.arange(-1.0, 1.0001, 0.05), 2)
Split = tuple[str, np.ndarray, np.ndarray]
Design = Callable[[dict[str, Any]], np.ndarray]  # a training part's components -> test probabilities


def corpus() -> tuple[list[LabelledPaper], np.ndarray]:
    papers = training_corpus()
    shipped = read()
    found = shipped.lookup(hashlib.sha256(p.text.encode()).hexdigest() for p in papers)
    return papers, np.array([found[hashlib.sha256(p.text.encode()).hexdigest()] for p in papers],
                            dtype=np.float32)


def months(papers: Sequence[LabelledPaper], start: str, end: str, pool: Sequence[int]) -> list[Split]:
    bounds, (year, month) = [], (int(start[:4]), int(start[5:7]))
    while f"{year:04d}-{month:02d}-01" < end:
        bounds.append(f"{year:04d}-{month:02d}-01")
        year, month = year + month // 12, month % 12 + 1
    out = []
    for low, high in zip(bounds, [*bounds[1:], end], strict=True):
        train = [i for i in pool if papers[i].published is None or papers[i].published < low]
        test = [i for i in pool if papers[i].source in RUBRIC_SOURCES and papers[i].published
                and low <= papers[i].published < high]
        if test:
            out.append((low[:7], np.array(train), np.array(test)))
    return out


def judges(papers: Sequence[LabelledPaper], forward: bool) -> dict[str, list[Split]]:
    from sklearn.model_selection import StratifiedKFold

    before = np.array([i for i, p in enumerate(papers) if p.published is None or p.published < SELECTION_END])
    labels = [papers[i].label.value for i in before]
    folds = StratifiedKFold(5, shuffle=True, random_state=0).split(before, labels)
    out = {"selection, monthly from 2025-09": months(papers, "2025-09-01", SELECTION_END, list(before)),
           "selection, 5-fold CV": [(f"fold {k}", before[fit], np.array(
               [i for i in before[held] if papers[i].source in RUBRIC_SOURCES])) for k, (fit, held) in
               enumerate(folds)]}
    if forward:
        out["forward, monthly from 2026-02"] = months(papers, "2026-02-01", "2026-05-01", range(len(papers)))
    return out


def logistic(c: float, balanced: bool) -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(C=c, class_weight="balanced" if balanced else None, max_iter=5000)


def embedding_scores(fit_v: np.ndarray, labels: np.ndarray, weights: np.ndarray,
                     v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Relevance log-odds and section log-probabilities of a logistic regression on the embedding."""
    relevant = labels != Label.IRRELEVANT.value
    log_odds = logistic(1.0, True).fit(fit_v, relevant, sample_weight=weights).decision_function(v)
    model = logistic(10.0, True).fit(fit_v[relevant], labels[relevant], sample_weight=weights[relevant])
    sections = np.full((len(v), len(SECTIONS)), np.log(1e-6))
    for column, label in enumerate(model.classes_):
        sections[:, SECTIONS.index(LABEL_VALUES.index(label))] = np.log(
            np.maximum(model.predict_proba(v)[:, column], 1e-6))
    return log_odds, sections


def components(papers: Sequence[LabelledPaper], vectors: np.ndarray, train: np.ndarray,
               test: np.ndarray) -> dict[str, Any]:
    """Out-of-fold scores of the training part (the calibration folds) and full-fit scores of the test."""
    from sklearn.model_selection import StratifiedKFold

    fit_papers = [papers[i] for i in train]
    labels = np.array([rubric_label(p) for p in fit_papers])
    vocabulary, counts = count_terms([p.text for p in fit_papers])
    terms = term_matrix([(p.title, p.abstract) for p in fit_papers])
    weights = np.array([p.weight for p in fit_papers]) * recency_factors(fit_papers)
    v = vectors[train]
    svm, rel, sec = np.zeros((len(train), 5)), np.zeros(len(train)), np.zeros((len(train), 4))
    folds = list(StratifiedKFold(3, shuffle=True, random_state=0).split(v, labels))
    for fit, held in folds:
        svm[held] = fit_learner(counts[fit], v[fit], terms[fit], labels[fit], weights[fit], 0).scores(
            counts[held], v[held], terms[held])
        rel[held], sec[held] = embedding_scores(v[fit], labels[fit], weights[fit], v[held])
    test_papers = [papers[i] for i in test]
    learner = fit_learner(counts, v, terms, labels, weights, 0)
    test_counts = vocabulary.transform([p.text for p in test_papers])
    test_terms = term_matrix([(p.title, p.abstract) for p in test_papers])
    test_svm = learner.scores(test_counts, vectors[test], test_terms)
    test_rel, test_sec = embedding_scores(v, labels, weights, vectors[test])
    return {"svm": svm, "rel": rel, "sec": sec, "labels": labels, "weights": weights,
            "rubric": np.array([p.source in RUBRIC_SOURCES for p in fit_papers]), "test_svm": test_svm,
            "test_rel": test_rel, "test_sec": test_sec, "train": fit_papers, "test": test_papers,
            "folds": folds, "counts": counts, "terms": terms, "v": v, "test_counts": test_counts,
            "test_terms": test_terms, "test_v": vectors[test],
            "secondary": np.array([p.secondary.value if p.secondary else "" for p in fit_papers])}


def shipped_scores(c: dict[str, Any]) -> np.ndarray:
    truth = np.array([LABEL_VALUES.index(label) for label in c["labels"][c["rubric"]]])
    best, bias = -1.0, 0.0
    for shift in sorted(OLD_BIAS_GRID, key=abs):
        scores = c["svm"][c["rubric"]].copy()
        scores[:, IRRELEVANT_COLUMN] += shift
        predicted, relevant = scores.argmax(1) != IRRELEVANT_COLUMN, truth != IRRELEVANT_COLUMN
        tp, wrong = int(np.sum(predicted & relevant)), int(np.sum(predicted != relevant))
        f1 = 2 * tp / (2 * tp + wrong) if tp else 0.0
        if f1 > best + 1e-9:
            best, bias = f1, float(shift)
    out = c["test_svm"].copy()
    out[:, IRRELEVANT_COLUMN] += bias
    return out


def fit_bias(log_odds: np.ndarray, sections: np.ndarray, labels: np.ndarray, rubric: np.ndarray) -> float:
    """The shift of the relevance log-odds that maximises relevance F1 of the argmax of ``joint`` on the
    out-of-fold rubric-read rows (the smallest on ties)."""
    truth = labels[rubric] != Label.IRRELEVANT.value
    best, bias = -1.0, 0.0
    for shift in sorted(np.round(np.arange(-2.0, 2.0001, 0.1), 2), key=abs):
        predicted = joint(log_odds[rubric] + shift, sections[rubric]).argmax(1) != IRRELEVANT_COLUMN
        tp, wrong = int(np.sum(predicted & truth)), int(np.sum(predicted != truth))
        f1 = 2 * tp / (2 * tp + wrong) if tp else 0.0
        if f1 > best + 1e-9:
            best, bias = f1, float(shift)
    return bias


def section_model(inputs: np.ndarray, c: dict[str, Any]) -> Any:
    relevant = c["labels"] != Label.IRRELEVANT.value
    return logistic(1.0, True).fit(inputs[relevant], c["labels"][relevant],
                                   sample_weight=c["weights"][relevant])


def section_probs(model: Any, inputs: np.ndarray) -> np.ndarray:
    out = np.zeros((len(inputs), len(SECTIONS)))
    for column, label in enumerate(model.classes_):
        out[:, SECTIONS.index(LABEL_VALUES.index(label))] = model.predict_proba(inputs)[:, column]
    return out


def joint(log_odds: np.ndarray, sections: np.ndarray) -> np.ndarray:
    relevant = 1 / (1 + np.exp(-np.clip(log_odds, -50, 50)))
    out = np.zeros((len(sections), 5))
    out[:, SECTIONS], out[:, IRRELEVANT_COLUMN] = relevant[:, None] * sections, 1 - relevant
    return out


def stacked(with_embedding_sections: bool = False, threshold_rule: bool = False) -> Design:
    def design(c: dict[str, Any]) -> np.ndarray:
        def rel_in(svm: np.ndarray, rel: np.ndarray) -> np.ndarray:
            return np.column_stack([svm[:, SECTIONS].max(1) - svm[:, IRRELEVANT_COLUMN], rel])

        def sec_in(svm: np.ndarray, sec: np.ndarray) -> np.ndarray:
            return np.column_stack([svm[:, SECTIONS], sec]) if with_embedding_sections else svm[:, SECTIONS]

        relevance = logistic(1.0, False).fit(rel_in(c["svm"], c["rel"]), c["labels"] != "irrelevant",
                                             sample_weight=c["weights"])
        sections = section_model(sec_in(c["svm"], c["sec"]), c)
        held = section_probs(sections, sec_in(c["svm"], c["sec"]))
        bias = fit_bias(relevance.decision_function(rel_in(c["svm"], c["rel"])),
                        np.ones_like(held) if threshold_rule else held, c["labels"], c["rubric"])
        log_odds = relevance.decision_function(rel_in(c["test_svm"], c["test_rel"])) + bias
        probs = section_probs(sections, sec_in(c["test_svm"], c["test_sec"]))
        if not threshold_rule:
            return joint(log_odds, probs)
        out = np.zeros((len(probs), 5))  # relevant when P(relevant) > 1/2, then the likeliest section
        out[:, SECTIONS], out[:, IRRELEVANT_COLUMN] = probs * (log_odds > 0)[:, None] + 1e-9, log_odds <= 0
        return out
    return design


def shipped_relevance(section: Design) -> Design:
    def design(c: dict[str, Any]) -> np.ndarray:
        relevant = shipped_scores(c).argmax(1) != IRRELEVANT_COLUMN
        out = np.zeros((len(relevant), 5))
        out[:, SECTIONS] = section(c) * relevant[:, None] + 1e-9
        out[:, IRRELEVANT_COLUMN] = ~relevant
        return out
    return design


def combiner_sections(c: dict[str, Any]) -> np.ndarray:
    return section_probs(section_model(c["svm"][:, SECTIONS], c), c["test_svm"][:, SECTIONS])


def tfidf_sections(c: dict[str, Any]) -> np.ndarray:
    import scipy.sparse as sp
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    relevant = [p for p, label in zip(c["train"], c["labels"], strict=True) if label != "irrelevant"]
    texts = [p.text for p in relevant]
    vectorizers = [TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True).fit(texts),
                   TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), min_df=2,
                                   sublinear_tf=True).fit(texts)]

    def features(rows: Sequence[LabelledPaper]) -> Any:
        return sp.hstack([vec.transform([p.text for p in rows]) for vec in vectorizers], format="csr")

    svm = LinearSVC(class_weight="balanced", random_state=0).fit(
        features(relevant), [label for label in c["labels"] if label != "irrelevant"])
    raw, out = svm.decision_function(features(c["test"])), np.full((len(c["test"]), 4), -10.0)
    for column, label in enumerate(svm.classes_):
        out[:, SECTIONS.index(LABEL_VALUES.index(label))] = raw[:, column]
    return np.asarray(out == out.max(1, keepdims=True), dtype=np.float64)


DESIGNS: dict[str, Design] = {
    "shipped": shipped_scores,
    "stacked": stacked(),
    "stacked, threshold rule": stacked(threshold_rule=True),
    "stacked + embedding sections": stacked(with_embedding_sections=True),
    "shipped relevance + section combiner": shipped_relevance(combiner_sections),
    "shipped relevance + TF-IDF section SVM": shipped_relevance(tfidf_sections),
    **{name: spec_design(spec, shipped_scores) for name, spec in SPECS.items()},
}
DEFAULT = [*list(DESIGNS)[:6], *LOOKED_AT]  # the designs run unless --designs names others


def report(name: str, results: dict[str, Metrics]) -> None:
    print(f"\n{name}: {next(iter(results.values())).n} papers")
    print(f"{'':40} {'relevance F1':>20} {'section accuracy':>20} {'macro-F1':>20}")
    for design, m in results.items():
        values = (m.relevance.f1, m.section_accuracy, m.macro_f1)
        cells = [f"{value:.3f} ({m.interval[f][0]:.2f}-{m.interval[f][1]:.2f})"
                 for value, f in zip(values, FIGURES, strict=True)]
        print(f"{design:40} " + " ".join(f"{cell:>20}" for cell in cells))
    for other, lead in next(iter(results.values())).lead.items():
        print(f"  shipped's lead over {other}: " + ", ".join(
            f"{f} {low:+.3f}..{high:+.3f}" for f, (low, high) in lead.items()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--forward", action="store_true", help="also score the 2026 months (once)")
    parser.add_argument("--designs", nargs="*", default=DEFAULT, choices=list(DESIGNS), metavar="DESIGN",
                        help="the designs to run besides shipped (default: the table's; any of "
                             "model_designs.SPECS)")
    args = parser.parse_args()
    run_judges({name: DESIGNS[name] for name in ["shipped", *args.designs]}, args.forward)


def run_judges(designs: dict[str, Design], forward: bool, prefix: str = "", timed: bool = False) -> None:
    """Score each design on each judge whose name starts with ``prefix`` (with ``forward``, the 2026 months
    too) and print the figures; with ``timed``, a line per split with its time."""
    papers, vectors = corpus()
    for name, splits in judges(papers, forward).items():
        if not name.startswith(prefix):
            continue
        scored: list[LabelledPaper] = []
        labels: dict[str, list[Label]] = {design: [] for design in designs}
        for split, train, test in splits:
            start = time.perf_counter()
            _FITS.clear()  # the fits are keyed by id(labels): a freed split's id may come back
            parts = components(papers, vectors, train, test)
            scored += parts["test"]
            for design, predict in designs.items():
                labels[design] += [Label(LABEL_VALUES[i]) for i in predict(parts).argmax(1)]
            if timed:
                print(f"{name} {split}: {len(test)} papers, {time.perf_counter() - start:.0f} s", flush=True)
        report(name, score_predictions(scored, labels))


if __name__ == "__main__":
    main()
