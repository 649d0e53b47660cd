"""The agent against a real Mosquitto: confirmations, PUBACKs, outages, refusals, TLS,
feedback.

The door runs in-process with ``nfc=False`` (the test hands ``BadgeSeen`` events over
as the NFC thread would) and gpiozero's MockFactory pins. Where the server's part of
protocol v2 is needed, :class:`tests.edge.conftest.Confirmer` plays it on the broker.
"""

from __future__ import annotations

import json
import logging
import shutil
import signal
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from gpiozero import LED
from gpiozero.pins.mock import MockFactory

from edge.bootstrap import Door
from edge.config import Config
from edge.events import BadgeSeen
from edge.patterns import Signal
from edge.protocol import (
    Confirmation,
    Feedback,
    FeedbackResult,
    Tap,
    confirm_topic,
    feedback_topic,
    parse_timestamp,
)
from tests.edge.conftest import BUZZER, RED, Confirmer, Subscriber, make_config
from tests.services import Mosquitto

FAST = {"server_wait_s": 0.3}
QUICK_RESEND = {"confirm_timeout_s": 0.3, "confirm_retry_max_s": 0.6}


@contextmanager
def running(config: Config, pins: MockFactory, **options: Any) -> Iterator[Door]:
    door = Door(config, pin_factory=pins, nfc=False, **options)
    thread = threading.Thread(target=door.run, name="door-under-test")
    thread.start()
    try:
        yield door
    finally:
        door.stop()
        thread.join(10)
        door.close()
        assert not thread.is_alive()


def tap(door: Door, number: int) -> str:
    uid = f"04{number:012x}"
    door.events.put(BadgeSeen(uid, time.monotonic()))
    return uid


def wait(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def stored_taps(config: Config) -> list[Tap]:
    """The outbox's content, read through a connection of the test's own."""
    with sqlite3.connect(config.outbox.path) as db:
        rows = db.execute("SELECT id, uid, ts, seq, clock_synced FROM taps ORDER BY seq")
        return [
            Tap.from_json(
                f'{{"v":1,"id":"{i}","uid":"{u}","ts":"{t}","seq":{s}'
                + ("" if c else ',"clock_synced":false')
                + "}"
            )
            for i, u, t, s, c in rows
        ]


@pytest.mark.broker
def test_a_tap_is_published_confirmed_and_removed_from_the_outbox(
    tmp_path: Path,
    mosquitto: Mosquitto,
    pins: MockFactory,
    subscriber_factory,
    confirmer_factory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="edge.agent")
    subscriber: Subscriber = subscriber_factory(mosquitto.port)
    confirmer_factory(mosquitto.port)
    config = make_config(tmp_path, port=mosquitto.port, feedback=FAST)

    with running(config, pins, sync_check=lambda: False) as door:
        assert wait(lambda: door.link.connected)
        uid = tap(door, 1)
        assert subscriber.wait_for(lambda s: len(s.payloads("/taps")) == 1)
        assert wait(lambda: door.outbox.count == 0)
        assert wait(lambda: Signal.STORED in door.feedback.played)  # no server answered

    (published,) = subscriber.payloads("/taps")
    assert published["uid"] == uid and published["seq"] == 0 and published["v"] == 2
    assert published["clock_synced"] is False
    assert published["ts"].endswith(("+01:00", "+02:00"))
    statuses = subscriber.payloads("/status")
    assert statuses[0]["state"] == "online" and statuses[0]["clock_synced"] is False
    assert statuses[-1]["state"] == "offline" and statuses[-1]["detail"] == "stopped"
    assert list(door.feedback.played)[:2] == [Signal.READ, Signal.STORED]
    assert stored_taps(config) == []
    assert door.agent.counters["confirmed"] == 1
    stopped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("stopped:")]
    assert stopped == ["stopped: {'confirmed': 1, 'recorded': 1}"]  # the door's counters


