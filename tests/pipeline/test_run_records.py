"""Every path that records a run (``stages.fetch``, ``pipeline.run.run``) ends it ``failed`` on any error,
Ctrl-C and ``SystemExit`` included, and the original exception still reaches the caller."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.arxiv import client
from bot.arxiv.client import FetchResult
from bot.core.config import Settings
from bot.core.errors import FetchError
from bot.core.states import RunStatus
from bot.pipeline import run as pipeline
from bot.pipeline import stages
from db import store
from db.session import session_scope
from tests.support.store import T0, paper

ERRORS = [KeyboardInterrupt(), SystemExit(3), FetchError("arXiv answered 503"), RuntimeError("boom")]
TEXTS = ["KeyboardInterrupt", "SystemExit: 3", "arXiv answered 503", "RuntimeError: boom"]


def _runs(engine: Engine) -> list[store.RunInfo]:
    with session_scope(engine) as session:
        return store.recent_runs(session)


def _fetched(*_args: object, **_kw: object) -> FetchResult:
    return FetchResult([paper("2501.00001")], 1, 1, 1, 0, "q")


@pytest.mark.parametrize(("error", "recorded"), list(zip(ERRORS, TEXTS, strict=True)))
def test_a_fetch_that_raises_ends_failed(engine: Engine, monkeypatch: pytest.MonkeyPatch,
                                         error: BaseException, recorded: str) -> None:
    def fail(*_args: object, **_kw: object) -> None:
        raise error

    monkeypatch.setattr(client, "fetch_papers", fail)
    with pytest.raises(type(error)):
        stages.fetch(Settings(), engine, since=T0 - timedelta(days=1), until=T0)
    [run] = _runs(engine)
    assert (run.status, run.error) == (RunStatus.FAILED, recorded) and run.finished_at is not None


def test_a_fetch_whose_store_write_fails_ends_failed_with_nothing_stored(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*_args: object, **_kw: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(client, "fetch_papers", _fetched)
    monkeypatch.setattr(store, "upsert_papers", interrupted)
    with pytest.raises(KeyboardInterrupt):
        stages.fetch(Settings(), engine, since=T0 - timedelta(days=1), until=T0)
    [run] = _runs(engine)
    assert run.status == RunStatus.FAILED
    with session_scope(engine) as session:
        assert store.count_papers(session) == 0 and store.watermark(session) is None


def test_when_even_the_failure_cannot_be_recorded_the_original_error_wins(
        engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_args: object, **_kw: object) -> None:
        raise FetchError("arXiv answered 503")

    def broken(*_args: object, **_kw: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(client, "fetch_papers", fail)
    monkeypatch.setattr(store, "finish_run", broken)
    with pytest.raises(FetchError, match="503"):
        stages.fetch(Settings(), engine, since=T0 - timedelta(days=1), until=T0)


@pytest.mark.parametrize(("error", "recorded"), list(zip(ERRORS, TEXTS, strict=True)))
def test_a_pipeline_run_that_raises_ends_failed(engine: Engine, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch, error: BaseException,
                                                recorded: str) -> None:
    def fail(*_args: object, **_kw: object) -> None:
        raise error

    monkeypatch.setattr(pipeline, "_run", fail)
    listing = tmp_path / "list.md"
    listing.write_text("# List\n")
    with pytest.raises(type(error)):
        pipeline.run(Settings(), engine, pipeline.RunOptions(out_dir=tmp_path / "out", list_path=listing))
    [run] = _runs(engine)
    assert (run.kind, run.status, run.error) == ("run", RunStatus.FAILED, recorded)
    assert (tmp_path / "out" / "report.json").is_file()


def test_a_pipeline_run_whose_last_write_fails_ends_failed(engine: Engine, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    finish = store.finish_run

    def no_success(session: object, run_id: int, status: RunStatus, **kw: object) -> None:
        if status == RunStatus.SUCCESS:
            raise SystemExit("terminated")
        finish(session, run_id, status, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "_run", lambda *a, **k: None)
    monkeypatch.setattr(store, "finish_run", no_success)
    with pytest.raises(SystemExit):
        pipeline.run(Settings(), engine, pipeline.RunOptions(out_dir=tmp_path / "out", list_path=tmp_path))
    [run] = _runs(engine)
    assert (run.status, run.error) == (RunStatus.FAILED, "SystemExit: terminated")
