"""``paperbot fetch``, ``classify`` (bot/cli/stages.py) through the real click group, fetch against a
loopback arXiv."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from db import store
from db.session import open_database, session_scope
from tests.support.arxiv_server import ArxivServer, Fault
from tests.support.cli import END, HASHING, START, fast_config, small_list, watched


def test_a_wrong_flag_is_one_line_and_exit_2(invoke) -> None:  # type: ignore[no-untyped-def]
    result = invoke("fetch", "--since", "yesterday")
    assert result.exit_code == 2
    assert "'yesterday' is not a date" in result.output


def test_fetch_stores_a_thousand_papers_once(invoke, cli_env: Path, arxiv_server: ArxivServer) -> None:  # type: ignore[no-untyped-def]
    fast_config(cli_env, page_size=200)
    specs = [s for s in arxiv_server.add_synthetic(4000, start=START, end=END, seed=7)
             if set(s.categories) & {"cs.CV", "cs.LG", "cs.AI", "cs.CL", "cs.GR", "eess.IV"}]
    assert len(specs) > 1000  # the rest are in categories the bot does not watch
    env = {"PAPERBOT_ARXIV_API_URL": arxiv_server.url}
    result = invoke("fetch", "--since", "2026-03-01", "--until", "2026-03-31", env=env)
    assert result.exit_code == 0, result.output
    n = len(specs)
    assert result.output.startswith(f"fetched {n} / new {n} / updated 0 / skipped 0")
    engine = open_database(f"sqlite:///{cli_env / 'paperbot.db'}")
    with session_scope(engine) as session:
        assert store.count_papers(session) == n
        versions = {p.arxiv_id: p.version for p in store.all_papers(session)}
    assert versions == {s.arxiv_id: s.version for s in specs}
    again = invoke("fetch", "--since", "2026-03-01", "--until", "2026-03-31", env=env)
    assert again.output.startswith(f"fetched {n} / new 0 / updated 0 / skipped {n}")
    gaps = arxiv_server.gaps()
    assert gaps and min(gaps) >= 0.05
    assert arxiv_server.max_in_flight == 1


def test_fetch_survives_503_and_429(invoke, cli_env: Path, arxiv_server: ArxivServer) -> None:  # type: ignore[no-untyped-def]
    fast_config(cli_env)
    n = watched(arxiv_server.add_synthetic(250, start=START, end=END, seed=3))
    arxiv_server.fail(Fault.HTTP_503, times=2)
    arxiv_server.fail(Fault.HTTP_429, times=1, retry_after="0.2")
    env = {"PAPERBOT_ARXIV_API_URL": arxiv_server.url}
    result = invoke("fetch", "--since", "2026-03-01", "--until", "2026-03-31", env=env)
    assert result.exit_code == 0, result.output
    assert f"new {n} " in result.output
    assert min(arxiv_server.gaps()) >= 0.05


def test_a_server_that_never_answers_fails_within_budget_and_keeps_the_watermark(  # type: ignore[no-untyped-def]
        invoke, cli_env: Path, arxiv_server: ArxivServer) -> None:
    fast_config(cli_env, read_timeout_seconds=0.3, max_retries=2, retry_budget_seconds=3.0)
    arxiv_server.add_synthetic(30, start=START, end=END, seed=1)
    env = {"PAPERBOT_ARXIV_API_URL": arxiv_server.url}
    assert invoke("fetch", env=env).exit_code == 0  # a first good run sets the watermark
    engine = open_database(f"sqlite:///{cli_env / 'paperbot.db'}")
    with session_scope(engine) as session:
        mark = store.watermark(session)
    arxiv_server.fail(Fault.STALL, times=100, seconds=5)
    started = datetime.now(UTC)
    result = invoke("fetch", env=env)
    took = (datetime.now(UTC) - started).total_seconds()
    assert result.exit_code == 1
    assert result.output.count("\n") == 1 and result.output.startswith("Error: ")
    assert took < 10
    with session_scope(engine) as session:
        assert store.watermark(session) == mark
        runs = store.recent_runs(session)
        assert runs[0].status == "failed" and runs[0].error


def test_a_failed_run_is_recovered_by_the_next(invoke, cli_env: Path, arxiv_server: ArxivServer) -> None:  # type: ignore[no-untyped-def]
    fast_config(cli_env, max_retries=1, retry_budget_seconds=2.0)
    n = watched(arxiv_server.add_synthetic(300, start=START, end=END, seed=5))
    env = {"PAPERBOT_ARXIV_API_URL": arxiv_server.url}
    arxiv_server.fail(Fault.EMPTY_PAGE, times=10, start=100)  # page 2 keeps coming back empty
    failed = invoke("fetch", "--since", "2026-03-01", "--until", "2026-03-31", env=env)
    assert failed.exit_code == 1
    engine = open_database(f"sqlite:///{cli_env / 'paperbot.db'}")
    with session_scope(engine) as session:
        assert store.count_papers(session) == 0  # nothing half-written
    arxiv_server._faults.clear()
    ok = invoke("fetch", "--since", "2026-03-01", "--until", "2026-03-31", env=env)
    assert ok.exit_code == 0, ok.output
    with session_scope(engine) as session:
        assert store.count_papers(session) == n


def test_classify_file_mode_round_trip_with_bad_rows(invoke, cli_env: Path) -> None:  # type: ignore[no-untyped-def]
    (cli_env / "paperbot.toml").write_text(HASHING)
    papers = cli_env / "papers.jsonl"
    papers.write_text(
        json.dumps({"arxiv_id": "2601.00001", "title": "Post-training quantization of diffusion models",
                    "abstract": None}) + "\n"
        + "this is not json\n"
        + json.dumps({"arxiv_id": "2601.00002", "title": "", "abstract": "no title"}) + "\n"
        + json.dumps({"arxiv_id": "2601.00003", "title": "A survey of graph neural networks",
                      "abstract": "We review GNNs.", "authors": ["A"], "categories": ["cs.LG"]}) + "\n")
    out = cli_env / "predictions.jsonl"
    result = invoke("classify", "--input", str(papers), "--output", str(out))
    assert result.exit_code == 0, result.output
    assert "line 2" in result.output and "line 3" in result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["arxiv_id"] for r in rows] == ["2601.00001", "2601.00003"]
    for row in rows:
        assert set(row) >= {"arxiv_id", "label", "probability", "probabilities", "needs_review", "reason"}
        assert abs(sum(row["probabilities"].values()) - 1) < 1e-3  # rounded to 4 places
        assert row["label"] in row["probabilities"]
    to_stdout = invoke("classify", "--input", str(papers))
    assert [json.loads(line)["arxiv_id"] for line in to_stdout.stdout.splitlines() if line.startswith("{")] \
        == ["2601.00001", "2601.00003"]


def test_output_without_input_is_refused(invoke, cli_env: Path) -> None:  # type: ignore[no-untyped-def]
    result = invoke("classify", "--output", "x.jsonl")
    assert result.exit_code == 1 and "--output goes with --input" in result.output


def test_every_stage_on_either_database(invoke, cli_env: Path, arxiv_server: ArxivServer,  # type: ignore[no-untyped-def]
                                        any_db_url: str) -> None:
    """The write commands, one after another, on a SQLite file and on PostgreSQL alike."""
    from db.session import head_revision

    fast_config(cli_env)
    with (cli_env / "paperbot.toml").open("a") as handle:
        handle.write(HASHING)
    specs = arxiv_server.add_synthetic(120, start=START, end=END, seed=21)
    n = watched(specs)
    env = {"PAPERBOT_ARXIV_API_URL": arxiv_server.url, "PAPERBOT_DB_URL": any_db_url}
    assert invoke("db", "downgrade", "0004", env=env).output == "database at revision 0004\n"
    upgraded = invoke("db", "upgrade", env=env)
    assert upgraded.output == f"database at revision {head_revision()} (was 0004)\n"
    fetched = invoke("fetch", "--since", "2026-03-01", "--until", "2026-03-31", env=env)
    assert fetched.exit_code == 0, fetched.output
    assert fetched.output.startswith(f"fetched {n} / new {n} / updated 0 / skipped 0")
    assert invoke("embed", env=env).output == f"embedded {n} papers with hashing-64\n"
    assert invoke("embed", env=env).output == "embedded 0 papers with hashing-64\n"
    classified = invoke("classify", env=env)
    assert classified.exit_code == 0, classified.output
    assert classified.output.startswith(f"classified {n} papers (")  # (training takes the time: once)
    engine = open_database(any_db_url)
    with session_scope(engine) as session:
        assert len(store.predictions(session)) == n
        first = store.all_papers(session)[0]
    engine.dispose()
    listing = small_list(cli_env, f"- [arxiv] {first.title} [[arXiv](https://arxiv.org/abs/{first.arxiv_id})]\n"
                                  "- [CVPR] A Title Nobody Has Written\n")
    status = invoke("list", "status", "--list", str(listing), "--no-search", "--json", env=env)
    assert status.exit_code == 0, status.output
    assert json.loads(status.stdout) == [
        {"line": 6, "section": "Other", "title": "A Title Nobody Has Written", "status": "unresolved"}]
    runs = json.loads(invoke("runs", "--json", env=env).output)
    assert [(r["kind"], r["status"], r["new"]) for r in runs] == [("backfill", "success", n)]
    assert runs[0]["started_at"] <= runs[0]["finished_at"]
    assert json.loads(invoke("feedback", "--json", env=env).output) == []
    health = invoke("health", env=env)
    assert health.exit_code == 0, health.output
    assert json.loads(invoke("config", env=env).output)["database_url"] == any_db_url
