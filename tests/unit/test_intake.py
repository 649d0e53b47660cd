"""Boundary rules: a message becomes a record to store or a rejection with a reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import partial

import pytest

from edge.protocol import ReaderState, ReaderStatus, Tap
from server.domain.badges import badge_hash, badge_hasher
from server.domain.events import ReaderStatusRecord, Rejection, StoredTap
from server.domain.intake import Intake, TimeWindow, judge_message

NOW = datetime(2026, 11, 23, 8, 15, tzinfo=UTC)
SECRET = b"unit-test-secret-0123"
INTAKE = Intake(
    hash_badge=partial(badge_hash, SECRET),
    is_known_reader=lambda campus, reader: (campus, reader) == ("c1", "door-1"),
    window=TimeWindow(max_future=timedelta(hours=24), retention=timedelta(days=30)),
)
TOPIC = "campus/c1/readers/door-1/taps"


def tap(**changes) -> Tap:
    values = {
        "id": "tap-00000001",
        "uid": "04A1B2C3D4E5F6",
        "ts": NOW - timedelta(seconds=1),
        "seq": 7,
    }
    return Tap(**{**values, **changes})


def test_a_valid_tap_is_stored_with_the_keyed_hash_not_the_uid() -> None:
    judged = judge_message(TOPIC, tap().to_json(), NOW, INTAKE)
    assert isinstance(judged, StoredTap)
    assert judged.badge == badge_hash(SECRET, "04a1b2c3d4e5f6")
    assert "04a1b2c3d4e5f6" not in repr(judged).lower()
    assert (judged.campus, judged.reader, judged.seq, judged.received_at) == (
        "c1",
        "door-1",
        7,
        NOW,
    )


def test_the_hash_depends_on_the_secret() -> None:
    assert badge_hash(SECRET, "04a1b2c3") != badge_hash(b"another-secret-xyz", "04a1b2c3")
    assert badge_hash(SECRET, "04:A1:B2:C3") == badge_hash(SECRET, "04a1b2c3")


@pytest.mark.parametrize(
    ("topic", "reason"),
    [
        ("campus/c2/readers/door-1/taps", "unknown_reader"),
        ("campus/c1/readers/door-2/taps", "unknown_reader"),
        ("campus/C1/readers/door-1/taps", "bad_topic"),
        ("campus/c1/readers/door-1/feedback", "bad_topic"),
        ("campus/c1/door-1/taps", "bad_topic"),
    ],
)
def test_topics_outside_the_registry_or_the_contract_are_rejected(topic: str, reason: str) -> None:
    judged = judge_message(topic, tap().to_json(), NOW, INTAKE)
    assert isinstance(judged, Rejection)
    assert judged.reason == reason


@pytest.mark.parametrize(
    ("ts", "reason"),
    [
        (NOW + timedelta(hours=24, seconds=1), "ts_in_future"),
        (NOW - timedelta(days=31), "ts_too_old"),
    ],
)
def test_a_synchronised_clock_is_trusted_only_within_the_window(ts: datetime, reason: str) -> None:
    judged = judge_message(TOPIC, tap(ts=ts).to_json(), NOW, INTAKE)
    assert isinstance(judged, Rejection)
    assert judged.reason == reason


def test_the_window_edges_are_accepted() -> None:
    for ts in (NOW + timedelta(hours=24), NOW - timedelta(days=30)):
        assert isinstance(judge_message(TOPIC, tap(ts=ts).to_json(), NOW, INTAKE), StoredTap)


def test_a_tap_from_an_unsynchronised_clock_is_kept_at_reception_time() -> None:
    boot_time = datetime(1970, 1, 1, 0, 0, 42, tzinfo=UTC)
    judged = judge_message(TOPIC, tap(ts=boot_time, clock_synced=False).to_json(), NOW, INTAKE)
    assert isinstance(judged, StoredTap)
    assert judged.ts == NOW
    assert judged.clock_synced is False


def test_an_unsynchronised_but_plausible_timestamp_is_kept_and_stays_marked() -> None:
    judged = judge_message(TOPIC, tap(clock_synced=False).to_json(), NOW, INTAKE)
    assert isinstance(judged, StoredTap)
    assert judged.ts == NOW - timedelta(seconds=1)
    assert judged.clock_synced is False


def test_a_rejection_never_repeats_the_uid() -> None:
    payload = b'{"v":1,"id":"tap-00000001","uid":"04a1b2c3d4e5f6","ts":"yesterday","seq":1}'
    judged = judge_message(TOPIC, payload, NOW, INTAKE)
    assert isinstance(judged, Rejection)
    assert judged.reason == "bad_timestamp"
    assert "04a1b2c3d4e5f6" not in judged.detail
    assert judged.size == len(payload)


def test_a_status_becomes_a_status_record() -> None:
    status = ReaderStatus(
        state=ReaderState.OFFLINE, ts=NOW - timedelta(hours=3), queued=12, detail=""
    )
    judged = judge_message("campus/c1/readers/door-1/status", status.to_json(), NOW, INTAKE)
    assert isinstance(judged, ReaderStatusRecord)
    assert (judged.state, judged.queued, judged.received_at) == ("offline", 12, NOW)


def test_a_malformed_topic_is_kept_printable_and_short() -> None:
    judged = judge_message("campus/\x00" + "x" * 500, b"{}", NOW, INTAKE)
    assert isinstance(judged, Rejection)
    assert judged.topic.isprintable() and len(judged.topic) <= 120


def test_a_retained_tap_is_refused_a_retained_status_is_normal() -> None:
    """A reader never publishes a tap retained: one delivered with the flag is a replay
    kept by the broker (its raw UID for every new subscriber) or the empty message that
    clears it. Statuses are retained by design."""
    for payload in (tap().to_json(), b""):
        judged = judge_message(TOPIC, payload, NOW, INTAKE, retained=True)
        assert isinstance(judged, Rejection) and judged.reason == "retained"
        assert (judged.campus, judged.reader) == ("c1", "door-1")
    status = ReaderStatus(state=ReaderState.ONLINE, ts=NOW, queued=2, oldest=NOW - timedelta(1))
    topic = "campus/c1/readers/door-1/status"
    judged = judge_message(topic, status.to_json(), NOW, INTAKE, retained=True)
    assert isinstance(judged, ReaderStatusRecord) and judged.oldest == NOW - timedelta(1)


def test_confirmations_are_not_for_the_server() -> None:
    judged = judge_message("campus/c1/readers/door-1/confirm", b'{"v":2}', NOW, INTAKE)
    assert isinstance(judged, Rejection) and judged.reason == "bad_topic"


def test_the_ingest_s_badge_hasher_gives_badge_hash() -> None:
    hasher = badge_hasher(b"a-secret")
    for uid in ("04a1b2c3", "04:A1:B2:C3", "04 11 22 33 44 55 66", "00"):
        assert hasher(uid) == badge_hash(b"a-secret", uid)
    assert hasher("04a1b2c3") != badge_hasher(b"another")("04a1b2c3")
