"""``paperbot db …``: the database's schema (upgrade, downgrade), its health (check) and its snapshot on
the state branch (push, pull)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from bot.cli.app import App, pass_app

SNAPSHOT_FILE = "paperbot.db"


@click.group("db")
def db_group() -> None:
    """Manage the paper database: migrate, check, snapshot.

    \b
    Example:
        paperbot db upgrade
    """


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target Alembic revision.")
@pass_app
def db_upgrade(app: App, revision: str) -> None:
    """Migrate the database schema (also done automatically on first use).

    \b
    Example:
        paperbot --db sqlite:///papers.db db upgrade
    """
    from db.session import current_revision, make_engine, upgrade

    engine = make_engine(app.settings.database_url)
    before = current_revision(engine)
    upgrade(engine, revision)
    after = current_revision(engine)
    click.echo(f"database at revision {after}" + ("" if before == after else f" (was {before or 'empty'})"))


@db_group.command("downgrade")
@click.argument("revision")
@pass_app
def db_downgrade(app: App, revision: str) -> None:
    """Migrate the schema back to REVISION (``base`` drops every table).

    \b
    Example:
        paperbot db downgrade 0004
    """
    from db.session import current_revision, downgrade, make_engine

    engine = make_engine(app.settings.database_url)
    downgrade(engine, revision)
    click.echo(f"database at revision {current_revision(engine) or 'base'}")


@db_group.command("check")
@pass_app
def db_check(app: App) -> None:
    """Check the database: integrity, foreign keys, search index (a SQLite file), schema revision.

    \b
    Example:
        paperbot db check
    """
    from bot.core.files import sqlite_file
    from bot.core.secrets import mask_url
    from db.session import current_revision, head_revision, known_revisions, make_engine
    from db.snapshot import check, sqlite_path

    url = app.settings.database_url
    path: Path | str = sqlite_path(url) if sqlite_file(url) is not None else mask_url(url)
    problems = check(path) if isinstance(path, Path) else []  # PostgreSQL checks its own pages
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
    publisher = app.publisher()
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
    publisher = app.publisher(repo)
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


COMMANDS: list[click.Command] = [db_group]
