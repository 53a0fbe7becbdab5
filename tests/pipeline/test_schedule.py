import threading
import time
from pathlib import Path

from bot.pipeline.schedule import run_scheduled
from tests.support.cli import small_list


def test_fires_repeatedly_never_overlapping_and_stops_cleanly() -> None:
    calls: list[float] = []

    def slow_job() -> str:
        calls.append(time.monotonic())
        time.sleep(0.6)  # longer than the interval: a second instance must not start
        return "ok"

    stats = run_scheduled(slow_job, "every:0.2", max_runs=3, install_signals=False)
    assert stats.finished == 3 and stats.failed == 0
    assert stats.max_concurrent == 1
    assert all(b - a >= 0.55 for a, b in zip(calls, calls[1:], strict=False))


def test_a_failing_run_does_not_stop_the_schedule() -> None:
    outcomes = iter([RuntimeError("arXiv down"), "fetched 3"])

    def job() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    stats = run_scheduled(job, "every:0.1", max_runs=2, install_signals=False)
    assert (stats.finished, stats.failed) == (2, 1)


def test_stop_waits_for_the_current_run() -> None:
    stop = threading.Event()
    finished = threading.Event()

    def job() -> str:
        stop.set()  # a stop request arrives mid-run
        time.sleep(0.3)
        finished.set()
        return "done"

    stats = run_scheduled(job, "every:0.1", stop=stop, install_signals=False)
    assert finished.is_set() and stats.finished == 1


class SlowToWake(threading.Event):
    """A stop event whose waiter wakes late, as a busy main thread would: the scheduler keeps firing."""

    def wait(self, timeout: float | None = None) -> bool:
        woke = super().wait(timeout)
        time.sleep(0.3)
        return woke


def test_no_run_starts_after_the_last_allowed_one_or_a_stop() -> None:
    stats = run_scheduled(lambda: "ok", "every:0.02", stop=SlowToWake(), max_runs=2,
                          install_signals=False)
    assert (stats.started, stats.finished) == (2, 2)

    stop = SlowToWake()

    def stops() -> str:
        stop.set()  # as SIGTERM would, mid-run
        return "ok"

    stats = run_scheduled(stops, "every:0.02", stop=stop, install_signals=False)
    assert (stats.started, stats.finished) == (1, 1)


def test_schedule_stops_cleanly_on_sigterm(cli_env: Path, arxiv_server) -> None:  # type: ignore[no-untyped-def]
    import os
    import signal
    import subprocess
    import sys
    import time

    listing = small_list(cli_env)
    env = dict(os.environ, PAPERBOT_ARXIV_API_URL=arxiv_server.url)
    process = subprocess.Popen(
        [sys.executable, "-m", "bot", "schedule", "--cron", "every:0.5", "--list", str(listing),
         "--no-fetch"],
        cwd=cli_env, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    log = ""
    while time.monotonic() < deadline and "run 1 ok" not in log:  # wait for a first complete run
        assert process.stderr is not None
        log += process.stderr.readline()
        assert process.poll() is None, log
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "received SIGTERM" in err + log
    assert out.startswith("stopped after ") and "(0 failed)" in out
