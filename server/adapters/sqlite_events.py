"""The embedded :class:`EventStore`: one SQLite file, for a campus without InfluxDB.

- WAL journal and ``synchronous=FULL``: a write that returned survives a power cut, and
  readers (web threads) never wait for the writer (ingest thread).
- One connection per thread, opened on first use; ``close()`` closes them all.
- Times are integer microseconds since the Unix epoch, UTC. A tap's ``ts`` and
  ``received_at`` and a status's ``ts`` are kept to the millisecond, the precision of the
  MQTT contract and of the InfluxDB adapter (so both answer the contract suite alike).
- A tap id is UNIQUE: a redelivery with the same content is a ``DUPLICATE``, another tap
  under a known id a ``CONFLICT`` (the original is kept).
- Old rows are deleted by :meth:`SqliteEventStore.purge`, run by the server's purge job.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from server.adapters.event_store import EventStore, EventStoreError, EventStoreUnavailable
from server.adapters.event_times import from_us, to_ms, to_us
from server.domain.events import (
    CAMPUS_WIDE,
    OccupancySample,
    ReaderStatusRecord,
    Rejection,
    StoredTap,
    WriteOutcome,
)

_SCHEMA = """
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
CREATE INDEX IF NOT EXISTS taps_by_campus ON taps (campus, ts_us);
CREATE INDEX IF NOT EXISTS taps_by_reader ON taps (campus, reader, ts_us);
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
    heartbeat INTEGER NOT NULL
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

_TAP_COLUMNS = "tap_id, campus, reader, badge, ts_us, seq, received_us, clock_synced"
_STATUS_COLUMNS = (
    "campus, reader, state, ts_us, received_us, queued, detail, clock_synced, heartbeat"
)
_REJECTION_COLUMNS = "received_us, reason, topic, detail, size, campus, reader"

# SQLite primary result codes meaning "cannot be used right now", not "bad data".
_UNAVAILABLE_CODES = frozenset(
    {
        sqlite3.SQLITE_BUSY,
        sqlite3.SQLITE_LOCKED,
        sqlite3.SQLITE_NOMEM,
        sqlite3.SQLITE_READONLY,
        sqlite3.SQLITE_IOERR,
        sqlite3.SQLITE_FULL,
        sqlite3.SQLITE_CANTOPEN,
        sqlite3.SQLITE_PROTOCOL,
    }
)


def _to_ms_us(moment: datetime) -> int:
    """Microseconds since the epoch, truncated to the millisecond."""
    return to_ms(moment) * 1000


