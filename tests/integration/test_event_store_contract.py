"""One contract for every :class:`EventStore` adapter, run against the real stores.

SQLite runs on a temporary file; InfluxDB on the session's real ``influxd`` (1.6,
``api_version = 1``) with a fresh database per test. Test data sits in the last hours:
InfluxDB refuses points older than the retention policy, and the adapter's duplicate
index is warmed from the last 48 h.
"""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from server.adapters.event_store import EventStore, EventStoreError, EventStoreUnavailable
from server.adapters.influx_events import InfluxEventStore
from server.adapters.sqlite_events import SqliteEventStore
from server.config import InfluxSettings
from server.domain.events import (
    CAMPUS_WIDE,
    OccupancySample,
    ReaderStatusRecord,
    Rejection,
    StoredTap,
    WriteOutcome,
)

RETENTION = timedelta(days=30)
MS = timedelta(milliseconds=1)
BADGE_A = "a1" * 32
BADGE_B = "b2" * 32


@dataclass
class Backend:
    """Opens adapter instances (already set up) on one storage, and closes them."""

    name: str
    factory: Callable[[], EventStore]
    opened: list[EventStore] = field(default_factory=list)

    def open(self) -> EventStore:
        store = self.factory()
        store.setup()
        self.opened.append(store)
        return store


def _influx_settings(url: str) -> InfluxSettings:
    return InfluxSettings(url=url, api_version=1, database=f"test_{uuid.uuid4().hex[:12]}")


BACKENDS = ["sqlite", pytest.param("influxdb", marks=pytest.mark.influxdb)]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        path = tmp_path / "events.sqlite3"
        backend = Backend("sqlite", lambda: SqliteEventStore(path))
    else:
        settings = _influx_settings(request.getfixturevalue("influxd").url)
        backend = Backend("influxdb", lambda: InfluxEventStore(settings, retention=RETENTION))
    yield backend
    for store in backend.opened:
        store.close()


@pytest.fixture
def store(backend: Backend) -> EventStore:
    return backend.open()


