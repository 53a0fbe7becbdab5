"""``paperbot schedule --once`` and ``paperbot render`` (bot/cli/run.py) through the real click group;
``paperbot run`` end to end is in tests/pipeline/test_run.py."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import small_list


def test_schedule_once_runs_the_pipeline(invoke, cli_env: Path, arxiv_server) -> None:  # type: ignore[no-untyped-def]
    listing = small_list(cli_env, "- [arxiv] Accelerating Parallel Sampling of Diffusion Models\n")
    result = invoke("schedule", "--once", "--list", str(listing), "--no-fetch",
                    env={"PAPERBOT_ARXIV_API_URL": arxiv_server.url})
    assert result.exit_code == 0, result.output
    assert "proposed 0" in result.output and "no changes" in result.output


def test_render_with_nothing_to_add_needs_no_network(invoke, cli_env: Path) -> None:  # type: ignore[no-untyped-def]
    # conftest points arXiv at 127.0.0.1:9, where nothing listens: any request would fail the command
    listing = small_list(cli_env, "- [arxiv] Linked [[arXiv](https://arxiv.org/abs/2601.00001)]\n"
                                  "- [CVPR] A Title Nobody Looked Up\n")
    result = invoke("render", "--list", str(listing))
    assert result.exit_code == 0, result.output
    assert result.output == "no changes\n"
