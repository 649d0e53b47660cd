"""Durable outbox: every tap is on disk before it is published, until the server has it.

SQLite in WAL mode with ``synchronous=FULL``: when :meth:`Outbox.add` returns, the tap
survives a power cut. Taps are removed only once the server confirmed it stored them
(protocol v2; a broker's PUBACK is not enough), and come back in ``seq`` order with
their original id and timestamp after a restart.
The per-reader ``seq`` counter lives in the same transaction as the tap, so it keeps
increasing across restarts even when the outbox is empty. One process at a time: a
lock file keeps a second agent (or a forgotten test run) away from the same outbox.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import secrets
import sqlite3
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from edge.errors import OutboxError, OutboxFull
from edge.protocol import Tap, format_timestamp, parse_timestamp

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS taps (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    uid TEXT NOT NULL,
    ts TEXT NOT NULL,
    clock_synced INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters (name, value) VALUES ('last_seq', -1);
"""
# SQLite's page cache, in KiB (its default is 2,000 KiB a connection). The outbox appends
# at the end, reads the oldest taps in seq order and deletes confirmed ones by id: a
# small cache serves that, the operating system caches the file, and the door's RSS
# stays flat however long the backlog (docs/edge.md, "Memory").
CACHE_KIB = 256
REMOVE_CHUNK = 100  # ids per DELETE statement
_MS_MASK = (1 << 48) - 1  # 12 hex digits of milliseconds: until the year 10889
_REMOVE = f"DELETE FROM taps WHERE id IN ({','.join('?' * REMOVE_CHUNK)})"


def new_tap_id() -> str:
    """32 hex characters: unique without coordination, valid for the contract, and in
    the order they are given: the Unix time in milliseconds (12 hex digits, as in a
    UUIDv7) then 80 random bits. A store's index of tap ids (the server's, this outbox's)
    then grows at its end instead of being written at a random page for every tap
    (bench/README.md, "Ingest"). The time is the agent's clock: one set wrong only
    places its ids elsewhere in that order; 80 random bits keep them unique."""
    return f"{time.time_ns() // 1_000_000 & _MS_MASK:012x}{secrets.token_hex(10)}"


class Outbox:
    """Taps waiting for the server's confirmation, oldest first."""

    def __init__(self, path: str | Path, *, max_taps: int = 100_000) -> None:
        self.path = Path(path)
        self.max_taps = max_taps
        self._lock_file = self._lock(self.path.with_name(self.path.name + ".lock"))
        try:
            self._db = self._open(self.path)
            self._count = self._db.execute("SELECT COUNT(*) FROM taps").fetchone()[0]
        except sqlite3.Error as error:
            self._lock_file.close()
            raise OutboxError(f"cannot open outbox {self.path}: {error}") from None
        self._closed = False

    @staticmethod
    def _lock(path: Path):
        try:
            handle = path.open("a")
        except OSError as error:
            raise OutboxError(f"cannot create {path}: {error.strerror}") from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise OutboxError(f"outbox {path} is in use by another process") from None
        return handle

    @staticmethod
    def _open(path: Path) -> sqlite3.Connection:
        # Transactions are explicit. Built on one thread, used by the agent's: one thread
        # at a time, never concurrently.
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        mode = db.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise sqlite3.OperationalError(f"journal mode is {mode}, WAL needed")
        db.execute("PRAGMA synchronous=FULL")
        db.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        db.executescript(_SCHEMA)
        return db

    # ------------------------------------------------------------------ state

    @property
    def count(self) -> int:
        """Taps not yet confirmed by the server."""
        return self._count

    @property
    def full(self) -> bool:
        return self._count >= self.max_taps

    @property
    def last_seq(self) -> int:
        """The seq of the newest tap ever added (-1 before the first)."""
        row = self._db.execute("SELECT value FROM counters WHERE name='last_seq'").fetchone()
        return int(row[0])

    # ------------------------------------------------------------------ writes

    def add(self, uid: str, ts: datetime, *, clock_synced: bool = True) -> Tap:
        """Stamp a new tap with an id and the next seq and write it durably.

        Raises :class:`OutboxFull` (and stores nothing) when the outbox is full."""
        if self.full:
            raise OutboxFull(f"outbox full ({self.max_taps} taps waiting): tap refused")
        text = format_timestamp(ts)
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
            seq = self.last_seq + 1
            tap = Tap(id=new_tap_id(), uid=uid, ts=ts, seq=seq, clock_synced=clock_synced)
            db.execute("UPDATE counters SET value=? WHERE name='last_seq'", (seq,))
            db.execute(
                "INSERT INTO taps (seq, id, uid, ts, clock_synced) VALUES (?, ?, ?, ?, ?)",
                (seq, tap.id, tap.uid, text, int(clock_synced)),
            )
            db.execute("COMMIT")
        except BaseException as error:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            if isinstance(error, sqlite3.Error):
                raise OutboxError(f"cannot write to outbox {self.path}: {error}") from None
            raise
        self._count += 1
        return tap

    def remove(self, tap_ids: Iterable[str]) -> int:
        """Forget confirmed taps (one transaction); returns how many were there.

        Always the same statement, ``REMOVE_CHUNK`` ids at a time (the last chunk padded
        with NULL, which matches no id): SQLite compiles one program per distinct SQL
        text, and an ``IN`` list of every length from 1 to 500 kept up to 128 of them in
        the statement cache, several MB of the door's memory."""
        ids = list(tap_ids)
        removed = 0
        try:
            self._db.execute("BEGIN IMMEDIATE")
            for start in range(0, len(ids), REMOVE_CHUNK):
                chunk: list[str | None] = list(ids[start : start + REMOVE_CHUNK])
                chunk += [None] * (REMOVE_CHUNK - len(chunk))
                removed += self._db.execute(_REMOVE, chunk).rowcount
            self._db.execute("COMMIT")
        except sqlite3.Error as error:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("ROLLBACK")
            raise OutboxError(f"cannot write to outbox {self.path}: {error}") from None
        self._count -= removed
        return removed

    # ------------------------------------------------------------------ reads

    def pending(self, *, after_seq: int = -1, limit: int = 1000) -> list[Tap]:
        """Waiting taps with ``seq > after_seq``, oldest first."""
        rows = self._db.execute(
            "SELECT id, uid, ts, seq, clock_synced FROM taps WHERE seq > ? ORDER BY seq LIMIT ?",
            (after_seq, limit),
        ).fetchall()
        return [
            Tap(id=i, uid=u, ts=parse_timestamp(ts), seq=seq, clock_synced=bool(synced))
            for i, u, ts, seq, synced in rows
        ]

    def contains(self, tap_id: str) -> bool:
        row = self._db.execute("SELECT 1 FROM taps WHERE id = ?", (tap_id,)).fetchone()
        return row is not None

    def oldest_ts(self) -> datetime | None:
        """The ``ts`` of the oldest waiting tap stamped by a synchronised clock (None when
        there is none: an unsynchronised tap is stored at its reception time anyway)."""
        row = self._db.execute(
            "SELECT ts FROM taps WHERE clock_synced = 1 ORDER BY seq LIMIT 1"
        ).fetchone()
        return parse_timestamp(row[0]) if row else None

    # ------------------------------------------------------------------ lifetime

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(sqlite3.Error):
            self._db.close()
        self._lock_file.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else f"{self._count}/{self.max_taps} taps"
        return f"<Outbox {os.fspath(self.path)} {state}>"
