"""``paperbot config`` and ``runs`` (bot/cli/db.py) through the real click group."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.arxiv_server import ArxivServer, Fault
from tests.support.cli import END, START, fast_config, watched


def test_config_masks_the_token(invoke) -> None:  # type: ignore[no-untyped-def]
    result = invoke("config", env={"GITHUB_TOKEN": "ghs_supersecret123", "GITHUB_REPOSITORY": "o/r"})
    assert result.exit_code == 0
    assert "ghs_supersecret123" not in result.output
    assert json.loads(result.output)["github"]["token"] == "***"


def test_runs_lists_failed_and_successful_runs(invoke, cli_env: Path, arxiv_server: ArxivServer) -> None:  # type: ignore[no-untyped-def]
    fast_config(cli_env, max_retries=0)
    n = watched(arxiv_server.add_synthetic(8, start=START, end=END, seed=9))
    assert n > 0
    env = {"PAPERBOT_ARXIV_API_URL": arxiv_server.url}
    arxiv_server.fail(Fault.HTTP_500, times=1)
    assert invoke("fetch", "--since", "2026-03-01", "--until", "2026-03-31", env=env).exit_code == 1
    assert invoke("fetch", "--since", "2026-03-01", "--until", "2026-03-31", env=env).exit_code == 0
    rows = json.loads(invoke("runs", "--json").output)
    assert [r["status"] for r in rows] == ["success", "failed"]
    assert rows[0]["new"] == n and "500" in rows[1]["error"]
