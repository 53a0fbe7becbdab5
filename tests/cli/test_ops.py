"""Operations (bot/cli/ops.py) through the CLI: snapshots and the alarm issue against the loopback GitHub,
and the feedback scores."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from bot.core.models import Paper
from bot.core.states import RunStatus
from db import store
from db.schema import Run
from db.session import open_database, session_scope
from tests.support.cli import HASHING
from tests.support.github_server import FakeGitHub
from tests.support.paths import DEV_FILE

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
        store.finish_run(session, old, RunStatus.SUCCESS, fetched=3)
        row = session.get(Run, old)
        assert row is not None and row.finished_at is not None
        row.started_at = row.started_at - timedelta(days=4)
        row.finished_at = row.finished_at - timedelta(days=4)
        failed = store.start_run(session, "fetch")
        store.finish_run(session, failed, RunStatus.FAILED, error="arXiv did not answer")
    env = env_for(github_server, db)
    first = invoke("health", "--alarm", env=env)
    assert first.exit_code == 1 and "no successful run for 9" in first.output
    second = invoke("health", "--alarm", env=env)
    assert second.exit_code == 1
    issues = list(github_server.issues[github_server.repo.full_name].values())
    assert len(issues) == 1 and issues[0].state == "open"
    with session_scope(engine) as session:
        ok = store.start_run(session, "fetch")
        store.finish_run(session, ok, RunStatus.SUCCESS, fetched=12)
    healed = invoke("health", "--alarm", env=env)
    assert healed.exit_code == 0, healed.output
    assert issues[0].state == "closed"


def test_feedback_scores_measure_the_model_on_the_maintainers_decisions(invoke, cli_env: Path,  # type: ignore[no-untyped-def]
                                                                         db_url: str) -> None:
    import re

    from bot.core.labels import Label
    from bot.core.models import Paper
    from db import store
    from db.decisions import ListedEntry, replace_list_entries
    from db.session import open_database, session_scope

    (cli_env / "paperbot.toml").write_text(HASHING)
    env = {"PAPERBOT_DB_URL": db_url}
    assert "0 maintainer decisions so far; 10 are needed" in invoke("feedback", "--scores", env=env).output
    rows = [json.loads(line) for line in DEV_FILE.read_text().splitlines()]
    listed = [r for r in rows if r["label"] != "irrelevant"][:12]
    engine = open_database(db_url)
    with session_scope(engine) as session:
        store.upsert_papers(session, [Paper(arxiv_id=r["arxiv_id"], title=r["title"], abstract=r["abstract"])
                                      for r in listed])
        replace_list_entries(session, [
            ListedEntry(section=r["label"], label=Label(r["label"]), title=r["title"], venue=None,
                        arxiv_id=r["arxiv_id"], resolved_by="link", line_no=n) for n, r in enumerate(listed)])
    engine.dispose()
    result = invoke("feedback", "--scores", env=env)
    assert result.exit_code == 0, result.output
    assert "scores on the maintainers' 12 decisions (relevance F1 / section accuracy / macro-F1):" \
        in result.output
    for line in ("trained without them", r"learning from them \(5-fold\)"):
        figures = re.search(line + r"\s+([\d.]+) / ([\d.]+) / ([\d.]+)", result.output)
        assert figures is not None, result.output
        assert all(0.0 <= float(value) <= 1.0 for value in figures.groups())
