"""``paperbot train`` and ``paperbot evaluate``: how good the classifier is, beside two baselines."""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

from bot.cli import App, pass_app


def _contenders(head=None):  # type: ignore[no-untyped-def]
    from functools import partial

    from classifier.baselines import BASELINES
    from classifier.model import paperbot_predictor

    return {"paperbot": partial(paperbot_predictor, head=head), **BASELINES}


@click.command("train")
@click.option("--folds", default=5, show_default=True, type=click.IntRange(2, 20),
              help="Cross-validation folds.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@pass_app
def train_cmd(app: App, folds: int, as_json: bool) -> None:
    """Fit the classifier on the labelled corpus and the maintainers' decisions; print a per-label report.

    The report is cross-validated (stratified, seeded) and scores the papers read against the rubric,
    beside two baselines trained on the same folds: keyword rules on titles, and TF-IDF + linear SVM.
    With the tuned encoder (the default) the folds score the fast model on top of it alone, since the
    encoder was tuned on every fold's papers; `paperbot evaluate` scores the whole on held-out papers.

    \b
    Example:
        paperbot train
    """
    from bot import pipeline
    from classifier.evaluate import cross_validate, render_json, render_text

    embedder = pipeline.make_embedder(app.settings)
    examples = pipeline.training_examples(app.engine)
    vectors = pipeline.text_vectors(app.engine, embedder, [e.text for e in examples])
    started = time.perf_counter()
    model = pipeline.fit(app.settings, examples, vectors, embedder)
    seconds = time.perf_counter() - started
    tuned = model.head is not None
    # Tuned vectors have seen every fold's papers: the folds score the fast model without them.
    cv_vectors = vectors[:, :0] if tuned else vectors
    results = cross_validate(_contenders(), examples, cv_vectors, folds=folds,
                             seed=app.settings.classifier.seed)
    if tuned:
        results = {("paperbot (fast model)" if name == "paperbot" else name): metrics
                   for name, metrics in results.items()}
    if as_json:
        figures = {"model_version": model.version, "training_papers": model.n_train,
                   "training_seconds": round(seconds, 2), "cross_validated": render_json(results)}
        click.echo(json.dumps(figures, indent=2))
        return
    click.echo(render_text(results, title=f"{folds}-fold cross-validation on the training data "
                                          "(papers read against the rubric are scored)"))
    click.echo(f"\nmodel {model.version}: {model.n_train} training papers, fitted in {seconds:.1f} s")


@click.command("evaluate")
@click.option("--data", "data_path", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Labelled papers (JSONL: title, abstract, label) never trained on.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
@pass_app
def evaluate_cmd(app: App, data_path: Path, as_json: bool) -> None:
    """Score paperbot and two baselines on a labelled file: relevance P/R/F1, section accuracy, macro-F1,
    per-label F1 and confusion matrices, side by side.

    Papers of the file are removed from the training data first (by arXiv id and title).

    \b
    Example:
        paperbot evaluate --data dev.jsonl
    """
    from bot import pipeline
    from bot.errors import ClassifierError
    from bot.titles import normalize_title
    from classifier.corpus import load_jsonl
    from classifier.evaluate import compare, render_json, render_text

    test, errors = load_jsonl(data_path)
    for error in errors:
        click.echo(f"{data_path}: {error}; skipped", err=True)
    if not test:
        raise ClassifierError(f"{data_path} has no readable labelled papers")
    held_ids = {p.arxiv_id for p in test if p.arxiv_id}
    held_titles = {normalize_title(p.title) for p in test}

    def held_out(paper) -> bool:  # type: ignore[no-untyped-def]
        return paper.arxiv_id in held_ids or normalize_title(paper.title) in held_titles

    embedder = pipeline.make_embedder(app.settings, held_out=held_out)  # never tuned on the test papers
    train = [e for e in pipeline.training_examples(app.engine) if not held_out(e)]
    train_vectors = pipeline.text_vectors(app.engine, embedder, [e.text for e in train])
    test_vectors = pipeline.text_vectors(app.engine, embedder, [p.text for p in test])
    results = compare(_contenders(getattr(embedder, "head", None)), train, train_vectors, test, test_vectors)
    if as_json:
        click.echo(json.dumps(render_json(results), indent=2))
        return
    click.echo(render_text(results, title=f"{data_path.name}: {len(test)} papers, trained on {len(train)}"))


@click.command("tune")
@pass_app
def tune_cmd(app: App) -> None:
    """Fine-tune the sentence encoder on the labelled corpus now, unless it is cached already.

    Classification does this by itself the first time it needs it; this command does it up front, with a
    progress bar (the cron workflow runs it after restoring the cache). It takes minutes on a CPU and
    happens once per corpus: the encoder is kept under classifier.tuned_dir, one folder per corpus.

    \b
    Example:
        paperbot tune
    """
    from bot import pipeline
    from bot.cli_pipeline import progress_bar
    from bot.errors import BotError

    embedder = pipeline.make_embedder(app.settings)
    if not hasattr(embedder, "ensure"):
        raise BotError(f"classifier.embedding_model is {embedder.name}: there is nothing to tune")
    cached = embedder.ready
    started = time.perf_counter()
    with progress_bar("tuning", unit="steps") as progress:
        embedder.ensure(progress=progress)
    took = "" if cached else f" in {time.perf_counter() - started:.0f} s"
    click.echo(f"{embedder.name}: {'already tuned' if cached else 'tuned'}{took} ({embedder.directory})")


COMMANDS: list[click.Command] = [train_cmd, evaluate_cmd, tune_cmd]