class SqliteEventStore(EventStore):
    """Events in one SQLite file; safe to share between threads."""

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 5.0) -> None:
        self.path = Path(path)
        self.busy_timeout_s = busy_timeout_s
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"SqliteEventStore({str(self.path)!r}{', closed' if self._closed else ''})"

    def __enter__(self) -> SqliteEventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- connections -------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        with self._lock:
            if self._closed:
                raise EventStoreError(f"{self!r} is closed")
            # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE ... COMMIT).
            # check_same_thread=False only so that close() may close every thread's one.
            connection = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
            connection.execute("PRAGMA synchronous = FULL")
            self._connections.append(connection)
        self._local.connection = connection
        return connection

    @contextmanager
    def _errors(self) -> Iterator[None]:
        """Translate sqlite3 errors into the port's errors."""
        try:
            yield
        except sqlite3.Error as error:
            code = getattr(error, "sqlite_errorcode", None)
            if code is not None and code & 0xFF in _UNAVAILABLE_CODES:
                raise EventStoreUnavailable(f"SQLite event store {self.path}: {error}") from error
            raise EventStoreError(f"SQLite event store {self.path}: {error}") from error

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._errors():
            connection = self._connection()
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                raise

    def _select(self, sql: str, params: Sequence[Any]) -> list[tuple]:
        with self._errors():
            return self._connection().execute(sql, params).fetchall()

    # -- EventStore --------------------------------------------------------------------

    def setup(self) -> None:
        with self._errors():
            connection = self._connection()
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise EventStoreError(f"{self.path}: cannot switch to WAL (journal is {mode})")
            connection.executescript(_SCHEMA)

    def write_taps(self, taps: Sequence[StoredTap]) -> list[WriteOutcome]:
        if not taps:
            return []
        outcomes = []
        with self._transaction() as connection:
            for tap in taps:
                outcomes.append(self._write_tap(connection, tap))
        return outcomes

    def _write_tap(self, connection: sqlite3.Connection, tap: StoredTap) -> WriteOutcome:
        row = _tap_row(tap)
        inserted = connection.execute(
            f"INSERT INTO taps ({_TAP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (tap_id) DO NOTHING",
            row,
        ).rowcount
        if inserted:
            return WriteOutcome.STORED
        stored = connection.execute(
            f"SELECT {_TAP_COLUMNS} FROM taps WHERE tap_id = ?", (tap.tap_id,)
        ).fetchone()
        return (
            WriteOutcome.DUPLICATE
            if _tap(stored).same_content(_tap(row))
            else WriteOutcome.CONFLICT
        )

    def write_statuses(self, statuses: Sequence[ReaderStatusRecord]) -> None:
        if not statuses:
            return
        rows = [
            (
                status.campus,
                status.reader,
                status.state,
                _to_ms_us(status.ts),
                to_us(status.received_at),
                status.queued,
                status.detail,
                int(status.clock_synced),
                status.heartbeat,
            )
            for status in statuses
        ]
        with self._transaction() as connection:
            connection.executemany(
                f"INSERT INTO statuses ({_STATUS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def write_rejection(self, rejection: Rejection) -> None:
        row = (
            to_us(rejection.received_at),
            rejection.reason,
            rejection.topic,
            rejection.detail,
            rejection.size,
            rejection.campus,
            rejection.reader,
        )
        with self._transaction() as connection:
            connection.execute(
                f"INSERT INTO rejections ({_REJECTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                row,
            )

    def taps(
        self,
        start: datetime,
        end: datetime,
        *,
        campus: str | None = None,
        reader: str | None = None,
    ) -> list[StoredTap]:
        where, params = _filters("ts_us", start, end, campus, reader)
        rows = self._select(
            f"SELECT {_TAP_COLUMNS} FROM taps WHERE {where} ORDER BY ts_us, seq, tap_id", params
        )
        return [_tap(row) for row in rows]

    def count_taps(self, start: datetime, end: datetime, *, campus: str | None = None) -> int:
        where, params = _filters("ts_us", start, end, campus, None)
        return self._select(f"SELECT count(*) FROM taps WHERE {where}", params)[0][0]

    def statuses(
        self,
        start: datetime,
        end: datetime,
        *,
        campus: str | None = None,
        reader: str | None = None,
    ) -> list[ReaderStatusRecord]:
        where, params = _filters("received_us", start, end, campus, reader)
        rows = self._select(
            f"SELECT {_STATUS_COLUMNS} FROM statuses WHERE {where} "
            "ORDER BY received_us, campus, reader, id",
            params,
        )
        return [_status(row) for row in rows]

    def latest_statuses(self, *, campus: str | None = None) -> list[ReaderStatusRecord]:
        # SQLite takes the bare columns of an aggregate query from the row holding MAX().
        where, params = ("WHERE campus = ?", [campus]) if campus is not None else ("", [])
        rows = self._select(
            f"SELECT {_STATUS_COLUMNS}, max(received_us) FROM statuses {where} "
            "GROUP BY campus, reader ORDER BY campus, reader",
            params,
        )
        return [_status(row[:-1]) for row in rows]

    def rejections(self, *, since: datetime, limit: int = 100) -> list[Rejection]:
        rows = self._select(
            f"SELECT {_REJECTION_COLUMNS} FROM rejections WHERE received_us >= ? "
            "ORDER BY received_us DESC, id DESC LIMIT ?",
            (to_us(since), limit),
        )
        return [_rejection(row) for row in rows]

    def write_occupancy(self, samples: Sequence[OccupancySample]) -> None:
        if not samples:
            return
        rows = [
            (s.campus, s.room or CAMPUS_WIDE, to_us(s.at), s.count, s.capacity) for s in samples
        ]
        with self._transaction() as connection:
            connection.executemany(
                "INSERT INTO occupancy (campus, room, at_us, count, capacity) "
                "VALUES (?, ?, ?, ?, ?)",
                rows,
            )

    def occupancy(
        self,
        start: datetime,
        end: datetime,
        *,
        campus: str | None = None,
        room: str | None = None,
    ) -> list[OccupancySample]:
        where, params = _filters("at_us", start, end, campus, None)
        if room is not None:
            where += " AND room = ?"
            params.append(room)
        rows = self._select(
            "SELECT campus, room, at_us, count, capacity FROM occupancy "
            f"WHERE {where} ORDER BY at_us, campus, room, id",
            params,
        )
        return [
            OccupancySample(campus, room or None, from_us(at_us), count, capacity)
            for campus, room, at_us, count, capacity in rows
        ]

    def purge(self, before: datetime) -> int:
        limit = to_us(before)
        with self._transaction() as connection:
            return sum(
                connection.execute(f"DELETE FROM {table} WHERE {column} < ?", (limit,)).rowcount
                for table, column in (
                    ("taps", "ts_us"),
                    ("statuses", "received_us"),
                    ("rejections", "received_us"),
                    ("occupancy", "at_us"),
                )
            )

    def close(self) -> None:
        """Close every thread's connection (idempotent)."""
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()


def _filters(
    column: str, start: datetime, end: datetime, campus: str | None, reader: str | None
) -> tuple[str, list[Any]]:
    clauses = [f"{column} >= ?", f"{column} < ?"]
    params: list[Any] = [to_us(start), to_us(end)]
    if campus is not None:
        clauses.append("campus = ?")
        params.append(campus)
    if reader is not None:
        clauses.append("reader = ?")
        params.append(reader)
    return " AND ".join(clauses), params


def _tap_row(tap: StoredTap) -> tuple:
    return (
        tap.tap_id,
        tap.campus,
        tap.reader,
        tap.badge,
        _to_ms_us(tap.ts),
        tap.seq,
        _to_ms_us(tap.received_at),
        int(tap.clock_synced),
    )


def _tap(row: Sequence[Any]) -> StoredTap:
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


def _status(row: Sequence[Any]) -> ReaderStatusRecord:
    campus, reader, state, ts_us, received_us, queued, detail, clock_synced, heartbeat = row
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
    )


def _rejection(row: Sequence[Any]) -> Rejection:
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
