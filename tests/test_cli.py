"""The command line as people use it: help, versions, errors, fetch against a loopback arXiv."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli.app import _register, cli
from db import store
from db.session import open_database, session_scope
from tests.support.arxiv_server import ArxivServer, Fault

START = datetime(2026, 3, 1, tzinfo=UTC)
END = datetime(2026, 3, 31, tzinfo=UTC)


def fast_config(folder: Path, **arxiv: object) -> None:
    # the loopback server filters on dates, categories and a ti:"phrase"; a plain query keeps them all
    values = {"query": "abs:diffusion", "delay_seconds": 0.05, "backoff_base_seconds": 0.01,
              "backoff_max_seconds": 0.05,
              "read_timeout_seconds": 2.0, "connect_timeout_seconds": 1.0, "retry_budget_seconds": 10.0,
              "max_retries": 4, "page_size": 100}
    values.update(arxiv)
    body = "\n".join(f"{k} = {v!r}" if not isinstance(v, str) else f'{k} = "{v}"' for k, v in values.items())
    (folder / "paperbot.toml").write_text(f"[arxiv]\n{body}\n")


WATCHED = {"cs.CV", "cs.LG", "cs.AI", "cs.CL", "cs.GR", "eess.IV"}


def watched(specs: list) -> int:  # type: ignore[type-arg]
    """How many of the served papers sit in the categories the bot watches by default."""
    return len({s.arxiv_id for s in specs if set(s.categories) & WATCHED})


def all_commands() -> list[list[str]]:
    _register()
    names: list[list[str]] = []
    for name, command in cli.commands.items():
        if hasattr(command, "commands"):
            names += [[name, sub] for sub in command.commands]  # type: ignore[attr-defined]
        else:
            names.append([name])
    return names


@pytest.mark.parametrize("words", all_commands(), ids=" ".join)
def test_every_command_has_help_with_an_example(invoke, words: list[str]) -> None:  # type: ignore[no-untyped-def]
    result = invoke(*words, "--help")
    assert result.exit_code == 0
    assert "Example" in result.output and "paperbot " in result.output


def test_help_and_version_start_fast_without_torch() -> None:
    code = ("import sys, runpy; sys.argv = ['paperbot', '--help']\n"
            "try:\n    runpy.run_module('bot', run_name='__main__')\nexcept SystemExit: pass\n"
            "heavy = [m for m in ('torch', 'sentence_transformers', 'sklearn', 'sqlalchemy', 'github')"
            " if m in sys.modules]\nprint('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out
    version = subprocess.run([sys.executable, "-m", "bot", "--version"], capture_output=True, text=True)
    assert version.returncode == 0 and version.stdout.strip() == "paperbot, version 0.1.0"


def test_a_wrong_flag_is_one_line_and_exit_2(invoke) -> None:  # type: ignore[no-untyped-def]
    result = invoke("fetch", "--since", "yesterday")
    assert result.exit_code == 2
    assert "'yesterday' is not a date" in result.output


def test_a_bad_setting_is_one_line(invoke, cli_env: Path) -> None:  # type: ignore[no-untyped-def]
    (cli_env / "paperbot.toml").write_text("[arxiv]\ndelay_seconds = -1\n")
    result = invoke("config")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: config: arxiv.delay_seconds: must be zero or more"


def test_config_masks_the_token(invoke) -> None:  # type: ignore[no-untyped-def]
    result = invoke("config", env={"GITHUB_TOKEN": "ghs_supersecret123", "GITHUB_REPOSITORY": "o/r"})
    assert result.exit_code == 0
    assert "ghs_supersecret123" not in result.output
    assert json.loads(result.output)["github"]["token"] == "***"


def test_a_corrupt_database_is_one_line_and_kept(invoke, cli_env: Path) -> None:  # type: ignore[no-untyped-def]
    bad = cli_env / "paperbot.db"
    bad.write_bytes(b"garbage" * 1000)
    result = invoke("runs")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and "not a readable database" in result.output
    assert bad.read_bytes() == b"garbage" * 1000


def test_a_database_written_by_a_newer_paperbot_is_refused_by_every_command(  # type: ignore[no-untyped-def]
        invoke, cli_env: Path) -> None:
    import sqlite3

    assert invoke("db", "upgrade").exit_code == 0
    with sqlite3.connect(cli_env / "paperbot.db") as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    for command in (["runs"], ["search", "x"], ["show", "2401.00001"], ["export"], ["stats"],
                    ["db", "upgrade"], ["db", "downgrade", "0005"], ["db", "check"]):
        result = invoke(*command)
        assert result.exit_code == 1, (command, result.output)
        assert result.output.count("\n") == 1 and "newer than this paperbot knows" in result.output, command


def test_an_argument_that_is_not_utf8_is_one_line(invoke, cli_env: Path) -> None:  # type: ignore[no-untyped-def]
    assert invoke("db", "upgrade").exit_code == 0
    result = invoke("search", "caching\udcff")  # an argument that was not UTF-8 on the command line
    assert result.exit_code == 1
    assert result.output == "Error: an argument or a file name is not valid UTF-8 text\n"


def test_fetch_stores_a_thousand_papers_once(invoke, cli_env: Path, arxiv_server: ArxivServer) -> None:  # type: ignore[no-untyped-def]
    fast_config(cli_env, page_size=200)
    specs = [s for s in arxiv_server.add_synthetic(4000, start=START, end=END, seed=7)
             if set(s.categories) & {"cs.CV", "cs.LG", "cs.AI", "cs.CL", "cs.GR", "eess.IV"}]
    assert len(specs) > 1000  # the rest are in categories the bot does not watch
    env = {"PAPERBOT_ARXIV_API_URL": arxiv_server.url}
    result = invoke("fetch", "--since", "2026-03-01", "--until", "2026-03-31", env=env)
    assert result.exit_code == 0, result.output
    n = len(specs)
    assert result.output.startswith(f"fetched {n} / new {n} / updated 0 / skipped 0")
    engine = open_database(f"sqlite:///{cli_env / 'paperbot.db'}")
    with session_scope(engine) as session:
        assert store.count_papers(session) == n
        versions = {p.arxiv_id: p.version for p in store.all_papers(session)}
    assert versions == {s.arxiv_id: s.version for s in specs}
    again = invoke("fetch", "--since", "2026-03-01", "--until", "2026-03-31", env=env)
    assert again.output.startswith(f"fetched {n} / new 0 / updated 0 / skipped {n}")
    gaps = arxiv_server.gaps()
    assert gaps and min(gaps) >= 0.05
    assert arxiv_server.max_in_flight == 1


def test_fetch_survives_503_and_429(invoke, cli_env: Path, arxiv_server: ArxivServer) -> None:  # type: ignore[no-untyped-def]
    fast_config(cli_env)
    n = watched(arxiv_server.add_synthetic(250, start=START, end=END, seed=3))
    arxiv_server.fail(Fault.HTTP_503, times=2)
    arxiv_server.fail(Fault.HTTP_429, times=1, retry_after="0.2")
    env = {"PAPERBOT_ARXIV_API_URL": arxiv_server.url}
    result = invoke("fetch", "--since", "2026-03-01", "--until", "2026-03-31", env=env)
    assert result.exit_code == 0, result.output
    assert f"new {n} " in result.output
    assert min(arxiv_server.gaps()) >= 0.05


def test_a_server_that_never_answers_fails_within_budget_and_keeps_the_watermark(  # type: ignore[no-untyped-def]
        invoke, cli_env: Path, arxiv_server: ArxivServer) -> None:
    fast_config(cli_env, read_timeout_seconds=0.3, max_retries=2, retry_budget_seconds=3.0)
    arxiv_server.add_synthetic(30, start=START, end=END, seed=1)
    env = {"PAPERBOT_ARXIV_API_URL": arxiv_server.url}
    assert invoke("fetch", env=env).exit_code == 0  # a first good run sets the watermark
    engine = open_database(f"sqlite:///{cli_env / 'paperbot.db'}")
    with session_scope(engine) as session:
        mark = store.watermark(session)
    arxiv_server.fail(Fault.STALL, times=100, seconds=5)
    started = datetime.now(UTC)
    result = invoke("fetch", env=env)
    took = (datetime.now(UTC) - started).total_seconds()
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")
    assert took < 10
    with session_scope(engine) as session:
        assert store.watermark(session) == mark
        runs = store.recent_runs(session)
        assert runs[0].status == "failed" and runs[0].error


def test_a_failed_run_is_recovered_by_the_next(invoke, cli_env: Path, arxiv_server: ArxivServer) -> None:  # type: ignore[no-untyped-def]
    fast_config(cli_env, max_retries=1, retry_budget_seconds=2.0)
    n = watched(arxiv_server.add_synthetic(300, start=START, end=END, seed=5))
    env = {"PAPERBOT_ARXIV_API_URL": arxiv_server.url}
    arxiv_server.fail(Fault.EMPTY_PAGE, times=10, start=100)  # page 2 keeps coming back empty
    failed = invoke("fetch", "--since", "2026-03-01", "--until", "2026-03-31", env=env)
    assert failed.exit_code == 1
    engine = open_database(f"sqlite:///{cli_env / 'paperbot.db'}")
    with session_scope(engine) as session:
        assert store.count_papers(session) == 0  # nothing half-written
    arxiv_server._faults.clear()
    ok = invoke("fetch", "--since", "2026-03-01", "--until", "2026-03-31", env=env)
    assert ok.exit_code == 0, ok.output
    with session_scope(engine) as session:
        assert store.count_papers(session) == n


def test_runs_lists_failed_and_successful_runs(invoke, cli_env: Path, arxiv_server: ArxivServer) -> None:  # type: ignore[no-untyped-def]
    fast_config(cli_env, max_retries=0)
    n = watched(arxiv_server.add_synthetic(8, start=START, end=END, seed=9))
    assert n > 0
    env = {"PAPERBOT_ARXIV_API_URL": arxiv_server.url}
    arxiv_server.fail(Fault.HTTP_500, times=1)
    assert invoke("fetch", "--since", "2026-03-01", "--until", "2026-03-31", env=env).exit_code == 1
    assert invoke("fetch", "--since", "2026-03-01", "--until", "2026-03-31", env=env).exit_code == 0
    rows = json.loads(invoke("runs", "--json").output)
    assert [r["status"] for r in rows] == ["success", "failed"]
    assert rows[0]["new"] == n and "500" in rows[1]["error"]
