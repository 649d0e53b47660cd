"""The ingest (its lean MQTT client, issue 16) over TLS with a username and password,
against Mosquitto running the repository's campus.conf (make-ca.sh's certificates, the
accounts, the ACL template): the taps a door publishes on the TLS listener are stored,
confirmed to the door, and acknowledged: the session gets none of them again."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from edge.protocol import Tap, confirm_topic, taps_topic
from server.bootstrap import build_ingest
from server.config import CampusSettings, EventSettings, MqttSettings, Settings
from tests.integration.test_broker_acl import CampusBroker, render_acl, run_script

pytestmark = pytest.mark.broker

CAMPUS = "tls-campus"
SERVER_PASSWORD = "pw-server-0123456789"
READER_PASSWORD = "pw-door-1-0123456789"
TAPS = 300


def _passwd(etc: Path, user: str, password: str) -> None:
    command = ["mosquitto_passwd", "-b", str(etc / "passwords"), user, password]
    subprocess.run(command, check=True, capture_output=True, timeout=30)


def _settings(broker: CampusBroker, ca: Path, data: Path) -> Settings:
    return Settings(
        data_dir=data,
        log_level="WARNING",
        badge_secret="s" * 32,
        mqtt=MqttSettings(
            port=broker.tls_port,
            username="campus-server",
            password=SERVER_PASSWORD,
            tls_ca_file=str(ca),
            client_id="tls-ingest-1",
        ),
        events=EventSettings(backend="sqlite"),
        campuses=(CampusSettings(CAMPUS, "", ("door-1",)),),
    )


def _wait(condition, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_taps_over_tls_with_a_password_are_stored_confirmed_and_acknowledged(
    broker_dir: Path, tmp_path: Path
) -> None:
    etc = broker_dir
    made = run_script("make-ca.sh", "-d", str(etc), "localhost", "127.0.0.1")
    assert made.returncode == 0, made.stderr
    (etc / "passwords").write_text("")
    _passwd(etc, "campus-server", SERVER_PASSWORD)
    _passwd(etc, "door-1", READER_PASSWORD)
    (etc / "acl").write_text(render_acl(CAMPUS))
    with CampusBroker(etc) as broker:
        settings = _settings(broker, etc / "ca.crt", tmp_path)
        app = build_ingest(settings)
        app.start()
        try:
            assert app.consumer.wait_subscribed(30)
            confirmed: set[str] = set()
            subscribed = threading.Event()
            door = mqtt.Client(
                mqtt.CallbackAPIVersion.VERSION2, client_id="door-1", protocol=mqtt.MQTTv5
            )
            door.username_pw_set("door-1", READER_PASSWORD)
            door.tls_set(ca_certs=str(etc / "ca.crt"))
            door.on_message = lambda _c, _u, m: confirmed.update(json.loads(m.payload)["ids"])
            door.on_subscribe = lambda *args: subscribed.set()
            door.connect("127.0.0.1", broker.tls_port)
            door.loop_start()
            door.subscribe(confirm_topic(CAMPUS, "door-1"), qos=1)
            assert subscribed.wait(10)
            now = datetime.now(UTC)
            taps = [
                Tap(id=uuid.uuid4().hex, uid=f"04a1b2c3{n:06x}", ts=now, seq=n + 1)
                for n in range(TAPS)
            ]
            infos = [
                door.publish(taps_topic(CAMPUS, "door-1"), tap.to_json(), qos=1) for tap in taps
            ]
            for info in infos:
                info.wait_for_publish(30)

            assert _wait(lambda: len(confirmed) == TAPS), f"{len(confirmed)} confirmed"
            assert confirmed == {tap.id for tap in taps}
            window = (now - timedelta(minutes=1), now + timedelta(minutes=1))
            assert app.store.count_taps(*window) == TAPS
            door.disconnect()
            door.loop_stop()
        finally:
            app.close()
        assert app.service.counters.snapshot()["stored"] == TAPS

        # The same session again: every tap was acknowledged, none comes back.
        again = build_ingest(settings)
        again.start()
        try:
            assert again.consumer.wait_subscribed(30)
            time.sleep(1.0)
            assert again.service.counters.snapshot()["received"] == 0
        finally:
            again.close()