@pytest.fixture
def base() -> datetime:
    """A recent whole second, an hour ago (inside retention and the warm window)."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)


def tap(
    tap_id: str,
    ts: datetime,
    seq: int = 1,
    *,
    campus: str = "c1",
    reader: str = "door-1",
    badge: str = BADGE_A,
    clock_synced: bool = True,
) -> StoredTap:
    return StoredTap(
        tap_id=tap_id,
        campus=campus,
        reader=reader,
        badge=badge,
        ts=ts,
        seq=seq,
        received_at=ts + timedelta(milliseconds=40),
        clock_synced=clock_synced,
    )


def status(reader: str, state: str, received_at: datetime, **kwargs) -> ReaderStatusRecord:
    kwargs.setdefault("campus", "c1")
    return ReaderStatusRecord(
        reader=reader,
        state=state,
        ts=received_at - timedelta(milliseconds=250),
        received_at=received_at,
        **kwargs,
    )


# -- taps ------------------------------------------------------------------------------


def test_taps_round_trip_ordered_by_time_then_seq(store: EventStore, base: datetime) -> None:
    paris = timezone(timedelta(hours=1))
    written = [
        tap("tap-000003", base + timedelta(seconds=3), 12, clock_synced=False),
        tap("tap-000001", (base + timedelta(seconds=1)).astimezone(paris), 10),
        tap("tap-000002", base + timedelta(seconds=2), 2, reader="door-2", badge=BADGE_B),
    ]
    assert store.write_taps(written) == [WriteOutcome.STORED] * 3

    read = store.taps(base, base + timedelta(minutes=1))

    assert read == [written[1], written[2], written[0]]
    assert [t.tap_id for t in read] == ["tap-000001", "tap-000002", "tap-000003"]
    for item in read:
        assert item.ts.tzinfo is not None and item.ts.utcoffset() == timedelta(0)
        assert item.received_at.utcoffset() == timedelta(0)
    assert read[2].clock_synced is False and read[0].clock_synced is True


def test_tap_rows_are_the_taps_as_plain_columns(store: EventStore, base: datetime) -> None:
    """``tap_rows`` (what the ledger reads) is ``taps`` as (badge, ts µs, reader): same
    taps, same order (ts, seq, tap id), same half-open range and campus filter."""
    paris = timezone(timedelta(hours=1))
    store.write_taps(
        [
            tap("tap-late", base + timedelta(seconds=3), 12, clock_synced=False),
            tap("tap-early", (base + timedelta(seconds=1)).astimezone(paris), 10),
            tap("tap-b", base + timedelta(seconds=2), 2, reader="door-2", badge=BADGE_B),
            tap("tap-same-ms-2", base + timedelta(seconds=2), 9),
            tap("tap-other-campus", base + timedelta(seconds=2), 1, campus="c2"),
            tap("tap-precise", base + timedelta(seconds=4, microseconds=123_456), 1),
            tap("tap-at-end", base + timedelta(seconds=5), 1),
        ]
    )
    start, end = base, base + timedelta(seconds=5)

    for campus in ("c1", "c2", None):
        rows = store.tap_rows(start, end, campus=campus)
        assert rows == EventStore.tap_rows(store, start, end, campus=campus)
    stamp = int((base - datetime(1970, 1, 1, tzinfo=UTC)).total_seconds()) * 1_000_000
    assert store.tap_rows(start, end, campus="c1") == [
        (BADGE_A, stamp + 1_000_000, "door-1"),  # tap-early
        (BADGE_B, stamp + 2_000_000, "door-2"),  # tap-b: seq 2 before seq 9
        (BADGE_A, stamp + 2_000_000, "door-1"),  # tap-same-ms-2
        (BADGE_A, stamp + 3_000_000, "door-1"),  # tap-late
        (BADGE_A, stamp + 4_123_000, "door-1"),  # tap-precise: kept to the millisecond
    ]
    assert store.tap_rows(start, end, campus="c3") == []


def test_tap_times_are_kept_to_the_millisecond(store: EventStore, base: datetime) -> None:
    precise = tap("tap-precise", base + timedelta(microseconds=123_456))
    store.write_taps([precise])

    [read] = store.taps(base, base + timedelta(seconds=1))

    assert read.ts == base + timedelta(microseconds=123_000)
    assert read.received_at == base + timedelta(microseconds=163_000)
    # The same tap redelivered with its sub-millisecond digits is a duplicate.
    assert store.write_taps([precise]) == [WriteOutcome.DUPLICATE]


def test_taps_filter_by_campus_and_reader(store: EventStore, base: datetime) -> None:
    store.write_taps(
        [
            tap("tap-c1-d1", base, 1),
            tap("tap-c1-d2", base + MS, 1, reader="door-2"),
            tap("tap-c2-d1", base + 2 * MS, 1, campus="c2"),
        ]
    )
    end = base + timedelta(minutes=1)

    assert [t.tap_id for t in store.taps(base, end, campus="c1")] == ["tap-c1-d1", "tap-c1-d2"]
    assert [t.tap_id for t in store.taps(base, end, campus="c1", reader="door-1")] == ["tap-c1-d1"]
    assert [t.tap_id for t in store.taps(base, end, reader="door-1")] == [
        "tap-c1-d1",
        "tap-c2-d1",
    ]
    assert store.taps(base, end, campus="c3") == []
    assert store.count_taps(base, end) == 3
    assert store.count_taps(base, end, campus="c2") == 1
    assert store.count_taps(base, end, campus="c3") == 0


def test_tap_range_is_half_open(store: EventStore, base: datetime) -> None:
    start, end = base, base + timedelta(seconds=10)
    store.write_taps(
        [
            tap("tap-before", start - MS, 1),
            tap("tap-first", start, 700_000),
            tap("tap-last", end - MS, 3),
            tap("tap-after", end, 700_001),
        ]
    )

    assert [t.tap_id for t in store.taps(start, end)] == ["tap-first", "tap-last"]
    assert store.count_taps(start, end) == 2
    # Bounds between two milliseconds: a tap at start.000 is before start.0005.
    half = timedelta(microseconds=500)
    assert [t.tap_id for t in store.taps(start + half, end + half)] == ["tap-last", "tap-after"]
    assert store.count_taps(start + half, end + half) == 2


def test_many_taps_in_the_same_millisecond_are_all_kept(store: EventStore, base: datetime) -> None:
    same_ms = [tap(f"tap-same-{n:05d}", base, 999_500 + n) for n in range(1000)]
    other_reader = tap("tap-other-reader", base, 999_500, reader="door-2")

    assert store.write_taps([*same_ms, other_reader]) == [WriteOutcome.STORED] * 1001

    read = store.taps(base, base + MS)
    assert len(read) == 1001
    # Ordered by seq within the millisecond, also across seq 999_999 -> 1_000_000.
    door_1 = [t for t in read if t.reader == "door-1"]
    assert [t.seq for t in door_1] == list(range(999_500, 1_000_500))
    assert store.count_taps(base, base + MS) == 1001


# -- duplicates and conflicts ----------------------------------------------------------


def test_redelivery_is_a_duplicate_and_other_content_a_conflict(
    store: EventStore, base: datetime
) -> None:
    original = tap("tap-dup-0001", base, 7)
    redelivered = replace(original, received_at=base + timedelta(seconds=30))
    impostor = replace(original, badge=BADGE_B)
    moved = replace(original, ts=base + timedelta(seconds=1))

    assert store.write_taps([original]) == [WriteOutcome.STORED]
    assert store.write_taps([redelivered, impostor, moved]) == [
        WriteOutcome.DUPLICATE,
        WriteOutcome.CONFLICT,
        WriteOutcome.CONFLICT,
    ]
    assert store.taps(base, base + timedelta(minutes=1)) == [original]
    assert store.count_taps(base, base + timedelta(minutes=1)) == 1


def test_duplicates_within_one_write(store: EventStore, base: datetime) -> None:
    first = tap("tap-batch-01", base, 1)
    outcomes = store.write_taps([first, first, replace(first, seq=2), tap("tap-batch-02", base, 3)])

    assert outcomes == [
        WriteOutcome.STORED,
        WriteOutcome.DUPLICATE,
        WriteOutcome.CONFLICT,
        WriteOutcome.STORED,
    ]
    assert [t.tap_id for t in store.taps(base, base + MS)] == ["tap-batch-01", "tap-batch-02"]


def test_new_taps_beside_a_redelivery_in_one_write_are_all_stored(
    store: EventStore, base: datetime
) -> None:
    # The SQLite store writes a batch in one statement and, when a tap of it was already
    # stored, undoes that and writes tap by tap: the new taps around it must stay.
    original = tap("tap-mixed-00", base, 1)
    assert store.write_taps([original]) == [WriteOutcome.STORED]
    new = [tap(f"tap-mixed-{n:02d}", base, n + 1) for n in (1, 2)]

    outcomes = store.write_taps([new[0], original, new[1]])

    assert outcomes == [WriteOutcome.STORED, WriteOutcome.DUPLICATE, WriteOutcome.STORED]
    ids = [t.tap_id for t in store.taps(base, base + MS)]
    assert sorted(ids) == ["tap-mixed-00", "tap-mixed-01", "tap-mixed-02"]
    assert store.count_taps(base, base + MS) == 3


def test_duplicates_and_conflicts_seen_by_a_new_instance(backend: Backend, base: datetime) -> None:
    original = tap("tap-reopen-1", base, 3)
    first = backend.open()
    first.write_taps([original])
    first.close()

    second = backend.open()
    outcomes = second.write_taps([original, replace(original, clock_synced=False)])

    assert outcomes == [WriteOutcome.DUPLICATE, WriteOutcome.CONFLICT]
    assert second.taps(base, base + MS) == [original]


# -- statuses and rejections -----------------------------------------------------------


def test_statuses_oldest_first_and_latest_per_reader(store: EventStore, base: datetime) -> None:
    t = base + timedelta(seconds=1)
    written = [
        status("door-1", "online", t, queued=3, detail="booted", heartbeat=30),
        status("door-2", "online", t + timedelta(seconds=1)),
        status("door-9", "online", t + timedelta(seconds=2), campus="c2"),
        status("door-1", "degraded", t + timedelta(seconds=3), detail="nfc: no reader"),
        status("door-2", "offline", t + timedelta(seconds=4), clock_synced=False),
    ]
    store.write_statuses(written[2:])
    store.write_statuses(written[:2])
    end = t + timedelta(minutes=1)

    assert store.statuses(base, end) == written
    assert store.statuses(base, end, campus="c1", reader="door-1") == [written[0], written[3]]
    assert store.statuses(t + timedelta(seconds=1), t + timedelta(seconds=4)) == written[1:4]
    assert store.latest_statuses() == [written[3], written[4], written[2]]
    assert store.latest_statuses(campus="c1") == [written[3], written[4]]
    assert store.latest_statuses(campus="c3") == []


def test_a_status_keeps_the_oldest_unconfirmed_tap_it_reports(
    store: EventStore, base: datetime
) -> None:
    """Protocol v2: ``oldest`` (ms precision, like every reader stamp) round-trips; a
    status without it (nothing held, or a reader of version 1) reads back as None."""
    t = base + timedelta(seconds=1)
    held = status("door-1", "online", t, queued=4, oldest=base - timedelta(days=9))
    empty = status("door-2", "online", t + timedelta(seconds=1))
    store.write_statuses([held, empty])
    assert store.statuses(base, t + timedelta(minutes=1)) == [held, empty]
    assert [item.oldest for item in store.latest_statuses()] == [held.oldest, None]


def test_an_sqlite_file_from_before_protocol_v2_gains_the_oldest_column(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    with closing(sqlite3.connect(path)) as old:
        old.execute(
            "CREATE TABLE statuses (id INTEGER PRIMARY KEY, campus TEXT NOT NULL, reader TEXT"
            " NOT NULL, state TEXT NOT NULL, ts_us INTEGER NOT NULL, received_us INTEGER NOT"
            " NULL, queued INTEGER NOT NULL, detail TEXT NOT NULL, clock_synced INTEGER NOT"
            " NULL, heartbeat INTEGER NOT NULL)"
        )
        old.execute("INSERT INTO statuses VALUES (1, 'c1', 'door-1', 'online', 0, 0, 2, '', 1, 60)")
        old.commit()
    store = SqliteEventStore(path)
    store.setup()
    store.setup()  # idempotent
    try:
        (before,) = store.latest_statuses()
        assert (before.queued, before.oldest) == (2, None)
        now = datetime.now(UTC).replace(microsecond=0)
        store.write_statuses([status("door-1", "online", now, queued=1, oldest=now)])
        assert store.latest_statuses()[0].oldest == now
    finally:
        store.close()


def test_an_sqlite_file_with_the_reader_index_loses_it_and_reads_a_reader_by_campus(
    tmp_path: Path, base: datetime
) -> None:
    # One index fewer written per tap (bench/README.md, "Ingest"): a reader's taps are
    # found through the (campus, ts_us, ..., reader) index, not a table scan.
    path = tmp_path / "events.sqlite3"
    with SqliteEventStore(path) as store:
        store.setup()
        store._connection().execute(
            "CREATE INDEX taps_by_reader ON taps (campus, reader, ts_us)"  # as files had it
        )
    with SqliteEventStore(path) as store:
        store.setup()
        connection = store._connection()
        names = {row[1] for row in connection.execute("PRAGMA index_list(taps)")}
        assert "taps_by_reader" not in names
        assert {"taps_by_campus_read", "taps_by_time"} <= names
        store.write_taps(
            [tap("t1", base, 1), tap("t2", base + MS, 1, reader="door-2"), tap("t3", base + 2 * MS)]
        )
        end = base + timedelta(minutes=1)
        found = store.taps(base, end, campus="c1", reader="door-1")
        assert [t.tap_id for t in found] == ["t1", "t3"]
        plan = connection.execute(
            "EXPLAIN QUERY PLAN SELECT tap_id FROM taps WHERE ts_us >= 0 AND ts_us < 1"
            " AND campus = 'c1' AND reader = 'door-1'"
        ).fetchall()
        assert "INDEX taps_by_campus_read (campus=? AND ts_us" in str(plan[-1][-1])


def test_status_history_by_the_readers_stamps_whenever_received(
    store: EventStore, base: datetime
) -> None:
    """A replay judges the readers on what they stamped for an instant, even when the
    server received it later (held by the broker during an outage); a reader whose clock
    is not synchronised is judged on the reception time."""
    t = base - timedelta(minutes=30)
    # Every status of door-1 reached the server in one burst, 30 min later.
    written = [
        replace(status("door-1", "online", base), ts=t),
        replace(status("door-1", "online", base + MS), ts=t + timedelta(minutes=1), queued=2),
        replace(status("door-1", "online", base + 2 * MS), ts=t + timedelta(minutes=2)),
        status("door-2", "online", t + timedelta(seconds=30), clock_synced=False),
        replace(status("door-3", "online", base), ts=t + timedelta(seconds=90), campus="c2"),
    ]
    written[3] = replace(written[3], ts=t - timedelta(days=3))  # its clock is wrong
    store.write_statuses(written)

    assert store.stamped_statuses(t, t + timedelta(minutes=5)) == [
        written[0],
        written[3],
        written[1],
        written[4],
        written[2],
    ]
    assert (
        store.stamped_statuses(t, t + timedelta(minutes=2), campus="c1", reader="door-1")
        == written[:2]
    )
    # What was received live at t + 1 min: nothing of door-1; its history: the 2nd status.
    assert store.statuses(t - timedelta(hours=1), t + timedelta(minutes=1), reader="door-1") == []
    assert store.reader_status_at("c1", t + timedelta(minutes=1, seconds=30)) == [
        written[1],
        written[3],
    ]
    assert store.reader_status_at("c1", t - timedelta(seconds=1)) == []
    assert store.reader_status_at("c1", t + timedelta(hours=3)) == []  # beyond the lookback


def test_rejections_newest_first_with_limit(store: EventStore, base: datetime) -> None:
    def rejection(second: int, **kwargs) -> Rejection:
        kwargs.setdefault("reason", "malformed_json")
        return Rejection(
            received_at=base + timedelta(seconds=second, microseconds=250),
            topic="campus/c1/readers/door-1/taps",
            detail=f"rejection {second}",
            size=100 + second,
            **kwargs,
        )

    old = rejection(0)
    newer = [rejection(n, campus="c1", reader="door-1") for n in range(1, 5)]
    twin = replace(newer[-1], detail="same instant, same reason")
    store.write_rejection(old)
    store.write_rejections(newer[:2])  # a batch's, in one write
    for item in [*newer[2:], twin]:
        store.write_rejection(item)
    store.write_rejections([])
    since = base + timedelta(seconds=1)

    assert store.rejections(since=since, limit=3) == [twin, newer[3], newer[2]]
    assert store.rejections(since=since) == [twin, *reversed(newer)]
    assert store.rejections(since=base)[-1] == old
    assert store.rejections(since=base)[-1].campus is None


# -- lifecycle ---------------------------------------------------------------------------


def test_setup_is_idempotent(store: EventStore, base: datetime) -> None:
    store.write_taps([tap("tap-setup-1", base)])
    store.setup()
    store.setup()

    assert store.count_taps(base, base + MS) == 1
    assert store.write_taps([tap("tap-setup-1", base)]) == [WriteOutcome.DUPLICATE]


def test_data_survives_close_and_reopen(backend: Backend, base: datetime) -> None:
    taps = [tap(f"tap-keep-{n}", base + n * MS, n) for n in range(3)]
    online = status("door-1", "online", base)
    rejected = Rejection(base, "too_large", "campus/c1/readers/door-1/taps", "5000 bytes", 5000)
    first = backend.open()
    first.write_taps(taps)
    first.write_statuses([online])
    first.write_rejection(rejected)
    first.close()
    first.close()  # idempotent

    second = backend.open()
    assert second.taps(base, base + timedelta(seconds=1)) == taps
    assert second.latest_statuses() == [online]
    assert second.rejections(since=base) == [rejected]


def test_empty_writes_and_naive_datetimes(store: EventStore, base: datetime) -> None:
    assert store.write_taps([]) == []
    store.write_statuses([])
    with pytest.raises(ValueError, match="naive"):
        store.taps(base.replace(tzinfo=None), base)
    with pytest.raises(ValueError, match="naive"):
        store.write_taps([tap("tap-naive-1", base.replace(tzinfo=None))])
    assert store.count_taps(base - timedelta(days=1), base + timedelta(days=1)) == 0


def test_concurrent_writers_and_readers(store: EventStore, base: datetime) -> None:
    errors: list[BaseException] = []

    def write(worker: int) -> None:
        try:
            for batch in range(10):
                reader = f"door-{worker}"
                taps = [
                    tap(f"tap-w{worker}-{batch}-{n}", base + n * MS, batch * 50 + n, reader=reader)
                    for n in range(50)
                ]
                assert store.write_taps(taps) == [WriteOutcome.STORED] * 50
                assert len(store.taps(base, base + timedelta(seconds=1), reader=reader)) >= 50
        except BaseException as error:  # reported below, with the thread's traceback
            errors.append(error)

    threads = [threading.Thread(target=write, args=(worker,)) for worker in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert store.count_taps(base, base + timedelta(seconds=1)) == 2000


# -- outages -----------------------------------------------------------------------------


class SqliteOutage:
    """Another process holds the write lock (a backup, a stuck tool)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.blocker: sqlite3.Connection | None = None

    def begin(self) -> None:
        self.blocker = sqlite3.connect(self.path, isolation_level=None)
        self.blocker.execute("BEGIN EXCLUSIVE")

    def end(self) -> None:
        assert self.blocker is not None
        self.blocker.execute("ROLLBACK")
        self.blocker.close()


