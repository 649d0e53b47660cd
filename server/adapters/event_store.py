"""The ``EventStore`` port: where taps, reader statuses and rejections are kept.

Two adapters implement it (``sqlite_events`` and ``influx_events``) and one contract test
suite (``tests/integration/test_event_store_contract.py``) runs against both.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Protocol

from server.adapters.event_times import to_us
from server.domain.events import (
    OccupancySample,
    ReaderStatusRecord,
    Rejection,
    StoredTap,
    WriteOutcome,
)

# A tap as the ledger reads it by the million, in plain columns: (badge hash, ``ts`` in
# microseconds since the epoch UTC, reader). No :class:`StoredTap` per tap, and no tap id:
# the session rule never reads it, and InfluxDB spends ~45 % less CPU on the read without
# it (issue 16).
TapRow = tuple[str, int, str]

# How far back the status in force at an instant is looked for: longer than any heartbeat
# period a reader may announce (the contract allows up to an hour).
STATUS_LOOKBACK = timedelta(hours=2)


class EventStoreError(RuntimeError):
    """Base error of the event store adapters."""


class EventStoreUnavailable(EventStoreError):
    """The store could not be reached or refused the write: nothing was stored, so the
    caller must not acknowledge what it tried to write."""


class EventStore(abc.ABC):
    # Whether another process answers the reads (a database server): then a read asked
    # ahead in a thread (:class:`TapReadAhead`) runs while this process computes.
    answered_elsewhere = False

    @abc.abstractmethod
    def setup(self) -> None:
        """Create the database/bucket and its retention if missing (idempotent)."""

    @abc.abstractmethod
    def write_taps(self, taps: Sequence[StoredTap]) -> list[WriteOutcome]:
        """Store taps durably in one write; one outcome per tap, in order.

        Returns only once the data is durable. Raises :class:`EventStoreUnavailable`
        when nothing could be stored."""

    @abc.abstractmethod
    def write_statuses(self, statuses: Sequence[ReaderStatusRecord]) -> None: ...

    @abc.abstractmethod
    def write_rejection(self, rejection: Rejection) -> None: ...

    def write_rejections(self, rejections: Sequence[Rejection]) -> None:
        """A batch's rejections, in order (the stores write them in one go)."""
        for rejection in rejections:
            self.write_rejection(rejection)

    @abc.abstractmethod
    def taps(
        self,
        start: datetime,
        end: datetime,
        *,
        campus: str | None = None,
        reader: str | None = None,
    ) -> list[StoredTap]:
        """Taps with ``start <= ts < end``, ordered by (ts, seq)."""

    def tap_rows(
        self, start: datetime, end: datetime, *, campus: str | None = None
    ) -> list[TapRow]:
        """The taps of :meth:`taps` as :data:`TapRow` tuples, in the same order (ts, seq,
        tap id). The adapters answer it with one query and no object per tap; this
        default, built on :meth:`taps`, is the reference they must agree with. (InfluxDB
        keeps ``seq`` mod 10^6 in a tap's time and orders by it: the taps of two readers
        within one millisecond may come in another order once a seq passes 10^6, which
        changes no figure: ``influx_lines.tap_rows_of``.)"""
        return [
            (tap.badge, to_us(tap.ts), tap.reader) for tap in self.taps(start, end, campus=campus)
        ]

    @abc.abstractmethod
    def count_taps(self, start: datetime, end: datetime, *, campus: str | None = None) -> int: ...

    @abc.abstractmethod
    def statuses(
        self,
        start: datetime,
        end: datetime,
        *,
        campus: str | None = None,
        reader: str | None = None,
    ) -> list[ReaderStatusRecord]:
        """Status messages received in ``[start, end)``, oldest first."""

    @abc.abstractmethod
    def latest_statuses(self, *, campus: str | None = None) -> list[ReaderStatusRecord]:
        """The last status received from each reader."""

    @abc.abstractmethod
    def stamped_statuses(
        self,
        start: datetime,
        end: datetime,
        *,
        campus: str | None = None,
        reader: str | None = None,
    ) -> list[ReaderStatusRecord]:
        """Status messages the readers stamped (``ts``) in ``[start, end)``, whenever they
        were received (a status queued by the broker while the server was away counts for
        the instant it describes), ordered by ``(ts, campus, reader)``."""

    def reader_status_at(self, campus: str, instant: datetime) -> list[ReaderStatusRecord]:
        """The status history stored for ``instant``: each reader's last status stamped at
        or before it (within :data:`STATUS_LOOKBACK`), by reader. What a replay
        (``check-absences --at``) judges the doors on, not what was received live."""
        found: dict[str, ReaderStatusRecord] = {}
        for status in self.stamped_statuses(
            instant - STATUS_LOOKBACK, instant + timedelta(microseconds=1), campus=campus
        ):
            found[status.reader] = status
        return [found[reader] for reader in sorted(found)]

    @abc.abstractmethod
    def rejections(self, *, since: datetime, limit: int = 100) -> list[Rejection]:
        """Dead letters received since ``since``, newest first."""

    @abc.abstractmethod
    def write_occupancy(self, samples: Sequence[OccupancySample]) -> None:
        """Store occupancy samples (counts of people, never who) in one write."""

    @abc.abstractmethod
    def occupancy(
        self,
        start: datetime,
        end: datetime,
        *,
        campus: str | None = None,
        room: str | None = None,
    ) -> list[OccupancySample]:
        """Samples with ``start <= at < end``, ordered by (at, campus, room). ``room``
        None gives every series; ``CAMPUS_WIDE`` ("") only the whole-campus ones."""

    @abc.abstractmethod
    def purge(self, before: datetime) -> int:
        """Delete events older than ``before`` where the store does not do it itself;
        returns how many records were deleted (0 where retention is the server's job)."""

    @abc.abstractmethod
    def close(self) -> None: ...

    def check_writable(self, now: datetime) -> None:
        """Raise :class:`EventStoreError` if the store cannot take a write now (``/readyz``;
        called every few seconds at most). This default only reads; the adapters write a
        one-row probe that never grows."""
        self.latest_statuses()


