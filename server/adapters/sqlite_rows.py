"""The SQLite schema: its tables, and events as rows and back.

Times are integer microseconds since the Unix epoch, UTC. A tap's ``ts`` and
``received_at`` and a status's ``ts`` are kept to the millisecond (see
:mod:`server.adapters.sqlite_events`). An occupancy sample of a whole campus is stored
with the room ``CAMPUS_WIDE`` (the column is NOT NULL) and read back without a room.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from server.adapters.event_times import from_us, to_ms, to_us
from server.domain.events import (
    CAMPUS_WIDE,
    OccupancySample,
    ReaderStatusRecord,
    Rejection,
    StoredTap,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS taps (
    tap_id TEXT NOT NULL UNIQUE,
    campus TEXT NOT NULL,
    reader TEXT NOT NULL,
    badge TEXT NOT NULL,
    ts_us INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    received_us INTEGER NOT NULL,
    clock_synced INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS taps_by_time ON taps (ts_us);
CREATE INDEX IF NOT EXISTS taps_by_campus_read ON taps (campus, ts_us, seq, tap_id, badge, reader);
CREATE TABLE IF NOT EXISTS statuses (
    id INTEGER PRIMARY KEY,
    campus TEXT NOT NULL,
    reader TEXT NOT NULL,
    state TEXT NOT NULL,
    ts_us INTEGER NOT NULL,
    received_us INTEGER NOT NULL,
    queued INTEGER NOT NULL,
    detail TEXT NOT NULL,
    clock_synced INTEGER NOT NULL,
    heartbeat INTEGER NOT NULL,
    oldest_us INTEGER
);
CREATE INDEX IF NOT EXISTS statuses_by_time ON statuses (received_us);
CREATE INDEX IF NOT EXISTS statuses_by_reader ON statuses (campus, reader, received_us);
CREATE TABLE IF NOT EXISTS rejections (
    id INTEGER PRIMARY KEY,
    received_us INTEGER NOT NULL,
    reason TEXT NOT NULL,
    topic TEXT NOT NULL,
    detail TEXT NOT NULL,
    size INTEGER NOT NULL,
    campus TEXT,
    reader TEXT
);
CREATE INDEX IF NOT EXISTS rejections_by_time ON rejections (received_us);
CREATE TABLE IF NOT EXISTS occupancy (
    id INTEGER PRIMARY KEY,
    campus TEXT NOT NULL,
    room TEXT NOT NULL,
    at_us INTEGER NOT NULL,
    count INTEGER NOT NULL,
    capacity INTEGER
);
CREATE INDEX IF NOT EXISTS occupancy_by_time ON occupancy (campus, room, at_us);
CREATE INDEX IF NOT EXISTS occupancy_by_instant ON occupancy (at_us);
"""

# The columns of each table in the order of its rows below (not the ``id``).
TAP_COLUMNS = "tap_id, campus, reader, badge, ts_us, seq, received_us, clock_synced"
STATUS_COLUMNS = (
    "campus, reader, state, ts_us, received_us, queued, detail, clock_synced, heartbeat, oldest_us"
)
# Columns added to a table after its first release: (table, column, SQL type), added by
# SqliteEventStore.setup() to a file made before them.
ADDED_COLUMNS = [("statuses", "oldest_us", "INTEGER")]  # protocol v2 (status "oldest")
REJECTION_COLUMNS = "received_us, reason, topic, detail, size, campus, reader"
OCCUPANCY_COLUMNS = "campus, room, at_us, count, capacity"


def to_ms_us(moment: datetime) -> int:
    """Microseconds since the epoch, truncated to the millisecond."""
    return to_ms(moment) * 1000


def tap_row(tap: StoredTap) -> tuple:
    return (
        tap.tap_id,
        tap.campus,
        tap.reader,
        tap.badge,
        to_ms_us(tap.ts),
        tap.seq,
        to_ms_us(tap.received_at),
        int(tap.clock_synced),
    )


def tap_from_row(row: Sequence[Any]) -> StoredTap:
    tap_id, campus, reader, badge, ts_us, seq, received_us, clock_synced = row
    return StoredTap(
        tap_id=tap_id,
        campus=campus,
        reader=reader,
        badge=badge,
        ts=from_us(ts_us),
        seq=seq,
        received_at=from_us(received_us),
        clock_synced=bool(clock_synced),
    )


def status_row(status: ReaderStatusRecord) -> tuple:
    return (
        status.campus,
        status.reader,
        status.state,
        to_ms_us(status.ts),
        to_us(status.received_at),
        status.queued,
        status.detail,
        int(status.clock_synced),
        status.heartbeat,
        None if status.oldest is None else to_ms_us(status.oldest),
    )


def status_from_row(row: Sequence[Any]) -> ReaderStatusRecord:
    campus, reader, state, ts_us, received_us, queued, detail, clock_synced, heartbeat = row[:9]
    oldest_us = row[9]
    return ReaderStatusRecord(
        campus=campus,
        reader=reader,
        state=state,
        ts=from_us(ts_us),
        received_at=from_us(received_us),
        queued=queued,
        detail=detail,
        clock_synced=bool(clock_synced),
        heartbeat=heartbeat,
        oldest=None if oldest_us is None else from_us(oldest_us),
    )


def rejection_row(rejection: Rejection) -> tuple:
    return (
        to_us(rejection.received_at),
        rejection.reason,
        rejection.topic,
        rejection.detail,
        rejection.size,
        rejection.campus,
        rejection.reader,
    )


def rejection_from_row(row: Sequence[Any]) -> Rejection:
    received_us, reason, topic, detail, size, campus, reader = row
    return Rejection(
        received_at=from_us(received_us),
        reason=reason,
        topic=topic,
        detail=detail,
        size=size,
        campus=campus,
        reader=reader,
    )


def occupancy_row(sample: OccupancySample) -> tuple:
    return (
        sample.campus,
        sample.room or CAMPUS_WIDE,
        to_us(sample.at),
        sample.count,
        sample.capacity,
    )


def occupancy_from_row(row: Sequence[Any]) -> OccupancySample:
    campus, room, at_us, count, capacity = row
    return OccupancySample(campus, room or None, from_us(at_us), count, capacity)