@pytest.fixture(params=BACKENDS)
def outage_backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Backend, Callable[[], None], Callable[[], None]]]:
    if request.param == "sqlite":
        path = tmp_path / "events.sqlite3"
        backend = Backend("sqlite", lambda: SqliteEventStore(path, busy_timeout_s=0.2))
        outage = SqliteOutage(path)
        begin, end = outage.begin, outage.end
    else:
        server = request.getfixturevalue("own_influxd")
        settings = replace(_influx_settings(server.url), timeout_s=2.0)
        backend = Backend("influxdb", lambda: InfluxEventStore(settings, retention=RETENTION))
        begin, end = server.stop, server.start
    yield backend, begin, end
    for store in backend.opened:
        store.close()


def test_write_while_unreachable_raises_unavailable_then_succeeds(
    outage_backend: tuple[Backend, Callable[[], None], Callable[[], None]], base: datetime
) -> None:
    backend, begin_outage, end_outage = outage_backend
    store = backend.open()
    before = tap("tap-before-outage", base, 1)
    store.write_taps([before])
    during = tap("tap-during-outage", base + MS, 2)

    begin_outage()
    with pytest.raises(EventStoreUnavailable):
        store.write_taps([during])
    with pytest.raises(EventStoreUnavailable):
        store.write_statuses([status("door-1", "online", base)])
    end_outage()

    # Nothing was acknowledged, so the redelivered tap is stored, not a duplicate.
    assert store.write_taps([during]) == [WriteOutcome.STORED]
    assert store.taps(base, base + timedelta(seconds=1)) == [before, during]


