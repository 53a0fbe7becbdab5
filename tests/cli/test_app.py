"""The command line as people use it (bot/cli/app.py): help with an example everywhere, a fast start, and
every error one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli.app import _register, cli


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


def test_a_bad_setting_is_one_line(invoke, cli_env: Path) -> None:  # type: ignore[no-untyped-def]
    (cli_env / "paperbot.toml").write_text("[arxiv]\ndelay_seconds = -1\n")
    result = invoke("config")
    assert result.exit_code == 1
    assert result.output.strip() == "Error: config: arxiv.delay_seconds: must be zero or more"


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
