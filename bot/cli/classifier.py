"""``paperbot train`` and ``paperbot evaluate``: how good the classifier is, beside two baselines."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from bot.cli.app import App, pass_app
from bot.cli.stages import progress_bar

if TYPE_CHECKING:
    from classifier.evaluate import Predictor
    from classifier.hybrid import Hybrid

HYBRID = "paperbot+judge"  # the local model with the recorded answers of the LLM judge


def _contenders(app: App, answers_path: Path | None) -> tuple[dict[str, Predictor], Hybrid | None]:
    """paperbot and the two baselines; with recorded answers, the hybrid first (its lead is over the local
    model and each baseline), every set trained on once for both."""
    from classifier.evaluate import contenders

    if answers_path is None:
        return contenders(), None
    from classifier.hybrid import Hybrid, LocalPredictions, load_answers

    answers = load_answers(answers_path)
    local, judge = LocalPredictions(), app.settings.judge
    hybrid = Hybrid(local, answers, judge)
    return {HYBRID: hybrid, "paperbot": local.labels,
            **{name: p for name, p in contenders().items() if name != "paperbot"}}, hybrid


def _judge_figures(app: App, hybrid: Hybrid, answers_path: Path) -> dict[str, object]:
    judge = app.settings.judge
    return {"answers": str(answers_path), "recorded": len(hybrid.answers),
            "band": [judge.band_low, judge.band_high], "label_below": judge.label_below,
            "max_asked_per_set": judge.max_papers_per_run, "max_share_per_set": judge.max_share_per_run,
            **hybrid.tally.as_dict()}


def _judge_line(app: App, hybrid: Hybrid | None) -> str:
    if hybrid is None:
        return ""
    judge = app.settings.judge
    return "\n\n" + hybrid.tally.describe(f"{HYBRID} ({len(hybrid.answers)} recorded answers)", judge)


JUDGE_ANSWERS_HELP = ("Also score the hybrid of the local model and the LLM judge from recorded answers "
                      "(JSONL, one verdict a line: arxiv_id, label, optional secondary and reason; what "
                      "`paperbot judge export` writes): the papers the [judge] rule asks about, at most "
                      "max_papers_per_run and max_share_per_run of each scored set, take the answer's label.")


def _iso_month_or_date(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """``YYYY-MM`` or ``YYYY-MM-DD`` -> ``YYYY-MM-DD`` (the first of the month for a month)."""
    from datetime import date

    if value is None:
        return None
    try:
        return date.fromisoformat(value if len(value) != 7 else f"{value}-01").isoformat()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM or YYYY-MM-DD)") from None


@click.command("train")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 20),
              help="Cross-validation folds.")
@click.option("--seeds", default=1, show_default=True, type=click.IntRange(1, 10),
              help="Repeat the cross-validation with this many fold seeds and print each one's figures and "
                   "their mean: a difference smaller than the spread between seeds is noise.")
@click.option("--holdout-from", "holdout", metavar="DATE", callback=_iso_month_or_date,
              help="Instead of cross-validating, train on the papers published before DATE (YYYY-MM or "
                   "YYYY-MM-DD) and score the rubric-read papers published from DATE on: how the model "
                   "does on papers later than any it learned from.")
@click.option("--monthly", is_flag=True,
              help="With --holdout-from: retrain at the start of each month from DATE on and score that "
                   "month's papers, as the bot meets them; the figures pool the months.")
@click.option("--judge-answers", "answers_path", metavar="FILE",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="With --holdout-from: " + JUDGE_ANSWERS_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@pass_app
def train_cmd(app: App, folds: int, seeds: int, holdout: str | None, monthly: bool,
              answers_path: Path | None, as_json: bool) -> None:
    """Fit the classifier on the labelled corpus and the maintainers' decisions; print a per-label report.

    The report is cross-validated (stratified, seeded) and scores the papers read against the rubric,
    beside two baselines trained on the same folds: keyword rules on titles, and TF-IDF + linear SVM.
    With --holdout-from, the report is on the papers published from that date instead, trained on the
    earlier ones; add --monthly to retrain month by month.

    \b
    Example:
        paperbot train
        paperbot train --seeds 3                          # is a change to the model more than noise?
        paperbot train --holdout-from 2025-09             # does it hold up on later papers?
        paperbot train --holdout-from 2025-06 --monthly   # ... on each month's papers, retrained monthly
        paperbot train --holdout-from 2026-02 --monthly --judge-answers verdicts.jsonl
    """
    from bot.pipeline import stages
    from classifier import evaluate, forward
    from classifier.render import render_json, render_seeds, render_text

    given = click.get_current_context().get_parameter_source
    if holdout and (seeds > 1 or given("folds") is ParameterSource.COMMANDLINE):
        raise click.UsageError("--holdout-from replaces cross-validation: leave out --folds and --seeds")
    if monthly and not holdout:
        raise click.UsageError("--monthly needs --holdout-from DATE, the first month to score")
    if answers_path and not holdout:
        raise click.UsageError("--judge-answers goes with --holdout-from DATE (or with evaluate)")
    predictors, hybrid = _contenders(app, answers_path)
    embedder = stages.make_embedder(app.settings)
    examples = stages.training_examples(app.engine)
    with progress_bar("embedding the corpus", unit="texts") as progress:
        vectors = stages.text_vectors(app.engine, embedder, [e.text for e in examples], progress=progress)
    if holdout and monthly:
        months = forward.monthly_from(predictors, examples, vectors, start=holdout)
        if as_json:
            extra = {"judge": _judge_figures(app, hybrid, answers_path)} if hybrid and answers_path else {}
            click.echo(json.dumps({"holdout_from": holdout, "monthly": True,
                                   "months": [dataclasses.asdict(window) for window in months.windows],
                                   "scored": months.scored,
                                   "results": render_json(months.results), **extra}, indent=2))
            return
        click.echo(f"retrained at the start of each month from {holdout} on, scoring that month's "
                   "rubric-read papers:")
        asked = hybrid.tally.asked_by_set if hybrid else []
        for i, window in enumerate(months.windows):
            click.echo(f"  {window.start[:7]}: trained on {window.trained_on}, scored {window.scored}"
                       + (f", the judge asked about {asked[i]}" if i < len(asked) else ""))
        pooled = f"{len(months.windows)} month" + ("s" if len(months.windows) != 1 else "")
        click.echo(render_text(months.results, title=f"\n{pooled} pooled") + _judge_line(app, hybrid))
        return
    if holdout:
        held = forward.holdout_from(predictors, examples, vectors, start=holdout)
        if as_json:
            extra = {"judge": _judge_figures(app, hybrid, answers_path)} if hybrid and answers_path else {}
            click.echo(json.dumps({"holdout_from": holdout, "trained_on": held.trained_on,
                                   "scored": held.scored, "results": render_json(held.results), **extra},
                                  indent=2))
            return
        click.echo(render_text(
            held.results, title=f"trained on the {held.trained_on} papers published before {holdout}, "
                                f"scored on the {held.scored} rubric-read papers published since")
                   + _judge_line(app, hybrid))
        return
    report = evaluate.train_and_cross_validate(evaluate.contenders(), examples, vectors, folds=folds,
                                               seed=app.settings.classifier.seed, seeds=seeds)
    if as_json:
        figures: dict[str, object] = {
            "model_version": report.model_version, "training_papers": report.training_papers,
            "training_seconds": round(report.training_seconds, 2),
            "cross_validated": render_json(report.results)}
        if seeds > 1:
            figures["by_seed"] = {str(seed): render_json(r) for seed, r in report.by_seed.items()}
        click.echo(json.dumps(figures, indent=2))
        return
    click.echo(render_text(
        report.results, title=f"{folds}-fold cross-validation on the training data, fold seed "
                              f"{report.first_seed} (papers read against the rubric are scored)"))
    if seeds > 1:
        click.echo("\n" + render_seeds(report.by_seed))
    click.echo(f"\nmodel {report.model_version}: {report.training_papers} training papers, fitted in "
               f"{report.training_seconds:.1f} s")


@click.command("evaluate")
@click.option("--data", "data_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Labelled papers (JSONL: title, abstract, label) never trained on.")
@click.option("--judge-answers", "answers_path", metavar="FILE",
              type=click.Path(exists=True, dir_okay=False, path_type=Path), help=JUDGE_ANSWERS_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@pass_app
def evaluate_cmd(app: App, data_path: Path, answers_path: Path | None, as_json: bool) -> None:
    """Score paperbot and two baselines on a labelled file: relevance P/R/F1, section accuracy, macro-F1,
    per-label F1 and confusion matrices, side by side, with 95% bootstrap intervals for the headline
    figures and for paperbot's lead over each baseline.

    Papers of the file are removed from the training data first (by arXiv id and title). With
    --judge-answers, the hybrid of the local model and the LLM judge's recorded answers is scored too,
    first, with how many papers it asked about.

    \b
    Example:
        paperbot evaluate --data dev.jsonl
        paperbot evaluate --data dev.jsonl --judge-answers verdicts.jsonl
    """
    from bot.awesome.titles import normalize_title
    from bot.core.errors import ClassifierError
    from bot.pipeline import stages
    from classifier.corpus import load_jsonl
    from classifier.evaluate import compare
    from classifier.render import render_json, render_text

    predictors, hybrid = _contenders(app, answers_path)
    test, errors = load_jsonl(data_path)
    for error in errors:
        click.echo(f"{data_path}: {error}; skipped", err=True)
    if not test:
        raise ClassifierError(f"{data_path} has no readable labelled papers")
    held_ids = {p.arxiv_id for p in test if p.arxiv_id}
    held_titles = {normalize_title(p.title) for p in test}
    embedder = stages.make_embedder(app.settings)
    train = [e for e in stages.training_examples(app.engine)
             if e.arxiv_id not in held_ids and normalize_title(e.title) not in held_titles]
    with progress_bar("embedding the corpus", unit="texts") as progress:
        train_vectors = stages.text_vectors(app.engine, embedder, [e.text for e in train], progress=progress)
    with progress_bar(f"embedding {data_path.name}", unit="texts") as progress:
        test_vectors = stages.text_vectors(app.engine, embedder, [p.text for p in test], progress=progress)
    results = compare(predictors, train, train_vectors, test, test_vectors)
    if as_json:
        figures = render_json(results)
        if hybrid and answers_path:  # the figures by name, as without answers, and what the judge asked
            figures = {"results": figures, "judge": _judge_figures(app, hybrid, answers_path)}
        click.echo(json.dumps(figures, indent=2))
        return
    click.echo(render_text(results, title=f"{data_path.name}: {len(test)} papers, trained on {len(train)}")
               + _judge_line(app, hybrid))


COMMANDS: list[click.Command] = [train_cmd, evaluate_cmd]
