"""``paperbot schedule --once`` (bot/cli/run.py) through the real click group; ``paperbot run`` end to end is
in tests/pipeline/test_run.py."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import small_list


def test_schedule_once_runs_the_pipeline(invoke, cli_env: Path, arxiv_server) -> None:  # type: ignore[no-untyped-def]
    listing = small_list(cli_env, "- [arxiv] Accelerating Parallel Sampling of Diffusion Models\n")
    result = invoke("schedule", "--once", "--list", str(listing), "--no-fetch",
                    env={"PAPERBOT_ARXIV_API_URL": arxiv_server.url})
    assert result.exit_code == 0, result.output
    assert "proposed 0" in result.output and "no changes" in result.output
