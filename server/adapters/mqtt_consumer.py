"""The MQTT side of ingest: a paho-mqtt 2.x client with manual acknowledgement.

The receiving thread (paho's loop, with :class:`LeanIngestClient`: the PUBLISH packets
of each socket read decoded at once, issue 16) only turns them into
:class:`InboundMessage` objects and queues them, a read at a time; one worker thread
gathers what arrived within a few milliseconds into a batch, hands it to the batch
handler (the ingest service), and acknowledges the batch's messages only once the
handler returned, all its PUBACKs in one write. If the handler raises (the event store
is down), the same batch is retried with backoff and nothing is acknowledged meanwhile;
if the process dies, the broker redelivers the unacknowledged messages to the persistent
session (if it has not expired) and the doors re-send every tap the server has not
confirmed (protocol v2).

The subscriptions are made again in ``on_connect`` on every connection, whatever the
broker says of the session: Mosquitto 2.0 does not restore a ``$share`` subscription
after a restart even when it reports the session present. Reconnection retries every 1
to 5 s, so a broker back from a restart finds the server subscribed within seconds.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from edge.protocol import STATUS_SUBSCRIPTION, TAPS_SUBSCRIPTION
from server.adapters.mqtt_packets import Publish
from server.adapters.mqtt_reading import LeanIngestClient
from server.config import ConfigError, MqttSettings
from server.domain.events import InboundMessage

log = logging.getLogger(__name__)

RECONNECT_MIN_S = 1
RECONNECT_MAX_S = 5

BatchHandler = Callable[[Sequence[InboundMessage]], object]
Clock = Callable[[], datetime]


# Messages, and beside each the packet id to acknowledge (0: QoS 0, nothing to acknowledge).
_Read = tuple[list[InboundMessage], list[int]]


def subscriptions(settings: MqttSettings) -> list[str]:
    """Shared subscriptions on MQTT 5 so several ingest workers share the load; plain
    ones on MQTT 3.1.1 brokers that have none (amqtt)."""
    if settings.protocol == 5:
        return [
            f"$share/{settings.shared_group}/{topic}"
            for topic in (TAPS_SUBSCRIPTION, STATUS_SUBSCRIPTION)
        ]
    return [TAPS_SUBSCRIPTION, STATUS_SUBSCRIPTION]


class MqttConsumer:
    def __init__(
        self,
        settings: MqttSettings,
        handler: BatchHandler,
        *,
        clock: Clock,
        batch_max: int = 500,
        batch_wait_s: float = 0.005,
        retry_max_s: float = 5.0,
    ) -> None:
        self._settings = settings
        self._handler = handler
        self._clock = clock
        self._batch_max = batch_max
        self._batch_wait_s = batch_wait_s
        self._retry_max_s = retry_max_s
        self._inbox: queue.SimpleQueue[_Read | None] = queue.SimpleQueue()
        self._carry: _Read = ([], [])  # beyond batch_max: the next batch's start
        self._subscribed = threading.Event()
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None
        self.store_healthy = True
        self._connect_failed = False
        self._client = self._build_client()

    # ------------------------------------------------------------------ client
    def _build_client(self) -> mqtt.Client:
        settings = self._settings
        v5 = settings.protocol == 5
        client = LeanIngestClient(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            clean_session=None if v5 else False,
            manual_ack=settings.manual_ack,
            on_publishes=self._on_publishes,
        )
        if settings.username:
            client.username_pw_set(settings.username, settings.password or None)
        if settings.tls_ca_file:
            try:
                client.tls_set(ca_certs=settings.tls_ca_file, tls_version=ssl.PROTOCOL_TLS_CLIENT)
            except (OSError, ssl.SSLError) as error:
                raise ConfigError(
                    f"mqtt.tls_ca_file {settings.tls_ca_file}: cannot read the broker's CA "
                    f"certificate ({getattr(error, 'strerror', None) or error})"
                ) from None
        client.reconnect_delay_set(min_delay=RECONNECT_MIN_S, max_delay=RECONNECT_MAX_S)
        client.max_inflight_messages_set(100)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        return client

    def _connect_properties(self) -> Properties | None:
        if self._settings.protocol != 5:
            return None
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = self._settings.session_expiry
        return properties

    def _on_connect_fail(self, _client, _userdata) -> None:
        """No TCP (or TLS) connection: said once per outage, not at every retry."""
        if self._connect_failed:
            return
        self._connect_failed = True
        tls = " with TLS" if self._settings.tls_ca_file else ""
        log.warning(
            "cannot connect to the MQTT broker at %s:%d%s (not running, wrong host or port, "
            "or TLS refused); retrying every %d to %d s (campus-presence doctor says why)",
            self._settings.host,
            self._settings.port,
            tls,
            RECONNECT_MIN_S,
            RECONNECT_MAX_S,
        )

    def _on_connect(self, client, _userdata, _flags, reason_code, _properties) -> None:
        self._connect_failed = False
        if reason_code.is_failure:
            log.error("MQTT broker refused the connection: %s", reason_code)
            return
        log.info("connected to MQTT broker %s:%d", self._settings.host, self._settings.port)
        # Subscribing here, not once at start, restores the subscriptions after any
        # reconnect, including to a broker that lost its sessions or kept the session
        # without its $share subscriptions (Mosquitto 2.0).
        client.subscribe([(topic, self._options()) for topic in subscriptions(self._settings)])

    def _options(self) -> SubscribeOptions | int:
        """QoS 1; on MQTT 5 with *retain as published*, so a tap published retained is
        seen as such (and refused) even when it arrives live."""
        if self._settings.protocol != 5:
            return 1
        return SubscribeOptions(qos=1, retainAsPublished=True)

    def _on_subscribe(self, _client, _userdata, _mid, reason_codes, _properties) -> None:
        failures = [code for code in reason_codes if code.is_failure]
        if failures:
            log.error("MQTT subscription refused: %s", failures)
            return
        self._subscribed.set()

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties) -> None:
        self._subscribed.clear()
        if not self._stopping.is_set():
            log.warning("disconnected from MQTT broker (%s); reconnecting", reason_code)

    def _on_publishes(self, publishes: list[Publish]) -> None:
        """The messages of one socket read (receiving thread): queued as one item."""
        received_at = self._clock()
        self._inbox.put(
            (
                [
                    InboundMessage(topic, payload, received_at, retain)
                    for topic, payload, retain, _qos, _mid in publishes
                ],
                [mid if qos == 1 else 0 for _topic, _payload, _retain, qos, mid in publishes],
            )
        )

    @property
    def malformed_packets(self) -> int:
        """PUBLISH packets from the broker that could not be decoded (logged)."""
        return self._client.malformed_packets

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        self._worker = threading.Thread(target=self._work, name="ingest-worker", daemon=True)
        self._worker.start()
        self._client.connect_async(
            self._settings.host,
            self._settings.port,
            keepalive=self._settings.keepalive,
            clean_start=False if self._settings.protocol == 5 else mqtt.MQTT_CLEAN_START_FIRST_ONLY,
            properties=self._connect_properties(),
        )
        self._client.loop_start()

    def wait_subscribed(self, timeout: float) -> bool:
        return self._subscribed.wait(timeout)

    @property
    def connected(self) -> bool:
        """Connected to the broker now (``/readyz``)."""
        return self._client.is_connected()

    @property
    def subscribed(self) -> bool:
        """The broker granted the server's subscriptions on the current connection."""
        return self._subscribed.is_set()

    def publish(self, topic: str, payload: bytes, *, qos: int = 1, retain: bool = False) -> None:
        """Publish from any thread (feedback to readers, events for integrations)."""
        self._client.publish(topic, payload, qos=qos, retain=retain)

    def stop(self) -> None:
        """Finish the batch under way, then disconnect. Queued but unacknowledged
        messages stay with the broker, which redelivers them to the next session."""
        self._stopping.set()
        self._inbox.put(None)
        if self._worker is not None:
            self._worker.join(30)
        self._client.disconnect()
        self._client.loop_stop()

    # ------------------------------------------------------------------ worker
    def _work(self) -> None:
        while not self._stopping.is_set():
            messages, mids = self._next_batch()
            if messages:
                self._handle_until_stored(messages, mids)

    def _next_batch(self) -> _Read:
        """Up to ``batch_max`` messages: what arrived within ``batch_wait_s`` of the
        first. What does not fit is the start of the next batch."""
        messages, mids = self._carry
        self._carry = ([], [])
        if not messages:
            first = self._inbox.get()
            if first is None:
                return [], []
            messages, mids = first
        deadline = time.monotonic() + self._batch_wait_s
        while len(messages) < self._batch_max:
            remaining = deadline - time.monotonic()
            try:
                item = (
                    self._inbox.get(timeout=remaining)
                    if remaining > 0
                    else self._inbox.get_nowait()
                )
            except queue.Empty:
                break
            if item is None:
                self._stopping.set()
                break
            messages += item[0]
            mids += item[1]
        if len(messages) > self._batch_max:
            cut = self._batch_max
            self._carry = (messages[cut:], mids[cut:])
            messages, mids = messages[:cut], mids[:cut]
        return messages, mids

    def _handle_until_stored(self, messages: list[InboundMessage], mids: list[int]) -> None:
        delay = 0.1
        while True:
            try:
                self._handler(messages)
            except Exception as error:
                self.store_healthy = False
                log.warning(
                    "could not store %d messages (%s); retrying in %.1fs",
                    len(messages),
                    error,
                    delay,
                )
                if self._stopping.wait(delay):
                    return  # not acknowledged: the broker redelivers them later
                delay = min(delay * 2, self._retry_max_s)
                continue
            if not self.store_healthy:
                log.info("event store is back; %d held messages stored", len(messages))
            self.store_healthy = True
            if self._settings.manual_ack:
                self._client.ack_many([mid for mid in mids if mid])
            return
