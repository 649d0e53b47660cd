"""Taps through a real Mosquitto into a real event store (SQLite file or real influxd).

Nothing here is mocked: a paho client publishes like a reader, the server's ingest
consumes through the MQTT 5 shared subscription with manual acknowledgement, and the
assertions read the store back.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge.protocol import ReaderState, ReaderStatus, status_topic
from server.bootstrap import IngestApp, build_event_store, build_ingest
from server.config import Settings
from server.domain.badges import badge_hash
from tests.e2e.helpers import (
    CAMPUS,
    DOOR,
    SECRET,
    Reader,
    ingest_settings,
    make_tap,
    wait_until,
    window,
)
from tests.services import Influxd, Mosquitto

pytestmark = [pytest.mark.broker]


@pytest.fixture(params=["sqlite", pytest.param("influxdb", marks=pytest.mark.influxdb)])
def settings(request, tmp_path: Path, mosquitto: Mosquitto) -> Settings:
    if request.param == "sqlite":
        return ingest_settings(tmp_path, mosquitto.port)
    influxd: Influxd = request.getfixturevalue("influxd")
    return ingest_settings(
        tmp_path, mosquitto.port, influx_url=influxd.url, database=f"e2e_{uuid.uuid4().hex[:8]}"
    )


@pytest.fixture
def ingest(settings: Settings) -> Iterator[IngestApp]:
    with build_ingest(settings) as app:
        assert app.consumer.wait_subscribed(10), "ingest did not subscribe"
        yield app


@pytest.fixture
def reader(mosquitto: Mosquitto) -> Iterator[Reader]:
    client = Reader(mosquitto.port)
    yield client
    client.close()


def stored_ids(app: IngestApp) -> list[str]:
    return [tap.tap_id for tap in app.store.taps(*window())]


def test_each_tap_is_stored_once_with_a_hashed_badge(ingest: IngestApp, reader: Reader) -> None:
    taps = [make_tap(seq, uid=f"04{seq:012x}") for seq in range(1, 201)]
    reader.publish_taps(taps)
    wait_until(lambda: ingest.service.counters.snapshot()["stored"] == 200, what="200 taps stored")

    stored = ingest.store.taps(*window())
    assert sorted(tap.tap_id for tap in stored) == sorted(tap.id for tap in taps)
    by_id = {tap.tap_id: tap for tap in stored}
    for tap in taps:
        assert by_id[tap.id].badge == badge_hash(SECRET.encode(), tap.uid)
        assert by_id[tap.id].badge != tap.uid
        assert by_id[tap.id].ts == tap.ts.replace(microsecond=tap.ts.microsecond // 1000 * 1000)
        assert (by_id[tap.id].campus, by_id[tap.id].reader) == (CAMPUS, DOOR)


def test_a_redelivered_tap_is_harmless(ingest: IngestApp, reader: Reader) -> None:
    tap = make_tap(1)
    for _ in range(3):
        reader.publish(tap.to_json())
    wait_until(
        lambda: ingest.service.counters.snapshot()["duplicates"] == 2, what="duplicates counted"
    )
    assert stored_ids(ingest) == [tap.id]
    assert ingest.service.counters.snapshot()["rejected_total"] == 0


def test_raw_uids_never_reach_the_sqlite_file(tmp_path: Path, mosquitto: Mosquitto) -> None:
    settings = ingest_settings(tmp_path, mosquitto.port)
    uid = "04c0ffee15900d"
    with build_ingest(settings) as app:
        app.consumer.wait_subscribed(10)
        client = Reader(mosquitto.port)
        client.publish(make_tap(1, uid=uid).to_json())
        client.publish(b'{"v":1,"id":"abcdefgh","uid":"' + uid.encode() + b'","ts":"bad","seq":1}')
        client.close()
        wait_until(lambda: app.service.counters.snapshot()["received"] == 2, what="both messages")
    raw = b"".join(path.read_bytes() for path in tmp_path.glob("events.sqlite3*"))
    assert raw, "the event store file exists"
    assert uid.encode() not in raw and bytes.fromhex(uid) not in raw


def bad_messages(now: datetime) -> list[tuple[str, bytes | None, str]]:
    """(reason, payload, topic suffix) for each kind of bad input the contract names."""
    good = make_tap(1000).to_dict()

    def variant(**changes: object) -> bytes:
        body = {**good, "id": uuid.uuid4().hex, **changes}
        return json.dumps({key: value for key, value in body.items() if value is not None}).encode()

    return [
        ("malformed_json", b'{"v":1,"id":', "door-1"),
        ("missing_field", variant(seq=None), "door-1"),
        ("extra_field", variant(name="Alice"), "door-1"),
        ("wrong_type", variant(seq="12"), "door-1"),
        ("too_large", variant(id="a" * 10) + b" " * 5000, "door-1"),
        ("unknown_version", variant(v=2), "door-1"),
        ("bad_uid", variant(uid="04zz"), "door-1"),
        ("bad_uid", variant(uid="0102030405"), "door-1"),
        (
            "ts_in_future",
            variant(ts=(now + timedelta(hours=25)).isoformat(timespec="milliseconds")),
            "door-1",
        ),
        (
            "ts_too_old",
            variant(ts=(now - timedelta(days=500)).isoformat(timespec="milliseconds")),
            "door-1",
        ),
        ("unknown_reader", variant(), "door-9"),
        ("bad_topic", variant(), "Door_1"),
    ]


def test_bad_input_is_rejected_counted_and_listed_while_good_taps_flow(
    ingest: IngestApp, reader: Reader
) -> None:
    now = datetime.now(UTC)
    bad = bad_messages(now)
    good = [make_tap(seq) for seq in range(1, len(bad) + 1)]
    for (_, payload, suffix), tap in zip(bad, good, strict=True):
        reader.publish(payload, topic=f"campus/{CAMPUS}/readers/{suffix}/taps")
        reader.publish(tap.to_json())
    other_campus = f"campus/unknown-campus/readers/{DOOR}/taps"
    reader.publish(make_tap(99).to_json(), topic=other_campus)
    conflicting = make_tap(1, uid="04ffffffffffff")
    reader.publish(json.dumps({**conflicting.to_dict(), "id": good[0].id}).encode())

    expected = Counter(reason for reason, _, _ in bad) + Counter(["unknown_reader", "id_conflict"])
    total = sum(expected.values())
    wait_until(
        lambda: ingest.service.counters.snapshot()["rejected_total"] == total, what="rejections"
    )

    assert ingest.service.counters.snapshot()["rejected"] == dict(expected)
    assert sorted(stored_ids(ingest)) == sorted(tap.id for tap in good)
    listed = ingest.store.rejections(since=now - timedelta(minutes=1), limit=100)
    assert Counter(item.reason for item in listed) == expected
    assert all("Alice" not in item.detail and "04zz" not in item.detail for item in listed)


def test_reader_status_is_stored(ingest: IngestApp, reader: Reader) -> None:
    status = ReaderStatus(
        state=ReaderState.DEGRADED, ts=datetime.now(UTC), queued=3, detail="NFC device lost"
    )
    reader.client.publish(
        status_topic(CAMPUS, DOOR), status.to_json(), qos=1, retain=True
    ).wait_for_publish(5)
    wait_until(lambda: bool(ingest.store.latest_statuses(campus=CAMPUS)), what="status stored")
    latest = ingest.store.latest_statuses(campus=CAMPUS)
    assert [(item.reader, item.state, item.queued, item.detail) for item in latest] == [
        (DOOR, "degraded", 3, "NFC device lost")
    ]


@pytest.mark.influxdb
@pytest.mark.slow
def test_no_tap_lost_while_influxdb_is_down(
    tmp_path: Path, mosquitto: Mosquitto, own_influxd: Influxd
) -> None:
    settings = ingest_settings(tmp_path, mosquitto.port, influx_url=own_influxd.url)
    client = Reader(mosquitto.port)
    try:
        with build_ingest(settings) as app:
            assert app.consumer.wait_subscribed(10)
            first = [make_tap(seq) for seq in range(1, 51)]
            client.publish_taps(first)
            wait_until(lambda: app.service.counters.snapshot()["stored"] == 50, what="first taps")

            own_influxd.stop()
            second = [make_tap(seq) for seq in range(51, 101)]
            client.publish_taps(second)
            wait_until(
                lambda: app.service.counters.snapshot()["store_failures"] > 0, what="a failed write"
            )
            assert app.consumer.store_healthy is False
            assert app.service.counters.snapshot()["stored"] == 50

            own_influxd.start()
            wait_until(
                lambda: app.service.counters.snapshot()["stored"] == 100,
                timeout=20,
                what="recovery",
            )
            ids = stored_ids(app)
        assert sorted(ids) == sorted(tap.id for tap in first + second)
    finally:
        client.close()


@pytest.mark.slow
def test_no_tap_lost_across_a_consumer_restart(settings: Settings, mosquitto: Mosquitto) -> None:
    client = Reader(mosquitto.port)
    taps = [make_tap(seq) for seq in range(1, 151)]
    try:
        with build_ingest(settings) as app:
            assert app.consumer.wait_subscribed(10)
            client.publish_taps(taps[:50])
            wait_until(lambda: app.service.counters.snapshot()["stored"] == 50, what="first taps")
        client.publish_taps(taps[50:])  # the consumer is away: the broker keeps its session
        with build_ingest(settings) as app:
            wait_until(lambda: app.service.counters.snapshot()["stored"] == 100, what="queued taps")
            ids = stored_ids(app)
    finally:
        client.close()
    assert sorted(ids) == sorted(tap.id for tap in taps[:150])
    assert Counter(ids).most_common(1)[0][1] == 1


@pytest.mark.influxdb
@pytest.mark.slow
def test_unacknowledged_taps_are_redelivered_to_the_next_consumer(
    tmp_path: Path, mosquitto: Mosquitto, own_influxd: Influxd
) -> None:
    """The store is down, the consumer holds the taps unacknowledged and is stopped: the
    broker gives them to the next session once the store is back."""
    settings = ingest_settings(tmp_path, mosquitto.port, influx_url=own_influxd.url)
    client = Reader(mosquitto.port)
    taps = [make_tap(seq) for seq in range(1, 21)]
    try:
        with build_ingest(settings) as app:
            assert app.consumer.wait_subscribed(10)
            own_influxd.stop()
            client.publish_taps(taps)
            wait_until(
                lambda: app.service.counters.snapshot()["store_failures"] > 0, what="failed write"
            )
        own_influxd.start()
        with build_ingest(settings) as app:
            wait_until(
                lambda: app.service.counters.snapshot()["stored"] == 20,
                timeout=20,
                what="redelivery",
            )
            ids = stored_ids(app)
    finally:
        client.close()
    assert sorted(ids) == sorted(tap.id for tap in taps)


def test_store_setup_is_idempotent(settings: Settings) -> None:
    for _ in range(2):
        store = build_event_store(settings)
        store.setup()
        store.close()
