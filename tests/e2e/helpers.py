"""What the end-to-end tests share: settings for a test campus, a real paho publisher
acting as a reader, and polling helpers with deadlines (never bare sleeps)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt

from edge.protocol import Tap, taps_topic
from server.config import CampusSettings, EventSettings, InfluxSettings, MqttSettings, Settings

CAMPUS = "test-campus"
DOOR = "door-1"
SECRET = "0123456789abcdef-test-secret"


def ingest_settings(
    data_dir: Path,
    mqtt_port: int,
    *,
    influx_url: str | None = None,
    database: str = "campus",
    client_id: str = "ingest-test",
) -> Settings:
    events = EventSettings(backend="influxdb" if influx_url else "sqlite")
    influx = InfluxSettings(url=influx_url or "", api_version=1, database=database, timeout_s=2.0)
    return Settings(
        data_dir=data_dir,
        badge_secret=SECRET,
        mqtt=MqttSettings(port=mqtt_port, client_id=client_id, session_expiry=600),
        events=events,
        influxdb=influx,
        campuses=(CampusSettings(CAMPUS, "Test", (DOOR, "door-2")),),
    )


def make_tap(seq: int, *, uid: str = "04a1b2c3d4e5f6", ts: datetime | None = None) -> Tap:
    moment = ts or datetime.now(UTC).replace(microsecond=(seq % 1000) * 1000)
    return Tap(id=uuid.uuid4().hex, uid=uid, ts=moment, seq=seq)


class Reader:
    """A real MQTT 5 client publishing like a door reader, waiting for every PUBACK."""

    def __init__(self, port: int, reader: str = DOOR, campus: str = CAMPUS) -> None:
        self.topic = taps_topic(campus, reader)
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"test-{reader}-{uuid.uuid4().hex[:6]}",
            protocol=mqtt.MQTTv5,
        )
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()

    def publish(self, payload: bytes, topic: str | None = None) -> None:
        info = self.client.publish(topic or self.topic, payload, qos=1)
        info.wait_for_publish(5)
        assert info.is_published()

    def publish_taps(self, taps: list[Tap]) -> None:
        infos = [self.client.publish(self.topic, tap.to_json(), qos=1) for tap in taps]
        for info in infos:
            info.wait_for_publish(10)
            assert info.is_published()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def wait_until(
    condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def window() -> tuple[datetime, datetime]:
    now = datetime.now(UTC)
    return now - timedelta(days=2), now + timedelta(days=2)