def test_sqlite_store_is_wal_and_synchronous_full(tmp_path: Path) -> None:
    """A write that returned must survive a power cut; readers must not block on it."""
    path = tmp_path / "events.sqlite3"
    with SqliteEventStore(path) as store:
        store.setup()
        results: list[int] = []
        worker = threading.Thread(
            target=lambda: results.append(
                store._connection().execute("PRAGMA synchronous").fetchone()[0]
            )
        )
        worker.start()
        worker.join()
        assert results == [2]  # FULL, also on a connection opened by another thread
    with closing(sqlite3.connect(path)) as other:
        assert other.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_sqlite_purge_deletes_old_events(tmp_path: Path, base: datetime) -> None:
    with SqliteEventStore(tmp_path / "events.sqlite3") as store:
        store.setup()
        store.write_taps([tap("tap-old-1", base - timedelta(days=2)), tap("tap-new-1", base)])
        store.write_statuses([status("door-1", "online", base - timedelta(days=2))])
        store.write_rejection(Rejection(base - timedelta(days=3), "bad_uid", "t", "d", 1))
        store.write_rejection(Rejection(base, "bad_uid", "t", "d", 1))

        assert store.purge(base - timedelta(days=1)) == 3
        assert [t.tap_id for t in store.taps(base - timedelta(days=9), base + MS)] == ["tap-new-1"]
        assert store.latest_statuses() == []
        assert len(store.rejections(since=base - timedelta(days=9))) == 1
        assert store.purge(base - timedelta(days=1)) == 0