@pytest.mark.broker
def test_without_a_subscribed_server_a_tap_stays_until_confirmed(
    tmp_path: Path, mosquitto: Mosquitto, pins: MockFactory, subscriber_factory, confirmer_factory
) -> None:
    """PUBACK reason 16 (no matching subscribers) is not a delivery: the tap stays in
    the outbox, the status says it is held and since when, and it is sent again until
    the server confirms it."""
    watcher: Subscriber = subscriber_factory(mosquitto.port, "campus/+/readers/+/status")
    config = make_config(tmp_path, port=mosquitto.port, mqtt=QUICK_RESEND, feedback=FAST)

    with running(config, pins) as door:
        assert wait(lambda: door.link.connected)
        tap(door, 1)
        assert wait(lambda: door.agent.counters["no_subscribers"] >= 2)  # sent again
        assert door.outbox.count == 1
        assert wait(lambda: Signal.QUEUED in door.feedback.played)
        assert Signal.STORED not in door.feedback.played
        (held,) = stored_taps(config)
        door.agent.publish_status(force=True)
        assert watcher.wait_for(lambda s: s.payloads("/status")[-1]["queued"] == 1)
        status = watcher.payloads("/status")[-1]
        assert status["v"] == 2 and parse_timestamp(status["oldest"]) == held.ts

        confirmer: Confirmer = confirmer_factory(mosquitto.port)
        assert wait(lambda: door.outbox.count == 0)
        door.agent.publish_status(force=True)
        assert watcher.wait_for(lambda s: s.payloads("/status")[-1]["queued"] == 0)

    assert held.id in confirmer.seen
    assert "oldest" not in watcher.payloads("/status")[-1]
    assert door.agent.counters["confirmed"] == 1


@pytest.mark.broker
def test_bad_confirmations_are_counted_and_ignored(
    tmp_path: Path, mosquitto: Mosquitto, pins: MockFactory, confirmer_factory
) -> None:
    confirmer: Confirmer = confirmer_factory(mosquitto.port, confirming=False)
    config = make_config(tmp_path, port=mosquitto.port, mqtt=QUICK_RESEND)
    topic = confirm_topic("c1", "door-1")
    forger = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    forger.connect("127.0.0.1", mosquitto.port)
    forger.loop_start()
    try:
        with running(config, pins) as door:
            assert wait(lambda: door.link.connected)
            tap(door, 1)
            assert wait(lambda: len(confirmer.seen) >= 1)
            (held,) = stored_taps(config)
            for payload in (b"not json", b'{"v": 1, "ids": ["abcdefgh"]}', b'{"v": 2}'):
                forger.publish(topic, payload, qos=1).wait_for_publish(5)
            unknown = Confirmation(("0123456789abcdef0123456789abcdef",)).to_json()
            forger.publish(topic, unknown, qos=1).wait_for_publish(5)
            assert wait(lambda: door.agent.counters["confirm_unknown"] == 1)
            assert door.agent.counters["confirm_malformed"] == 3
            assert door.outbox.count == 1  # nothing above removed the held tap

            genuine = Confirmation((held.id,)).to_json()
            forger.publish(topic, genuine, qos=1).wait_for_publish(5)
            assert wait(lambda: door.outbox.count == 0)
            forger.publish(topic, genuine, qos=1).wait_for_publish(5)  # replayed
            assert wait(lambda: door.agent.counters["confirm_replayed"] == 1)

            confirmer.confirming = True  # the agent still works
            tap(door, 2)
            assert wait(lambda: door.agent.counters["confirmed"] == 2)
            assert wait(lambda: door.outbox.count == 0)
    finally:
        forger.loop_stop()
        forger.disconnect()


