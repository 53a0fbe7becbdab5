"""``paperbot config``, ``runs`` and ``db check`` through the real click group."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.arxiv_server import ArxivServer, Fault
from tests.support.cli import END, START, fast_config, watched


def test_config_masks_the_token(invoke) -> None:  # type: ignore[no-untyped-def]
    result = invoke("config", env={"GITHUB_TOKEN": "ghs_supersecret123", "GITHUB_REPOSITORY": "o/r"})
    assert result.exit_code == 0
    assert "ghs_supersecret123" not in result.output
    assert json.loads(result.output)["github"]["token"] == "***"


def test_config_masks_a_database_password(invoke) -> None:  # type: ignore[no-untyped-def]
    url = "postgresql+psycopg://bot:s3cret-pw@db.example:5432/papers"
    result = invoke("config", env={"PAPERBOT_DB_URL": url})
    assert result.exit_code == 0 and "s3cret-pw" not in result.output
    assert json.loads(result.output)["database_url"] == "postgresql+psycopg://bot:***@db.example:5432/papers"


def test_runs_lists_failed_and_successful_runs(invoke, cli_env: Path, arxiv_server: ArxivServer,  # type: ignore[no-untyped-def]
                                               any_db_url: str) -> None:
    fast_config(cli_env, max_retries=0)
    n = watched(arxiv_server.add_synthetic(8, start=START, end=END, seed=9))
    assert n > 0
    env = {"PAPERBOT_ARXIV_API_URL": arxiv_server.url, "PAPERBOT_DB_URL": any_db_url}
    arxiv_server.fail(Fault.HTTP_500, times=1)
    assert invoke("fetch", "--since", "2026-03-01", "--until", "2026-03-31", env=env).exit_code == 1
    assert invoke("fetch", "--since", "2026-03-01", "--until", "2026-03-31", env=env).exit_code == 0
    rows = json.loads(invoke("runs", "--json", env=env).output)
    assert [r["status"] for r in rows] == ["success", "failed"]
    assert rows[0]["new"] == n and "500" in rows[1]["error"]


def _with_password(url: str) -> str:
    """The URL with a password in it (the test server trusts every local login, so any password works)."""
    if not url.startswith("postgresql"):
        return url
    scheme, _, rest = url.partition("://")
    user, _, host = rest.partition("@")
    return f"{scheme}://{user}:hunter2-secret@{host}"


def _set_revision(url: str, revision: str) -> None:
    from sqlalchemy import text

    from db.session import make_engine

    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})
    engine.dispose()


def test_db_check_says_ok_or_what_is_wrong_with_the_schema(invoke, any_db_url: str) -> None:  # type: ignore[no-untyped-def]
    from db.session import head_revision

    url = _with_password(any_db_url)
    name = url.removeprefix("sqlite:///").replace("hunter2-secret", "***")
    result = invoke("--db", url, "db", "check")
    assert (result.exit_code, result.output) == (0, f"{name}: ok\n")
    _set_revision(url, "0009")
    result = invoke("--db", url, "db", "check")
    assert (result.exit_code, result.output) == (
        1, f"Error: {name}: schema at revision 0009, head is {head_revision()}: run `paperbot db upgrade`\n")
    _set_revision(url, "9999")
    result = invoke("--db", url, "db", "check")
    assert (result.exit_code, result.output) == (
        1, f"Error: {name}: schema at revision 9999, newer than this paperbot knows: upgrade paperbot\n")
    assert "hunter2" not in result.output


def test_db_check_on_an_empty_postgresql_database(invoke, pg_url: str) -> None:  # type: ignore[no-untyped-def]
    url = _with_password(pg_url)
    result = invoke("--db", url, "db", "check")
    assert result.exit_code == 1 and result.output.count("\n") == 1
    assert result.output.endswith(": no paperbot schema (alembic_version missing)\n")
    assert "hunter2" not in result.output and ":***@" in result.output


def test_db_check_on_a_postgresql_server_that_does_not_answer(invoke) -> None:  # type: ignore[no-untyped-def]
    result = invoke("--db", "postgresql+psycopg://bot:hunter2-secret@127.0.0.1:9/papers", "db", "check")
    assert result.exit_code == 1 and result.output.count("\n") == 1, result.output
    assert result.output.startswith("Error: cannot open postgresql+psycopg://bot:***@127.0.0.1:9/papers")
    assert "hunter2" not in result.output


def test_snapshots_are_for_sqlite_files(invoke, pg_url: str) -> None:  # type: ignore[no-untyped-def]
    url = _with_password(pg_url)
    for command in ("push", "pull"):
        result = invoke("--db", url, "db", command)
        assert (result.exit_code, result.output) == (
            1, f"Error: `paperbot db {command}`: snapshots are for SQLite files; back up a PostgreSQL "
               "database with pg_dump (and restore it with pg_restore)\n")


def test_db_check_on_either_database(invoke, any_db_url: str) -> None:  # type: ignore[no-untyped-def]
    from bot.core.secrets import mask_url
    from db.snapshot import sqlite_path

    where = sqlite_path(any_db_url) if any_db_url.startswith("sqlite") else mask_url(any_db_url)
    env = {"PAPERBOT_DB_URL": any_db_url}
    assert invoke("db", "check", env=env).output == f"{where}: ok\n"
    assert invoke("db", "downgrade", "0007", env=env).exit_code == 0
    behind = invoke("db", "check", env=env)
    assert behind.exit_code == 1 and "schema at revision 0007, head is" in behind.output
