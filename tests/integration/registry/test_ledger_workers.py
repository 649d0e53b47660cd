"""The national report's worker processes (``services.presence.ledger_workers``) against a
real SQLite registry and event store: every worker is up before the first report, and
the report's registry reads take no write lock (two workers holding it in turn computed
one after the other: issue 16)."""

from __future__ import annotations

import gc
import sqlite3
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.engine import make_url

from server.bootstrap import worker_ledger
from server.domain.calendar import IsoWeek
from server.registry.presence_store import presence_unit_of_work
from server.services.presence.ledger import LedgerService
from server.services.presence.ledger_workers import CampusWorkers
from tests.integration.registry.conftest import (
    ROW_E001,
    ROW_E002,
    UID_E001,
    UID_E002,
    csv_bytes,
    run_import,
)

PARIS = ZoneInfo("Europe/Paris")
WEEKS = [IsoWeek.parse("2026-W46").shifted(offset) for offset in range(3)]
NOW = datetime(2026, 12, 10, 12, tzinfo=UTC)


def _at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=PARIS)


@pytest.fixture
def year(registry, settings, writer) -> LedgerService:
    """Two students, taps on some of their slots over three weeks."""
    run_import(registry, csv_bytes(ROW_E001, ROW_E002))
    for week in WEEKS:
        monday = week.monday
        writer.tap(UID_E001, _at(monday, 9))
        writer.tap(UID_E001, _at(monday, 12))
        writer.tap(UID_E002, _at(monday + timedelta(days=2), 9))
        writer.tap(UID_E002, _at(monday + timedelta(days=2), 13))
    return LedgerService(
        presence_unit_of_work(registry, settings.presence), writer.store, settings.presence
    )


def test_every_worker_is_ready_when_the_pool_is(settings, year) -> None:
    # Each worker takes one of the start's tasks (one had taken them all while the
    # other was still importing); warmed up on one campus-week when given a clock.
    with CampusWorkers(settings, worker_ledger, processes=3, clock=lambda: NOW) as workers:
        assert len(workers.pids) == 3
        # What a worker built to start is kept out of the collector's full passes.
        assert workers._pool.submit(gc.get_freeze_count).result() > 0


def test_a_national_report_takes_no_registry_write_lock(registry, settings, year) -> None:
    url = make_url(settings.registry_database_url)
    if url.get_backend_name() != "sqlite":
        pytest.skip("the write lock taken by a transaction's start is SQLite's")
    expected = year.weeks(WEEKS, NOW)
    assert sum(len(lines) for lines in expected.values()) == 2 * len(WEEKS)
    assert any(line.attended_s for lines in expected.values() for line in lines)
    with CampusWorkers(settings, worker_ledger, processes=2) as workers:
        national = LedgerService(year.units, year.events, settings.presence, workers=workers)
        holder = sqlite3.connect(url.database, isolation_level=None)
        try:
            # Another process writing the registry (the ingest, a tutor's change): the
            # reports read beside it, in this process and in the workers, instead of
            # waiting for the busy timeout and failing with "database is locked".
            holder.execute("BEGIN IMMEDIATE")
            assert year.weeks(WEEKS, NOW) == expected
            assert national.weeks(WEEKS, NOW) == expected
            assert workers.cpu_s > 0  # computed by the workers, not in this process
        finally:
            holder.rollback()
            holder.close()
