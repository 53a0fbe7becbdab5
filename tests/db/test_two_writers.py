"""Two processes writing one SQLite file at once: both finish, nothing is stored twice, no run stays running.

Real processes (``subprocess`` for the CLI, ``multiprocessing`` with the 'spawn' context for the store),
made to overlap: the loopback arXiv server answers each page only when both fetches have asked for it, and
the store workers wait on a barrier before they write.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import subprocess
import sys
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from bot.core.states import RunStatus
from db import store
from db.session import current_revision, head_revision, make_engine, open_database, session_scope
from tests.support.arxiv_server import ArxivServer
from tests.support.cli import fast_config, watched

ROOT = Path(__file__).resolve().parents[2]
SPAWN = multiprocessing.get_context("spawn")
WAIT = 20.0  # seconds any one step may take before the test gives up


def _lockstep(server: ArxivServer, writers: int) -> None:
    """Answer each page (by offset) only once ``writers`` requests for it have arrived, so concurrent
    fetches page in step and reach their upserts at the same moment."""
    barriers: dict[str, threading.Barrier] = defaultdict(lambda: threading.Barrier(writers, timeout=WAIT))
    guard = threading.Lock()
    answer = server.answer

    def in_step(query: dict[str, str]) -> tuple[int, str, int]:
        with guard:
            barrier = barriers[query.get("start", "0")]
        with contextlib.suppress(threading.BrokenBarrierError):  # a retry or an extra request: answer it
            barrier.wait()
        return answer(query)

    server.answer = in_step  # type: ignore[method-assign]


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), **extra)
    env.pop("PAPERBOT_DB_URL", None)
    return env


def test_two_fetches_on_one_migrated_file_both_finish(db_url: str, tmp_path: Path,
                                                      arxiv_server: ArxivServer) -> None:
    from tests.support.cli import END, START

    fast_config(tmp_path, page_size=100)
    n = watched(arxiv_server.add_synthetic(400, start=START, end=END, seed=11))
    assert n > 200
    _lockstep(arxiv_server, 2)
    command = [sys.executable, "-m", "bot", "--db", db_url, "fetch", "--since", "2026-03-01",
               "--until", "2026-03-31"]
    env = _env(PAPERBOT_ARXIV_API_URL=arxiv_server.url)
    procs = [subprocess.Popen(command, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for _ in range(2)]
    outputs = [p.communicate(timeout=WAIT)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert all(out.startswith(f"fetched {n} / ") for out in outputs), outputs
    engine = open_database(db_url)
    with session_scope(engine) as session:
        assert store.count_papers(session) == n
        runs = store.recent_runs(session)
    engine.dispose()
    assert [r.status for r in runs] == [RunStatus.SUCCESS, RunStatus.SUCCESS]
    assert sum(r.new for r in runs) == n  # one of them stored each paper; the other found it there


def _open_new(url: str, barrier: Any, results: Any) -> None:
    barrier.wait(WAIT)
    try:
        engine = open_database(url)
        results.put(("ok", current_revision(engine)))
        engine.dispose()
    except BaseException as exc:  # reported to the test, which fails with it
        results.put(("error", f"{type(exc).__name__}: {exc}"))


def test_two_processes_opening_a_new_file_both_see_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"
    barrier, results = SPAWN.Barrier(2), SPAWN.Queue()
    procs = [SPAWN.Process(target=_open_new, args=(url, barrier, results)) for _ in range(2)]
    for proc in procs:
        proc.start()
    got = [results.get(timeout=WAIT) for _ in procs]
    for proc in procs:
        proc.join(WAIT)
    assert got == [("ok", head_revision())] * 2
    assert [proc.exitcode for proc in procs] == [0, 0]
    assert current_revision(make_engine(url)) == head_revision()


def _upsert_batch(url: str, ids: range, version: int, barrier: Any, results: Any) -> None:
    from tests.support.store import paper

    engine = open_database(url, migrate=False)
    batch = [paper(f"2603.{i:05d}", version, f"v{version} of {i}") for i in ids]
    try:
        with session_scope(engine) as session:
            run_id = store.start_run(session, "fetch")
        barrier.wait(WAIT)
        with session_scope(engine) as session:
            counts = store.upsert_papers(session, batch, run_id)
            store.finish_run(session, run_id, RunStatus.SUCCESS, new=counts.new, updated=counts.updated)
        results.put(("ok", counts.new, counts.updated, counts.unchanged))
    except BaseException as exc:
        results.put(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        engine.dispose()


def test_two_upsert_batches_overlapping_in_ids(db_url: str) -> None:
    barrier, results = SPAWN.Barrier(2), SPAWN.Queue()
    batches = [(range(0, 300), 1), (range(150, 450), 2)]  # ids 150-299 in both, v2 in the second
    procs = [SPAWN.Process(target=_upsert_batch, args=(db_url, ids, version, barrier, results))
             for ids, version in batches]
    for proc in procs:
        proc.start()
    got = [results.get(timeout=WAIT) for _ in procs]
    for proc in procs:
        proc.join(WAIT)
    assert all(g[0] == "ok" for g in got), got
    assert sum(g[1] for g in got) == 450  # each id new once, whichever process came first
    engine = open_database(db_url)
    with session_scope(engine) as session:
        versions = {p.arxiv_id: (p.version, p.title) for p in store.all_papers(session)}
        assert {r.status for r in store.recent_runs(session)} == {RunStatus.SUCCESS}
    engine.dispose()
    assert len(versions) == 450
    for i in range(450):
        version = 2 if i >= 150 else 1
        assert versions[f"2603.{i:05d}"] == (version, f"v{version} of {i}")


@pytest.fixture(autouse=True)
def _no_stray_children() -> Any:
    yield
    for child in SPAWN.active_children():  # a failed test leaves no process behind
        child.terminate()