@pytest.mark.influxdb
def test_influx_purge_leaves_it_to_retention(influxd, base: datetime) -> None:
    store = InfluxEventStore(_influx_settings(influxd.url), retention=RETENTION)
    try:
        store.setup()
        store.write_taps([tap("tap-stays-1", base)])
        assert store.purge(base + timedelta(days=1)) == 0
        assert store.count_taps(base, base + MS) == 1
    finally:
        store.close()


# -- occupancy -------------------------------------------------------------------------


def _sample(
    room: str | None, at: datetime, count: int, capacity: int | None = 18, *, campus: str = "c1"
) -> OccupancySample:
    return OccupancySample(campus, room, at, count, capacity)


def test_occupancy_round_trip_and_filters(store: EventStore, base: datetime) -> None:
    written = [
        _sample(None, base + timedelta(seconds=1), 3, 40),
        _sample("salle-2", base + timedelta(seconds=1, microseconds=500), 2),
        _sample("salle-2", base + timedelta(seconds=2), 1),
        _sample("salle-3", base + timedelta(seconds=3), 0, None),
        _sample(None, base + timedelta(seconds=4), 5, 40, campus="c2"),
    ]
    store.write_occupancy(written)
    store.write_occupancy([])
    window = (base, base + timedelta(minutes=1))
    assert store.occupancy(*window) == written
    assert store.occupancy(*window, campus="c1", room="salle-2") == written[1:3]
    assert store.occupancy(*window, campus="c1", room=CAMPUS_WIDE) == written[:1]
    assert store.occupancy(*window, room=CAMPUS_WIDE) == [written[0], written[4]]
    assert store.occupancy(base + timedelta(seconds=2), base + timedelta(seconds=3)) == [written[2]]


