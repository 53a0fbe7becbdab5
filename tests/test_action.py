"""The composite actions a list maintainer installs paperbot with (action.yml and
.github/actions/health/action.yml).

Their shell steps run here as GitHub runs them (bash, the env the action sets, ${{ }} only in `env:`),
against the loopback GitHub and arXiv servers, with `paperbot` from this virtual environment. The README's
copyable workflow and this repository's own .github/workflows/paperbot.yml are held to each other, and the
constraints file to pyproject.toml.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import tomllib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ACTION = ROOT / "action.yml"
HEALTH = ROOT / ".github" / "actions" / "health" / "action.yml"
WORKFLOW = ROOT / ".github" / "workflows" / "paperbot.yml"
README = ROOT / "README.md"
LIST_PATH = "docs/awesome.md"  # not the default README.md: the `list` input has to reach paperbot
REAL_LIST = (Path(__file__).resolve().parent / "fixtures" / "readme" / "awesome-efficient-diffusion.md"
             ).read_text(encoding="utf-8")
DEV = [json.loads(line) for line in (ROOT / "classifier" / "data" / "dev.jsonl").read_text().splitlines()]
EXPRESSION = re.compile(r"\$\{\{\s*([\w.-]+)\s*\}\}")
# model-free embeddings and test-sized pacing; the loopback arXiv keeps every paper of a plain query
CONFIG = ('[classifier]\nembedding_model = "hashing-64"\n'
          '[arxiv]\nquery = "abs:diffusion"\ndelay_seconds = 0.01\nbackoff_base_seconds = 0.01\n'
          "backoff_max_seconds = 0.05\nread_timeout_seconds = 5.0\nretry_budget_seconds = 20.0\n"
          "[github]\nseconds_between_requests = 0.0\nseconds_between_writes = 0.0\nbackoff_seconds = 0.01\n")


def load(path: Path) -> dict[str, Any]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in data:  # YAML 1.1 reads the key `on` as True
        data["on"] = data.pop(True)
    return data


def steps_by_id(action: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["id"]: step for step in action["runs"]["steps"] if "id" in step}


def evaluate(value: Any, context: dict[str, str]) -> str:
    """The few expressions the actions use in `env:`: ${{ inputs.x }} and ${{ github.x }}."""
    def one(match: re.Match[str]) -> str:
        assert match.group(1) in context, f"unexpected expression {match.group(0)}"
        return evaluate(context[match.group(1)], context)
    return EXPRESSION.sub(one, str(value))


class Runner:
    """Runs an action's `run:` steps the way a runner does: one bash script per step, step env on top."""

    def __init__(self, workdir: Path, env: dict[str, str], github: dict[str, str]) -> None:
        self.workdir, self.env, self.github = workdir, env, github

    def run(self, action_file: Path, ids: list[str], **inputs: str) -> list[subprocess.CompletedProcess[str]]:
        action = load(action_file)
        context = {f"github.{k}": v for k, v in self.github.items()}
        context["github.action_path"] = str(action_file.parent)
        for name, spec in action["inputs"].items():
            context[f"inputs.{name}"] = inputs.pop(name.replace("-", "_"), str(spec.get("default", "")))
        assert not inputs, f"no such inputs: {inputs}"
        steps = steps_by_id(action)
        done = []
        for step_id in ids:
            step = steps[step_id]
            assert step["shell"] == "bash"
            env = dict(self.env, **{k: evaluate(v, context) for k, v in step.get("env", {}).items()})
            script = self.workdir.parent / f"step-{step_id}.sh"
            script.write_text(step["run"], encoding="utf-8")
            result = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
                                    cwd=self.workdir, env=env, capture_output=True, text=True, timeout=300)
            done.append(result)
            if result.returncode != 0:  # a failed step ends the job, as on GitHub
                break
        return done


@pytest.fixture
def world(tmp_path: Path, github_server, arxiv_server):  # type: ignore[no-untyped-def]
    workdir = tmp_path / "checkout"
    workdir.mkdir()
    (workdir / "paperbot.toml").write_text(CONFIG)  # as a list's checkout would hold it
    github_server.push({LIST_PATH: REAL_LIST}, message="the list")
    summary = tmp_path / "step-summary.md"
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("GITHUB_", "PAPERBOT_", "PYTEST_"))}
    env.update({
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
        "PYTHONPATH": str(ROOT),  # this checkout's paperbot, whatever the virtual environment installed
        "GITHUB_API_URL": github_server.url, "GITHUB_REPOSITORY": github_server.repo.full_name,
        "GITHUB_STEP_SUMMARY": str(summary), "PAPERBOT_ARXIV_API_URL": arxiv_server.url,
        "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
    })
    return Runner(workdir, env, {"token": github_server.token, "repository": github_server.repo.full_name})


