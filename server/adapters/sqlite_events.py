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

The tables, and events as rows: see :mod:`server.adapters.sqlite_rows`.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from server.adapters.event_store import (
    EventStore,
    EventStoreError,
    EventStoreUnavailable,
    TapRow,
)
from server.adapters.event_times import to_us
from server.adapters.sqlite_rows import (
    ADDED_COLUMNS,
    OCCUPANCY_COLUMNS,
    REJECTION_COLUMNS,
    SCHEMA,
    STATUS_COLUMNS,
    TAP_COLUMNS,
    occupancy_from_row,
    occupancy_row,
    rejection_from_row,
    rejection_row,
    status_from_row,
    status_row,
    tap_from_row,
    tap_row,
)
from server.domain.events import (
    OccupancySample,
    ReaderStatusRecord,
    Rejection,
    StoredTap,
    WriteOutcome,
)
from server.private_files import create_private_file

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


_INSERT_TAP = (
    f"INSERT INTO taps ({TAP_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (tap_id) DO NOTHING"
)


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
            with contextlib.suppress(OSError):  # else sqlite3 says why it cannot open
                create_private_file(self.path)  # taps are personal data: 0600
            # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE ... COMMIT).
            # check_same_thread=False only so that close() may close every thread's one.
            connection = sqlite3.connect(
                self.path,
                timeout=self.busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
            connection.execute("PRAGMA synchronous = FULL")
            # Deleted rows are overwritten with zeros, not left in free pages: a purged
            # badge hash is gone from the file (docs/privacy.md).
            connection.execute("PRAGMA secure_delete = ON")
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
            connection.executescript(SCHEMA)
            for table, column, kind in ADDED_COLUMNS:  # a file made by an older version
                names = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
                if column not in names:
                    connection.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
            connection.execute(  # status history by the readers' own stamps
                "CREATE INDEX IF NOT EXISTS statuses_by_stamp ON statuses (campus, reader, ts_us)"
            )
            # A campus's taps in time order are read from the index alone (tap_rows: the
            # ledger); it replaces the (campus, ts_us) index of files made before.
            connection.execute("DROP INDEX IF EXISTS taps_by_campus")
            # A reader's taps are read through that index too (its campus and times, then
            # the reader in the index entry): a (campus, reader, ts_us) index cost each
            # batch of taps a page write per reader (bench/README.md, "Ingest").
            connection.execute("DROP INDEX IF EXISTS taps_by_reader")

    def write_taps(self, taps: Sequence[StoredTap]) -> list[WriteOutcome]:
        if not taps:
            return []
        rows = [tap_row(tap) for tap in taps]
        with self._transaction() as connection:
            # The usual batch, only new taps: one statement for all of them. A batch with a
            # tap already stored (a redelivery, a re-send) is undone and written tap by
            # tap to tell each one's outcome.
            connection.execute("SAVEPOINT batch")
            before = connection.total_changes
            connection.executemany(_INSERT_TAP, rows)
            if connection.total_changes - before == len(rows):
                connection.execute("RELEASE batch")
                return [WriteOutcome.STORED] * len(rows)
            connection.execute("ROLLBACK TO batch")
            connection.execute("RELEASE batch")
            pairs = zip(taps, rows, strict=True)
            return [self._write_tap(connection, tap, row) for tap, row in pairs]

    def _write_tap(
        self, connection: sqlite3.Connection, tap: StoredTap, row: tuple
    ) -> WriteOutcome:
        inserted = connection.execute(_INSERT_TAP, row).rowcount
        if inserted:
            return WriteOutcome.STORED
        stored = connection.execute(
            f"SELECT {TAP_COLUMNS} FROM taps WHERE tap_id = ?", (tap.tap_id,)
        ).fetchone()
        return (
            WriteOutcome.DUPLICATE
            if tap_from_row(stored).same_content(tap_from_row(row))
            else WriteOutcome.CONFLICT
        )

    def write_statuses(self, statuses: Sequence[ReaderStatusRecord]) -> None:
        if not statuses:
            return
        rows = [status_row(status) for status in statuses]
        with self._transaction() as connection:
            connection.executemany(
                f"INSERT INTO statuses ({STATUS_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )

    def write_rejection(self, rejection: Rejection) -> None:
        self.write_rejections([rejection])

    def write_rejections(self, rejections: Sequence[Rejection]) -> None:
        if not rejections:
            return
        rows = [rejection_row(rejection) for rejection in rejections]
        with self._transaction() as connection:  # one commit (fsync) for the batch's
            connection.executemany(
                f"INSERT INTO rejections ({REJECTION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
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
            f"SELECT {TAP_COLUMNS} FROM taps WHERE {where} ORDER BY ts_us, seq, tap_id", params
        )
        return [tap_from_row(row) for row in rows]

    def tap_rows(
        self, start: datetime, end: datetime, *, campus: str | None = None
    ) -> list[TapRow]:
        where, params = _filters("ts_us", start, end, campus, None)
        return self._select(
            f"SELECT badge, ts_us, reader FROM taps WHERE {where} ORDER BY ts_us, seq, tap_id",
            params,
        )

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
            f"SELECT {STATUS_COLUMNS} FROM statuses WHERE {where} "
            "ORDER BY received_us, campus, reader, id",
            params,
        )
        return [status_from_row(row) for row in rows]

    def latest_statuses(self, *, campus: str | None = None) -> list[ReaderStatusRecord]:
        # SQLite takes the bare columns of an aggregate query from the row holding MAX().
        where, params = ("WHERE campus = ?", [campus]) if campus is not None else ("", [])
        rows = self._select(
            f"SELECT {STATUS_COLUMNS}, max(received_us) FROM statuses {where} "
            "GROUP BY campus, reader ORDER BY campus, reader",
            params,
        )
        return [status_from_row(row[:-1]) for row in rows]

    def stamped_statuses(
        self,
        start: datetime,
        end: datetime,
        *,
        campus: str | None = None,
        reader: str | None = None,
    ) -> list[ReaderStatusRecord]:
        # The reader's stamp when its clock is synchronised, else the reception time.
        low, high = to_us(start), to_us(end)
        clauses = [
            "((clock_synced = 1 AND ts_us >= ? AND ts_us < ?)"
            " OR (clock_synced = 0 AND received_us >= ? AND received_us < ?))"
        ]
        params: list[Any] = [low, high, low, high]
        for column, value in (("campus", campus), ("reader", reader)):
            if value is not None:
                clauses.append(f"{column} = ?")
                params.append(value)
        rows = self._select(
            f"SELECT {STATUS_COLUMNS} FROM statuses WHERE {' AND '.join(clauses)} "
            "ORDER BY CASE WHEN clock_synced = 1 THEN ts_us ELSE received_us END, "
            "campus, reader, received_us, id",
            params,
        )
        return [status_from_row(row) for row in rows]

    def rejections(self, *, since: datetime, limit: int = 100) -> list[Rejection]:
        rows = self._select(
            f"SELECT {REJECTION_COLUMNS} FROM rejections WHERE received_us >= ? "
            "ORDER BY received_us DESC, id DESC LIMIT ?",
            (to_us(since), limit),
        )
        return [rejection_from_row(row) for row in rows]

    def write_occupancy(self, samples: Sequence[OccupancySample]) -> None:
        if not samples:
            return
        rows = [occupancy_row(sample) for sample in samples]
        with self._transaction() as connection:
            connection.executemany(
                f"INSERT INTO occupancy ({OCCUPANCY_COLUMNS}) VALUES (?, ?, ?, ?, ?)", rows
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
            f"SELECT {OCCUPANCY_COLUMNS} FROM occupancy "
            f"WHERE {where} ORDER BY at_us, campus, room, id",
            params,
        )
        return [occupancy_from_row(row) for row in rows]

    def purge(self, before: datetime) -> int:
        limit = to_us(before)
        with self._transaction() as connection:
            deleted = sum(
                connection.execute(f"DELETE FROM {table} WHERE {column} < ?", (limit,)).rowcount
                for table, column in (
                    ("taps", "ts_us"),
                    ("statuses", "received_us"),
                    ("rejections", "received_us"),
                    ("occupancy", "at_us"),
                )
            )
        if deleted:
            # The write-ahead log still holds the pages as they were before the delete:
            # copy the zeroed pages into the file and empty the log.
            with self._errors():
                self._connection().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return deleted

    def close(self) -> None:
        """Close every thread's connection (idempotent)."""
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for connection in connections:
            connection.close()
        self._local = threading.local()

    def check_writable(self, now: datetime) -> None:
        """One row rewritten in a table of its own, on a connection of its own that waits
        1 s at most for the write lock (a probe must not hang on a stuck writer). The file
        must exist: a deleted file is not re-created empty."""
        with self._errors():
            connection = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=rw", uri=True, timeout=1.0
            )
            try:
                connection.isolation_level = None
                connection.execute("BEGIN IMMEDIATE")
                connection.execute(
                    "CREATE TABLE IF NOT EXISTS write_probe (id INTEGER PRIMARY KEY, at_us INTEGER)"
                )
                connection.execute(
                    "INSERT OR REPLACE INTO write_probe VALUES (1, ?)", (to_us(now),)
                )
                connection.execute("COMMIT")
            finally:
                connection.close()


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
