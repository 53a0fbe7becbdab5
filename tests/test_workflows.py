"""The GitHub Actions workflows: they parse, and they hold to the rules the cron depends on."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

WORKFLOWS = Path(__file__).resolve().parents[1] / ".github" / "workflows"
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40} # v\d+(\.\d+)*$")


def load(name: str) -> dict:  # type: ignore[type-arg]
    text = (WORKFLOWS / name).read_text()
    data = yaml.safe_load(text)
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def uses_lines(name: str) -> list[str]:
    return [line.split("uses:", 1)[1].strip() for line in (WORKFLOWS / name).read_text().splitlines()
            if "uses:" in line]


@pytest.mark.parametrize("name", ["paperbot.yml", "test.yml"])
def test_every_action_is_pinned_to_a_full_sha_with_its_version(name: str) -> None:
    uses = uses_lines(name)
    assert uses
    for use in uses:
        assert PINNED.match(use), use


def test_the_cron_workflow() -> None:
    wf = load("paperbot.yml")
    cron = wf["on"]["schedule"][0]["cron"]
    minute = cron.split()[0]
    assert minute not in {"0", "*"}, "schedule off the top of the hour"
    inputs = wf["on"]["workflow_dispatch"]["inputs"]
    assert inputs["dry_run"]["type"] == "boolean" and "since" in inputs
    assert wf["permissions"] == {}
    assert wf["concurrency"]["cancel-in-progress"] is False
    update = wf["jobs"]["update"]
    assert update["permissions"] == {"contents": "write", "pull-requests": "write"}
    assert update["timeout-minutes"] <= 60
    steps = update["steps"]
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout@"))
    assert checkout["with"]["persist-credentials"] is False
    setup = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python@"))
    assert setup["with"]["cache"] == "pip"
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "download.pytorch.org/whl/cpu" in runs and "torch==2.13.0" in runs
    assert "paperbot db pull --if-exists" in runs and "paperbot db push" in runs and "--open-pr" in runs
    health = wf["jobs"]["health"]
    assert health["permissions"] == {"contents": "read", "issues": "write"}
    assert "paperbot health --alarm" in "\n".join(s.get("run", "") for s in health["steps"])


@pytest.mark.parametrize("name", ["paperbot.yml", "test.yml"])
def test_no_untrusted_expression_in_a_shell_and_nothing_written_to_github_env(name: str) -> None:
    wf = load(name)
    for job in wf["jobs"].values():
        for step in job["steps"]:
            script = step.get("run", "")
            assert "${{" not in script, f"expression interpolated into a shell: {script!r}"
            assert "GITHUB_ENV" not in script and "GITHUB_OUTPUT" not in script


def test_test_workflow_is_read_only() -> None:
    wf = load("test.yml")
    assert wf["permissions"] == {"contents": "read"}
    for job in wf["jobs"].values():
        assert "timeout-minutes" in job


def test_ci_and_the_test_workflow_lint_type_check_and_test() -> None:
    steps = [step.get("run", "") for job in load("test.yml")["jobs"].values() for step in job["steps"]]
    ci = (WORKFLOWS.parents[1] / ".ci" / "run").read_text()
    for command in ("ruff check .", "mypy bot classifier db", "python -m pytest"):
        assert any(command in run for run in steps), command
        assert command in ci, command


ZIZMOR = shutil.which("zizmor", path=str(Path(sys.executable).parent)) or shutil.which("zizmor")


@pytest.mark.skipif(ZIZMOR is None, reason="zizmor (a dev dependency) is not installed")
def test_zizmor_finds_nothing() -> None:
    assert ZIZMOR is not None
    result = subprocess.run([ZIZMOR, "--offline", "--no-progress", str(WORKFLOWS)],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