def serve(arxiv_server, rows: list[dict[str, Any]], published: datetime) -> list[str]:  # type: ignore[no-untyped-def]
    """Serve these labelled papers as submitted at ``published``; returns their ids."""
    templates = arxiv_server.add_synthetic(len(rows), start=published, end=published + timedelta(hours=1),
                                           seed=len(arxiv_server.entries) + 1)
    del arxiv_server.entries[-len(rows):]  # the synthetic papers lend their ids and dates, the rows the rest
    specs = [replace(t, version=1, updated=t.published, title=r["title"], summary=r["abstract"] or "",
                     authors=tuple(r["authors"] or ("Anonymous",)), categories=tuple(r["categories"]),
                     primary_category=r["categories"][0]) for t, r in zip(templates, rows, strict=True)]
    arxiv_server.add(*specs)
    return [s.arxiv_id for s in specs]


def snapshot_tables(github_server, path: Path) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """The state branch's snapshot, written to ``path``: rows per table of interest."""
    head = github_server.head("paperbot/state")
    assert head is not None, "no state branch"
    blob = github_server.trees[github_server.commits[head].tree]["paperbot.db"]
    path.write_bytes(github_server.blobs[blob])
    return rows(path)


def rows(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as connection:
        return {table: connection.execute(f"select count(*) from {table}").fetchone()[0]
                for table in ("papers", "runs", "proposals")}


def proposed_ids(github_server) -> set[str]:  # type: ignore[no-untyped-def]
    [pr] = github_server.open_pulls()
    text = github_server.file(LIST_PATH, ref=pr.head_ref)
    added = set(text.splitlines()) - set(REAL_LIST.splitlines())
    return {m.group(1) for line in added for m in [re.search(r"abs/(\d{4}\.\d{5})", line)] if m}


def codes(results: list[subprocess.CompletedProcess[str]]) -> list[int]:
    return [r.returncode for r in results]


def logs(results: list[subprocess.CompletedProcess[str]]) -> list[tuple[str, str]]:
    return [(r.stdout[-3000:], r.stderr[-3000:]) for r in results]


RELEVANT = [r for r in DEV if r["label"] != "irrelevant" and r.get("confidence", "high") == "high"
            and r["abstract"]]


def test_the_action_opens_the_pr_saves_the_state_and_restores_it(world, github_server, arxiv_server,  # type: ignore[no-untyped-def]
                                                                  tmp_path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    first_ids = serve(arxiv_server, RELEVANT[:12], now - timedelta(days=5))
    since = (now - timedelta(days=8)).strftime("%Y-%m-%d")

    results = world.run(ACTION, ["restore", "run", "save"], list=LIST_PATH, since=since)
    assert codes(results) == [0, 0, 0], logs(results)
    assert "no snapshot" in results[0].stderr  # the first run starts empty, and says so
    [pr] = github_server.open_pulls()
    first = proposed_ids(github_server)
    assert first and first <= set(first_ids)
    # the `list` input chose the file: the repository's README.md is left alone
    assert github_server.file("README.md") == github_server.file("README.md", ref=pr.head_ref)
    state = snapshot_tables(github_server, tmp_path / "state-1.db")
    assert state["papers"] == len(first_ids) and state["proposals"] == len(first)
    summary = (tmp_path / "step-summary.md").read_text()
    pr_url = f"{github_server.url}/{github_server.repo.full_name}/pull/{pr.number}"
    assert "## paperbot" in summary and f"Pull request: {pr_url}" in summary
    assert json.loads((world.workdir / "paperbot-out" / "report.json").read_text())["status"] == "success"

    # the next day, on a fresh runner: the database comes back from the state branch
    (world.workdir / "paperbot.db").unlink()
    second_ids = serve(arxiv_server, RELEVANT[12:20], now - timedelta(days=1))
    results = world.run(ACTION, ["restore", "run", "save"], list=LIST_PATH)
    assert codes(results) == [0, 0, 0], logs(results)
    assert "installed the snapshot from paperbot/state" in results[0].stdout
    [again] = github_server.open_pulls()
    assert again.number == pr.number
    second = proposed_ids(github_server)
    assert first <= second <= set(first_ids) | set(second_ids)
    state = snapshot_tables(github_server, tmp_path / "state-2.db")
    assert state["papers"] == len(first_ids) + len(second_ids)  # the first run's papers came back
    assert state["runs"] > 2  # both runs' records (run and fetch), the first one's restored
    assert (tmp_path / "step-summary.md").read_text().count("## paperbot") == 2  # one per run


def test_a_dry_run_opens_nothing_and_saves_no_state(world, github_server, arxiv_server) -> None:  # type: ignore[no-untyped-def]
    now = datetime.now(UTC).replace(microsecond=0)
    serve(arxiv_server, RELEVANT[:6], now - timedelta(days=2))
    github_server.clear_log()
    results = world.run(ACTION, ["restore", "run", "save"], list=LIST_PATH, dry_run="true")
    assert codes(results) == [0, 0, 0], logs(results)
    assert "dry run" in results[2].stdout
    assert github_server.writes() == [] and github_server.open_pulls() == []
    assert github_server.head("paperbot/state") is None
    assert "+- [" in (world.workdir / "paperbot-out" / "README.diff").read_text()


HEAVY_BLOCKER = '''
import importlib.abc, sys
BLOCKED = set({blocked!r})
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ModuleNotFoundError(f"{{name}} is not installed in the health job", name=name)
        return None
sys.meta_path.insert(0, Block())
'''


def health_requirements() -> set[str]:
    lines = (HEALTH.parent / "requirements.txt").read_text().splitlines()
    return {normal(line) for line in lines if line.strip() and not line.startswith("#")}


def test_the_health_action_runs_without_the_heavy_dependencies(world, github_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from importlib.metadata import packages_distributions

    allowed = health_requirements()
    heavy = {normal(name) for name in runtime_dependencies()} - allowed
    modules = {module for module, dists in packages_distributions().items()
               if all(normal(d) in heavy for d in dists)}
    assert {"torch", "sklearn", "sentence_transformers", "markdown_it"} <= modules
    site = tmp_path / "blocker"
    site.mkdir()
    (site / "sitecustomize.py").write_text(HEAVY_BLOCKER.format(blocked=sorted(modules)))
    world.env["PYTHONPATH"] = os.pathsep.join([str(site), str(ROOT)])

    [check] = world.run(HEALTH, ["check"])
    assert check.returncode == 0, check.stdout + check.stderr
    assert "healthy: no runs yet" in check.stdout
    # with a snapshot on the state branch whose last successful run is old: the alarm issue opens
    old = tmp_path / "old.db"
    stale_run(old, days=5)
    subprocess.run([sys.executable, "-m", "bot", "--db", f"sqlite:///{old}", "db", "push"],
                   env=dict(world.env, PYTHONPATH=str(ROOT), GITHUB_TOKEN=github_server.token),
                   check=True, capture_output=True)
    [check] = world.run(HEALTH, ["check"])
    assert check.returncode == 1 and "no successful run for" in check.stdout + check.stderr
    issues = list(github_server.issues[github_server.repo.full_name].values())
    assert [i.state for i in issues] == ["open"]


def stale_run(path: Path, *, days: int) -> None:
    """A database whose one successful run finished ``days`` ago."""
    from bot.core.states import RunStatus
    from db.schema import Run
    from db.session import open_database, session_scope
    from db.store import finish_run, start_run

    engine = open_database(f"sqlite:///{path}")
    with session_scope(engine) as session:
        run = start_run(session, "run")
        finish_run(session, run, RunStatus.SUCCESS, fetched=3)
        row = session.get(Run, run)
        assert row is not None and row.finished_at is not None
        row.started_at -= timedelta(days=days)
        row.finished_at -= timedelta(days=days)
    engine.dispose()


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", name.strip()).group(0)).lower()  # type: ignore[union-attr]


def runtime_dependencies() -> list[str]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]


def test_constraints_pin_every_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version and re.fullmatch(r"[\w.+]+", version), f"not a pin: {line}"
            pins[normal(name)] = version
    wanted = runtime_dependencies() + project["optional-dependencies"]["dev"]
    assert [d for d in wanted if normal(d) not in pins] == []
    assert pins["torch"] == "2.13.0"  # the CPU wheel's version, without its +cpu label
    assert health_requirements() <= {normal(d) for d in runtime_dependencies()}


def without(mapping: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if k != key}


def readme_workflow() -> dict[str, Any]:
    text = README.read_text(encoding="utf-8")
    block = text.split("## Use it on your list", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    data = yaml.safe_load(block)
    data["on"] = data.pop(True, data.get("on"))
    return data


def local(step: dict[str, Any]) -> dict[str, Any]:
    """A README step as it reads in this repository: paperbot's actions from the checkout, our test list."""
    step = dict(step)
    uses = step.get("uses", "")
    if uses.startswith("OWNER/paperbot"):
        step["uses"] = "./" + uses.split("@", 1)[0].removeprefix("OWNER/paperbot").lstrip("/")
        step.pop("with", None)
    return step


def test_the_readme_workflow_is_this_repositorys_workflow() -> None:
    readme, ours = readme_workflow(), load(WORKFLOW)
    assert readme["on"] == ours["on"] and readme["permissions"] == ours["permissions"] == {}
    assert readme["concurrency"] == ours["concurrency"]
    assert readme["concurrency"]["cancel-in-progress"] is False
    assert readme["jobs"].keys() == ours["jobs"].keys() == {"update", "health"}
    for name, job in readme["jobs"].items():
        mine = ours["jobs"][name]
        assert without(job, "steps") == without(mine, "steps")
        assert [local(s) for s in job["steps"]] == [
            without(s, "with") if s.get("uses", "").startswith("./") else s
            for s in mine["steps"]]
    assert readme["jobs"]["update"]["permissions"] == {"contents": "write", "pull-requests": "write",
                                                       "models": "read"}
    assert readme["jobs"]["health"]["permissions"] == {"contents": "read", "issues": "write"}
    # the README's update job passes the dispatch inputs on; this repository's does the same
    for workflow in (readme, ours):
        step = next(s for s in workflow["jobs"]["update"]["steps"] if "paperbot" in s.get("uses", "")
                    or s.get("uses") == "./")
        assert step["with"]["dry-run"] == "${{ inputs.dry_run }}"
        assert step["with"]["since"] == "${{ inputs.since }}"
        assert step["with"]["llm-url"] == "https://models.github.ai/inference"  # GitHub Models, the example
        assert "llm-token" not in step["with"]  # the job's own token, which `models: read` lets call it
    ours_update = next(s for s in ours["jobs"]["update"]["steps"] if s.get("uses") == "./")
    assert (ROOT / ours_update["with"]["list"]).is_file()


def test_the_readme_documents_every_input_of_the_actions() -> None:
    text = README.read_text(encoding="utf-8").split("## Use it on your list", 1)[1].split("\n## ", 1)[0]
    for action in (ACTION, HEALTH):
        for name in load(action)["inputs"]:
            assert f"`{name}`" in text, name
    assert "Allow GitHub Actions to create and approve pull requests" in text


def test_the_llm_inputs_reach_the_judge_with_the_workflow_token(world, github_server, arxiv_server,  # type: ignore[no-untyped-def]
                                                                llm_server) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    ids = serve(arxiv_server, RELEVANT[:4], now - timedelta(days=2))
    with (world.workdir / "paperbot.toml").open("a") as handle:  # every paper in the band, no caps or pacing
        handle.write("[judge]\nband_low = 0.0\nband_high = 1.0\nmax_share_per_run = 1.0\n"
                     "seconds_between_requests = 0.0\n")
    results = world.run(ACTION, ["restore", "run"], list=LIST_PATH, dry_run="true", llm_url=llm_server.url,
                        llm_model="test/judge")
    assert codes(results) == [0, 0], logs(results)
    assert sorted(r.data["arxiv_id"] for r in llm_server.requests) == sorted(ids)
    assert {r.headers["authorization"] for r in llm_server.requests} == {f"Bearer {github_server.token}"}
    assert {r.body["model"] for r in llm_server.requests} == {"test/judge"}
    assert json.loads((world.workdir / "paperbot-out" / "report.json").read_text())["judged"] == len(ids)
    assert github_server.token not in results[1].stdout + results[1].stderr
