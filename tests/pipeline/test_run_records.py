"""Every path that records a run (``stages.fetch``, ``pipeline.run.run``) ends it ``failed`` on any error,
Ctrl-C included, and the original error still reaches the caller: real failures only (the loopback arXiv
server failing or stalling, a real SIGINT to a real process, a list that cannot be read)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.core.config import Settings
from bot.core.errors import BotError, FetchError
from bot.core.states import RunStatus
from bot.pipeline import run as pipeline
from bot.pipeline import stages
from db import store
from db.session import open_database, session_scope
from tests.support.arxiv_server import ArxivServer, Fault

ROOT = Path(__file__).resolve().parents[2]
SINCE, UNTIL = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC)


def _runs(engine: Engine) -> list[store.RunInfo]:
    with session_scope(engine) as session:
        return store.recent_runs(session)


def test_a_fetch_that_fails_ends_failed_and_moves_nothing(engine: Engine, arxiv_server: ArxivServer) -> None:
    arxiv_server.add_synthetic(5, start=SINCE, end=UNTIL)
    arxiv_server.fail(Fault.HTTP_503, times=10)
    settings = Settings(arxiv=arxiv_server.settings(max_retries=0))
    with pytest.raises(FetchError) as err:
        stages.fetch(settings, engine, since=SINCE, until=UNTIL)
    [run] = _runs(engine)
    assert (run.status, run.error) == (RunStatus.FAILED, str(err.value)) and run.finished_at is not None
    with session_scope(engine) as session:
        assert store.count_papers(session) == 0 and store.watermark(session) is None


def test_ctrl_c_during_a_fetch_ends_its_run_failed(db_url: str, arxiv_server: ArxivServer,
                                                   tmp_path: Path) -> None:
    arxiv_server.add_synthetic(5, start=SINCE, end=UNTIL)
    arxiv_server.fail(Fault.STALL, times=1, seconds=30)
    (tmp_path / "paperbot.toml").write_text('[arxiv]\nquery = "abs:diffusion"\ndelay_seconds = 0.0\n'
                                            "read_timeout_seconds = 60.0\n")
    env = dict(os.environ, PAPERBOT_ARXIV_API_URL=arxiv_server.url, PYTHONPATH=str(ROOT))
    process = subprocess.Popen([sys.executable, "-m", "bot", "--db", db_url, "fetch", "--since", "2026-03-01",
                                "--until", "2026-03-31"], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while not arxiv_server.requests and time.monotonic() < deadline:  # the request is in, unanswered
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 1 and "interrupted" in stderr
    engine = open_database(db_url)
    try:
        [run] = _runs(engine)
    finally:
        engine.dispose()
    assert (run.kind, run.status, run.error) == ("backfill", RunStatus.FAILED, "KeyboardInterrupt")


def test_a_pipeline_run_that_fails_ends_failed_with_its_report(engine: Engine, tmp_path: Path) -> None:
    listing = tmp_path / "list.md"
    listing.write_bytes(b"# List\n\n\xff\xfe not UTF-8\n")
    options = pipeline.RunOptions(out_dir=tmp_path / "out", list_path=listing, fetch=False)
    with pytest.raises(BotError, match="cannot read the list"):
        pipeline.run(Settings(), engine, options)
    [run] = _runs(engine)
    assert (run.kind, run.status) == ("run", RunStatus.FAILED) and "cannot read the list" in (run.error or "")
    assert (tmp_path / "out" / "report.json").is_file()
