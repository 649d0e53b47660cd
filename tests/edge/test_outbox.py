"""The durable outbox on a real SQLite file, and the delivery window over it."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from edge.delivery import Delivery
from edge.errors import OutboxError, OutboxFull
from edge.outbox import Outbox
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


def test_ids_are_unique(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        ids = {outbox.add(uid(i), T0).id for i in range(500)}
    assert len(ids) == 500


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


def test_delivery_hands_taps_in_order_within_its_window(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        taps = [outbox.add(uid(i), T0) for i in range(10)]
        broker = Broker()
        delivery = Delivery(outbox, broker.send, window=4)

        assert delivery.pump() == 4 and delivery.pump() == 0
        for mid, _ in broker.handed[:2]:
            delivery.acked(mid, failed=False, reason="Success", now=0)
        assert delivery.flush() == 2 and outbox.count == 8
        assert delivery.pump() == 2
        assert [t for _, t in broker.handed] == taps[:6]


def test_a_refused_tap_pauses_delivery_until_a_probe_is_accepted(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        taps = [outbox.add(uid(i), T0) for i in range(3)]
        broker = Broker()
        delivery = Delivery(outbox, broker.send, window=2, retry_s=60)
        assert delivery.pump() == 2

        outcome = delivery.acked(1, failed=True, reason="Not authorized", now=100.0)
        assert outcome is not None and not outcome.delivered
        assert delivery.refused == 1 and delivery.paused
        assert delivery.pump() == 0  # paused although the window has room
        assert delivery.acked(2, failed=True, reason="Not authorized", now=100.5)
        delivery.flush()
        assert outbox.pending() == taps and delivery.probe_due_at == 160.5

        assert not delivery.tick(160.0)
        assert delivery.tick(160.5)  # the oldest refused tap goes alone
        assert broker.handed[-1] == (3, taps[0]) and delivery.probe_due_at is None
        assert not delivery.tick(200.0)  # one probe at a time

        delivery.acked(3, failed=False, reason="No matching subscribers", now=161.0)
        assert not delivery.paused and delivery.refused == 0
        assert broker.handed[-1] == (4, taps[1])  # the other refused tap follows
        delivery.acked(4, failed=False, reason="Success", now=161.1)
        assert delivery.pump() == 1
        assert [t.seq for _, t in broker.handed] == [0, 1, 0, 1, 2]
        delivery.acked(5, failed=False, reason="Success", now=161.2)
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


def test_an_unknown_mid_is_not_a_tap(tmp_path: Path) -> None:
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        delivery = Delivery(outbox, Broker().send)
        assert delivery.acked(77, failed=False, reason="Success", now=0) is None


def test_utc_timestamps_survive_too(tmp_path: Path) -> None:
    moment = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
    with Outbox(tmp_path / "o.sqlite3") as outbox:
        outbox.add(uid(1), moment)
        assert outbox.pending()[0].to_dict()["ts"] == "2026-11-23T07:00:00.000Z"
