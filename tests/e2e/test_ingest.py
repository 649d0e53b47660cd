"""Taps through a real Mosquitto into a real event store (SQLite file or real influxd).

Nothing here is mocked: a paho client publishes like a reader, the server's ingest
consumes through the MQTT 5 shared subscription with manual acknowledgement, and the
assertions read the store back.
"""

from __future__ import annotations

import dataclasses
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from gpiozero.pins.mock import MockFactory

from edge.bootstrap import Door
from edge.events import BadgeSeen
from edge.protocol import Confirmation, ReaderState, ReaderStatus, confirm_topic, status_topic
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
from tests.edge.conftest import make_config
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
        ("unknown_version", variant(v=3), "door-1"),
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


# --------------------------------------------------------------------------- protocol v2
# The real door (edge.bootstrap.Door, as campus-edge builds it, with gpiozero's mock pins
# and taps handed over as the NFC thread would) against the real ingest and Mosquitto.


@contextmanager
def door_running(tmp_path: Path, port: int) -> Iterator[Door]:
    config = make_config(
        tmp_path, port=port, mqtt={"confirm_timeout_s": 0.5, "confirm_retry_max_s": 1.0}
    )
    config = dataclasses.replace(config, campus=CAMPUS, reader=DOOR)
    pins = MockFactory()
    door = Door(config, pin_factory=pins, nfc=False)
    thread = threading.Thread(target=door.run, name="door")
    thread.start()
    try:
        yield door
    finally:
        door.stop()
        thread.join(10)
        door.close()
        pins.close()


def badge(door: Door, number: int) -> None:
    door.events.put(BadgeSeen(f"04{number:012x}", time.monotonic()))