def test_occupancy_survives_reopen(backend: Backend, base: datetime) -> None:
    backend.open().write_occupancy([_sample("salle-2", base, 7)])
    assert backend.open().occupancy(base, base + timedelta(seconds=1)) == [
        _sample("salle-2", base, 7)
    ]


def test_sqlite_purge_deletes_old_occupancy(tmp_path: Path, base: datetime) -> None:
    with SqliteEventStore(tmp_path / "events.sqlite3") as store:
        store.setup()
        store.write_occupancy([_sample(None, base - timedelta(days=40), 1), _sample(None, base, 2)])
        assert store.purge(base - timedelta(days=30)) == 1
        assert [s.count for s in store.occupancy(base - timedelta(days=50), base + MS)] == [2]


def test_the_write_probe_fails_during_an_outage_and_leaves_no_trace_in_the_events(
    outage_backend: tuple[Backend, Callable[[], None], Callable[[], None]], base: datetime
) -> None:
    """``check_writable`` (``/readyz``): passes on a working store, raises the port's
    error while it cannot be written, passes again after; repeated, it keeps no trace in
    the events."""
    backend, begin_outage, end_outage = outage_backend
    store = backend.open()
    for minutes in range(3):
        store.check_writable(base + timedelta(minutes=minutes))
    begin_outage()
    with pytest.raises(EventStoreError):
        store.check_writable(base + timedelta(minutes=5))
    end_outage()
    store.check_writable(base + timedelta(minutes=6))
    assert store.taps(base - timedelta(days=1), base + timedelta(days=1)) == []
    assert store.latest_statuses() == []
    assert store.rejections(since=base - timedelta(days=1)) == []
