"""``paperbot run`` (the main job), ``paperbot render`` (the list step alone) and ``paperbot schedule``."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click

from bot.cli.app import App, pass_app
from bot.cli.stages import UtcDate, progress_bar
from bot.core.models import RunReport


def _summary(report: RunReport) -> str:
    text = (f"fetched {report.fetched} / new {report.new} / classified {report.classified} / "
            f"proposed {report.proposed} / needs review {report.needs_review} / "
            f"already listed {report.already_listed}")
    return text + (f" — {report.pr_url}" if report.pr_url else f" — {report.message}")


@click.command("run")
@click.option("--list", "list_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read the awesome list from this file instead of the GitHub repository.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Output folder for the proposed README, PR body, diff and report [paperbot-out].")
@click.option("--open-pr", is_flag=True, help="Publish: open or update the bot's pull request.")
@click.option("--no-fetch", is_flag=True, help="Skip the arXiv fetch; work on the papers already stored.")
@click.option("--since", type=UtcDate(), help="Fetch from this date (UTC) instead of the watermark.")
@click.option("--until", type=UtcDate(), help="Fetch up to this date (UTC).")
@click.option("--quiet", "-q", is_flag=True, help="Print the summary line only, not the diff.")
@click.option("--retry", is_flag=True, help="Search arXiv again for list titles it did not find lately "
              "(otherwise a miss is asked again after 14 days).")
@pass_app
def run_cmd(app: App, list_path: Path | None, out_dir: Path | None, open_pr: bool, no_fetch: bool,
            since: datetime | None, until: datetime | None, quiet: bool, retry: bool) -> None:
    """Run the whole pipeline: fetch, embed, classify, read the list, learn, render, publish.

    A dry run unless --open-pr: it writes README.md, pr-body.md, README.diff and report.json into the
    output folder and prints the diff. Nothing new is a success ("no changes", exit 0).

    \b
    Example:
        paperbot run --list README.md            # dry run against a local copy of the list
        GITHUB_TOKEN=… GITHUB_REPOSITORY=owner/list paperbot run --open-pr
    """
    from bot.pipeline.run import RunOptions, run

    options = RunOptions(out_dir=out_dir or Path(app.settings.out_dir), list_path=list_path,
                         open_pr=open_pr, fetch=not no_fetch, since=since, until=until,
                         retry_not_found=retry, progress=progress_bar)
    outcome = run(app.settings, app.engine, options)
    if outcome.diff and not quiet:
        click.echo(outcome.diff, nl=False)
    click.echo(_summary(outcome.report), err=bool(outcome.diff and not quiet and not sys.stdout.isatty()))


@click.command("render")
@click.option("--list", "list_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              default="README.md", show_default=True, help="The awesome list to add papers to.")
@click.option("--write", is_flag=True, help="Rewrite the file instead of printing the diff.")
@pass_app
def render_cmd(app: App, list_path: Path, write: bool) -> None:
    """Add the classified papers to a local copy of the list: print the diff, or --write it.

    Uses the papers already classified in the database; no GitHub and no arXiv: the list's entries are
    matched by their links and titles.

    \b
    Example:
        paperbot render --list README.md
        paperbot render --list README.md --write
    """
    from bot.awesome.insert import insert_entries, parse_list, render_diff
    from bot.pipeline import stages
    from bot.pipeline.run import candidates

    try:
        readme = list_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"cannot read {list_path}: {exc}") from None
    doc = parse_list(readme)
    resolution = stages.resolve_list(app.settings, app.engine, doc, search=False, hydrate=False)
    additions = candidates(app.settings, app.engine, resolution.listed).additions
    insertion = insert_entries(readme, additions, app.settings.list)
    if write:
        if insertion.readme != readme:
            list_path.write_text(insertion.readme, encoding="utf-8")
        click.echo(f"added {len(insertion.added)} papers to {list_path}")
        return
    diff = render_diff(readme, insertion.readme, str(list_path))
    click.echo(diff if diff else "no changes", nl=not diff)


@click.command("schedule")
@click.option("--cron", default=None, help="Cron expression (default: schedule_cron from the settings).")
@click.option("--once", is_flag=True, help="Run the pipeline now, once, and exit.")
@click.option("--list", "list_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read the awesome list from this file instead of the GitHub repository.")
@click.option("--open-pr", is_flag=True, help="Publish on each run.")
@click.option("--no-fetch", is_flag=True, help="Skip the arXiv fetch in each run.")
@pass_app
def schedule_cmd(app: App, cron: str | None, once: bool, list_path: Path | None, open_pr: bool,
                 no_fetch: bool) -> None:
    """Run the pipeline on a cron schedule (never two at once; Ctrl-C finishes the current run).

    \b
    Example:
        paperbot schedule --cron "37 6 * * *" --list README.md
        paperbot schedule --once --list README.md
    """
    from bot.pipeline.run import RunOptions, run
    from bot.pipeline.schedule import run_scheduled

    settings = app.settings
    engine = app.engine
    options = RunOptions(out_dir=Path(settings.out_dir), list_path=list_path, open_pr=open_pr,
                         fetch=not no_fetch)

    def job() -> str:
        return _summary(run(settings, engine, options).report)

    if once:
        click.echo(job())
        return
    expression = cron or settings.schedule_cron
    from apscheduler.triggers.cron import CronTrigger

    if not expression.startswith("every:"):
        try:
            CronTrigger.from_crontab(expression)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--cron") from None
    stats = run_scheduled(job, expression)
    click.echo(f"stopped after {stats.finished} runs ({stats.failed} failed)")


COMMANDS: list[click.Command] = [run_cmd, render_cmd, schedule_cmd]
