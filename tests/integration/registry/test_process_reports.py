"""Each process's counters in the registry (``process_reports``): written by the process,
read by every other; a stopped process stays shown a while, a long-dead one is purged.
Two engines on one registry, as two ``serve`` processes would have."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.registry.database import open_registry
from server.registry.operations_store import SqlProcessRows
from server.services.operations.process_reports import ProcessReporter, recent_reports, report_of

T0 = datetime(2026, 12, 7, 9, tzinfo=UTC)


class Wall:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_rows_are_read_by_others_shown_after_stop_then_purged(settings, registry) -> None:
    wall = Wall()
    engine_a, registry_a = open_registry(settings.registry_database_url)
    engine_b, registry_b = open_registry(settings.registry_database_url)
    try:
        rows = SqlProcessRows(registry)
        stored = {"stored": 0}
        a = ProcessReporter(
            SqlProcessRows(registry_a), process="host:1:a", parts={"ingest": stored.copy}, wall=wall
        )
        b = ProcessReporter(SqlProcessRows(registry_b), process="host:2:b", parts={}, wall=wall)
        stored["stored"] = 7
        a.write()
        b.write()
        seen = {report.process: report for report in recent_reports(rows, T0)}
        assert seen["host:1:a"].counters == {"ingest": {"stored": 7}}
        assert seen["host:1:a"].live(T0) and seen["host:2:b"].live(T0)
        # a stops: its last counters, marked stopped, stay shown for 15 minutes
        wall.now = T0 + timedelta(seconds=10)
        a.write(stopped=True)
        later = T0 + timedelta(minutes=10)
        shown = {report.process: report for report in recent_reports(rows, later)}
        assert not shown["host:1:a"].live(later)
        assert shown["host:1:a"].counters["ingest"]["stored"] == 7
        assert [r.process for r in recent_reports(rows, T0 + timedelta(minutes=16))] == []
        # a row silent for a day is deleted by the next process that writes
        wall.now = T0 + timedelta(days=1, minutes=1)
        b.write()
        assert report_of(rows, "host:1:a") is None
        assert report_of(rows, "host:2:b") is not None
    finally:
        engine_a.dispose()
        engine_b.dispose()


def test_a_silent_process_is_not_live_after_30_seconds(settings, registry) -> None:
    wall = Wall()
    rows = SqlProcessRows(registry)
    reporter = ProcessReporter(rows, process="host:3:c", parts={}, wall=wall)
    reporter.write()
    report = report_of(rows, "host:3:c")
    assert report is not None
    assert report.live(T0 + timedelta(seconds=30))
    assert not report.live(T0 + timedelta(seconds=31))
