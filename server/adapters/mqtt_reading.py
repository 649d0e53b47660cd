"""A paho-mqtt client that reads its socket in large chunks.

paho 2.2 reads each incoming packet with at least three ``recv()`` calls (the command
byte, each byte of the remaining length, then the rest) and handles one packet per
``select()`` when it has nothing of its own in flight. Under a stream of small QoS 1
taps those system calls were half of the ingest's receive path (issue 16). This client
keeps what one ``recv()`` returned (up to 64 KiB) and hands paho's own packet reader its
bytes from memory, then reads every packet already received before the next
``select()``. Decoding, acknowledgements and reconnection stay paho's.

Only two of paho's internal hooks are overridden, ``_sock_recv`` (where paho reads the
socket) and ``_sock_close``; ``loop_read`` is public. The fault suite (tests/faults)
and the integration tests run the ingest through this client against a real Mosquitto.

:class:`LeanIngestClient` goes further for the ingest (issue 16): the PUBLISH packets
held in memory are decoded by :mod:`server.adapters.mqtt_packets` without paho's
message objects and handed over a whole read at a time, and a batch's PUBACKs go out in
one write. Connection, TLS, authentication, keepalive, subscriptions, publishing and
reconnection stay paho's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import paho.mqtt.client as mqtt

from server.adapters.mqtt_packets import (
    PUBACK,
    PUBLISH,
    MalformedPacket,
    Publish,
    decode_publish,
    pubacks,
    split_publishes,
)

log = logging.getLogger(__name__)

READ_SIZE = 65536
READS_PER_LOOP = 64  # socket reads per loop_read at most (~4 MB): writes are not starved


class ChunkedReadClient(mqtt.Client):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._chunk = b""
        self._chunk_pos = 0
        self._reads_left = READS_PER_LOOP

    def _held(self) -> int:
        return len(self._chunk) - self._chunk_pos

    def _sock_recv(self, bufsize: int) -> bytes:
        if self._chunk_pos >= len(self._chunk):
            if self._reads_left <= 0:
                # The loop writes and checks its timers now; the socket is still
                # readable, so select() calls us back at once. Nothing is left held here.
                raise BlockingIOError()
            self._reads_left -= 1
            data = super()._sock_recv(READ_SIZE)
            if not data:
                return data  # connection lost: paho handles it
            self._chunk, self._chunk_pos = data, 0
        start = self._chunk_pos
        self._chunk_pos = min(start + bufsize, len(self._chunk))
        return self._chunk[start : self._chunk_pos]

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        """Every packet already received, not one per ``select()``: returns only with
        nothing held in memory (else ``select()`` would wait on bytes already read)."""
        self._reads_left = READS_PER_LOOP
        rc = super().loop_read(max_packets)
        while rc == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS and self._sock is not None and self._held():
            rc = super().loop_read(max_packets)
        return rc

    def _sock_close(self) -> None:
        self._chunk, self._chunk_pos = b"", 0  # bytes of the old connection
        super()._sock_close()


PublishesHandler = Callable[[list[Publish]], None]


class LeanIngestClient(ChunkedReadClient):
    """The ingest's client: ``on_publishes`` receives the QoS 0/1 PUBLISH packets of
    each read as ``(topic, payload, retain, qos, packet id)`` tuples, in order, instead of
    ``on_message`` once per message (no ``MQTTMessage``, no ``Properties``, no topic
    matching: every message of the subscriptions goes there). QoS 2 still goes through
    paho. :meth:`ack_many` acknowledges QoS 1 messages in one write; with
    ``manual_ack=True`` that is the only acknowledgement, else a read's messages are
    acknowledged once handed over, as paho does.

    A malformed PUBLISH is logged and counted (``malformed_packets``), and the connection
    is dropped as paho does for any protocol error: nothing it carried is acknowledged,
    paho reconnects, and the broker redelivers to the persistent session."""

    def __init__(self, *args, on_publishes: PublishesHandler, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.on_publishes = on_publishes
        self.malformed_packets = 0
        self._pending: list[Publish] = []

    def _v5(self) -> bool:
        return self._protocol == mqtt.MQTTv5

    def _malformed(self, error: MalformedPacket) -> mqtt.MQTTErrorCode:
        self.malformed_packets += 1
        self._pending.clear()  # not acknowledged: redelivered after the reconnection
        log.error(
            "malformed MQTT packet from the broker (%s); reconnecting (%d so far)",
            error,
            self.malformed_packets,
        )
        return mqtt.MQTTErrorCode.MQTT_ERR_PROTOCOL

    def _packet_read(self) -> mqtt.MQTTErrorCode:
        if self._in_packet["command"] == 0 and self._held():
            try:
                found, self._chunk_pos = split_publishes(
                    self._chunk, self._chunk_pos, v5=self._v5()
                )
            except MalformedPacket as error:
                return self._malformed(error)
            if found:
                self._pending += found
                with self._msgtime_mutex:
                    self._last_bytes_received = mqtt.time_func()
            if not self._held():
                return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS  # select() again, or a recv()
            if self._chunk[self._chunk_pos] & 0xF0 != PUBLISH:
                self._deliver()  # in order: what came before a packet of another kind
        # A packet cut by the end of the read, another kind, or a QoS 2 PUBLISH: paho's.
        return super()._packet_read()

    def _handle_publish(self) -> mqtt.MQTTErrorCode:
        header = self._in_packet["command"]
        if header & 0x06 == 0x04:
            return super()._handle_publish()  # QoS 2: paho's exchange
        packet = self._in_packet["packet"]
        try:
            self._pending.append(decode_publish(header, packet, 0, len(packet), v5=self._v5()))
        except MalformedPacket as error:
            return self._malformed(error)
        return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS

    def _deliver(self) -> None:
        if not self._pending:
            return
        publishes, self._pending = self._pending, []
        try:
            self.on_publishes(publishes)
        except Exception:
            log.exception("on_publishes failed (%d messages not acknowledged)", len(publishes))
            return
        if not self._manual_ack:  # paho's own behaviour: acknowledged once handed over
            self.ack_many([mid for _topic, _payload, _retain, qos, mid in publishes if qos == 1])

    def loop_read(self, max_packets: int = 1) -> mqtt.MQTTErrorCode:
        try:
            return super().loop_read(max_packets)
        finally:
            self._deliver()

    def ack_many(self, mids: Sequence[int]) -> None:
        """PUBACK for these QoS 1 packet ids, in one packet queued for one write. On a
        lost connection paho drops it (the broker redelivers them)."""
        if mids:
            self._packet_queue(PUBACK, pubacks(mids), 0, 0)
