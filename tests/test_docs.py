"""The README is part of the product: every command is documented there, and its quickstart is real."""

from __future__ import annotations

import re
from pathlib import Path

from bot.cli.app import _register, cli

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def test_every_command_appears_in_the_readme() -> None:
    _register()
    missing = [name for name in cli.commands if f"paperbot {name}" not in README]
    assert missing == []


def test_the_quickstart_is_two_commands_and_names_the_test_command() -> None:
    block = README.split("## Quickstart", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    commands = [line for line in block.strip().splitlines() if line.strip()]
    assert len(commands) == 2
    assert "paperbot run" in commands[0]
    assert "pytest" in commands[1]
    ci = (Path(__file__).resolve().parents[1] / ".ci" / "run").read_text()
    assert "python -m pytest" in ci and "python -m pytest" in commands[1]


def test_the_quickstart_list_exists() -> None:
    match = re.search(r"paperbot run --list (\S+)", README)
    assert match is not None
    assert (Path(__file__).resolve().parents[1] / match.group(1)).is_file()
