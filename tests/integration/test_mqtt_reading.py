"""The ingest's paho clients that read their socket in chunks (issue 16), against a real
Mosquitto: every message arrives once, whole and in order, when many packets come in one
read, when a packet is split between reads, and when a loop stops reading early; with the
lean client (its own PUBLISH decoding), PUBACKs written in one go acknowledge exactly
their messages of a persistent session."""

from __future__ import annotations

import subprocess
import threading
import time

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from server.adapters import mqtt_reading
from server.adapters.mqtt_packets import Publish
from server.adapters.mqtt_reading import ChunkedReadClient, LeanIngestClient

TOPIC = "campus/c1/readers/door-1/taps"


def _receive(port: int, payloads: list[bytes], *, lean: bool, protocol: int) -> list[bytes]:
    received: list[bytes] = []
    done = threading.Event()

    def on_message(_client, _userdata, message) -> None:
        received.append(bytes(message.payload))
        if len(received) >= len(payloads):
            done.set()

    def on_publishes(publishes: list[Publish]) -> None:
        assert {topic for topic, *_ in publishes} == {TOPIC}
        received.extend(payload for _topic, payload, *_ in publishes)
        if len(received) >= len(payloads):
            done.set()

    version = mqtt.CallbackAPIVersion.VERSION2
    if lean:
        client = LeanIngestClient(
            version, client_id="lean", protocol=protocol, on_publishes=on_publishes
        )
    else:
        client = ChunkedReadClient(version, client_id="chunked", protocol=protocol)
        client.on_message = on_message
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    client.on_connect = lambda c, *args: c.subscribe(TOPIC, qos=1)
    client.connect("127.0.0.1", port)
    client.loop_start()
    try:
        assert subscribed.wait(10)
        lines = b"\n".join(payloads) + b"\n"
        command = ["mosquitto_pub", "-p", str(port), "-q", "1", "-l", "-t", TOPIC]
        subprocess.run(command, input=lines, check=True, timeout=60)
        assert done.wait(60), f"{len(received)} of {len(payloads)} received"
    finally:
        client.disconnect()
        client.loop_stop()
    return received


@pytest.mark.parametrize(
    ("lean", "protocol"),
    [(False, mqtt.MQTTv5), (True, mqtt.MQTTv5), (True, mqtt.MQTTv311)],
    ids=["chunked", "lean-v5", "lean-v311"],
)
@pytest.mark.parametrize(("reads", "size"), [(64, 65536), (1, 1000), (2, 37)])
def test_every_message_arrives_once_whole_and_in_order(
    mosquitto, monkeypatch, reads, size, lean, protocol
):
    # Our own module's knobs: few and tiny reads split packets across reads and make
    # loop_read give up early, leaving the rest in the socket for the next select().
    monkeypatch.setattr(mqtt_reading, "READS_PER_LOOP", reads)
    monkeypatch.setattr(mqtt_reading, "READ_SIZE", size)
    # Payloads of 1 to ~300 bytes: one- and two-byte remaining lengths.
    payloads = [b'{"n":%d,"pad":"%s"}' % (n, b"x" * (n % 300)) for n in range(3000)]
    received = _receive(mosquitto.port, payloads, lean=lean, protocol=protocol)
    assert received == payloads


class _Session:
    """A lean client on a persistent MQTT 5 session, acknowledging only when told."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[Publish] = []
        self.client: LeanIngestClient | None = None

    def __enter__(self) -> _Session:
        subscribed = threading.Event()
        client = LeanIngestClient(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id="lean-session",
            protocol=mqtt.MQTTv5,
            manual_ack=True,
            on_publishes=self.received.extend,
        )
        client.on_subscribe = lambda *args: subscribed.set()
        client.on_connect = lambda c, *args: c.subscribe(TOPIC, qos=1)
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 300
        client.connect("127.0.0.1", self.port, clean_start=False, properties=properties)
        client.loop_start()
        assert subscribed.wait(10)
        self.client = client
        return self

    def wait_for(self, count: int) -> list[Publish]:
        deadline = time.monotonic() + 30
        while len(self.received) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # nothing more arrives
        return list(self.received)

    def __exit__(self, *exc: object) -> None:
        assert self.client is not None
        time.sleep(0.3)  # the PUBACKs written
        self.client.disconnect()
        self.client.loop_stop()


def test_pubacks_in_one_write_acknowledge_exactly_their_messages(mosquitto):
    lines = b"".join(b"tap-%d\n" % n for n in range(200))
    with _Session(mosquitto.port) as session:
        command = ["mosquitto_pub", "-p", str(mosquitto.port), "-q", "1", "-l", "-t", TOPIC]
        subprocess.run(command, input=lines, check=True, timeout=60)
        first = session.wait_for(200)
        assert [payload for _t, payload, *_ in first] == lines.split()
        assert all(qos == 1 for *_, qos, _mid in first)
        session.client.ack_many([mid for *_, mid in first[::2]])  # every other one

    with _Session(mosquitto.port) as session:  # the broker redelivers the others
        again = session.wait_for(100)
        assert [payload for _t, payload, *_ in again] == lines.split()[1::2]
        session.client.ack_many([mid for *_, mid in again])

    with _Session(mosquitto.port) as session:
        assert session.wait_for(1) == []
