"""Bench: what a judge adds to the local model, replayed from recorded answers: readers, an LLM, the labels.

Run by hand (``python bench/judge_ceiling.py``); not part of the test suite. Reads the shipped corpus and
its vectors; writes nothing (``--write-answers FILE`` writes the second reader's answers as the recorded-
answers JSONL ``paperbot train --judge-answers`` reads); prints its figures. Took 6 minutes on two shared
cores: one training per month, the judges sharing the local model's predictions.

The hybrid is scored as ``paperbot train --holdout-from --monthly --judge-answers`` scores it
(``classifier.hybrid``: the ``[judge]`` asking rule and caps, applied to each month), with
three kinds of recorded answers (a judge with no answer for a judge's papers is left out of its table):

* **second reader**: the label the corpus's second reader gave (``second_reader``, blind to the first; the
  reference label is what the readers settled, ``classifier.corpus.settle_readers``). A judge of a human
  reader's class. The rows that have one are those whose first reader was unsure, so they crowd the papers
  asked about.
* **LLM (recorded)**: an LLM's answers to paperbot's own prompt (``--answers``, by default
  ``bench/data/judge-answers-2026.jsonl``, recorded with ``bench/judge_record.py``; the README says which
  model gave them).
* **perfect**: the reference label itself. No judge can do better under the same rule and cap: the ceiling.

Two forward judges: the months from 2026-02 (``train2026.jsonl``, whose rows say how many read each paper,
``readers``, but carry no second reader's label), and the months of 2025 whose rows carry one.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from bot.core.config import JudgeSettings
from bot.core.models import Prediction
from classifier.corpus import DATA_DIR, RUBRIC_SOURCES, LabelledPaper, training_corpus
from classifier.corpus_vectors import read
from classifier.forward import monthly_from
from classifier.hybrid import Answer, Hybrid, LocalPredictions, load_answers, train_and_predict
from classifier.metrics import Metrics
from db.store import text_hash

PERFECT, READER, LLM = "perfect", "second reader", "LLM (recorded)"
RECORDED = Path(__file__).resolve().parent / "data" / "judge-answers-2026.jsonl"


def readers_2026() -> dict[str, int]:
    """arXiv id -> how many read the paper (``readers`` of train2026.jsonl)."""
    rows = [json.loads(line) for line in (DATA_DIR / "train2026.jsonl").read_text().splitlines() if line]
    return {row["arxiv_id"]: int(row.get("readers") or 1) for row in rows if row.get("arxiv_id")}


def second_reader_answers(papers: Sequence[LabelledPaper]) -> dict[str, Answer]:
    return {p.arxiv_id: Answer(p.second_reader.label, p.second_reader.secondary, "second reader")
            for p in papers if p.arxiv_id and p.second_reader is not None}


def perfect_answers(papers: Sequence[LabelledPaper]) -> dict[str, Answer]:
    return {p.arxiv_id: Answer(p.label, p.secondary, "the reference label") for p in papers if p.arxiv_id}


def vectors_for(papers: Sequence[LabelledPaper]) -> np.ndarray:
    shipped = read()
    found = shipped.lookup(text_hash(p.text) for p in papers)
    missing = [p.title for p in papers if text_hash(p.text) not in found]
    if missing:
        raise SystemExit(f"{len(missing)} corpus texts have no shipped vector (run bench/corpus_vectors.py)")
    return np.stack([found[text_hash(p.text)] for p in papers])


def by_probability(train_part: Sequence[LabelledPaper], train_vectors: np.ndarray,
                   test_part: Sequence[LabelledPaper], test_vectors: np.ndarray) -> list[Prediction]:
    """The local model's predictions without their consensus: the rule then orders by the probability of
    the label alone (``Prediction.sureness``), as before the consensus."""
    return [replace(prediction, consensus=None)
            for prediction in train_and_predict(train_part, train_vectors, test_part, test_vectors)]


def forward(name: str, examples: list[LabelledPaper], vectors: np.ndarray, start: str, end: str | None,
            judge: JudgeSettings, section_doubt: float, recorded: dict[str, Answer],
            probability_order: bool = False) -> None:
    scored = [p for p in examples if p.source in RUBRIC_SOURCES and p.published and p.published >= start
              and (end is None or p.published < end)]
    local = LocalPredictions(by_probability) if probability_order else LocalPredictions()
    ids = {p.arxiv_id for p in scored}
    judges = [(who, answers) for who, answers in
              ((READER, second_reader_answers(scored)),
               (LLM, {key: answer for key, answer in recorded.items() if key in ids}),
               (PERFECT, perfect_answers(scored))) if answers]  # a judge with no answer here is left out
    caps = ((judge.describe_cap("a month"), judge),
            ("no cap", replace(judge, max_papers_per_run=10**9, max_share_per_run=1.0)))
    doubts = (("", 0.0), (f", + sections under {section_doubt:.0%}", section_doubt)) if section_doubt > 0 \
        else (("", 0.0),)
    hybrids = {f"{who}, {cap_name}{doubt_name}":
               Hybrid(local, answers, replace(rule, section_share_below=doubt))
               for who, answers in judges for cap_name, rule in caps for doubt_name, doubt in doubts}
    predictors = {"paperbot (local model)": local.labels, **hybrids}
    months = monthly_from(predictors, examples, vectors, start=start)
    # the band, as the judge would meet it: from the local model's predictions of each month
    in_band = next(iter(hybrids.values())).tally.in_band
    with_reader = sum(p.second_reader is not None for p in scored)
    print(f"\n== {name}: months from {start[:7]}"
          f"{f' to before {end[:7]}' if end else ''}, {months.scored} rubric-read papers scored ==")
    for window in months.windows:
        print(f"  {window.start[:7]}: trained on {window.trained_on}, scored {window.scored}")
    band_ids = next(iter(hybrids.values())).band_ids
    print(f"picked ({judge.describe_rule()}): {in_band} papers "
          f"({in_band / months.scored:.1%}); with a second reader's label: {with_reader} of the "
          f"{months.scored} papers, {sum(1 for p in scored if p.arxiv_id in band_ids and p.second_reader)} "
          "of those picked")
    if name.startswith("2026"):
        read_twice = readers_2026()
        twice = sum(read_twice.get(p.arxiv_id or "", 1) >= 2 for p in scored if p.arxiv_id in band_ids)
        print(f"  (train2026.jsonl: {twice} of the picked papers were read by two or more readers, but the "
              "file keeps only the settled label: no second reader to replay)")
    _table(months.results, hybrids)


def _table(results: dict[str, Metrics], hybrids: dict[str, Hybrid]) -> None:
    width = max(len(name) for name in results) + 2
    print(f"{'':<{width}}{'rel F1':>8}{'sec acc':>9}{'macro-F1':>10}{'asked':>8}{'share':>8}{'no answer':>11}"
          f"{'changed':>9}")
    for name, m in results.items():
        tally = hybrids[name].tally if name in hybrids else None
        tail = (f"{tally.asked:>8}{tally.asked_share:>8.1%}{tally.unanswered:>11}{tally.changed:>9}"
                if tally else f"{'-':>8}{'-':>8}{'-':>11}{'-':>9}")
        print(f"{name:<{width}}{m.relevance.f1:>8.3f}{m.section_accuracy:>9.3f}{m.macro_f1:>10.3f}{tail}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cap", type=int, default=JudgeSettings().max_papers_per_run,
                        help="papers asked at most, per month (the [judge] max_papers_per_run)")
    parser.add_argument("--share", type=float, default=JudgeSettings().max_share_per_run,
                        help="share of a month's papers asked at most (the [judge] max_share_per_run)")
    parser.add_argument("--label-below", type=float, default=JudgeSettings().label_below,
                        help="the [judge] label_below")
    parser.add_argument("--section-doubt", type=float, default=0.0,
                        help="also ask about filed papers whose section holds less than this share of "
                             "P(relevant) (0: the band alone, as the pipeline asks)")
    parser.add_argument("--answers", metavar="FILE", default=str(RECORDED),
                        help="an LLM's recorded answers (JSONL) to score as well ('' for none)")
    parser.add_argument("--probability-order", action="store_true",
                        help="order by the label's probability, not by the views' consensus (the rule before "
                             "it)")
    parser.add_argument("--skip-2025", action="store_true", help="only the 2026 months")
    parser.add_argument("--write-answers", metavar="FILE", help="write the second reader's answers (JSONL)")
    args = parser.parse_args()
    judge = replace(JudgeSettings(), max_papers_per_run=args.cap, max_share_per_run=args.share,
                    label_below=args.label_below)
    examples = training_corpus()
    if args.write_answers:
        with open(args.write_answers, "w", encoding="utf-8") as handle:
            for arxiv_id, answer in sorted(second_reader_answers(examples).items()):
                handle.write(json.dumps({"arxiv_id": arxiv_id, "label": answer.label.value,
                                         "secondary": answer.secondary.value if answer.secondary else None,
                                         "reason": answer.reason}) + "\n")
    vectors = vectors_for(examples)
    print("Recorded answers replayed: 'second reader' is a human reader of the corpus (a reader-class "
          "judge); 'LLM (recorded)' an LLM's answers to the judge's prompt; 'perfect' is the reference label "
          "(the ceiling under the rule and cap).")
    recorded = load_answers(args.answers) if args.answers else {}
    forward("2026 (the forward judge)", examples, vectors, "2026-02-01", None, judge, args.section_doubt,
            recorded, args.probability_order)
    if not args.skip_2025:
        rows = [i for i, p in enumerate(examples) if not p.published or p.published < "2025-11-01"]
        forward("2025 (the months with second readers)", [examples[i] for i in rows], vectors[rows],
                "2025-03-01", "2025-11-01", judge, args.section_doubt, recorded, args.probability_order)


if __name__ == "__main__":
    main()