class TapRowReader(Protocol):
    """What the ledger reads taps with: an :class:`EventStore` or a
    :class:`TapReadAhead` in front of one."""

    def tap_rows(
        self, start: datetime, end: datetime, *, campus: str | None = None
    ) -> list[TapRow]: ...


class TapReadAhead:
    """:meth:`EventStore.tap_rows` of the next campus asked ahead, in one thread, while
    the caller computes the current one (issue 16): for a store answered by another
    process (``answered_elsewhere``: InfluxDB), that server works on the other core
    meanwhile. Only within one report: each read is asked afresh (nothing is kept once
    taken or when the report ends), so a tap stored later counts at the next report as
    with a plain read. A read not asked ahead, or asked with other bounds, is read
    directly; an error of a read asked ahead is raised where its rows are taken."""

    def __init__(self, events: EventStore) -> None:
        self.events = events
        self._pool: ThreadPoolExecutor | None = None
        self._asked: dict[tuple[str, datetime, datetime], Future[list[TapRow]]] = {}

    def __enter__(self) -> TapReadAhead:
        return self

    def __exit__(self, *exc: object) -> None:
        for future in self._asked.values():
            future.cancel()
        self._asked.clear()
        if self._pool is not None:
            self._pool.shutdown(wait=True)

    def ask(self, campus: str, start: datetime, end: datetime) -> None:
        """Start reading ``campus``'s rows of ``[start, end)`` (when worth it)."""
        if not self.events.answered_elsewhere or start >= end:
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(1, thread_name_prefix="tap-read-ahead")
        key = (campus, start, end)
        if key not in self._asked:
            self._asked[key] = self._pool.submit(self.events.tap_rows, start, end, campus=campus)

    def tap_rows(
        self, start: datetime, end: datetime, *, campus: str | None = None
    ) -> list[TapRow]:
        future = None if campus is None else self._asked.pop((campus, start, end), None)
        if future is None:
            return self.events.tap_rows(start, end, campus=campus)
        return future.result()
