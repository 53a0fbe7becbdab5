"""``paperbot config``, ``paperbot db …`` and ``paperbot runs``: settings, schema and run history."""

from __future__ import annotations

import json

import click

from bot.cli.app import App, pass_app
from bot.cli.output import emit, output_options


@click.command("config")
@pass_app
def config_cmd(app: App) -> None:
    """Print the effective settings as JSON (secrets masked).

    \b
    Example:
        PAPERBOT_DB_URL=sqlite:///other.db paperbot config
    """
    click.echo(json.dumps(app.settings.masked(), indent=2, default=str))


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


COMMANDS = [config_cmd, db_group, runs_cmd]
