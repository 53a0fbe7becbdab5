"""Two processes writing one database at once, a SQLite file or PostgreSQL: both finish, nothing is stored
twice, no run stays running.

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


def test_two_fetches_on_one_migrated_database_both_finish(any_db_url: str, tmp_path: Path,
                                                          arxiv_server: ArxivServer) -> None:
    db_url = any_db_url
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


@pytest.fixture(params=["sqlite", "postgresql"])
def new_db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database nobody has migrated yet: a new SQLite file, or an empty PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'new.db'}"
    return str(request.getfixturevalue("pg_url"))


def test_two_processes_opening_a_new_database_both_see_head(new_db_url: str) -> None:
    url = new_db_url
    barrier, results = SPAWN.Barrier(2), SPAWN.Queue()
    procs = [SPAWN.Process(target=_open_new, args=(url, barrier, results)) for _ in range(2)]
    for proc in procs:
        proc.start()
    got = [results.get(timeout=WAIT) for _ in procs]
    for proc in procs:
        proc.join(WAIT)
    assert got == [("ok", head_revision())] * 2
    assert [proc.exitcode for proc in procs] == [0, 0]
    engine = make_engine(url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


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


def test_two_upsert_batches_overlapping_in_ids(any_db_url: str) -> None:
    db_url = any_db_url
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


def _propose(url: str, pr_number: int, barrier: Any, results: Any) -> None:
    from bot.core.labels import Label
    from db import decisions

    engine = open_database(url, migrate=False)
    try:
        barrier.wait(WAIT)
        with session_scope(engine) as session:
            decisions.record_open(session, pr_number, {f"2603.{i:05d}": Label.PRUNING for i in range(40)})
        results.put(("ok",))
    except BaseException as exc:
        results.put(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        engine.dispose()


def test_two_runs_recording_one_pull_request_record_each_proposal_once(any_db_url: str) -> None:
    from sqlalchemy import func, select

    from db.schema import ProposalRow
    from tests.support.store import paper

    engine = open_database(any_db_url)
    with session_scope(engine) as session:
        store.upsert_papers(session, [paper(f"2603.{i:05d}") for i in range(40)])
    barrier, results = SPAWN.Barrier(2), SPAWN.Queue()
    procs = [SPAWN.Process(target=_propose, args=(any_db_url, 7, barrier, results)) for _ in range(2)]
    for proc in procs:
        proc.start()
    got = [results.get(timeout=WAIT) for _ in procs]
    for proc in procs:
        proc.join(WAIT)
    assert got == [("ok",)] * 2
    with session_scope(engine) as session:
        rows = session.execute(select(ProposalRow.state, func.count()).group_by(ProposalRow.state)).all()
    engine.dispose()
    assert rows == [("open", 40)]


def test_two_dry_runs_on_one_database_store_the_list_once(any_db_url: str, tmp_path: Path) -> None:
    """The list's entries are replaced on every run (delete, insert): two at once must not leave both
    copies (PostgreSQL's sessions serialise like SQLite's, see db/session.py)."""
    import numpy as np

    from bot.core.labels import Label
    from tests.support.cli import small_list
    from tests.support.database import prediction
    from tests.support.store import paper

    ids = [f"2603.{i:05d}" for i in range(30)]
    engine = open_database(any_db_url)
    with session_scope(engine) as session:
        store.upsert_papers(session, [paper(i, title=f"Pruning diffusion models, part {n}")
                                      for n, i in enumerate(ids)])
        store.save_predictions(session, {i: prediction(Label.PRUNING, 0.9) for i in ids})
        store.save_embeddings(session, "hashing-64", ids, np.ones((len(ids), 64), dtype=np.float32))
    listing = small_list(tmp_path, "".join(f"- [arxiv] Listed {n} [[arXiv](https://arxiv.org/abs/{i})]\n"
                                           for n, i in enumerate(ids[:10])))
    command = [sys.executable, "-m", "bot", "--db", any_db_url, "run", "--no-fetch", "--list", str(listing)]
    procs = [subprocess.Popen(command + ["--out", str(tmp_path / f"out{n}")], cwd=tmp_path, env=_env(),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for n in range(2)]
    outputs = [p.communicate(timeout=WAIT * 3)[0] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outputs
    assert all("proposed 20 " in out for out in outputs), outputs
    with session_scope(engine) as session:
        from db import decisions

        entries = decisions.list_entries(session)
        runs = store.recent_runs(session)
    engine.dispose()
    assert sorted(e.arxiv_id or "" for e in entries) == ids[:10]
    assert [r.status for r in runs] == [RunStatus.SUCCESS, RunStatus.SUCCESS]


@pytest.fixture(autouse=True)
def _no_stray_children() -> Any:
    yield
    for child in SPAWN.active_children():  # a failed test leaves no process behind
        child.terminate()