@pytest.mark.broker
@pytest.mark.parametrize(
    ("result", "signal"),
    [(FeedbackResult.IN, Signal.IN), (FeedbackResult.UNKNOWN_BADGE, Signal.UNKNOWN_BADGE)],
)
def test_the_server_answer_refines_the_immediate_feedback(
    tmp_path: Path,
    mosquitto: Mosquitto,
    pins: MockFactory,
    result: FeedbackResult,
    signal: Signal,
) -> None:
    config = make_config(tmp_path, port=mosquitto.port)
    server = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fake-server")

    def answer(client, userdata, message) -> None:
        tap = Tap.from_json(message.payload)
        reply = Feedback(id=tap.id, result=result, text="Bonjour Camille")
        client.publish(feedback_topic("c1", "door-1"), reply.to_json(), qos=1)

    server.on_message = answer
    server.connect("127.0.0.1", mosquitto.port)
    server.subscribe("campus/c1/readers/+/taps", qos=1)
    server.loop_start()
    lines: list[str] = []
    try:
        with running(config, pins, display=lines.append) as door:
            assert wait(lambda: door.link.connected)
            tap(door, 7)
            assert wait(lambda: signal in door.feedback.played, timeout=2)
            assert door.feedback.wait_idle(5)
            played = list(door.feedback.played)
    finally:
        server.loop_stop()
        server.disconnect()

    assert played == [Signal.READ, signal]  # within 1 s: no "stored" fallback
    assert lines == ["Bonjour Camille"]
    if signal is Signal.UNKNOWN_BADGE:
        assert [s.state for s in pins.pin(RED).states] == [False, True, False]
        # the read beep, then the long beep of the unknown badge
        assert [s.state for s in pins.pin(BUZZER).states] == [False, True, False, True, False]


@pytest.mark.broker
@pytest.mark.slow
def test_taps_during_a_broker_outage_are_queued_then_delivered_in_order(
    tmp_path: Path, mosquitto: Mosquitto, pins: MockFactory, subscriber_factory, confirmer_factory
) -> None:
    subscriber: Subscriber = subscriber_factory(mosquitto.port)
    confirmer: Confirmer = confirmer_factory(mosquitto.port)
    mqtt_options = {"max_unacked": 5, **QUICK_RESEND}
    config = make_config(tmp_path, port=mosquitto.port, mqtt=mqtt_options, feedback=FAST)

    with running(config, pins) as door:
        assert wait(lambda: door.link.connected)
        tap(door, 0)
        assert wait(lambda: door.outbox.count == 0)
        assert subscriber.wait_for(lambda s: len(s.payloads("/taps")) == 1)
        time.sleep(0.2)  # the subscriber's own PUBACK reaches the broker
        mosquitto.stop()
        assert wait(lambda: not door.link.connected)

        for number in range(1, 21):
            tap(door, number)
        assert wait(lambda: door.outbox.count == 20)
        assert door.agent.delivery.in_flight == 5  # the rest waits on disk, not in paho
        assert wait(lambda: door.feedback.played.count(Signal.QUEUED) >= 1)
        before = stored_taps(config)

        mosquitto.start()
        assert subscriber.wait_for(lambda s: len(s.payloads("/taps")) >= 21, timeout=15)
        assert wait(lambda: door.outbox.count == 0, timeout=15)

    # Re-sends may repeat a tap (the server deduplicates by id); first sightings are in
    # order, each with its original id and time.
    first: dict[str, dict[str, Any]] = {}
    for sent in subscriber.payloads("/taps"):
        first.setdefault(sent["id"], sent)
    delivered = list(first.values())
    assert [t["seq"] for t in delivered] == list(range(21))
    assert [Tap.from_json(json.dumps(t)) for t in delivered[1:]] == before  # original ts
    assert set(confirmer.seen) == {t["id"] for t in delivered}
    queued = [s["queued"] for s in subscriber.payloads("/status")]
    assert 20 in queued  # the status after the reconnect said how many were waiting


ACL = """user door-1
topic write campus/c1/readers/door-1/status
topic read campus/c1/readers/door-1/feedback
topic read campus/c1/readers/door-1/confirm
{extra}
user watcher
topic read campus/#

user confirmer
topic read campus/+/readers/+/taps
topic write campus/+/readers/+/confirm
"""


