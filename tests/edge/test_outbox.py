"""The durable outbox on a real SQLite file, and the delivery window over it."""

from __future__ import annotations

import re
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from edge.delivery import Delivery
from edge.errors import OutboxError, OutboxFull
from edge.outbox import CACHE_KIB, REMOVE_CHUNK, Outbox, new_tap_id
from edge.protocol import Tap

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 11, 23, 8, 59, 58, 123000, tzinfo=PARIS)


def uid(i: int) -> str:
    return f"04{i:012x}"


def test_a_tap_is_durable_with_wal_and_full_sync(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        tap = outbox.add(uid(1), T0, clock_synced=False)
        mode = outbox._db.execute("PRAGMA journal_mode").fetchone()[0]
        sync = outbox._db.execute("PRAGMA synchronous").fetchone()[0]
    assert (mode, sync) == ("wal", 2)  # 2 = FULL
    assert re.fullmatch(r"[A-Za-z0-9_-]{8,64}", tap.id)
    assert (tap.seq, tap.uid, tap.ts, tap.clock_synced) == (0, uid(1), T0, False)
    # another connection (another process after a crash) sees the committed tap
    rows = sqlite3.connect(tmp_path / "o.sqlite3").execute("SELECT id, ts FROM taps").fetchall()
    assert rows == [(tap.id, "2026-11-23T08:59:58.123+01:00")]


def test_taps_come_back_in_order_with_original_ids_and_times_after_reopening(
    tmp_path: Path,
) -> None:
    path = tmp_path / "o.sqlite3"
    with Outbox(path) as outbox:
        written = [outbox.add(uid(i), T0 + timedelta(seconds=i)) for i in range(5)]
    with Outbox(path) as outbox:
        assert outbox.count == 5
        assert outbox.pending() == written
        assert outbox.pending(after_seq=2, limit=1) == [written[3]]


def test_seq_keeps_increasing_across_restarts_even_when_empty(tmp_path: Path) -> None:
    path = tmp_path / "o.sqlite3"
    with Outbox(path) as outbox:
        first = [outbox.add(uid(i), T0) for i in range(3)]
        assert outbox.remove(t.id for t in first) == 3
    with Outbox(path) as outbox:
        assert outbox.count == 0 and outbox.last_seq == 2
        assert outbox.add(uid(9), T0).seq == 3


def test_any_number_of_confirmed_taps_is_removed_by_one_statement(tmp_path: Path) -> None:
    """SQLite compiles (and Python caches) one program per distinct SQL text: removing
    batches of every size must not compile one per size (that cost the door MBs)."""
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        sizes = [1, REMOVE_CHUNK - 1, REMOVE_CHUNK, REMOVE_CHUNK + 1, 57]
        taps = [outbox.add(uid(i), T0) for i in range(sum(sizes) + 3)]
        statements: list[str] = []
        outbox._db.set_trace_callback(statements.append)
        start = 0
        for size in sizes:
            batch = [tap.id for tap in taps[start : start + size]]
            assert outbox.remove([*batch, "not-a-tap-of-this-reader"]) == size
            start += size
        assert outbox.count == len(taps) - start
        assert outbox.pending(limit=len(taps)) == taps[start:]
        # the trace shows each statement with its values bound: compare the shapes
        deletes = {re.sub(r"'[^']*'|NULL", "?", s) for s in statements if s.startswith("DELETE")}
        assert len(deletes) == 1 and outbox.remove([]) == 0
        assert outbox._db.execute("PRAGMA cache_size").fetchone()[0] == -CACHE_KIB


def test_ids_are_unique(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        ids = {outbox.add(uid(i), T0).id for i in range(500)}
    assert len(ids) == 500


def test_ids_follow_the_order_they_are_given_in_across_milliseconds() -> None:
    # Time-ordered ids: a store's unique index of tap ids grows at its end (the server's
    # SQLite index wrote a random page per tap with random UUID4s, bench/README.md).
    first = [new_tap_id() for _ in range(50)]
    time.sleep(0.002)
    later = [new_tap_id() for _ in range(50)]
    assert max(first) < min(later)
    assert len(set(first + later)) == 100
    assert all(re.fullmatch(r"[0-9a-f]{32}", tap_id) for tap_id in first + later)
    assert int(first[0][:12], 16) == pytest.approx(time.time() * 1000, abs=60_000)


def test_a_full_outbox_refuses_the_newest_tap_and_keeps_the_old_ones(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3", max_taps=3) as outbox:
        kept = [outbox.add(uid(i), T0) for i in range(3)]
        with pytest.raises(OutboxFull, match=r"outbox full \(3 taps waiting\)"):
            outbox.add(uid(99), T0)
        assert outbox.pending() == kept and outbox.last_seq == 2
        outbox.remove([kept[0].id])
        assert outbox.add(uid(99), T0).seq == 3


def test_a_second_process_cannot_open_the_same_outbox(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3"), pytest.raises(OutboxError, match="in use"):
        Outbox(tmp_path / "o.sqlite3")


def test_a_corrupt_file_is_a_readable_error(tmp_path: Path) -> None:
    (tmp_path / "o.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(OutboxError, match="cannot open outbox"):
        Outbox(tmp_path / "o.sqlite3")


def test_close_is_idempotent(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "o.sqlite3")
    outbox.close()
    outbox.close()
    assert outbox.closed and "closed" in repr(outbox)


class Broker:
    """Stands in for paho in these unit tests: records what it was handed."""

    def __init__(self, capacity: int = 10**6) -> None:
        self.handed: list[tuple[int, Tap]] = []
        self.capacity = capacity
        self.next_mid = 1

    def send(self, tap: Tap) -> int | None:
        if len(self.handed) >= self.capacity:
            return None
        mid, self.next_mid = self.next_mid, self.next_mid + 1
        self.handed.append((mid, tap))
        return mid


def test_delivery_hands_taps_in_order_within_its_window_of_unconfirmed_taps(
    tmp_path: Path,
) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        taps = [outbox.add(uid(i), T0) for i in range(10)]
        broker = Broker()
        delivery = Delivery(outbox, broker.send, window=4)

        assert delivery.pump() == 4 and delivery.pump() == 0
        for mid, _ in broker.handed[:2]:
            delivery.acked(mid, failed=False, reason="Success", now=0)
        assert delivery.flush() == 0 and outbox.count == 10  # a PUBACK removes nothing
        assert delivery.pump() == 0  # nor frees the window
        assert delivery.confirm([taps[0].id, taps[1].id], now=0.1).ids == [taps[0].id, taps[1].id]
        assert delivery.flush() == 2 and outbox.count == 8
        assert delivery.pump() == 2
        assert [t for _, t in broker.handed] == taps[:6]


def test_an_unconfirmed_tap_is_sent_again_with_backoff_oldest_first(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        taps = [outbox.add(uid(i), T0) for i in range(3)]
        broker = Broker()
        delivery = Delivery(outbox, broker.send, confirm_timeout_s=10, confirm_retry_max_s=25)
        delivery.pump()
        for mid in (3, 1, 2):  # PUBACKs in any order
            delivery.acked(mid, failed=False, reason="Success", now=100.0)
        delivery.confirm([taps[1].id], now=101.0)
        assert delivery.next_due_at == 110.0
        assert not delivery.tick(109.9)
        assert delivery.tick(110.0)
        assert [t.seq for _, t in broker.handed[3:]] == [0, 2]  # oldest first, same ids
        assert broker.handed[3][1].id == taps[0].id
        for mid, _ in broker.handed[3:]:
            delivery.acked(mid, failed=False, reason="Success", now=110.1)
        assert delivery.next_due_at == pytest.approx(130.1)  # 20 s: the wait doubled
        assert delivery.tick(130.1) and len(broker.handed) == 7
        for mid, _ in broker.handed[5:]:
            delivery.acked(mid, failed=False, reason="Success", now=130.2)
        assert delivery.next_due_at == pytest.approx(155.2)  # capped at 25 s
        assert delivery.flush() == 1 and outbox.count == 2
        assert delivery.counters["resent"] == 4


def test_puback_16_is_not_a_delivery(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        tap = outbox.add(uid(1), T0)
        broker = Broker()
        delivery = Delivery(outbox, broker.send, confirm_timeout_s=5)
        delivery.pump()
        outcome = delivery.acked(
            1, failed=False, reason="No matching subscribers", now=0.0, code=16
        )
        assert outcome is not None and not outcome.accepted and not outcome.refused
        assert not delivery.paused and delivery.counters["no_subscribers"] == 1
        delivery.flush()
        assert outbox.pending() == [tap]
        assert delivery.tick(5.0) and broker.handed[-1] == (2, tap)


def test_a_confirmation_proves_the_server_back_and_pulls_re_sends_in(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        taps = [outbox.add(uid(i), T0) for i in range(2)]
        broker = Broker()
        delivery = Delivery(outbox, broker.send, confirm_timeout_s=1, confirm_retry_max_s=100)
        delivery.pump()
        for attempt in range(5):  # the server is away: 6 sends, the wait grows to 32 s
            for mid, _ in broker.handed[-2:]:
                delivery.acked(mid, failed=False, reason="", now=attempt * 100.0, code=16)
            assert delivery.tick(attempt * 100.0 + 50)
        for mid, _ in broker.handed[-2:]:
            delivery.acked(mid, failed=False, reason="", now=500.0, code=16)
        assert delivery.next_due_at == 532.0
        delivery.confirm([taps[0].id], now=501.0)  # the server is back
        assert delivery.next_due_at == 501.0
        assert delivery.tick(501.0) and broker.handed[-1][1] == taps[1]


def test_confirmations_before_the_puback_unknown_and_replayed(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        taps = [outbox.add(uid(i), T0) for i in range(3)]
        delivery = Delivery(outbox, Broker().send, window=2)
        delivery.pump()  # taps 0 and 1 in flight; tap 2 waits on disk
        done = delivery.confirm([taps[0].id, taps[2].id, "unknown-tap-id"], now=0.0)
        assert done.ids == [taps[0].id, taps[2].id] and done.unknown == 1
        assert delivery.acked(1, failed=False, reason="Success", now=0.1) is None  # late PUBACK
        assert delivery.confirm([taps[0].id], now=0.2).replayed == 1
        assert delivery.confirm([taps[0].id.upper()], now=0.2).unknown == 1  # another id
        assert delivery.confirm(["unknown-tap-id"], now=0.2).unknown == 1
        assert delivery.flush() == 2 and outbox.pending() == [taps[1]]
        assert delivery.pump() == 0  # tap 2 is gone from the disk, not sent
        counters = delivery.counters
        assert (counters["confirmed"], counters["confirm_unknown"]) == (2, 3)
        assert counters["confirm_replayed"] == 1


def test_a_refused_tap_pauses_delivery_until_a_probe_is_accepted(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        taps = [outbox.add(uid(i), T0) for i in range(3)]
        broker = Broker()
        delivery = Delivery(outbox, broker.send, window=2, retry_s=60)
        assert delivery.pump() == 2

        outcome = delivery.acked(1, failed=True, reason="Not authorized", now=100.0)
        assert outcome is not None and outcome.refused and not outcome.accepted
        assert delivery.refused == 1 and delivery.paused
        assert delivery.pump() == 0  # paused although the window has room
        assert delivery.acked(2, failed=True, reason="Not authorized", now=100.5)
        delivery.flush()
        assert outbox.pending() == taps and delivery.probe_due_at == 160.5

        assert not delivery.tick(160.0)
        assert delivery.tick(160.5)  # the oldest refused tap goes alone
        assert broker.handed[-1] == (3, taps[0]) and delivery.probe_due_at is None
        assert not delivery.tick(161.0)  # one probe at a time

        delivery.acked(3, failed=False, reason="No matching subscribers", now=161.0, code=16)
        assert not delivery.paused and delivery.refused == 0
        assert broker.handed[-1] == (4, taps[1])  # the other refused tap follows
        delivery.acked(4, failed=False, reason="Success", now=161.1)
        delivery.confirm([taps[0].id, taps[1].id], now=161.2)
        delivery.flush()
        assert delivery.pump() == 1
        assert [t.seq for _, t in broker.handed] == [0, 1, 0, 1, 2]
        delivery.acked(5, failed=False, reason="Success", now=161.3)
        delivery.confirm([taps[2].id], now=161.4)
        delivery.flush()
        assert outbox.count == 0


def test_a_refused_probe_pauses_again(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        outbox.add(uid(1), T0)
        delivery = Delivery(outbox, Broker().send, window=5, retry_s=60)
        delivery.pump()
        delivery.acked(1, failed=True, reason="Not authorized", now=0.0)
        assert delivery.tick(60.0)
        delivery.acked(2, failed=True, reason="Not authorized", now=60.1)
        assert delivery.paused and delivery.probe_due_at == 120.1 and outbox.count == 1


def test_delivery_stops_when_the_client_is_full_and_resumes(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        for i in range(5):
            outbox.add(uid(i), T0)
        broker = Broker(capacity=2)
        delivery = Delivery(outbox, broker.send, window=100)
        assert delivery.pump() == 2
        broker.capacity = 10
        assert delivery.pump() == 3
        assert [t.seq for _, t in broker.handed] == [0, 1, 2, 3, 4]


def test_a_full_disk_refuses_the_tap_and_keeps_the_others(tmp_path: Path) -> None:
    """SQLite's own 'database or disk is full' error, produced by capping the file's
    pages where it is: the tap is not stored and the caller is told so."""
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        kept = outbox.add(uid(1), T0)
        pages = outbox._db.execute("PRAGMA page_count").fetchone()[0]
        outbox._db.execute(f"PRAGMA max_page_count = {pages}")
        stored = 1
        with pytest.raises(OutboxError, match="database or disk is full"):
            for i in range(2, 10_000):  # the next page that must grow fails
                outbox.add(uid(i), T0)
                stored += 1
        assert outbox.count == stored
        assert outbox.pending()[0] == kept and outbox.last_seq == stored - 1


def test_an_unknown_mid_is_not_a_tap(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        delivery = Delivery(outbox, Broker().send)
        assert delivery.acked(77, failed=False, reason="Success", now=0) is None


def test_utc_timestamps_survive_too(tmp_path: Path) -> None:
    moment = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        outbox.add(uid(1), moment)
        assert outbox.pending()[0].to_dict()["ts"] == "2026-11-23T07:00:00.000Z"
