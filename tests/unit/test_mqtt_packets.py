"""The ingest's own MQTT packet decoding (issue 16), on bytes captured from Mosquitto 2.0
(a raw socket subscribed to ``campus/c1/readers/+/taps`` while ``mosquitto_pub`` sent a
tap at QoS 1, "é" retained at QoS 1 with a user property, and "x" at QoS 0), and on
malformed bytes."""

from __future__ import annotations

import pytest

from server.adapters.mqtt_packets import (
    MalformedPacket,
    decode_publish,
    pubacks,
    split_publishes,
)

DOOR_1 = "campus/c1/readers/door-1/taps"
DOOR_2 = "campus/c1/readers/door-2/taps"

# MQTT 5: three PUBLISH packets in one read (the second one carries a user property).
V5 = bytes.fromhex(
    "3233001d63616d7075732f63312f726561646572732f646f6f722d312f746170730001007b2276223a"
    "322c226964223a227431227d322b001d63616d7075732f63312f726561646572732f646f6f722d312f"
    "746170730002072600016b000176c3a93021001d63616d7075732f63312f726561646572732f646f6f"
    "722d322f746170730078"
)
V5_PUBLISHES = [
    (DOOR_1, b'{"v":2,"id":"t1"}', False, 1, 1),
    (DOOR_1, "é".encode(), False, 1, 2),
    (DOOR_2, b"x", False, 0, 0),
]
# MQTT 3.1.1: the same three.
V311 = bytes.fromhex(
    "3232001d63616d7075732f63312f726561646572732f646f6f722d312f7461707300027b2276223a32"
    "2c226964223a227431227d3223001d63616d7075732f63312f726561646572732f646f6f722d312f74"
    "6170730003c3a93020001d63616d7075732f63312f726561646572732f646f6f722d322f7461707378"
)
V311_PUBLISHES = [
    (DOOR_1, b'{"v":2,"id":"t1"}', False, 1, 2),
    (DOOR_1, "é".encode(), False, 1, 3),
    (DOOR_2, b"x", False, 0, 0),
]
# MQTT 3.1.1: a SUBACK, then the retained message the broker sends on subscribing.
SUBACK_THEN_RETAINED = bytes.fromhex(
    "90030001013323001d63616d7075732f63312f726561646572732f646f6f722d312f746170730001c3a9"
)


@pytest.mark.parametrize(
    ("data", "v5", "expected"), [(V5, True, V5_PUBLISHES), (V311, False, V311_PUBLISHES)]
)
def test_every_publish_of_a_read_is_decoded_in_order(data, v5, expected):
    assert split_publishes(data, 0, v5=v5) == (expected, len(data))


@pytest.mark.parametrize(
    ("data", "v5", "expected"), [(V5, True, V5_PUBLISHES), (V311, False, V311_PUBLISHES)]
)
def test_a_packet_cut_by_the_end_of_a_read_is_left_whole_for_the_next(data, v5, expected):
    for cut in range(len(data) + 1):
        first, cursor = split_publishes(data[:cut], 0, v5=v5)
        rest, end = split_publishes(data, cursor, v5=v5)
        assert first + rest == expected, cut
        assert end == len(data)
        assert first == expected[: len(first)]


def test_a_packet_of_another_kind_stops_the_split_and_the_retain_flag_is_kept():
    assert split_publishes(SUBACK_THEN_RETAINED, 0, v5=False) == ([], 0)
    found, end = split_publishes(SUBACK_THEN_RETAINED, 5, v5=False)
    assert found == [(DOOR_1, "é".encode(), True, 1, 1)]
    assert end == len(SUBACK_THEN_RETAINED)


def test_a_qos_2_publish_is_left_to_paho():
    qos2 = bytes([0x34]) + V311[1:]
    assert split_publishes(qos2, 0, v5=False) == ([], 0)


def test_one_publish_decoded_from_its_body():
    body = V5[2:53]  # after the header byte and the one-byte remaining length (0x33)
    assert decode_publish(0x32, body, 0, len(body), v5=True) == V5_PUBLISHES[0]


def _publish(body: bytes, header: int = 0x32) -> bytes:
    assert len(body) < 128
    return bytes([header, len(body)]) + body


@pytest.mark.parametrize(
    ("data", "v5", "why"),
    [
        (_publish(b"\x00"), False, "too short for its topic length"),
        (_publish(b"\x00\x10abc\x00\x01"), False, "topic longer than the packet"),
        (_publish(b"\x00\x02\xff\xfe\x00\x01x"), False, "not UTF-8"),
        (_publish(b"\x00\x01a\x00"), False, "too short for its packet id"),
        (_publish(b"\x00\x01a\x00\x00x"), False, "packet id 0"),
        (_publish(b"\x00\x01a\x00\x01\x09\x26"), True, "properties longer than the packet"),
        (_publish(b"\x00\x01a\x00\x01"), True, "too short for its properties"),
        (_publish(b"\x00\x01a\x00\x01x", header=0x36), False, "QoS 3"),
        (b"\x32\xff\xff\xff\xff\x01", False, "longer than 4 bytes"),
    ],
)
def test_malformed_publishes_raise(data, v5, why):
    with pytest.raises(MalformedPacket, match=why):
        split_publishes(data, 0, v5=v5)


def test_malformed_after_good_ones_raises_too():
    with pytest.raises(MalformedPacket):
        split_publishes(V311 + _publish(b"\x00\x10abc\x00\x01"), 0, v5=False)


def test_pubacks_are_written_one_after_the_other():
    assert pubacks([1, 2, 0x1234]) == bytes.fromhex("400200014002000240021234")
    assert pubacks([]) == b""
