"""Pipeline commands: ``fetch``, ``embed``, ``classify``, ``train``, ``evaluate``, ``render``, ``run``."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import click

from bot.cli import App, pass_app


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

    bar = tqdm(desc=description, unit=f" {unit}", file=sys.stderr, leave=False)

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
    from bot import pipeline

    with progress_bar("arXiv") as progress:
        outcome = pipeline.fetch(app.settings, app.engine, since=since, until=until, progress=progress)
    click.echo(outcome.summary())


COMMANDS: list[click.Command] = [fetch_cmd]
