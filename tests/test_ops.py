"""Operations through the CLI against the loopback GitHub: snapshots, the alarm issue, the scheduler."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from bot.core.models import Paper
from db import store
from db.schema import Run
from db.session import open_database, session_scope
from tests.support.github_server import FakeGitHub

FAST = "[github]\nseconds_between_requests = 0.0\nseconds_between_writes = 0.0\nbackoff_seconds = 0.01\n"


def env_for(github: FakeGitHub, db: Path) -> dict[str, str]:
    return {"GITHUB_API_URL": github.url, "GITHUB_TOKEN": github.token,
            "GITHUB_REPOSITORY": github.repo.full_name, "PAPERBOT_DB_URL": f"sqlite:///{db}"}


def fill(db: Path, n: int = 20) -> None:
    engine = open_database(f"sqlite:///{db}")
    with session_scope(engine) as session:
        store.upsert_papers(session, [Paper(arxiv_id=f"2511.{i:05d}", title=f"Paper {i}") for i in range(n)])
    engine.dispose()


def test_push_then_pull_then_show_from_the_copy(invoke, cli_env: Path, github_server: FakeGitHub) -> None:  # type: ignore[no-untyped-def]
    (cli_env / "paperbot.toml").write_text(FAST)
    live = cli_env / "live.db"
    fill(live)
    pushed = invoke("db", "push", env=env_for(github_server, live))
    assert pushed.exit_code == 0, pushed.output
    assert pushed.output.startswith("pushed ") and "paperbot/state" in pushed.output
    assert github_server.token not in pushed.output
    # someone else, on another machine, with no database at all
    copy = cli_env / "elsewhere" / "paperbot.db"
    copy.parent.mkdir()
    pulled = invoke("db", "pull", "--repo", github_server.repo.full_name, env=env_for(github_server, copy))
    assert pulled.exit_code == 0, pulled.output
    assert invoke("db", "check", env=env_for(github_server, copy)).output.strip().endswith(": ok")
    shown = invoke("show", "2511.00007", "--json", env=env_for(github_server, copy))
    assert shown.exit_code == 0, shown.output
    assert "Paper 7" in shown.output


def test_pull_without_a_snapshot(invoke, cli_env: Path, github_server: FakeGitHub) -> None:  # type: ignore[no-untyped-def]
    (cli_env / "paperbot.toml").write_text(FAST)
    env = env_for(github_server, cli_env / "paperbot.db")
    strict = invoke("db", "pull", env=env)
    assert strict.exit_code == 1 and strict.output.strip() == "Error: no snapshot on paperbot/state yet"
    lenient = invoke("db", "pull", "--if-exists", env=env)
    assert lenient.exit_code == 0 and "starting without one" in lenient.output


def test_a_corrupt_snapshot_is_not_installed(invoke, cli_env: Path, github_server: FakeGitHub) -> None:  # type: ignore[no-untyped-def]
    (cli_env / "paperbot.toml").write_text(FAST)
    github_server.push({"paperbot.db": b"SQLite format 3\x00" + b"\xff" * 8000}, branch="paperbot/state")
    db = cli_env / "paperbot.db"
    fill(db, 3)
    before = db.read_bytes()
    result = invoke("db", "pull", env=env_for(github_server, db))
    assert result.exit_code == 1 and "is corrupt" in result.output
    assert db.read_bytes() == before
    lenient = invoke("db", "pull", "--if-exists", env=env_for(github_server, db))
    assert lenient.exit_code == 0 and "not installed" in lenient.output


def test_health_alarm_is_opened_once_and_closed_when_healthy(invoke, cli_env: Path,  # type: ignore[no-untyped-def]
                                                             github_server: FakeGitHub) -> None:
    (cli_env / "paperbot.toml").write_text(FAST)
    db = cli_env / "paperbot.db"
    engine = open_database(f"sqlite:///{db}")
    with session_scope(engine) as session:
        old = store.start_run(session, "fetch")
        store.finish_run(session, old, store.SUCCESS, fetched=3)
        row = session.get(Run, old)
        assert row is not None and row.finished_at is not None
        row.started_at = row.started_at - timedelta(days=4)
        row.finished_at = row.finished_at - timedelta(days=4)
        failed = store.start_run(session, "fetch")
        store.finish_run(session, failed, store.FAILED, error="arXiv did not answer")
    env = env_for(github_server, db)
    first = invoke("health", "--alarm", env=env)
    assert first.exit_code == 1 and "no successful run for 9" in first.output
    second = invoke("health", "--alarm", env=env)
    assert second.exit_code == 1
    issues = list(github_server.issues[github_server.repo.full_name].values())
    assert len(issues) == 1 and issues[0].state == "open"
    with session_scope(engine) as session:
        ok = store.start_run(session, "fetch")
        store.finish_run(session, ok, store.SUCCESS, fetched=12)
    healed = invoke("health", "--alarm", env=env)
    assert healed.exit_code == 0, healed.output
    assert issues[0].state == "closed"


def small_list(folder: Path, other_entries: str = "") -> Path:
    """A list with the four default sections, and settings for a fast, model-free pipeline."""
    listing = folder / "list.md"
    listing.write_text(f"# List\n\n## Other\n\n{other_entries}\n"
                       "## Knowledge Distillation for Diffusion Models\n\n"
                       "## Pruning and Sparsity for Diffusion Models\n\n"
                       "## Quantization for Diffusion Models\n")
    (folder / "paperbot.toml").write_text('[classifier]\nembedding_model = "hashing-64"\n'
                                          "[arxiv]\ndelay_seconds = 0.0\n")
    return listing


def test_schedule_once_runs_the_pipeline(invoke, cli_env: Path, arxiv_server) -> None:  # type: ignore[no-untyped-def]
    listing = small_list(cli_env, "- [arxiv] Accelerating Parallel Sampling of Diffusion Models\n")
    result = invoke("schedule", "--once", "--list", str(listing), "--no-fetch",
                    env={"PAPERBOT_ARXIV_API_URL": arxiv_server.url})
    assert result.exit_code == 0, result.output
    assert "proposed 0" in result.output and "no changes" in result.output


def test_schedule_stops_cleanly_on_sigterm(cli_env: Path, arxiv_server) -> None:  # type: ignore[no-untyped-def]
    import os
    import signal
    import subprocess
    import sys
    import time

    listing = small_list(cli_env)
    env = dict(os.environ, PAPERBOT_ARXIV_API_URL=arxiv_server.url)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "schedule", "--cron", "every:0.5", "--list", str(listing),
         "--no-fetch"],
        cwd=cli_env, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    log = ""
    while time.monotonic() < deadline and "run 1 ok" not in log:  # wait for a first complete run
        assert process.stderr is not None
        log += process.stderr.readline()
        assert process.poll() is None, log
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "received SIGTERM" in err + log
    assert out.startswith("stopped after ") and "(0 failed)" in out
