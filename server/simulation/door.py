"""A simulated door: plays a scenario through the real MQTT contract, as readers would.

Each reader is its own paho client (client id = reader id) with a retained ``online``
status and an ``offline`` last will. Simulated time runs ``speed`` times faster than the
wall clock from the scenario's start, and taps carry the simulated time as ``ts``.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Sequence
from datetime import datetime

import paho.mqtt.client as mqtt

from edge.protocol import ReaderState, ReaderStatus, Tap, status_topic, taps_topic
from server.simulation.scenario import SimulatedEvent, SimulatedGarbage

log = logging.getLogger(__name__)


class SimulatedDoor:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        campus: str,
        readers: Sequence[str],
        events: Sequence[SimulatedEvent],
        speed: float = 60.0,
        protocol: int = mqtt.MQTTv311,
    ) -> None:
        self._campus = campus
        self._events = list(events)
        self._speed = speed
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seq = dict.fromkeys(readers, 0)
        self.published = 0
        self._clients = {reader: self._client(reader, host, port, protocol) for reader in readers}

    def _client(self, reader: str, host: str, port: int, protocol: int) -> mqtt.Client:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"sim-{reader}", protocol=protocol
        )
        will = self._status(
            reader, ReaderState.OFFLINE, self._events[0].at if self._events else None
        )
        client.will_set(status_topic(self._campus, reader), will, qos=1, retain=True)
        client.connect(host, port)
        client.loop_start()
        return client

    def _status(self, reader: str, state: ReaderState, at: datetime | None) -> bytes:
        assert at is not None
        return ReaderStatus(state=state, ts=at, detail="simulated reader").to_json()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._play, name="simulated-door", daemon=True)
        self._thread.start()

    def _play(self) -> None:
        if not self._events:
            return
        begin = self._events[0].at
        wall_begin = time.monotonic()
        for reader, client in self._clients.items():
            client.publish(
                status_topic(self._campus, reader),
                self._status(reader, ReaderState.ONLINE, begin),
                qos=1,
                retain=True,
            )
        for event in self._events:
            wait = (event.at - begin).total_seconds() / self._speed - (
                time.monotonic() - wall_begin
            )
            if wait > 0 and self._stop.wait(wait):
                return
            self._publish(event)

    def _publish(self, event: SimulatedEvent) -> None:
        client = self._clients[event.reader]
        topic = taps_topic(self._campus, event.reader)
        if isinstance(event, SimulatedGarbage):
            client.publish(topic, event.payload, qos=1)
        else:
            self._seq[event.reader] += 1
            tap = Tap(id=uuid.uuid4().hex, uid=event.uid, ts=event.at, seq=self._seq[event.reader])
            client.publish(topic, tap.to_json(), qos=1)
        self.published += 1

    @property
    def finished(self) -> bool:
        return self._thread is not None and not self._thread.is_alive()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        for client in self._clients.values():
            client.disconnect()
            client.loop_stop()
