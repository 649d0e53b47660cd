"""MQTT packets the ingest decodes and writes itself, without paho's per-packet objects.

A PUBLISH received by the ingest is decoded straight from the bytes read from the socket
(:func:`split_publishes`, :func:`decode_publish`): topic, packet id, QoS, retain flag and
payload, MQTT 3.1.1 or 5 (whose properties the ingest does not use are skipped). paho
built an ``MQTTMessage``, a ``Properties`` object and a topic match per message: the
largest cost of the ingest's receiving thread (issue 16). A batch's acknowledgements are
written as one run of PUBACK packets (:func:`pubacks`).

Pure functions of bytes; a malformed packet raises :class:`MalformedPacket`.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable

from server.domain.errors import InvalidInput

PUBLISH = 0x30
PUBACK = 0x40

_PUBACK = struct.Struct("!BBH")


class MalformedPacket(InvalidInput):
    """The bytes are not a well-formed MQTT packet of the kind expected."""


# (topic, payload, retain, qos, packet id: 0 at QoS 0)
Publish = tuple[str, bytes, bool, int, int]


def remaining_length(data: bytes | bytearray, start: int, end: int) -> tuple[int, int] | None:
    """The *remaining length* variable byte integer at ``start`` (the byte after a fixed
    header's first byte): ``(length, where the packet's body starts)``, or None when the
    bytes up to ``end`` end inside it. More than 4 bytes is malformed."""
    length = 0
    shift = 0
    index = start
    while index < end:
        byte = data[index]
        index += 1
        length |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return length, index
        shift += 7
        if shift >= 28:
            raise MalformedPacket("remaining length longer than 4 bytes")
    return None


def decode_publish(
    header: int, data: bytes | bytearray, start: int, end: int, *, v5: bool
) -> Publish:
    """The PUBLISH whose first byte is ``header`` and body is ``data[start:end]``."""
    if header & 0xF0 != PUBLISH:
        raise MalformedPacket(f"not a PUBLISH (packet type {header >> 4})")
    qos = (header >> 1) & 0x03
    if qos == 3:
        raise MalformedPacket("PUBLISH with QoS 3")
    if end - start < 2:
        raise MalformedPacket("PUBLISH too short for its topic length")
    cursor = start + 2 + (data[start] << 8 | data[start + 1])
    if cursor > end:
        raise MalformedPacket("PUBLISH topic longer than the packet")
    try:
        topic = bytes(data[start + 2 : cursor]).decode()
    except UnicodeDecodeError:
        raise MalformedPacket("PUBLISH topic is not UTF-8") from None
    mid = 0
    if qos:
        if cursor + 2 > end:
            raise MalformedPacket("PUBLISH too short for its packet id")
        mid = data[cursor] << 8 | data[cursor + 1]
        cursor += 2
        if mid == 0:
            raise MalformedPacket("PUBLISH with packet id 0")
    if v5:
        properties = remaining_length(data, cursor, end)
        if properties is None:
            raise MalformedPacket("PUBLISH too short for its properties")
        size, cursor = properties
        cursor += size
        if cursor > end:
            raise MalformedPacket("PUBLISH properties longer than the packet")
    return topic, bytes(data[cursor:end]), bool(header & 0x01), qos, mid


def split_publishes(data: bytes | bytearray, start: int, *, v5: bool) -> tuple[list[Publish], int]:
    """The complete QoS 0/1 PUBLISH packets at ``data[start:]``, in order, and where the
    first byte not consumed is: a packet of another kind (or QoS 2), or one cut by the end
    of the bytes, is left for the caller. A malformed one raises."""
    found: list[Publish] = []
    end = len(data)
    cursor = start
    while cursor < end:
        header = data[cursor]
        if header & 0xF0 != PUBLISH or header & 0x06 == 0x04:
            break
        length = remaining_length(data, cursor + 1, end)
        if length is None:
            break
        size, body = length
        if body + size > end:
            break
        found.append(decode_publish(header, data, body, body + size, v5=v5))
        cursor = body + size
    return found, cursor


def pubacks(mids: Iterable[int]) -> bytes:
    """PUBACK packets for these packet ids, one after the other (MQTT 3.1.1 and 5: the
    reason code *success* is left out, remaining length 2)."""
    pack = _PUBACK.pack
    return b"".join([pack(PUBACK, 2, mid) for mid in mids])
