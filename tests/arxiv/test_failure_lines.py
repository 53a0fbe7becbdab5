"""bot/arxiv/http.py's failure messages: one line naming the host, the status or error and the attempts,
never a request's whole URL; each retry is a warning, seen at the default log level."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.arxiv.client import fetch_papers
from bot.core.errors import FetchError
from tests.support.arxiv_server import ArxivServer, Fault

SINCE, UNTIL = datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 3, 31, tzinfo=UTC)
FAST = {"delay_seconds": 0.01, "backoff_base_seconds": 0.01, "backoff_max_seconds": 0.02,
        "max_retries": 2, "retry_budget_seconds": 10.0}


def host(server: ArxivServer) -> str:
    return server.url.split("://", 1)[1].split("/", 1)[0]


def test_a_failed_request_is_one_line_with_host_status_and_attempts(
        arxiv_server: ArxivServer, caplog: pytest.LogCaptureFixture) -> None:
    arxiv_server.add_synthetic(3, start=SINCE, end=UNTIL)
    arxiv_server.fail(Fault.HTTP_503, times=10)
    with caplog.at_level(logging.WARNING, logger="bot.arxiv"), pytest.raises(FetchError) as err:
        fetch_papers(arxiv_server.settings(**FAST), SINCE, UNTIL)
    message = str(err.value)
    assert message == f"arXiv failed 3 times at {host(arxiv_server)}: HTTP 503; try again later"
    retries = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert [m.split(" in ")[0] for m in retries] == [f"arXiv at {host(arxiv_server)}: HTTP 503; retry 1/2",
                                                     f"arXiv at {host(arxiv_server)}: HTTP 503; retry 2/2"]
    assert not any("search_query" in m or "?" in m for m in [message, *retries])


def test_a_refused_request_names_the_host_and_arxivs_reason(arxiv_server: ArxivServer) -> None:
    arxiv_server.add_synthetic(3, start=SINCE, end=UNTIL)
    arxiv_server.fail(Fault.ERROR_400, times=1)
    with pytest.raises(FetchError) as err:
        fetch_papers(arxiv_server.settings(**FAST), SINCE, UNTIL)
    message = str(err.value)
    assert message.startswith(f"arXiv at {host(arxiv_server)} rejected the request (HTTP 400): ")
    assert err.value.status == 400 and "\n" not in message and "search_query" not in message


def test_the_runs_error_column_is_that_line(invoke, cli_env: Path, arxiv_server: ArxivServer) -> None:  # type: ignore[no-untyped-def]
    body = "\n".join(f"{k} = {v!r}" for k, v in FAST.items())
    (cli_env / "paperbot.toml").write_text(f'[arxiv]\nquery = "abs:diffusion"\n{body}\n')
    arxiv_server.fail(Fault.HTTP_503, times=10)
    env = {"PAPERBOT_ARXIV_API_URL": arxiv_server.url}
    failed = invoke("fetch", "--since", "2026-03-01", "--until", "2026-03-31", env=env)
    line = f"arXiv failed 3 times at {host(arxiv_server)}: HTTP 503; try again later"
    assert failed.exit_code == 1 and failed.output.strip().endswith(line)
    runs = json.loads(invoke("runs", "--json").output)
    assert [(r["status"], r["error"]) for r in runs] == [("failed", line)]
