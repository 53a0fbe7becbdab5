"""`paperbot train` and `evaluate` (bot/cli/classifier.py) through the CLI (hashing embedder: plumbing, not
quality; the real model judges classification in tests/classifier/test_model.py)."""

from __future__ import annotations

import json
from pathlib import Path

from classifier.model import CODE_VERSION
from tests.support.cli import HASHING
from tests.support.paths import DEV_FILE, corpus_json_rows


def small_labelled(path: Path, n: int = 40) -> Path:
    rows = [json.loads(line) for line in DEV_FILE.read_text().splitlines()]
    picked = [r for r in rows if r["label"] != "irrelevant"][: n // 2] + \
        [r for r in rows if r["label"] == "irrelevant"][: n // 2]
    path.write_text("".join(json.dumps(r) + "\n" for r in picked))
    return path


def test_evaluate_prints_every_metric_for_paperbot_and_both_baselines(invoke, cli_env: Path) -> None:  # type: ignore[no-untyped-def]
    (cli_env / "paperbot.toml").write_text(HASHING)
    data = small_labelled(cli_env / "labelled.jsonl")
    result = invoke("evaluate", "--data", str(data))
    assert result.exit_code == 0, result.output
    header = result.output.splitlines()[1].split()
    assert header == ["paperbot", "keywords", "tfidf-svm"]
    for metric in ("relevance precision", "relevance recall", "relevance F1", "section accuracy", "macro-F1",
                   "F1 distillation", "F1 pruning", "F1 quantization", "F1 other", "F1 irrelevant",
                   "confusion matrix, paperbot", "95% intervals (1000 bootstrap resamples of the ",
                   "paperbot's lead, 95% interval"):
        assert metric in result.output
    levels = sorted({json.loads(line)["confidence"] for line in data.read_text().splitlines()})
    assert levels == ["high", "low"]  # dev.jsonl says how sure its labeller was: figures for each level
    for level in levels:
        assert f"papers labelled with {level} confidence (" in result.output
    figures = json.loads(invoke("evaluate", "--data", str(data), "--json").output)
    assert set(figures) == {"paperbot", "keywords", "tfidf-svm"}
    assert 0.0 <= figures["paperbot"]["relevance"]["f1"] <= 1.0
    assert set(figures["paperbot"]["by_confidence"]) == {"high", "low"}
    low, high = figures["paperbot"]["interval_95"]["relevance_f1"]
    assert 0.0 <= low <= figures["paperbot"]["relevance"]["f1"] <= high <= 1.0
    assert set(figures["paperbot"]["lead_95"]) == {"keywords", "tfidf-svm"}


def test_evaluate_reports_bad_rows_by_line(invoke, cli_env: Path) -> None:  # type: ignore[no-untyped-def]
    (cli_env / "paperbot.toml").write_text(HASHING)
    data = small_labelled(cli_env / "labelled.jsonl", 10)
    with data.open("a") as handle:
        handle.write("{not json\n")
        handle.write(json.dumps({"title": "", "abstract": "x", "label": "pruning"}) + "\n")
        handle.write('{"title": "Sparse DiT", "label": "pruning", "weight": NaN}\n')
    result = invoke("evaluate", "--data", str(data))
    assert result.exit_code == 0
    assert "labelled.jsonl: line 11: " in result.output and "labelled.jsonl: line 12: " in result.output
    assert "labelled.jsonl: line 13: weight must be a positive number, not nan" in result.output


def test_train_holds_out_the_papers_published_from_a_date(invoke, cli_env: Path) -> None:  # type: ignore[no-untyped-def]
    (cli_env / "paperbot.toml").write_text(HASHING)
    rows = corpus_json_rows()
    later = [r for r in rows if (r.get("published") or "0")[:10] >= "2025-09-01"]
    result = invoke("train", "--holdout-from", "2025-09", "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["holdout_from"] == "2025-09-01"
    assert figures["trained_on"] == len(rows) - len(later)
    assert figures["scored"] == sum(r["label_source"] == "annotated" for r in later) > 0
    assert set(figures["results"]) == {"paperbot", "keywords", "tfidf-svm"}
    assert figures["results"]["paperbot"]["n"] == figures["scored"]
    for args, message in [(["--holdout-from", "2025-13"], "'2025-13' is not a date"),
                          (["--holdout-from", "2025-09", "--seeds", "2"], "replaces cross-validation"),
                          (["--holdout-from", "2025-09", "--folds", "3"], "replaces cross-validation")]:
        wrong = invoke("train", *args)
        assert wrong.exit_code == 2 and message in wrong.output, wrong.output
    too_late = invoke("train", "--holdout-from", "2031-01-01")
    assert too_late.exit_code == 1 and "no labelled paper to score was published on or after 2031-01-01" in \
        too_late.output
    alone = invoke("train", "--monthly")
    assert alone.exit_code == 2 and "--monthly needs --holdout-from" in alone.output


def test_train_monthly_retrains_month_by_month(invoke, cli_env: Path) -> None:  # type: ignore[no-untyped-def]
    (cli_env / "paperbot.toml").write_text(HASHING)
    rows = corpus_json_rows()
    scored = [r for r in rows
              if r["label_source"] == "annotated" and (r.get("published") or "0") >= "2026-03"]
    result = invoke("train", "--holdout-from", "2026-03", "--monthly", "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    months = figures["months"]
    assert [m["start"] for m in months] == ["2026-03-01", "2026-04-01"]
    assert [m["scored"] for m in months] == [sum(r["published"][:7] == month for r in scored)
                                            for month in ("2026-03", "2026-04")]
    assert months[1]["trained_on"] == months[0]["trained_on"] + months[0]["scored"] + sum(
        r["label_source"] != "annotated" and (r.get("published") or "0")[:7] == "2026-03" for r in rows)
    assert figures["scored"] == len(scored) == figures["results"]["paperbot"]["n"]
    text = invoke("train", "--holdout-from", "2026-04", "--monthly").output  # one month: the same window
    assert f"  2026-04: trained on {months[1]['trained_on']}, scored {months[1]['scored']}" in text
    assert "1 month pooled" in text and "paperbot's lead, 95% interval" in text


def test_train_reports_cross_validation_for_each_fold_seed(invoke, cli_env: Path) -> None:  # type: ignore[no-untyped-def]
    (cli_env / "paperbot.toml").write_text(HASHING)
    result = invoke("train", "--folds", "2", "--seeds", "2", "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["model_version"].startswith(f"{CODE_VERSION}@")
    assert figures["training_papers"] == len(corpus_json_rows()) and figures["training_seconds"] > 0
    assert set(figures["cross_validated"]) == {"paperbot", "keywords", "tfidf-svm"}
    assert set(figures["by_seed"]) == {"0", "1"}
    assert figures["by_seed"]["0"] == figures["cross_validated"]  # the report is fold seed 0's
    scored = figures["cross_validated"]["paperbot"]["n"]
    assert scored == sum(row.get("label_source") == "annotated" for row in corpus_json_rows())
    assert figures["by_seed"]["1"]["paperbot"]["n"] == scored


JUDGE_BAND = "[judge]\nband_low = 0.0\nband_high = 1.0\nmax_papers_per_run = 5\n"  # every paper in the band


def truth_answers(data: Path, path: Path) -> Path:
    """The reference labels of ``data`` as recorded answers: a judge that is always right."""
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    path.write_text("".join(json.dumps({"arxiv_id": r["arxiv_id"], "label": r["label"]}) + "\n"
                            for r in rows if r.get("arxiv_id")))
    return path


def correct(figures: dict) -> int:  # type: ignore[type-arg]
    return sum(row[i] for i, row in enumerate(figures["confusion"]["rows_true_columns_predicted"]))


def test_evaluate_scores_the_hybrid_from_recorded_answers(invoke, cli_env: Path) -> None:  # type: ignore[no-untyped-def]
    (cli_env / "paperbot.toml").write_text(HASHING + JUDGE_BAND)
    data = small_labelled(cli_env / "labelled.jsonl")
    answers = truth_answers(data, cli_env / "answers.jsonl")
    result = invoke("evaluate", "--data", str(data), "--judge-answers", str(answers), "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert list(figures["results"]) == ["paperbot+judge", "paperbot", "keywords", "tfidf-svm"]
    judge = figures["judge"]
    assert judge["classified"] == 40 and judge["in_band"] == 40 and judge["asked"] == 5
    assert judge["over_cap"] == 35 and judge["asked_share"] == 0.125 and judge["band"] == [0.0, 1.0]
    assert judge["answered"] == 5 and judge["unanswered"] == 0 and judge["recorded"] == 40
    hybrid, local = figures["results"]["paperbot+judge"], figures["results"]["paperbot"]
    assert judge["changed"] >= 1  # the five least confident papers hold a mistake to correct
    assert correct(hybrid) == correct(local) + judge["changed"]  # each changed label is now right
    # no answers for the papers asked: they keep the local label, and the output says so
    (cli_env / "few.jsonl").write_text('{"arxiv_id": "0000.00000", "label": "other"}\n')
    text = invoke("evaluate", "--data", str(data), "--judge-answers", str(cli_env / "few.jsonl")).output
    assert text.splitlines()[1].split() == ["paperbot+judge", "paperbot", "keywords", "tfidf-svm"]
    assert "paperbot+judge's lead, 95% interval" in text
    assert ("paperbot+judge (1 recorded answers): asked about 5 of the 40 papers classified (12.5%): 40 with "
            "P(relevant) in 0.00-1.00 or a label under 0.62, at most 5 and 15% a set (35 over the cap); "
            "0 had a recorded answer (0 changed the label), 5 had none and kept the local label") in text


def test_bad_recorded_answers_are_one_error_line(invoke, cli_env: Path) -> None:  # type: ignore[no-untyped-def]
    (cli_env / "paperbot.toml").write_text(HASHING)
    data = small_labelled(cli_env / "labelled.jsonl", 4)
    for second, message in [("{oops", "line 2: invalid JSON: "),
                            ('{"arxiv_id": "2601.00002", "label": "caching"}', "line 2: label 'caching' is "
                                                                               "not one of distillation")]:
        answers = cli_env / "answers.jsonl"
        answers.write_text('{"arxiv_id": "2601.00001", "label": "pruning"}\n' + second + "\n")
        result = invoke("evaluate", "--data", str(data), "--judge-answers", str(answers))
        assert result.exit_code == 1 and f"{answers}: {message}" in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
    wrong = invoke("train", "--judge-answers", str(answers))
    assert wrong.exit_code == 2 and "--judge-answers goes with --holdout-from" in wrong.output


def test_train_monthly_scores_the_hybrid_on_each_month(invoke, cli_env: Path) -> None:  # type: ignore[no-untyped-def]
    (cli_env / "paperbot.toml").write_text(HASHING + JUDGE_BAND)
    rows = [r for r in corpus_json_rows() if r["label_source"] == "annotated"
            and (r.get("published") or "0") >= "2026-04"]
    answers = cli_env / "answers.jsonl"
    answers.write_text("".join(json.dumps({"arxiv_id": r["arxiv_id"], "label": r["label"]}) + "\n"
                               for r in rows))
    result = invoke("train", "--holdout-from", "2026-04", "--monthly", "--judge-answers", str(answers),
                    "--json")
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)
    assert figures["judge"]["asked_by_set"] == [5] and figures["judge"]["classified"] == len(rows)
    assert figures["results"]["paperbot+judge"]["n"] == figures["results"]["paperbot"]["n"] == len(rows)
    assert correct(figures["results"]["paperbot+judge"]) == \
        correct(figures["results"]["paperbot"]) + figures["judge"]["changed"]
