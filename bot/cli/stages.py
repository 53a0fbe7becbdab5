"""The stage commands ``fetch``, ``embed`` and ``classify``: one stage each of bot/pipeline/stages.py."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click

from bot.cli.app import App, pass_app


class UtcDate(click.ParamType):
    """``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM``, read as UTC."""

    name = "DATE"

    def convert(self, value: object, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"{text!r} is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM)", param, ctx)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@contextmanager
def progress_bar(description: str, unit: str = "papers") -> Iterator[Callable[[int, int | None], None]]:
    """A tqdm bar on a terminal; silent in a pipe or CI log."""
    if not sys.stderr.isatty():
        yield lambda done, total: None
        return
    from tqdm import tqdm

    # shown from the first update on: a stage with nothing to do leaves no bar behind
    bar = tqdm(desc=description, unit=f" {unit}", file=sys.stderr, leave=False, delay=1e-9)

    def update(done: int, total: int | None) -> None:
        if total is not None and bar.total != total:
            bar.total = total
        bar.n = done
        bar.refresh()

    try:
        yield update
    finally:
        bar.close()


@click.command("fetch")
@click.option("--since", type=UtcDate(), help="Backfill from this date (UTC) instead of the watermark.")
@click.option("--until", type=UtcDate(), help="Backfill up to this date (UTC); default now.")
@pass_app
def fetch_cmd(app: App, since: datetime | None, until: datetime | None) -> None:
    """Fetch new arXiv papers matching the configured query into the database.

    Without dates it fetches from the last successful fetch (minus the overlap) to now; the first run
    looks back `arxiv.first_run_days`. With --since/--until it backfills that range and leaves the
    watermark alone.

    \b
    Example:
        paperbot fetch
        paperbot fetch --since 2026-03-01 --until 2026-04-01
    """
    from bot.pipeline import stages

    with progress_bar("arXiv") as progress:
        outcome = stages.fetch(app.settings, app.engine, since=since, until=until, progress=progress)
    click.echo(outcome.summary())


@click.command("embed")
@pass_app
def embed_cmd(app: App) -> None:
    """Embed every paper that has no vector for the configured model yet (computed once per model).

    \b
    Example:
        paperbot embed
    """
    from bot.pipeline import stages

    embedder = stages.make_embedder(app.settings)
    with progress_bar("embedding") as progress:
        done = stages.embed(app.engine, embedder, progress=progress)
    click.echo(f"embedded {done} papers with {embedder.name}")


@click.command("classify")
@click.option("--input", "input_path", type=click.Path(exists=True, dir_okay=False),
              help="Classify the papers in this JSONL file instead of the database.")
@click.option("--output", "output_path", type=click.Path(dir_okay=False, writable=True),
              help="Where file mode writes its predictions (JSONL); default stdout.")
@click.option("--all", "everything", is_flag=True, help="Re-classify every paper in the database.")
@pass_app
def classify_cmd(app: App, input_path: str | None, output_path: str | None, everything: bool) -> None:
    """Classify every unclassified paper in the database, or the papers in a JSONL file.

    File mode reads rows with arxiv_id, title, abstract (may be null), optionally authors and categories,
    and writes arxiv_id, label, probability, probabilities, needs_review, reason. A bad row is reported
    with its line number and skipped.

    With the LLM judge configured (PAPERBOT_LLM_URL), the database mode then asks it about the papers just
    classified that it would ask about, as a run does (same cap, cached verdicts). File mode never asks: its
    papers are not stored, so their verdicts could not be cached, and it is meant to run offline.

    \b
    Example:
        paperbot classify
        paperbot classify --input papers.jsonl --output predictions.jsonl
    """
    from bot.core.errors import BotError
    from bot.pipeline import stages

    if output_path and not input_path:
        raise BotError("--output goes with --input (file mode)")
    if output_path:
        from bot.core.files import check_output

        check_output(Path(output_path), app.settings.database_url)
    embedder = stages.make_embedder(app.settings)
    with progress_bar("embedding the corpus", unit="texts") as progress:
        model = stages.train(app.settings, app.engine, embedder, progress=progress)
    if input_path:
        from classifier.filemode import classify_file

        result = classify_file(input_path, output_path or sys.stdout, model, embedder,
                               app.settings.classifier, progress=True)
        for error in result.errors:
            click.echo(f"{input_path}: {error}; skipped", err=True)
        click.echo(f"classified {result.n_written} papers" + (f" into {output_path}" if output_path else "")
                   + (f"; skipped {len(result.errors)} bad rows" if result.errors else ""), err=True)
        return
    with progress_bar("embedding") as progress:
        predictions = stages.classify(app.settings, app.engine, model, embedder, everything=everything,
                                      progress=progress)
    by_label: dict[str, int] = {}
    review = 0
    for prediction in predictions.values():
        by_label[prediction.label.value] = by_label.get(prediction.label.value, 0) + 1
        review += bool(prediction.needs_review)
    parts = ", ".join(f"{label} {n}" for label, n in sorted(by_label.items()))
    detail = f" ({parts}; {review} need review)" if parts else ""
    click.echo(f"classified {len(predictions)} papers{detail} with model {model.version}")
    if predictions and app.settings.judge.enabled:
        from bot.pipeline.judging import judge_predictions

        outcome = judge_predictions(app.settings, app.engine, predictions)
        click.echo(f"LLM judge: asked about {outcome.asked} papers, {len(outcome.verdicts)} verdicts "
                   f"({outcome.requests} requests); {outcome.cached} had a verdict already")


COMMANDS: list[click.Command] = [fetch_cmd, embed_cmd, classify_cmd]
