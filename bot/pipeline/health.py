"""Is the bot healthy? Pure rules over the run history, used by ``paperbot health`` and the cron alarm.

Two alarms: no successful run for 72 hours, and the arXiv query returning nothing on 6 consecutive
weekdays (arXiv announces nothing on Saturdays and Sundays, so weekends never count). The answer is plain
data; opening or updating the GitHub issue is ``bot/github/state.py``'s job.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.core.states import RunStatus
from db.store import RunInfo

STALE_AFTER = timedelta(hours=72)
EMPTY_WEEKDAYS = 6
ALARM_TITLE = "paperbot needs attention"


@dataclass(frozen=True)
class Health:
    ok: bool
    problems: list[str] = field(default_factory=list)
    last_success: datetime | None = None
    empty_weekdays: int = 0

    def report(self) -> str:
        if self.ok:
            if self.last_success is None:
                return "healthy: no runs yet (nothing to judge until the first fetch)"
            return f"healthy: last successful run {self.last_success:%Y-%m-%d %H:%M} UTC"
        return "; ".join(self.problems)


def assess(runs: Sequence[RunInfo], now: datetime, *, stale_after: timedelta = STALE_AFTER,
           empty_weekdays: int = EMPTY_WEEKDAYS) -> Health:
    """Judge the runs (any order) as of ``now``."""
    fetches = sorted((r for r in runs if r.kind in {"fetch", "run"}), key=lambda r: r.started_at)
    successes = [r for r in fetches if r.status in {RunStatus.SUCCESS, RunStatus.EMPTY}]
    last_success = max((r.finished_at or r.started_at for r in successes), default=None)
    problems = []
    if last_success is None:
        if fetches:
            problems.append(f"no run has succeeded yet ({len(fetches)} failed); see `paperbot runs`")
    elif now - last_success > stale_after:
        hours = int((now - last_success).total_seconds() // 3600)
        last_error = next((r.error for r in reversed(fetches)
                           if r.status == RunStatus.FAILED and r.error), None)
        problems.append(f"no successful run for {hours} hours"
                        + (f" (last error: {last_error})" if last_error else ""))
    # Count the trailing run of weekdays whose successful fetches all found nothing.
    by_day: dict[str, bool] = {}
    for run in successes:
        day = run.started_at.date()
        if day.weekday() >= 5:
            continue
        found = run.fetched > 0 and run.status != RunStatus.EMPTY
        by_day[day.isoformat()] = by_day.get(day.isoformat(), False) or found
    streak = 0
    for key in sorted(by_day, reverse=True):
        if by_day[key]:
            break
        streak += 1
    if streak >= empty_weekdays:
        problems.append(f"the arXiv query returned nothing on {streak} consecutive weekdays; check "
                        "`arxiv.query` and the arXiv API announcements")
    return Health(ok=not problems, problems=problems, last_success=last_success, empty_weekdays=streak)


def alarm_body(health: Health, now: datetime) -> str:
    lines = [f"paperbot's health check at {now:%Y-%m-%d %H:%M} UTC found:", ""]
    lines += [f"- {problem}" for problem in health.problems]
    lines += ["", "This issue is updated by each failing check and closed by the first healthy one."]
    return "\n".join(lines)


