"""Late taps count (issue 12): weeks are frozen by the periodic job only, a tap stored
for a frozen week re-opens it (audited) through the real ingest path, and the job waits
while a reader still holds unconfirmed taps older than the week's end. Real SQLite
registry; the event store is the real SQLite file or a real influxd."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from edge.protocol import ReaderState, ReaderStatus, Tap, status_topic, taps_topic
from server.adapters.event_store import EventStore
from server.adapters.influx_events import InfluxEventStore
from server.adapters.sqlite_events import SqliteEventStore
from server.bootstrap import build_intake
from server.config import InfluxSettings
from server.domain.calendar import IsoWeek
from server.domain.events import InboundMessage
from server.registry.models import AuditEntry, OpeningHours, Reader, WeeklyRecord
from server.registry.presence_store import presence_unit_of_work
from server.services.operations.ingest import IngestService
from server.services.presence import reports
from server.services.presence.ledger import LedgerService
from tests.integration.registry.conftest import (
    CAMPUS,
    ROW_E001,
    ROW_E002,
    UID_E001,
    csv_bytes,
    run_import,
)

PARIS = ZoneInfo("Europe/Paris")
W48 = IsoWeek.parse("2026-W48")
W49 = IsoWeek.parse("2026-W49")
MON = date(2026, 11, 23)
# W48 ends Sunday 29 Nov 24:00 Paris; its 14-day window closes on 13 December.
FROZEN_AT = datetime(2026, 12, 14, 9, tzinfo=UTC)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


@pytest.fixture(params=["sqlite", pytest.param("influxdb", marks=pytest.mark.influxdb)])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EventStore]:
    if request.param == "sqlite":
        events: EventStore = SqliteEventStore(tmp_path / "events.sqlite3")
    else:
        settings = InfluxSettings(
            url=request.getfixturevalue("influxd").url,
            api_version=1,
            database=f"test_{uuid.uuid4().hex[:12]}",
        )
        events = InfluxEventStore(settings, retention=timedelta(days=400))
    events.setup()
    yield events
    events.close()


@pytest.fixture
def ledger(registry, store, settings) -> LedgerService:
    run_import(registry, csv_bytes(ROW_E001, ROW_E002))
    with registry() as session, session.begin():
        for weekday in range(5):
            session.add(
                OpeningHours(campus_id=CAMPUS, weekday=weekday, opens=time(8), closes=time(19))
            )
        session.execute(update(Reader).where(Reader.reader_id == "room-1").values(mode="room"))
    return LedgerService(
        presence_unit_of_work(registry, settings.presence), store, settings.presence
    )


class Door:
    """Taps through the real ingest use case, its ledger hook wired as ``serve`` does."""

    def __init__(self, store: EventStore, settings, ledger: LedgerService, now: datetime) -> None:
        self.service = IngestService(store, build_intake(settings))
        self.service.before_ack(lambda taps: ledger.reopen_for_taps(taps, self.now))
        self.now = now
        self.seq = 0

    def tap(self, uid: str, *moments: datetime, reader: str = "door-1") -> None:
        messages = []
        for moment in moments:
            self.seq += 1
            tap = Tap(id=uuid.uuid4().hex, uid=uid, ts=moment.astimezone(UTC), seq=self.seq)
            messages.append(InboundMessage(taps_topic(CAMPUS, reader), tap.to_json(), self.now))
        result = self.service.handle_batch(messages)
        assert len(result.stored) == len(moments), result.rejected

    def status(self, reader: str, *, queued: int, oldest: datetime | None = None) -> None:
        status = ReaderStatus(
            state=ReaderState.ONLINE,
            ts=self.now,
            queued=queued,
            oldest=None if oldest is None else oldest.astimezone(UTC),
        )
        message = InboundMessage(status_topic(CAMPUS, reader), status.to_json(), self.now)
        assert self.service.handle_batch([message]).statuses


def _reopened(registry) -> list[tuple[str, str]]:
    with registry() as session:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "week_reopened").order_by(AuditEntry.id)
        ).all()
        return [(row.entity_id, row.after) for row in rows]


def _records(registry) -> list[tuple[int, str, int]]:
    with registry() as session:
        rows = session.execute(
            select(WeeklyRecord.student_pk, WeeklyRecord.week, WeeklyRecord.attended_s).order_by(
                WeeklyRecord.week, WeeklyRecord.student_pk
            )
        )
        return [tuple(row) for row in rows]


def _attended(ledger: LedgerService, week: IsoWeek, student_id: str = "E001") -> float:
    report = reports.weekly_report(ledger, week, FROZEN_AT, campus=CAMPUS)
    (row,) = [row for row in report["students"] if row["student_id"] == student_id]
    return row["attended_hours"]


def test_a_late_backlog_reopens_its_frozen_week_and_counts(ledger, store, settings, registry):
    assert ledger.freeze_due(FROZEN_AT, weeks_back=1) == 2  # W48 frozen with no taps at all
    assert _attended(ledger, W48) == 0.0
    door = Door(store, settings, ledger, FROZEN_AT + timedelta(hours=1))
    # A door offline since then delivers its backlog: Monday 09:00-12:00, Tuesday 14:00-18:00.
    door.tap(UID_E001, at(MON, 9), at(MON, 12), at(MON + timedelta(1), 14))
    door.tap(UID_E001, at(MON + timedelta(1), 18))  # a second batch: already re-opened

    assert _reopened(registry) == [("E001/2026-W48", '{"cause": "late_tap"}')]
    assert [week for _, week, _ in _records(registry)] == ["2026-W48"]  # E002's stays
    assert _attended(ledger, W48) == 7.0  # the report counts it from the taps
    assert ledger.freeze_due(door.now, weeks_back=1) == 1  # and the job freezes it again
    assert sorted(attended for _, _, attended in _records(registry)) == [0, 7 * 3600]
    assert _attended(ledger, W48) == 7.0


def test_unknown_badges_room_readers_and_open_weeks_reopen_nothing(
    ledger, store, settings, registry
):
    ledger.freeze_due(FROZEN_AT, weeks_back=1)
    door = Door(store, settings, ledger, FROZEN_AT + timedelta(hours=1))
    door.tap("0badbadb", at(MON, 9))  # nobody's badge
    door.tap(UID_E001, at(MON, 10), reader="room-1")  # a room reader makes no presence
    door.tap(UID_E001, at(date(2026, 12, 8), 9))  # W50: its window is still open
    assert _reopened(registry) == []
    assert len(_records(registry)) == 2


def test_the_tap_week_is_the_campus_local_week(ledger, store, settings, registry):
    now = datetime(2026, 12, 21, 9, tzinfo=UTC)  # W48 and W49 both past their window
    assert ledger.freeze_due(now, weeks_back=2) == 4
    door = Door(store, settings, ledger, now)
    # Monday 30 November 00:30 in Paris is still Sunday 29 November (W48) in UTC.
    door.tap(UID_E001, datetime(2026, 11, 30, 0, 30, tzinfo=PARIS))
    assert [entity for entity, _ in _reopened(registry)] == ["E001/2026-W49"]


def test_a_read_never_freezes(ledger, store, settings, registry):
    ledger.weekly(W48, FROZEN_AT)
    ledger.weeks([W48.shifted(-offset) for offset in range(6)], FROZEN_AT)
    reports.weekly_report(ledger, W48, FROZEN_AT)
    assert _records(registry) == []


def test_freezing_waits_for_a_reader_holding_older_unconfirmed_taps(
    ledger, store, settings, registry
):
    now = datetime(2026, 12, 21, 9, tzinfo=UTC)  # W48 and W49 past their window
    door = Door(store, settings, ledger, now)
    # door-1 says (status v2, through the real ingest) it still holds 3 taps, the oldest
    # from Thursday of W49: W49 waits, W48 may be frozen.
    door.status("door-1", queued=3, oldest=at(date(2026, 12, 3), 9))
    door.status("door-in", queued=0)
    assert ledger.freeze_due(now, weeks_back=2) == 2
    assert {week for _, week, _ in _records(registry)} == {"2026-W48"}
    # Its backlog confirmed (queued 0), the next turn freezes W49.
    door.now = later = now + timedelta(minutes=5)
    door.status("door-1", queued=0)
    assert ledger.freeze_due(later, weeks_back=2) == 2
    assert {week for _, week, _ in _records(registry)} == {"2026-W48", "2026-W49"}


class _TapArrivesMidFreeze(SqliteEventStore):
    """The real SQLite store, with another worker storing ``late`` right after the
    freeze job read the week's taps (the ingest then found nothing frozen to re-open)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.late: list = []

    def tap_rows(self, start, end, **kwargs):  # what the ledger reads
        found = super().tap_rows(start, end, **kwargs)
        if self.late:
            self.write_taps([self.late.pop()])
        return found


def test_a_tap_stored_while_the_week_is_computed_is_not_lost(
    registry, settings, tmp_path, writer
) -> None:
    store = _TapArrivesMidFreeze(tmp_path / "racing.sqlite3")
    store.setup()
    try:
        ledger = LedgerService(
            presence_unit_of_work(registry, settings.presence), store, settings.presence
        )
        run_import(registry, csv_bytes(ROW_E001, ROW_E002))
        arrival, departure = writer.tap(UID_E001, at(MON, 9)), writer.tap(UID_E001, at(MON, 12))
        store.write_taps([arrival])
        store.late = [departure]
        assert ledger.freeze_due(FROZEN_AT, weeks_back=1) == 0  # undone: a tap came in
        assert _records(registry) == []
        assert ledger.freeze_due(FROZEN_AT, weeks_back=1) == 2
        assert sorted(attended for _, _, attended in _records(registry)) == [0, 3 * 3600]
    finally:
        store.close()
