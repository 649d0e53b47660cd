"""What a periodic job records of its turns (``/metrics``, ``/readyz``) and which jobs
``/readyz`` finds late in the lease holder's report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.services.operations.periodic import PeriodicJob
from server.services.operations.process_reports import Report
from server.services.operations.readiness import late_jobs

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def job(action, lease=None) -> PeriodicJob:
    return PeriodicJob("job", action, clock=lambda: NOW, every=timedelta(minutes=1), lease=lease)


def test_runs_failures_and_skipped_turns_are_recorded() -> None:
    outcomes = iter([None, RuntimeError("store down")])

    def action(_now: datetime) -> None:
        failure = next(outcomes)
        if failure:
            raise failure

    leading = [False, True, True]
    periodic = job(action, lease=lambda _now: leading.pop(0))
    periodic.run_once()  # another process holds the lease: a turn, not a run
    skipped = periodic.last_run
    assert (skipped.runs, skipped.last_turn is not None, skipped.last_end) == (0, True, None)
    periodic.run_once()
    succeeded = periodic.last_run
    assert (succeeded.runs, succeeded.failures) == (1, 0)
    assert succeeded.last_success == succeeded.last_end
    assert succeeded.last_duration_s is not None and succeeded.last_duration_s >= 0
    with pytest.raises(RuntimeError):
        periodic.run_once()
    failed = periodic.last_run
    assert (failed.runs, failed.failures) == (2, 1)
    assert failed.last_success == succeeded.last_success  # the last success stays
    assert failed.last_end is not None and failed.last_end >= succeeded.last_end
    assert failed.every_s == 60


def report(started: datetime, jobs: dict) -> Report:
    return Report("host:1:abc", "host", 1, started, NOW, False, {"jobs": jobs})


def test_a_job_is_late_after_twice_its_period_and_a_minute_without_a_turn() -> None:
    ago = lambda seconds: (NOW - timedelta(seconds=seconds)).timestamp()  # noqa: E731
    jobs = {
        "recent": {"every_s": 60, "last_turn": ago(150)},  # limit 180 s
        "stuck": {"every_s": 60, "last_turn": ago(200)},
        "never-turned": {"every_s": 3600, "last_turn": None},
        "freeze-weeks": {"every_s": 6 * 3600, "last_turn": ago(6 * 3600)},
    }
    assert late_jobs(report(NOW - timedelta(hours=3), jobs), NOW) == ["never-turned", "stuck"]
    # a process that started a minute ago is not late for a job that has not turned yet
    assert late_jobs(report(NOW - timedelta(minutes=1), jobs), NOW) == ["stuck"]
