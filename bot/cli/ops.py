"""Operations: ``config``, ``runs``, ``health``, ``feedback`` and ``list status``."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import click

from bot.cli.app import App, pass_app
from bot.cli.output import emit, output_options
from bot.cli.stages import progress_bar


@click.command("config")
@pass_app
def config_cmd(app: App) -> None:
    """Print the effective settings as JSON (secrets masked).

    \b
    Example:
        PAPERBOT_DB_URL=sqlite:///other.db paperbot config
    """
    click.echo(json.dumps(app.settings.masked(), indent=2, default=str))


@click.command("runs")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10_000))
@output_options
@pass_app
def runs_cmd(app: App, limit: int, fmt: str | None) -> None:
    """Recent runs: when, which window, what came of it.

    \b
    Example:
        paperbot runs --limit 5 --table
    """
    from dataclasses import asdict

    from db.session import session_scope
    from db.store import recent_runs

    with session_scope(app.engine) as session:
        rows = [asdict(run) for run in recent_runs(session, limit)]
    emit(rows, fmt, ["id", "kind", "status", "started_at", "finished_at", "window_start", "window_end",
                     "fetched", "new", "updated", "skipped", "requests", "error"])


@click.command("health")
@click.option("--alarm", is_flag=True, help="Open (or update) the alarm issue on GitHub when unhealthy, "
                                            "and close it when healthy again.")
@pass_app
def health_cmd(app: App, alarm: bool) -> None:
    """Check that runs succeed and the query finds papers; exit 1 when not.

    Unhealthy: no successful run for 72 hours, or nothing found on 6 consecutive weekdays.

    \b
    Example:
        paperbot health --alarm
    """
    from bot.pipeline.health import ALARM_TITLE, alarm_body, assess
    from db.session import session_scope
    from db.store import runs_since, utcnow

    now = utcnow()
    with session_scope(app.engine) as session:
        runs = runs_since(session, now - timedelta(days=30))
    health = assess(runs, now)
    if alarm:
        publisher = app.publisher()
        try:
            if health.ok:
                closed = publisher.resolve_alarm_issue("Healthy again: " + health.report())
                if closed:
                    click.echo(f"closed alarm issue #{closed}")
            else:
                number = publisher.ensure_alarm_issue(ALARM_TITLE, alarm_body(health, now))
                click.echo(f"alarm raised in issue #{number}")
        finally:
            publisher.close()
    if not health.ok:
        raise click.ClickException(health.report())
    click.echo(health.report())


@click.command("feedback")
@click.option("--scores", is_flag=True,
              help="Also measure how the model moved: its figures on the maintainers' decisions when "
                   "trained without them, and cross-validated with them.")
@output_options
@pass_app
def feedback_cmd(app: App, scores: bool, fmt: str | None) -> None:
    """What the bot learned from the maintainers: merged, moved and rejected proposals.

    \b
    Example:
        paperbot feedback --table
        paperbot feedback --scores
    """
    from db.decisions import proposals
    from db.session import session_scope

    with session_scope(app.engine) as session:
        rows = [{"arxiv_id": p.arxiv_id, "proposed": p.label.value, "decision": p.state,
                 "final": p.final_label.value if p.final_label else None, "pr": p.pr_number,
                 "decided_at": p.decided_at}
                for p in proposals(session) if p.state != "withdrawn"]
    emit(rows, fmt, ["arxiv_id", "proposed", "decision", "final", "pr", "decided_at"])
    if scores:
        click.echo(_score_movement(app), err=True)


def _score_movement(app: App) -> str:
    """Held-out figures on the maintainers' own labels, before and after learning from them."""
    import numpy as np

    from bot.pipeline import stages
    from classifier.feedback import MIN_DECISIONS, MOVEMENT_FOLDS, score_movement
    from classifier.metrics import Metrics
    from db.decisions import MAINTAINER_SOURCES

    def figures(metrics: Metrics) -> str:
        return f"{metrics.relevance.f1:.3f} / {metrics.section_accuracy:.3f} / {metrics.macro_f1:.3f}"

    def vectorise(texts: list[str]) -> np.ndarray:
        with progress_bar("embedding the corpus", unit="texts") as progress:
            return stages.text_vectors(app.engine, stages.make_embedder(app.settings), texts,
                                       progress=progress)

    movement = score_movement(stages.training_examples(app.engine), vectorise,
                              decided_sources=MAINTAINER_SOURCES, seed=app.settings.classifier.seed)
    if movement.before is None or movement.after is None:
        return (f"scores: {movement.decisions} maintainer decisions so far; {MIN_DECISIONS} are needed to "
                "measure anything")
    return (f"scores on the maintainers' {movement.decisions} decisions "
            "(relevance F1 / section accuracy / macro-F1):\n"
            f"  trained without them         {figures(movement.before)}\n"
            f"  learning from them ({MOVEMENT_FOLDS}-fold)  {figures(movement.after)}")


@click.group("list")
def list_group() -> None:
    """The awesome list as the bot knows it.

    \b
    Example:
        paperbot list status --list README.md
    """


@list_group.command("status")
@click.option("--list", "list_path", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Read the list from this file instead of the GitHub repository.")
@click.option("--no-search", is_flag=True, help="Do not ask arXiv about titles without a link.")
@click.option("--retry", is_flag=True, help="Search again for titles arXiv did not find lately "
              "(otherwise a miss is asked again after 14 days).")
@output_options
@pass_app
def list_status(app: App, list_path: Path | None, no_search: bool, retry: bool, fmt: str | None) -> None:
    """Resolve every entry of the list to an arXiv paper and report the ones that could not be.

    \b
    Example:
        paperbot list status --list README.md --table
    """
    from bot.awesome.insert import parse_list
    from bot.pipeline import stages

    if list_path is not None:
        try:
            readme = list_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"cannot read {list_path}: {exc}") from None
    else:
        publisher = app.publisher()
        try:
            readme, _sha = publisher.read_file(app.settings.list.path)
        finally:
            publisher.close()
    with progress_bar("searching arXiv for list titles", unit="titles") as progress:
        resolution = stages.resolve_list(app.settings, app.engine, parse_list(readme), search=not no_search,
                                         retry_not_found=retry, progress=progress)
    total = len(resolution.entries)
    click.echo(f"{total - len(resolution.unresolved)} of {total} entries resolved to arXiv papers "
               f"({resolution.searched} title searches); unresolved:", err=True)
    emit([{"line": e.line_no, "section": e.section, "title": e.title, "status": e.resolved_by}
          for e in resolution.unresolved], fmt, ["line", "section", "title", "status"])


COMMANDS: list[click.Command] = [config_cmd, runs_cmd, health_cmd, feedback_cmd, list_group]
