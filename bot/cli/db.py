"""``paperbot db …``: the database's schema (upgrade, downgrade), its health (check) and its snapshot on
the state branch (push, pull)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import click

from bot.cli.app import App, pass_app

SNAPSHOT_FILE = "paperbot.db"
NO_SNAPSHOTS = ("snapshots are for SQLite files; back up a PostgreSQL database with pg_dump "
                "(and restore it with pg_restore)")


def _revision_problems(revision: str | None) -> list[str]:
    """What is wrong with a database's schema revision, for ``db check``: empty when it is at head."""
    from db.session import head_revision, known_revisions

    if revision is None:
        return ["no paperbot schema (alembic_version missing)"]
    if revision not in known_revisions():
        return [f"schema at revision {revision}, newer than this paperbot knows: upgrade paperbot"]
    if revision != head_revision():
        return [f"schema at revision {revision}, head is {head_revision()}: run `paperbot db upgrade`"]
    return []


def _refuse_postgres(url: str, command: str) -> None:
    """``db push`` and ``db pull`` copy a SQLite file: on PostgreSQL they say so and fail."""
    from db.pgread import is_postgres

    if is_postgres(url):
        raise click.ClickException(f"`paperbot db {command}`: {NO_SNAPSHOTS}")


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
    """Check the database: a SQLite file's integrity, foreign keys and search index, and on any database
    that it answers and that its schema revision is this paperbot's head.

    \b
    Example:
        paperbot db check
    """
    from bot.core.secrets import mask_url
    from db.pgread import is_postgres
    from db.session import current_revision, make_engine
    from db.snapshot import check, sqlite_path

    url = app.settings.database_url
    if is_postgres(url):
        name, problems = mask_url(url), []
    else:
        path = sqlite_path(url)
        name, problems = str(path), check(path)
    if not problems:
        engine = make_engine(url)
        try:
            problems = _revision_problems(current_revision(engine))
        finally:
            engine.dispose()
    if problems:
        raise click.ClickException(f"{name}: " + "; ".join(problems))
    click.echo(f"{name}: ok")


@db_group.command("push")
@pass_app
def db_push(app: App) -> None:
    """Snapshot the database (backup API + integrity check) to the state branch on GitHub.

    \b
    Example:
        GITHUB_TOKEN=… GITHUB_REPOSITORY=owner/list paperbot db push
    """
    from db.snapshot import make_snapshot, sqlite_path

    _refuse_postgres(app.settings.database_url, "push")
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

    _refuse_postgres(app.settings.database_url, "pull")
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
