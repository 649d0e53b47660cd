"""A simulated door: plays a scenario through the real MQTT contract, as readers would.

Each reader is its own paho client (client id = reader id) with a retained ``online``
status re-sent as a heartbeat and an ``offline`` last will. Time is the demo's
simulated clock (shared with the server): an event is published when the clock reaches
it, and taps carry that simulated time as ``ts``.
"""

from __future__ import annotations

import logging
import math
import threading
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import paho.mqtt.client as mqtt

from edge.protocol import ReaderState, ReaderStatus, Tap, status_topic, taps_topic
from server.simulation.scenario import SimulatedEvent, SimulatedGarbage

log = logging.getLogger(__name__)

_TICK_S = 0.05  # how often (wall clock) the door looks at the simulated clock


class SimulatedDoor:
    def __init__(
        self,
        *,
        host: str,
        port: int,
        campus: str,
        readers: Sequence[str],
        events: Sequence[SimulatedEvent],
        clock: Callable[[], datetime],
        speed: float,
        protocol: int = mqtt.MQTTv311,
    ) -> None:
        self._campus = campus
        self._events = list(events)
        self._clock = clock
        # A heartbeat every 60 simulated seconds, but never more than 4 a wall second.
        self._heartbeat_s = max(60, math.ceil(speed / 4))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._seq = dict.fromkeys(readers, 0)
        self.published = 0
        self._clients = {reader: self._client(reader, host, port, protocol) for reader in readers}

    def _client(self, reader: str, host: str, port: int, protocol: int) -> mqtt.Client:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"sim-{reader}", protocol=protocol
        )
        will = self._status(ReaderState.OFFLINE, self._clock())
        client.will_set(status_topic(self._campus, reader), will, qos=1, retain=True)
        client.connect(host, port)
        client.loop_start()
        return client

    def _status(self, state: ReaderState, at: datetime) -> bytes:
        return ReaderStatus(
            state=state, ts=at, detail="simulated reader", heartbeat=self._heartbeat_s
        ).to_json()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._play, name="simulated-door", daemon=True)
        self._thread.start()

    def _play(self) -> None:
        pending = deque(self._events)
        heartbeat_due = self._clock()
        while True:
            now = self._clock()
            if now >= heartbeat_due:
                self._heartbeat(now)
                heartbeat_due = now + timedelta(seconds=self._heartbeat_s)
            while pending and pending[0].at <= now:
                self._publish(pending.popleft())
            if self._stop.wait(_TICK_S):
                return

    def _heartbeat(self, now: datetime) -> None:
        for reader, client in self._clients.items():
            payload = self._status(ReaderState.ONLINE, now)
            client.publish(status_topic(self._campus, reader), payload, qos=1, retain=True)

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

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        for client in self._clients.values():
            client.disconnect()
            client.loop_stop()
