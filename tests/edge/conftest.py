"""Edge-only fixtures: configs, gpiozero's MockFactory, a tag emulator, a subscriber."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from gpiozero.pins.mock import MockFactory
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.config import (
    ClockConfig,
    Config,
    FeedbackConfig,
    MqttConfig,
    NfcConfig,
    OutboxConfig,
)
from edge.protocol import Confirmation, Tap, confirm_topic
from tests.services import free_port

ROOT = Path(__file__).resolve().parents[2]
GREEN, RED, AMBER, BUZZER = 17, 27, 22, 23


def make_config(tmp_path: Path, *, port: int = 1883, **sections: Any) -> Config:
    """A valid config in ``tmp_path``; keyword sections replace fields, e.g.
    ``mqtt={"max_unacked": 5}``."""
    base = Config(
        campus="c1",
        reader="door-1",
        mqtt=MqttConfig(host="127.0.0.1", port=port, tls=False, heartbeat_s=60),
        nfc=NfcConfig(device="udp:127.0.0.1:54321", targets=("106A",), debounce_s=5.0),
        feedback=FeedbackConfig(green=GREEN, red=RED, amber=AMBER, buzzer=BUZZER),
        outbox=OutboxConfig(path=str(tmp_path / "outbox.sqlite3")),
        clock=ClockConfig(timezone="Europe/Paris", sync_check="assume-synced"),
    )
    changes = {name: replace(getattr(base, name), **fields) for name, fields in sections.items()}
    return replace(base, **changes)


@pytest.fixture
def pins() -> Iterator[MockFactory]:
    """gpiozero's own mock pins, fresh for each test and reset after it."""
    factory = MockFactory()
    yield factory
    factory.reset()
    factory.close()


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1, made with openssl."""
    folder = tmp_path_factory.mktemp("tls")
    ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
    steps = [
        "req -x509 {ec} -keyout ca.key -out ca.crt -days 2 -subj /CN=campus-test-ca",
        "req {ec} -keyout server.key -out server.csr -subj /CN=127.0.0.1",
        "x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt"
        " -days 2 -extfile san.cnf",
    ]
    (folder / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for step in steps:
        command = ["openssl", *step.format(ec=ec).split()]
        subprocess.run(command, cwd=folder, check=True, capture_output=True, timeout=30)
    return {"ca": folder / "ca.crt", "cert": folder / "server.crt", "key": folder / "server.key"}


@pytest.fixture
def ca_file(tls_files: dict[str, Path]) -> Path:
    return tls_files["ca"]


@pytest.fixture
def udp_port() -> int:
    return free_port()


@pytest.fixture
def tag_emulator(udp_port: int) -> Iterator[Callable[..., subprocess.Popen]]:
    """Starts ``tests.edge.tag_emulator`` processes on ``udp_port``; kills them after."""
    started: list[subprocess.Popen] = []

    def start(*, kind: str = "type2", uid: str, present: float = 1.0, gap: float = 1.0,
              taps: int = 1) -> subprocess.Popen:  # fmt: skip
        command = [sys.executable, "-m", "tests.edge.tag_emulator", "--port", str(udp_port)]
        command += ["--kind", kind, "--uid", uid, "--present", str(present)]
        command += ["--gap", str(gap), "--taps", str(taps)]
        process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        started.append(process)
        return process

    yield start
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        process.wait(5)
        if process.stdout:
            process.stdout.close()


class Subscriber:
    """A real paho client recording what the reader publishes (MQTT 5, QoS 1)."""

    def __init__(
        self,
        port: int,
        topic: str = "campus/#",
        *,
        client_id: str = "test-subscriber",
        username: str | None = None,
        password: str | None = None,
        ca_file: Path | None = None,
    ) -> None:
        """A persistent session (MQTT 5, SessionExpiryInterval 1 h): what is published
        while the subscriber or the broker is away still reaches it afterwards."""
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Condition()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        if username:
            self.client.username_pw_set(username, password)
        if ca_file:
            self.client.tls_set(ca_certs=str(ca_file))
        self.client.on_message = self._on_message
        self.client.on_connect = lambda client, *_: client.subscribe(topic, qos=1)
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.reconnect_delay_set(1, 1)
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 3600
        self.client.connect("127.0.0.1", port, clean_start=False, properties=properties)
        self.client.loop_start()
        if not subscribed.wait(5):
            raise RuntimeError("test subscriber could not subscribe")

    def _on_message(self, client, userdata, message) -> None:
        with self._lock:
            self.messages.append((message.topic, message.payload, bool(message.retain)))
            self._lock.notify_all()

    def payloads(self, suffix: str) -> list[dict[str, Any]]:
        with self._lock:
            return [json.loads(p) for t, p, _ in self.messages if t.endswith(suffix)]

    def wait_for(self, predicate: Callable[[Subscriber], bool], timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        with self._lock:
            while not predicate(self):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._lock.wait(min(remaining, 0.05))
            return True

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class Confirmer:
    """Plays the server's part of protocol v2 on a real broker: a paho client that reads
    every tap and, while ``confirming``, publishes its confirmation on the reader's
    ``confirm`` topic. The server's own ingest is tested in tests/e2e/test_ingest.py."""

    def __init__(
        self,
        port: int,
        *,
        confirming: bool = True,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self.confirming = confirming
        self.seen: list[str] = []  # tap ids, in arrival order (re-sends included)
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id="test-confirmer", protocol=mqtt.MQTTv5
        )
        if username:
            self.client.username_pw_set(username, password)
        self.client.on_message = self._on_message
        subscribed = threading.Event()
        self.client.on_connect = lambda client, *_: client.subscribe(
            "campus/+/readers/+/taps", qos=1
        )
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not subscribed.wait(5):
            raise RuntimeError("test confirmer could not subscribe")

    def _on_message(self, client, userdata, message) -> None:
        tap = Tap.from_json(message.payload)
        with self._lock:
            self.seen.append(tap.id)
        if self.confirming:
            campus, reader = message.topic.split("/")[1], message.topic.split("/")[3]
            client.publish(confirm_topic(campus, reader), Confirmation((tap.id,)).to_json(), qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def confirmer_factory() -> Iterator[Callable[..., Confirmer]]:
    made: list[Confirmer] = []

    def make(port: int, **options: Any) -> Confirmer:
        confirmer = Confirmer(port, **options)
        made.append(confirmer)
        return confirmer

    yield make
    for confirmer in made:
        confirmer.close()


@pytest.fixture
def subscriber_factory() -> Iterator[Callable[[int], Subscriber]]:
    made: list[Subscriber] = []

    def make(port: int, topic: str = "campus/#", **options: Any) -> Subscriber:
        subscriber = Subscriber(port, topic, **options)
        made.append(subscriber)
        return subscriber

    yield make
    for subscriber in made:
        subscriber.close()