@pytest.mark.broker
@pytest.mark.slow
def test_a_forbidden_publish_stays_in_the_outbox_is_reported_and_retried(
    tmp_path: Path, broker_dir: Path, pins: MockFactory, subscriber_factory, confirmer_factory
) -> None:
    passwords = {"door-1": "door-secret", "watcher": "watch-secret", "confirmer": "c-secret"}
    with Mosquitto(broker_dir / "acl", passwords=passwords, acl=ACL.format(extra="")) as broker:
        watcher: Subscriber = subscriber_factory(
            broker.port, username="watcher", password="watch-secret"
        )
        confirmer_factory(broker.port, username="confirmer", password="c-secret")
        mqtt_options = {"username": "door-1", "password": "door-secret", "refused_retry_s": 1.0}
        config = make_config(tmp_path, port=broker.port, mqtt=mqtt_options)
        with running(config, pins) as door:
            assert wait(lambda: door.link.connected)
            tap(door, 3)
            assert watcher.wait_for(
                lambda s: any(p["state"] == "degraded" for p in s.payloads("/status"))
            )
            tap(door, 4)
            assert wait(lambda: door.outbox.count == 2)
            assert door.agent.delivery.paused and door.agent.delivery.in_flight == 0
            assert len(stored_taps(config)) == 2

            # the operator fixes the ACL; the next probe gets through, then the rest
            (broker.folder / "acl").write_text(ACL.format(extra=TAPS_RULE))
            broker.process.send_signal(signal.SIGHUP)
            assert watcher.wait_for(lambda s: len(s.payloads("/taps")) == 2, timeout=10)
            assert wait(lambda: door.outbox.count == 0)
            assert watcher.wait_for(lambda s: s.payloads("/status")[-1]["state"] == "online")

    degraded = next(p for p in watcher.payloads("/status") if p["state"] == "degraded")
    assert degraded["detail"] == "broker refuses taps (Not authorized): kept in the outbox"
    assert degraded["queued"] >= 1
    assert [t["seq"] for t in watcher.payloads("/taps")] == [0, 1]


TAPS_RULE = "topic write campus/c1/readers/door-1/taps"


@pytest.mark.broker
def test_a_full_outbox_refuses_the_newest_tap_and_says_so(
    tmp_path: Path, mosquitto: Mosquitto, pins: MockFactory, subscriber_factory, confirmer_factory
) -> None:
    subscriber: Subscriber = subscriber_factory(mosquitto.port)
    config = make_config(
        tmp_path, port=mosquitto.port, outbox={"max_taps": 2}, feedback=FAST, mqtt=QUICK_RESEND
    )
    mosquitto.stop()
    with running(config, pins) as door:
        for number in range(3):
            tap(door, number)
        assert wait(lambda: Signal.REFUSED in door.feedback.played)
        assert door.outbox.count == 2
        mosquitto.start()
        confirmer_factory(mosquitto.port)
        assert subscriber.wait_for(lambda s: len(s.payloads("/taps")) == 2, timeout=15)
        assert subscriber.wait_for(
            lambda s: (
                s.payloads("/status")[-1:] != [] and s.payloads("/status")[-1]["state"] == "online"
            )
        )

    states = [(p["state"], p["detail"]) for p in subscriber.payloads("/status")]
    assert states[0] == ("degraded", "outbox full (2 taps waiting): tap refused")
    assert [t["uid"] for t in subscriber.payloads("/taps")] == ["04000000000000", "04000000000001"]


