"""Operations: ``db check/pull/push``, ``health``, ``feedback`` and ``list status``."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from pathlib import Path

import click

from bot.cli.app import App, pass_app
from bot.cli.db import db_group
from bot.cli.output import emit, output_options

SNAPSHOT_FILE = "paperbot.db"


def _publisher(app: App, repo: str | None = None):  # type: ignore[no-untyped-def]
    from bot.pipeline.run import make_publisher

    return make_publisher(app.settings, repo)


@db_group.command("check")
@pass_app
def db_check(app: App) -> None:
    """Check the database file: integrity, foreign keys, search index, schema revision.

    \b
    Example:
        paperbot db check
    """
    from db.session import current_revision, head_revision, known_revisions, make_engine
    from db.snapshot import check, sqlite_path

    path = sqlite_path(app.settings.database_url)
    problems = check(path)
    if not problems:
        revision = current_revision(make_engine(app.settings.database_url))
        if revision is not None and revision not in known_revisions():
            problems.append(f"schema at revision {revision}, newer than this paperbot knows: "
                            "upgrade paperbot")
        elif revision != head_revision():
            problems.append(f"schema at revision {revision}, head is {head_revision()}: run "
                            "`paperbot db upgrade`")
    if problems:
        raise click.ClickException(f"{path}: " + "; ".join(problems))
    click.echo(f"{path}: ok")


@db_group.command("push")
@pass_app
def db_push(app: App) -> None:
    """Snapshot the database (backup API + integrity check) to the state branch on GitHub.

    \b
    Example:
        GITHUB_TOKEN=… GITHUB_REPOSITORY=owner/list paperbot db push
    """
    from db.snapshot import make_snapshot, sqlite_path

    path = sqlite_path(app.settings.database_url)
    with tempfile.TemporaryDirectory() as folder:
        snapshot = make_snapshot(path, Path(folder) / SNAPSHOT_FILE)
        data = snapshot.read_bytes()
    publisher = _publisher(app)
    try:
        sha = publisher.push_snapshot(SNAPSHOT_FILE, data, f"paperbot: database snapshot ({len(data)} bytes)")
    finally:
        publisher.close()
    click.echo(f"pushed {len(data):,} bytes to {app.settings.github.state_branch} ({sha[:7]})")


@db_group.command("pull")
@click.option("--repo", metavar="OWNER/NAME", help="Repository to pull from (default GITHUB_REPOSITORY).")
@click.option("--if-exists", is_flag=True,
              help="A missing or corrupt snapshot is a warning, not an error (the cron's first run).")
@pass_app
def db_pull(app: App, repo: str | None, if_exists: bool) -> None:
    """Download the latest database snapshot from the state branch, check it, and install it.

    The database in place (if any) is kept beside it as *.bak.

    \b
    Example:
        paperbot db pull --repo owner/awesome-list && paperbot show 2501.01234
    """
    from bot.core.errors import BotError
    from db.snapshot import restore, sqlite_path

    path = sqlite_path(app.settings.database_url)
    publisher = _publisher(app, repo)
    try:
        data = publisher.pull_snapshot(SNAPSHOT_FILE)
    finally:
        publisher.close()
    branch = app.settings.github.state_branch

    def without_snapshot(message: str, what: str) -> None:
        if not if_exists:
            raise BotError(message)
        click.echo(f"warning: {message}; {what}: this run rebuilds what is listed and proposed from the "
                   "list and the open pull request", err=True)

    if data is None:
        without_snapshot(f"no snapshot on {branch} yet", "starting without one")
        return
    problems = restore(data, path)
    if problems:
        without_snapshot(f"the snapshot on {branch} is corrupt ({problems[0]})", "not installed")
        return
    click.echo(f"installed the snapshot from {branch} ({len(data):,} bytes) at {path}")


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
        publisher = _publisher(app)
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
        return stages.text_vectors(app.engine, stages.make_embedder(app.settings), texts)

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
@click.option("--retry", is_flag=True, help="Search again for titles arXiv did not find before.")
@output_options
@pass_app
def list_status(app: App, list_path: Path | None, no_search: bool, retry: bool, fmt: str | None) -> None:
    """Resolve every entry of the list to an arXiv paper and report the ones that could not be.

    \b
    Example:
        paperbot list status --list README.md --table
    """
    from bot.awesome import resolve as listing
    from bot.awesome.insert import parse_list

    if list_path is not None:
        try:
            readme = list_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise click.ClickException(f"cannot read {list_path}: {exc}") from None
    else:
        publisher = _publisher(app)
        try:
            readme, _sha = publisher.read_file(app.settings.list.path)
        finally:
            publisher.close()
    resolution = listing.resolve(app.settings, app.engine, parse_list(readme), search=not no_search,
                                 retry_not_found=retry)
    total = len(resolution.entries)
    click.echo(f"{total - len(resolution.unresolved)} of {total} entries resolved to arXiv papers "
               f"({resolution.searched} title searches); unresolved:", err=True)
    emit([{"line": e.line_no, "section": e.section, "title": e.title, "status": e.resolved_by}
          for e in resolution.unresolved], fmt, ["line", "section", "title", "status"])


COMMANDS: list[click.Command] = [health_cmd, feedback_cmd, list_group]