def test_taps_before_the_server_subscribes_stay_with_the_door_until_confirmed(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """No subscriber yet: Mosquitto answers PUBACK 16 and drops the taps. The door keeps
    them, re-sends them, and removes them only once the server confirmed storing them."""
    settings = ingest_settings(tmp_path, mosquitto.port)
    with door_running(tmp_path, mosquitto.port) as door:
        wait_until(lambda: door.link.connected, what="door connected")
        for number in range(20):
            badge(door, number)
        wait_until(lambda: door.agent.counters["no_subscribers"] >= 40, what="taps re-sent")
        assert door.outbox.count == 20
        held = {tap.id for tap in door.outbox.pending(limit=100)}

        with build_ingest(settings) as app:
            assert app.consumer.wait_subscribed(10)
            wait_until(lambda: door.outbox.count == 0, timeout=15, what="taps confirmed")
            ids = stored_ids(app)
            confirmed = app.service.counters.snapshot()["confirmed"]

    assert sorted(ids) == sorted(held)  # each stored once
    assert door.agent.counters["confirmed"] == 20 and confirmed >= 20


@pytest.mark.slow
def test_a_broker_restart_restores_the_subscription_and_loses_nothing(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """Mosquitto 2.0 with persistence does not restore the server's $share subscription
    after a restart: the server subscribes again on reconnect, and the door re-sends
    whatever was not confirmed meanwhile."""
    settings = ingest_settings(tmp_path, mosquitto.port)
    with build_ingest(settings) as app, door_running(tmp_path, mosquitto.port) as door:
        assert app.consumer.wait_subscribed(10)
        wait_until(lambda: door.link.connected, what="door connected")
        for number in range(30):
            badge(door, number)
        wait_until(lambda: app.service.counters.snapshot()["stored"] == 30, what="first taps")
        mosquitto.kill()
        wait_until(lambda: not app.consumer.wait_subscribed(0), what="server disconnected")
        for number in range(30, 60):
            badge(door, number)
            time.sleep(0.01)
        mosquitto.start()
        for number in range(60, 90):  # the server may not be subscribed again yet
            badge(door, number)
            time.sleep(0.01)
        wait_until(lambda: app.consumer.wait_subscribed(0.1), what="subscribed again")
        plain = Reader(mosquitto.port)  # publishes once, never re-sends
        try:
            single = make_tap(1000)
            plain.publish(single.to_json())
            wait_until(lambda: single.id in stored_ids(app), what="the subscription restored")
        finally:
            plain.close()
        wait_until(lambda: door.outbox.count == 0, timeout=30, what="every tap confirmed")
        ids = stored_ids(app)
    assert len(ids) == 91 and len(set(ids)) == 91


def test_stored_and_already_stored_taps_are_confirmed_refused_ones_are_not(
    ingest: IngestApp, mosquitto: Mosquitto, reader: Reader
) -> None:
    confirmations: list[bytes] = []
    listener = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    listener.on_message = lambda _c, _u, message: confirmations.append(message.payload)
    listener.connect("127.0.0.1", mosquitto.port)
    listener.subscribe(confirm_topic(CAMPUS, DOOR), qos=1)
    listener.loop_start()
    try:
        time.sleep(0.3)  # the listener's SUBSCRIBE reached the broker
        tap, refused = make_tap(1), make_tap(2, ts=datetime.now(UTC) + timedelta(days=30))
        reader.publish(tap.to_json())
        wait_until(lambda: len(confirmations) == 1, what="a confirmation")
        reader.publish(tap.to_json())  # sent again: already stored, confirmed again
        wait_until(lambda: len(confirmations) == 2, what="a second confirmation")
        reader.publish(refused.to_json())
        wait_until(
            lambda: ingest.service.counters.snapshot()["rejected_total"] == 1, what="refusal"
        )
        time.sleep(0.3)  # a confirmation of the refused tap would arrive now
    finally:
        listener.loop_stop()
        listener.disconnect()
    assert [Confirmation.from_json(body).ids for body in confirmations] == [(tap.id,), (tap.id,)]


def test_a_tap_from_a_reader_of_version_1_is_still_stored(
    ingest: IngestApp, reader: Reader
) -> None:
    tap = make_tap(1)
    old = dataclasses.replace(tap, version=1).to_json()
    assert json.loads(old)["v"] == 1
    reader.publish(old)
    wait_until(lambda: stored_ids(ingest) == [tap.id], what="the v1 tap stored")
    # The confirmation is published just after the write returns: wait for it too.
    confirmed = lambda: ingest.service.counters.snapshot()["confirmed"]  # noqa: E731
    wait_until(lambda: confirmed() >= 1, what="the v1 tap confirmed")
    assert confirmed() == 1  # confirmed once, unheard by this v1 reader


def test_a_retained_tap_is_refused_counted_and_cleared_from_the_broker(
    ingest: IngestApp, mosquitto: Mosquitto, reader: Reader
) -> None:
    tap = make_tap(1)
    info = reader.client.publish(reader.topic, tap.to_json(), qos=1, retain=True)
    info.wait_for_publish(5)
    wait_until(lambda: ingest.service.counters.snapshot()["retained_cleared"] == 1, what="cleared")
    counters = ingest.service.counters.snapshot()
    assert counters["stored"] == 0 and counters["confirmed"] == 0
    wait_until(  # the clearing message itself comes back retained: counted, not cleared again
        lambda: ingest.service.counters.snapshot()["rejected"].get("retained") == 2,
        what="both retained messages counted",
    )
    since = window()[0]
    assert [r.reason for r in ingest.store.rejections(since=since)] == ["retained", "retained"]

    replayed: list[bytes] = []
    late = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    late.on_message = lambda _c, _u, message: replayed.append(message.payload)
    late.connect("127.0.0.1", mosquitto.port)
    late.subscribe(reader.topic, qos=1)
    late.loop_start()
    time.sleep(0.5)  # a retained message is sent right after the SUBACK
    late.loop_stop()
    late.disconnect()
    assert replayed == []  # the broker no longer keeps the tap (nor its raw UID)
    assert ingest.service.counters.snapshot()["retained_cleared"] == 1
