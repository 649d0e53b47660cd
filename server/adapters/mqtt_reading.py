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
"""

from __future__ import annotations

import paho.mqtt.client as mqtt

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
