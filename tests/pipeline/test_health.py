from datetime import UTC, datetime, timedelta

from bot.pipeline.health import assess
from db.store import RunInfo

NOW = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)  # a Wednesday


def run(started: datetime, status: str = "success", fetched: int = 10, kind: str = "fetch",
        error: str | None = None) -> RunInfo:
    return RunInfo(1, kind, started, started + timedelta(minutes=5), status, None, None, fetched,
                   fetched, 0, 0, 1, error)


def test_recent_success_is_healthy() -> None:
    health = assess([run(NOW - timedelta(hours=20))], NOW)
    assert health.ok and health.problems == []


def test_no_success_for_72_hours_raises_the_alarm() -> None:
    runs = [run(NOW - timedelta(hours=80)),
            run(NOW - timedelta(hours=30), "failed", 0, error="arXiv did not answer")]
    health = assess(runs, NOW)
    assert not health.ok
    assert health.problems == ["no successful run for 79 hours (last error: arXiv did not answer)"]


def test_six_empty_weekdays_raise_the_alarm_weekends_do_not_count() -> None:
    days = [NOW - timedelta(days=d) for d in range(0, 9)]  # Wed back to Mon of last week
    runs = [run(day, fetched=0) for day in days]
    health = assess(runs, NOW)
    weekdays = sum(1 for day in days if day.weekday() < 5)
    assert weekdays == 7 and health.empty_weekdays == 7
    assert not health.ok and "7 consecutive weekdays" in health.problems[0]
    # a weekend of empty runs after a good Friday is fine
    friday = NOW - timedelta(days=5)
    weekend = [run(friday), run(friday + timedelta(days=1), fetched=0),
               run(friday + timedelta(days=2), fetched=0)]
    assert assess(weekend, friday + timedelta(days=2, hours=1)).ok


def test_five_empty_weekdays_are_not_yet_an_alarm() -> None:
    runs = [run(NOW - timedelta(days=d), fetched=0) for d in (0, 1, 2, 5, 6)]  # Wed Tue Mon Fri Thu
    runs.append(run(NOW - timedelta(days=7)))  # the Wednesday before found papers
    assert assess(runs, NOW).ok


def test_a_fresh_database_is_healthy_and_says_so_while_failures_alone_are_not() -> None:
    fresh = assess([], NOW)
    assert fresh.ok and fresh.report() == "healthy: no runs yet (nothing to judge until the first fetch)"
    recent = assess([run(NOW - timedelta(hours=20))], NOW)
    finished = NOW - timedelta(hours=19, minutes=55)
    assert recent.report() == f"healthy: last successful run {finished:%Y-%m-%d %H:%M} UTC"
    failed = assess([run(NOW - timedelta(hours=2), "failed", 0)], NOW)
    assert not failed.ok and failed.report() == "no run has succeeded yet (1 failed); see `paperbot runs`"
