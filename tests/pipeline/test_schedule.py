import threading
import time

from bot.pipeline.schedule import run_scheduled


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