@pytest.mark.broker
def test_a_full_disk_refuses_taps_with_the_red_pattern_and_drops_nothing_silently(
    tmp_path: Path, mosquitto: Mosquitto, pins: MockFactory, subscriber_factory, confirmer_factory
) -> None:
    """SQLite's own 'database or disk is full', produced by capping the outbox file where
    it stands: each tap that cannot be written is refused (red pattern, counted, status
    degraded); every tap written is kept and, once the disk has room, confirmed."""
    watcher: Subscriber = subscriber_factory(mosquitto.port, "campus/+/readers/+/status")
    config = make_config(tmp_path, port=mosquitto.port, feedback=FAST, mqtt=QUICK_RESEND)
    with running(config, pins) as door:
        assert wait(lambda: door.link.connected)
        pages = door.outbox._db.execute("PRAGMA page_count").fetchone()[0]
        door.outbox._db.execute(f"PRAGMA max_page_count = {pages}")
        fed, counters = 0, door.agent.counters
        while not counters["refused_taps"] and fed < 5000:
            tap(door, fed)
            fed += 1
            assert wait(lambda f=fed: counters["recorded"] + counters["refused_taps"] == f)
        # (Fed this fast, the answers to earlier taps may push that signal out of the
        # player's short queue: the next student, at a door's pace, sees it.)
        assert door.feedback.wait_idle(15)
        door.feedback.played.clear()
        tap(door, fed)
        fed += 1
        assert wait(lambda: door.agent.counters["refused_taps"] == 2)
        assert wait(lambda: Signal.REFUSED in door.feedback.played)
        assert list(door.feedback.played)[:2] == [Signal.READ, Signal.REFUSED]
        assert watcher.wait_for(
            lambda s: any("database or disk is full" in p["detail"] for p in s.payloads("/status"))
        )
        recorded = door.agent.counters["recorded"]
        assert door.outbox.count == recorded  # written taps are all kept

        door.outbox._db.execute("PRAGMA max_page_count = 1073741823")  # room again
        tap(door, 10_000)
        confirmer_factory(mosquitto.port)
        assert wait(lambda: door.outbox.count == 0, timeout=15)
        door.agent.publish_status(force=True)
        assert watcher.wait_for(lambda s: s.payloads("/status")[-1]["state"] == "online")

    assert door.agent.counters["confirmed"] == recorded + 1
    assert door.agent.counters["refused_taps"] == 2 and fed == recorded + 2
    degraded = next(p for p in watcher.payloads("/status") if p["state"] == "degraded")
    assert degraded["detail"].startswith("outbox error: cannot write to outbox")


@pytest.mark.broker
def test_the_link_uses_tls_with_the_configured_ca(
    tmp_path: Path,
    broker_dir: Path,
    pins: MockFactory,
    tls_files: dict[str, Path],
    subscriber_factory,
) -> None:
    folder = broker_dir / "tls"
    folder.mkdir()
    for name in ("ca", "cert", "key"):
        shutil.copy(tls_files[name], folder / tls_files[name].name)
    extra = f"cafile {folder}/ca.crt\ncertfile {folder}/server.crt\nkeyfile {folder}/server.key\n"
    with Mosquitto(folder, extra=extra) as broker:
        subscriber: Subscriber = subscriber_factory(broker.port, ca_file=tls_files["ca"])
        config = make_config(
            tmp_path, port=broker.port, mqtt={"tls": True, "ca_file": str(tls_files["ca"])}
        )
        with running(config, pins) as door:
            assert wait(lambda: door.link.connected)
            tap(door, 5)
            assert subscriber.wait_for(lambda s: len(s.payloads("/taps")) == 1)
            assert wait(lambda: door.agent.delivery.awaiting == 1)  # the PUBACK came


@pytest.mark.broker
@pytest.mark.nfc
def test_a_missing_nfc_device_is_reported_as_degraded_and_shown_as_a_fault(
    tmp_path: Path, mosquitto: Mosquitto, pins: MockFactory, subscriber_factory
) -> None:
    subscriber: Subscriber = subscriber_factory(mosquitto.port)
    config = make_config(tmp_path, port=mosquitto.port, nfc={"device": "tty:USB9"})
    door = Door(config, pin_factory=pins)
    thread = threading.Thread(target=door.run)
    thread.start()
    try:
        assert subscriber.wait_for(
            lambda s: any(p["state"] == "degraded" for p in s.payloads("/status"))
        )
        assert wait(lambda: Signal.FAULT in door.feedback.played)
    finally:
        door.stop()
        thread.join(10)
        door.close()
    degraded = next(p for p in subscriber.payloads("/status") if p["state"] == "degraded")
    assert degraded["detail"] == "NFC device tty:USB9: No such device"


def test_broken_feedback_pins_do_not_stop_the_door(tmp_path: Path, pins: MockFactory) -> None:
    config = make_config(tmp_path)
    with (
        LED(config.feedback.red, pin_factory=pins),
        Door(config, pin_factory=pins, nfc=False) as door,
    ):
        state, detail = door.agent.health.state()
    assert state == "degraded"
    assert detail.startswith("cannot drive feedback pins:")
