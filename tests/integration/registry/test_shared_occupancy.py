"""Live occupancy with two ingest workers (issue 12): each stores a share of the taps,
both publish and store the count of everyone present (the issue measured 2 for 3).
Real SQLite registry and event store shared by two service instances."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import event

from edge.protocol import Tap, taps_topic
from server.bootstrap import build_intake
from server.domain.events import InboundMessage
from server.registry.occupancy_store import occupancy_unit_of_work
from server.services.occupancy.occupancy import OccupancyService, occupancy_listener
from server.services.operations.ingest import IngestService
from tests.integration.registry.conftest import (
    CAMPUS,
    ROW_E001,
    ROW_E002,
    UID_E001,
    UID_E002,
    csv_bytes,
    run_import,
)

UID_E003 = "04998877665544"
ROW_E003 = (
    ROW_E002.replace("E002", "E003")
    .replace("04:11:22:33:44:55:66", UID_E003)
    .replace("noe@example.org", "e3@example.org")
)
NOW = datetime(2026, 12, 7, 9, tzinfo=UTC)  # a Monday morning


class Worker:
    """One ``serve`` process: its ingest use case and its occupancy service, sharing the
    registry and the event store with the other worker."""

    def __init__(self, registry, events, settings) -> None:
        self.published: list[dict] = []
        self.now = NOW
        self.occupancy = OccupancyService(
            occupancy_unit_of_work(registry, settings.presence),
            events,
            settings.presence,
            publish=lambda topic, payload: self.published.append(json.loads(payload)),
        )
        self.ingest = IngestService(events, build_intake(settings))
        self.ingest.on_taps_stored(occupancy_listener(self.occupancy, lambda: self.now))
        self.seq = 0

    def tap(self, uid: str, at: datetime) -> None:
        self.seq += 1
        tap = Tap(id=uuid.uuid4().hex, uid=uid, ts=at, seq=self.seq)
        self.now = at + timedelta(seconds=1)
        message = InboundMessage(taps_topic(CAMPUS, "door-1"), tap.to_json(), self.now)
        assert self.ingest.handle_batch([message]).stored

    def campus_count(self) -> int:
        (whole,) = [z for z in self.occupancy.current(self.now, campus=CAMPUS) if z.room is None]
        return whole.count.count

    def last_published(self) -> int:
        return [item for item in self.published if item["room"] is None][-1]["count"]


def test_two_workers_publish_and_store_the_same_live_count(registry, events, settings) -> None:
    run_import(registry, csv_bytes(ROW_E001, ROW_E002, ROW_E003))
    a, b = Worker(registry, events, settings), Worker(registry, events, settings)
    a.tap(UID_E001, NOW)  # the shared subscription hands taps round-robin
    b.tap(UID_E002, NOW + timedelta(minutes=1))
    a.tap(UID_E003, NOW + timedelta(minutes=2))
    assert a.last_published() == 3  # published by a: counts b's tap too
    assert b.last_published() == 2  # b's last batch was the second arrival
    b.now = a.now
    assert a.campus_count() == b.campus_count() == 3
    samples = events.occupancy(NOW, NOW + timedelta(hours=1), campus=CAMPUS, room="")
    assert [sample.count for sample in samples][-1] == 3
    # One leaves through b: both see 2 at once, without waiting for a periodic tick.
    b.tap(UID_E001, NOW + timedelta(minutes=30))
    a.now = b.now
    assert (a.campus_count(), b.campus_count(), b.last_published()) == (2, 2, 2)


def test_a_correction_made_on_one_worker_is_the_count_of_both(registry, events, settings) -> None:
    run_import(registry, csv_bytes(ROW_E001, ROW_E002, ROW_E003))
    a, b = Worker(registry, events, settings), Worker(registry, events, settings)
    a.tap(UID_E001, NOW)
    b.now = a.now
    assert b.campus_count() == 1
    # A coordinator counts 4 people (two came in without badging), on a's page.
    a.occupancy.correct(CAMPUS, None, 4, reason="headcount", actor="coord", now=a.now)
    assert a.campus_count() == b.campus_count() == 4
    b.tap(UID_E002, NOW + timedelta(minutes=1))  # one more badges in, through b
    a.now = b.now
    assert (a.campus_count(), b.campus_count(), b.last_published()) == (5, 5, 5)


def test_a_page_read_between_the_store_and_the_listener_does_not_hide_the_change(
    registry, events, settings
) -> None:
    """A page (``current``) may read the stored taps before the ingest's listener runs:
    the listener must still record, publish and judge the new count (CI saw the event
    and the history sample missing)."""
    run_import(registry, csv_bytes(ROW_E001, ROW_E002, ROW_E003))
    published: list[dict] = []
    occupancy = OccupancyService(
        occupancy_unit_of_work(registry, settings.presence),
        events,
        settings.presence,
        publish=lambda topic, payload: published.append(json.loads(payload)),
    )
    ingest = IngestService(events, build_intake(settings))
    now = NOW
    reads: list[int] = []

    def page_reads(_taps) -> None:  # runs first: the page of another thread, in between
        (whole,) = [z for z in occupancy.current(now, campus=CAMPUS) if z.room is None]
        reads.append(whole.count.count)

    ingest.on_taps_stored(page_reads)
    ingest.on_taps_stored(occupancy_listener(occupancy, lambda: now))
    for seq, uid in enumerate((UID_E001, UID_E002), start=1):
        now = NOW + timedelta(seconds=seq)
        tap = Tap(id=uuid.uuid4().hex, uid=uid, ts=now - timedelta(seconds=1), seq=seq)
        message = InboundMessage(taps_topic(CAMPUS, "door-1"), tap.to_json(), now)
        assert ingest.handle_batch([message]).stored
    assert reads == [1, 2]  # the page saw each tap before the listener
    assert [item["count"] for item in published if item["room"] is None] == [1, 2]
    samples = events.occupancy(NOW, NOW + timedelta(hours=1), campus=CAMPUS, room="")
    assert [sample.count for sample in samples] == [1, 2]


def test_a_stored_batch_reads_only_the_day_s_corrections_from_the_registry(
    registry, events, settings
) -> None:
    """The occupancy listener runs on every stored batch of the ingest: once the reader
    links and badge holders are loaded and the day rebuilt, a batch runs one registry
    query, the day's corrections (as before the occupancy ports of issue 17)."""
    run_import(registry, csv_bytes(ROW_E001, ROW_E002))
    worker = Worker(registry, events, settings)
    worker.tap(UID_E001, NOW)  # loads and rebuilds the day
    with registry() as session:
        engine = session.get_bind()
    statements: list[str] = []

    def seen(_conn, _cursor, statement, *_args) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        worker.tap(UID_E002, NOW + timedelta(seconds=30))
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    queries = [text for text in statements if not text.startswith("BEGIN")]
    assert len(queries) == 1 and "FROM audit_log" in queries[0], statements
    assert worker.last_published() == 2
