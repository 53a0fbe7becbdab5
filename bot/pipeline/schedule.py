"""``paperbot schedule``: run the pipeline on a cron expression with APScheduler 3, locally.

Never two runs at once (``max_instances=1``, misfires coalesced into one), one log line per run, and a
clean stop on SIGINT/SIGTERM: the scheduler stops taking new runs and waits for the current one, whose
stages each commit or roll back as a whole, so nothing half-written is left.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

log = logging.getLogger("paperbot.schedule")


@dataclass
class ScheduleStats:
    started: int = 0
    finished: int = 0
    failed: int = 0
    max_concurrent: int = 0
    _running: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self, limit: int | None) -> int | None:
        """Claim the next run, or ``None`` once ``limit`` runs have been claimed."""
        with self._lock:
            if limit is not None and self.started >= limit:
                return None
            self.started += 1
            self._running += 1
            self.max_concurrent = max(self.max_concurrent, self._running)
            return self.started

    def leave(self, ok: bool) -> None:
        with self._lock:
            self._running -= 1
            self.finished += 1
            self.failed += 0 if ok else 1


def run_scheduled(job: Callable[[], str], cron: str, *, stop: threading.Event | None = None,
                  max_runs: int | None = None, timezone: str = "UTC",
                  install_signals: bool = True) -> ScheduleStats:
    """Run ``job`` (which returns a one-line summary) on ``cron`` until stopped or ``max_runs`` ran.

    ``cron`` is a five-field crontab expression, or a number of seconds (``every:2``) for tests and demos.
    """
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    stop = stop or threading.Event()
    stats = ScheduleStats()

    def guarded() -> None:
        # A stop request, or the last allowed run, may land while the scheduler is already firing the
        # next run: that run must not start, or a SIGTERM could be followed by a whole new pipeline run.
        run = None if stop.is_set() else stats.enter(max_runs)
        if run is None:
            return
        started = time.monotonic()
        ok = True
        try:
            summary = job()
            log.warning("run %d ok in %.1fs: %s", run, time.monotonic() - started, summary)
        except Exception as exc:  # one failed run must not stop the schedule
            ok = False
            log.warning("run %d failed in %.1fs: %s", run, time.monotonic() - started, exc)
        finally:
            stats.leave(ok)
            if max_runs is not None and stats.finished >= max_runs:
                stop.set()

    if cron.startswith("every:"):
        trigger = IntervalTrigger(seconds=float(cron.split(":", 1)[1]), timezone=timezone)
    else:
        trigger = CronTrigger.from_crontab(cron, timezone=timezone)
    scheduler = BackgroundScheduler(timezone=timezone)
    scheduler.add_job(guarded, trigger, id="paperbot", max_instances=1, coalesce=True,
                      misfire_grace_time=3600)

    previous: dict[signal.Signals, signal._HANDLER] = {}
    if install_signals and threading.current_thread() is threading.main_thread():
        def on_signal(signum: int, _frame: FrameType | None) -> None:
            log.warning("received %s: finishing the current run, then stopping",
                        signal.Signals(signum).name)
            stop.set()

        for signum in (signal.SIGINT, signal.SIGTERM):
            previous[signum] = signal.signal(signum, on_signal)
    scheduler.start()
    job_info = scheduler.get_job("paperbot")
    log.warning("scheduled on %r; next run %s", cron, job_info.next_run_time if job_info else "?")
    try:
        stop.wait()
    finally:
        scheduler.shutdown(wait=True)  # the current run finishes; no new one starts
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return stats
