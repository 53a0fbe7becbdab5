"""The GitHub Actions workflows and paperbot's own actions (action.yml, .github/actions/health/action.yml):
they parse, and they hold to the rules the cron depends on."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
HEALTH_ACTION = ".github/actions/health/action.yml"
ACTIONS = {"action.yml": ROOT / "action.yml", HEALTH_ACTION: ROOT / HEALTH_ACTION}
PINNED = re.compile(r"^[\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40} # v\d+(\.\d+)*$")
# paperbot's own actions, from the same checkout (zizmor would rather have a newer syntax; see paperbot.yml)
LOCAL = re.compile(r"^\./(\.github/actions/health)?\s+# zizmor: ignore\[self-repository\]")


def path(name: str) -> Path:
    return ACTIONS.get(name, WORKFLOWS / name)


def load(name: str) -> dict:  # type: ignore[type-arg]
    data = yaml.safe_load(path(name).read_text())
    if True in data:
        data["on"] = data.pop(True)  # YAML 1.1 reads the key `on` as True
    return data


def uses_lines(name: str) -> list[str]:
    return [line.split("uses:", 1)[1].strip() for line in path(name).read_text().splitlines()
            if "uses:" in line and not line.lstrip().startswith("#")]


def all_steps(name: str) -> list[dict]:  # type: ignore[type-arg]
    data = load(name)
    if "runs" in data:
        return list(data["runs"]["steps"])
    return [step for job in data["jobs"].values() for step in job["steps"]]


@pytest.mark.parametrize("name", ["paperbot.yml", "test.yml", *ACTIONS])
def test_every_action_is_pinned_to_a_full_sha_with_its_version(name: str) -> None:
    uses = uses_lines(name)
    assert uses
    for use in uses:
        assert PINNED.match(use) or (name == "paperbot.yml" and LOCAL.match(use)), use


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
    assert update["permissions"] == {"contents": "write", "pull-requests": "write", "models": "read"}
    assert update["timeout-minutes"] <= 60
    health = wf["jobs"]["health"]
    assert health["permissions"] == {"contents": "read", "issues": "write"}
    for job, action in ((update, "./"), (health, "./.github/actions/health")):
        checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout@"))
        assert checkout["with"]["persist-credentials"] is False
        assert [s["uses"] for s in job["steps"]][-1] == action  # the job is paperbot's action
    assert "GITHUB_TOKEN" not in str(wf)  # the actions take the job's token themselves (input `token`)


def test_the_update_action() -> None:
    steps = all_steps("action.yml")
    runs = "\n".join(s.get("run", "") for s in steps)
    assert "download.pytorch.org/whl/cpu" in runs and "torch==2.13.0" in runs
    assert runs.index("torch==2.13.0") < runs.index('-c "$PAPERBOT_SOURCE/constraints.txt"')
    assert "paperbot \"${args[@]}\" db pull --if-exists" in runs and "paperbot \"${args[@]}\" db push" in runs
    assert "--open-pr" in runs
    install = next(s for s in steps if s.get("id") == "install")
    assert install["env"]["PAPERBOT_SOURCE"] == "${{ github.action_path }}"  # the action's own ref
    assert load("action.yml")["inputs"]["token"]["default"] == "${{ github.token }}"
    inputs = load("action.yml")["inputs"]
    assert inputs["llm-url"]["default"] == "" and inputs["llm-token"]["default"] == "${{ github.token }}"
    run = next(s for s in steps if s.get("id") == "run")
    assert {k: v for k, v in run["env"].items() if k.startswith("PAPERBOT_LLM_")} == {
        "PAPERBOT_LLM_URL": "${{ inputs.llm-url }}", "PAPERBOT_LLM_MODEL": "${{ inputs.llm-model }}",
        "PAPERBOT_LLM_TOKEN": "${{ inputs.llm-token }}"}


def test_the_health_action_installs_no_torch() -> None:
    runs = "\n".join(s.get("run", "") for s in all_steps(HEALTH_ACTION))
    assert "torch" not in runs and "--no-deps" in runs and "constraints.txt" in runs
    assert "paperbot \"${args[@]}\" health --alarm" in runs


@pytest.mark.parametrize("name", ["paperbot.yml", "test.yml", *ACTIONS])
def test_no_untrusted_expression_in_a_shell_and_nothing_written_to_github_env(name: str) -> None:
    for step in all_steps(name):
        script = step.get("run", "")
        assert "${{" not in script, f"expression interpolated into a shell: {script!r}"
        assert "GITHUB_ENV" not in script and "GITHUB_OUTPUT" not in script
        if script and name in ACTIONS:
            assert step.get("shell") == "bash", "a composite action's run step names its shell"


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
    targets = [str(WORKFLOWS), *map(str, ACTIONS.values())]
    result = subprocess.run([ZIZMOR, "--offline", "--no-progress", *targets],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
