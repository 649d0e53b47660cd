"""The ingest's paho client that reads its socket in chunks (issue 16), against a real
Mosquitto: every message arrives once, whole and in order, when many packets come in one
read, when a packet is split between reads, and when a loop stops reading early."""

from __future__ import annotations

import subprocess
import threading

import paho.mqtt.client as mqtt
import pytest

from server.adapters import mqtt_reading
from server.adapters.mqtt_reading import ChunkedReadClient

TOPIC = "campus/c1/readers/door-1/taps"


def _receive(port: int, payloads: list[bytes]) -> list[bytes]:
    received: list[bytes] = []
    done = threading.Event()
    client = ChunkedReadClient(
        mqtt.CallbackAPIVersion.VERSION2, client_id="chunked", protocol=mqtt.MQTTv5
    )

    def on_message(_client, _userdata, message) -> None:
        received.append(bytes(message.payload))
        if len(received) >= len(payloads):
            done.set()

    subscribed = threading.Event()
    client.on_message = on_message
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


@pytest.mark.parametrize(("reads", "size"), [(64, 65536), (1, 1000), (2, 37)])
def test_every_message_arrives_once_whole_and_in_order(mosquitto, monkeypatch, reads, size):
    # Our own module's knobs: few and tiny reads split packets across reads and make
    # loop_read give up early, leaving the rest in the socket for the next select().
    monkeypatch.setattr(mqtt_reading, "READS_PER_LOOP", reads)
    monkeypatch.setattr(mqtt_reading, "READ_SIZE", size)
    payloads = [b'{"n":%d,"pad":"%s"}' % (n, b"x" * (n % 300)) for n in range(3000)]
    assert _receive(mosquitto.port, payloads) == payloads
