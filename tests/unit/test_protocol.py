"""Unit tests of the MQTT contract module ``edge/protocol.py``.

Every rejection reason the module decides is reached from a payload (see
``REJECTED_PAYLOADS``), boundaries are tested on both sides, and property tests check
that valid messages survive a round trip and that parsing arbitrary input only ever
raises :class:`ProtocolError`.

The last section keeps, as regression tests, the defects these tests found in the module
(hostile payloads that escaped ProtocolError, values that passed the contract but could
not be written back or stored).
"""

from __future__ import annotations

import ast
import json
import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edge import protocol
from edge.protocol import (
    MAX_CONFIRM_IDS,
    MAX_DETAIL_CHARS,
    MAX_INT64,
    MAX_PAYLOAD_BYTES,
    MAX_TEXT_CHARS,
    STATUS_SUBSCRIPTION,
    TAPS_SHARED_SUBSCRIPTION,
    TAPS_SUBSCRIPTION,
    UID_BYTE_LENGTHS,
    Confirmation,
    Feedback,
    FeedbackResult,
    ProtocolError,
    ReaderState,
    ReaderStatus,
    ReaderTopic,
    Reason,
    Tap,
    TopicKind,
    events_topic,
    feedback_topic,
    format_timestamp,
    parse_reader_topic,
    parse_timestamp,
    reader_topic,
    status_topic,
    taps_topic,
)

PARIS_WINTER = timezone(timedelta(hours=1))
TS = datetime(2026, 11, 23, 9, 14, 3, 512000, tzinfo=PARIS_WINTER)
TS_TEXT = "2026-11-23T09:14:03.512+01:00"
UID = "04a1b2c3d4e5f6"  # 7 bytes, a common MIFARE size
TAP_ID = "01JDQ6W7Z8K3M4N5P6Q7R8S9T0"

Parser = Callable[[bytes | str], Any]
PARSERS: dict[str, Parser] = {
    "tap": Tap.from_json,
    "status": ReaderStatus.from_json,
    "feedback": Feedback.from_json,
    "confirm": Confirmation.from_json,
}


def tap_body(**changes: Any) -> dict[str, Any]:
    body = {"v": 1, "id": TAP_ID, "uid": UID, "ts": TS_TEXT, "seq": 42}
    body.update(changes)
    return body


def status_body(**changes: Any) -> dict[str, Any]:
    body = {"v": 1, "state": "online", "ts": TS_TEXT, "queued": 0, "detail": ""}
    body.update(changes)
    return body


def feedback_body(**changes: Any) -> dict[str, Any]:
    body = {"v": 1, "id": TAP_ID, "result": "in", "text": "Bonjour, entrée 09:14"}
    body.update(changes)
    return body


BODIES = {"tap": tap_body, "status": status_body, "feedback": feedback_body}


def without(body: dict[str, Any], field: str) -> dict[str, Any]:
    return {key: value for key, value in body.items() if key != field}


def encode(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def reason_of(parse: Parser, payload: bytes | str) -> Reason:
    with pytest.raises(ProtocolError) as caught:
        parse(payload)
    return caught.value.reason


# --------------------------------------------------------------------------- round trips


def test_tap_parses_the_documented_shape() -> None:
    tap = Tap.from_json(encode(tap_body()))
    assert tap == Tap(id=TAP_ID, uid=UID, ts=TS, seq=42, clock_synced=True)
    assert tap.ts.utcoffset() == timedelta(hours=1)


def test_tap_round_trip_is_compact_and_keeps_the_offset() -> None:
    tap = Tap(id=TAP_ID, uid=UID, ts=TS, seq=7)
    payload = tap.to_json()
    assert payload == (
        b'{"v":2,"id":"01JDQ6W7Z8K3M4N5P6Q7R8S9T0","uid":"04a1b2c3d4e5f6",'
        b'"ts":"2026-11-23T09:14:03.512+01:00","seq":7}'
    )
    assert Tap.from_json(payload) == tap
    assert Tap.from_json(payload.decode()) == tap  # str payloads are accepted too


def test_version_1_taps_and_statuses_of_old_readers_are_still_read() -> None:
    old_tap = Tap.from_json(encode(tap_body(v=1)))
    assert old_tap == Tap(id=TAP_ID, uid=UID, ts=TS, seq=42)  # the same tap as a v2 one
    assert old_tap.version == 1 and old_tap.to_dict()["v"] == 1  # written back unchanged
    old_status = ReaderStatus.from_json(encode(status_body(v=1, queued=4)))
    assert (old_status.version, old_status.queued, old_status.oldest) == (1, 4, None)


def test_status_v2_says_since_when_taps_are_held() -> None:
    status = ReaderStatus(state=ReaderState.ONLINE, ts=TS, queued=2, oldest=TS - timedelta(days=9))
    body = status.to_dict()
    assert body["v"] == 2 and body["oldest"] == "2026-11-14T09:14:03.512+01:00"
    assert ReaderStatus.from_json(status.to_json()) == status
    assert "oldest" not in ReaderStatus(state=ReaderState.ONLINE, ts=TS, queued=2).to_dict()


def test_confirmation_round_trip_and_batches() -> None:
    message = Confirmation((TAP_ID, "a" * 64))
    assert message.to_json() == b'{"v":2,"ids":["01JDQ6W7Z8K3M4N5P6Q7R8S9T0","' + b"a" * 64 + b'"]}'
    assert Confirmation.from_json(message.to_json()) == message
    ids = [f"tap-{n:060d}" for n in range(MAX_CONFIRM_IDS * 2 + 1)]
    batches = Confirmation.batches(ids)
    assert [len(batch.ids) for batch in batches] == [MAX_CONFIRM_IDS, MAX_CONFIRM_IDS, 1]
    assert [i for batch in batches for i in batch.ids] == ids
    assert max(len(batch.to_json()) for batch in batches) <= MAX_PAYLOAD_BYTES


def test_clock_synced_is_sent_only_when_false() -> None:
    synced = Tap(id=TAP_ID, uid=UID, ts=TS, seq=1)
    unsynced = Tap(id=TAP_ID, uid=UID, ts=TS, seq=1, clock_synced=False)
    assert "clock_synced" not in synced.to_dict()
    assert unsynced.to_dict()["clock_synced"] is False
    assert Tap.from_json(unsynced.to_json()) == unsynced
    assert Tap.from_json(encode(tap_body(clock_synced=True))).clock_synced is True


def test_uid_is_normalised_to_lowercase_on_parse() -> None:
    tap = Tap.from_json(encode(tap_body(uid="04A1B2C3D4E5F6")))
    assert tap.uid == UID


@pytest.mark.parametrize("size", sorted(UID_BYTE_LENGTHS))
def test_every_real_uid_length_is_accepted(size: int) -> None:
    uid = bytes(range(1, size + 1)).hex()
    assert Tap.from_json(encode(tap_body(uid=uid))).uid == uid


@pytest.mark.parametrize("tap_id", ["a" * 8, "Z" * 64, "abc_DEF-09", "--------"])
def test_tap_id_boundaries_accepted(tap_id: str) -> None:
    assert Tap.from_json(encode(tap_body(id=tap_id))).id == tap_id


def test_seq_zero_is_accepted() -> None:
    assert Tap.from_json(encode(tap_body(seq=0))).seq == 0


@pytest.mark.parametrize("state", list(ReaderState))
def test_status_round_trip_every_state(state: ReaderState) -> None:
    status = ReaderStatus(state=state, ts=TS, queued=3, detail="NFC reader unplugged")
    body = status.to_dict()
    assert body == {
        "v": 2,
        "state": state.value,
        "ts": TS_TEXT,
        "queued": 3,
        "detail": "NFC reader unplugged",
    }
    assert ReaderStatus.from_json(status.to_json()) == status


def test_status_optional_fields_are_sent_only_when_not_default() -> None:
    status = ReaderStatus(state=ReaderState.DEGRADED, ts=TS, clock_synced=False, heartbeat=30)
    body = status.to_dict()
    assert body["clock_synced"] is False
    assert body["heartbeat"] == 30
    assert ReaderStatus.from_json(status.to_json()) == status
    parsed = ReaderStatus.from_json(encode(status_body()))
    assert (parsed.clock_synced, parsed.heartbeat) == (True, 60)


@pytest.mark.parametrize(("heartbeat", "detail_len"), [(1, 0), (3600, MAX_DETAIL_CHARS)])
def test_status_boundaries_accepted(heartbeat: int, detail_len: int) -> None:
    body = status_body(heartbeat=heartbeat, detail="é" * detail_len)
    status = ReaderStatus.from_json(encode(body))
    assert (status.heartbeat, len(status.detail)) == (heartbeat, detail_len)


@pytest.mark.parametrize("result", list(FeedbackResult))
def test_feedback_round_trip_every_result(result: FeedbackResult) -> None:
    feedback = Feedback(id=TAP_ID, result=result, text="Entrée enregistrée ✓")
    payload = feedback.to_json()
    assert "Entrée enregistrée ✓".encode() in payload  # UTF-8, not \u escapes
    assert Feedback.from_json(payload) == feedback


def test_feedback_text_of_exactly_the_limit_is_accepted() -> None:
    text = "é" * MAX_TEXT_CHARS  # the limit counts characters, not bytes
    assert Feedback.from_json(encode(feedback_body(text=text))).text == text
    assert Feedback.from_json(encode(feedback_body(text=""))).text == ""


def test_payload_of_exactly_the_limit_is_accepted() -> None:
    payload = encode(tap_body())
    padded = payload + b" " * (MAX_PAYLOAD_BYTES - len(payload))  # JSON whitespace
    assert len(padded) == MAX_PAYLOAD_BYTES
    assert Tap.from_json(padded).id == TAP_ID


# --------------------------------------------------------------------------- timestamps


def test_format_timestamp_uses_z_for_utc_and_keeps_other_offsets() -> None:
    moment = datetime(2026, 3, 29, 1, 30, 0, 250999, tzinfo=UTC)
    assert format_timestamp(moment) == "2026-03-29T01:30:00.250Z"  # truncated to ms
    assert format_timestamp(moment.astimezone(timezone(timedelta(hours=2)))) == (
        "2026-03-29T03:30:00.250+02:00"
    )
    assert format_timestamp(
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-3, minutes=-30)))
    ) == ("2026-01-01T00:00:00.000-03:30")


def test_format_timestamp_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        format_timestamp(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-23T08:14:03.512Z", datetime(2026, 11, 23, 8, 14, 3, 512000, tzinfo=UTC)),
        ("2026-11-23T09:14:03.512+01:00", TS),
        ("2026-11-23T09:14:03+01:00", TS.replace(microsecond=0)),
    ],
)
def test_parse_timestamp_accepts_rfc3339_with_offset(text: str, expected: datetime) -> None:
    parsed = parse_timestamp(text)
    assert parsed == expected
    assert parsed.utcoffset() == expected.utcoffset()


def test_parse_timestamp_wrong_type_and_field_name_in_message() -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_timestamp(1764000000, field="since")
    assert caught.value.reason is Reason.WRONG_TYPE
    assert "since" in str(caught.value)


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-23T09:14:03.512",  # no offset
        "2026-11-23 09:14:03.512+01:00",  # space instead of T
        "2026-11-23",  # a date only
        "yesterday",  # not a date
        "2026-02-30T09:14:03.512Z",  # impossible date, well formed
        "2026-11-23T25:14:03.512Z",  # impossible hour
        "2026-11-23T09:14:03.512+1:00",  # short offset
        "2026-11-23T09:14:03.512+01:00 ",  # trailing space
        "",
    ],
)
def test_bad_timestamps_are_rejected(text: str) -> None:
    assert reason_of(Tap.from_json, encode(tap_body(ts=text))) is Reason.BAD_TIMESTAMP
    assert reason_of(ReaderStatus.from_json, encode(status_body(ts=text))) is (Reason.BAD_TIMESTAMP)


def test_naive_datetimes_are_refused_by_the_constructors() -> None:
    naive = datetime(2026, 11, 23, 9, 14)
    for build in (
        lambda: Tap(id=TAP_ID, uid=UID, ts=naive, seq=1),
        lambda: ReaderStatus(state=ReaderState.ONLINE, ts=naive),
    ):
        with pytest.raises(ProtocolError) as caught:
            build()
        assert caught.value.reason is Reason.BAD_TIMESTAMP


# --------------------------------------------------------------------------- topics


def test_topic_builders() -> None:
    assert taps_topic("paris-13", "door-1") == "campus/paris-13/readers/door-1/taps"
    assert status_topic("paris-13", "door-1") == "campus/paris-13/readers/door-1/status"
    assert feedback_topic("paris-13", "door-1") == "campus/paris-13/readers/door-1/feedback"
    assert reader_topic("c", "r", "status") == "campus/c/readers/r/status"
    assert events_topic("paris-13", "alerts") == "campus/paris-13/events/alerts"
    assert events_topic("paris-13", "occupancy") == "campus/paris-13/events/occupancy"


def test_subscriptions_match_the_topics() -> None:
    assert TAPS_SHARED_SUBSCRIPTION == "$share/ingest/" + TAPS_SUBSCRIPTION
    assert TAPS_SUBSCRIPTION == "campus/+/readers/+/taps"
    assert STATUS_SUBSCRIPTION == "campus/+/readers/+/status"


@pytest.mark.parametrize("kind", list(TopicKind))
def test_parse_reader_topic_round_trip(kind: TopicKind) -> None:
    campus, reader = "a" * 64, "door-1"
    topic = reader_topic(campus, reader, kind)
    assert parse_reader_topic(topic) == ReaderTopic(campus, reader, kind)


@pytest.mark.parametrize(
    ("campus", "reader", "kind"),
    [
        ("Paris", "door-1", "taps"),  # uppercase
        ("paris", "door_1", "taps"),  # underscore
        ("", "door-1", "taps"),  # empty
        ("a" * 65, "door-1", "taps"),  # too long
        ("paris", "door/1", "taps"),  # a slash would add a level
        ("paris", "+", "taps"),  # a wildcard
        ("paris", "door-1", "alerts"),  # not a reader topic kind
    ],
)
def test_topic_builders_refuse_bad_ids(campus: str, reader: str, kind: str) -> None:
    with pytest.raises(ValueError):
        reader_topic(campus, reader, kind)  # type: ignore[arg-type]


def test_events_topic_refuses_bad_ids() -> None:
    with pytest.raises(ValueError, match="event kind"):
        events_topic("paris", "Alerts")
    with pytest.raises(ValueError, match="campus"):
        events_topic("paris/13", "alerts")


@pytest.mark.parametrize(
    "topic",
    [
        "site/paris/readers/door-1/taps",  # wrong root
        "Campus/paris/readers/door-1/taps",  # root is case-sensitive
        "campus/Paris/readers/door-1/taps",  # uppercase campus
        "campus/paris/readers/Door-1/taps",  # uppercase reader
        f"campus/{'a' * 65}/readers/door-1/taps",  # campus id too long
        f"campus/paris/readers/{'r' * 65}/taps",  # reader id too long
        "campus/paris/readers/door-1/tap",  # unknown kind
        "campus/paris/readers/door-1/TAPS",  # kind is case-sensitive
        "campus/paris/reader/door-1/taps",  # "readers" misspelt
        "campus/paris/readers/door-1",  # too short
        "campus/paris/readers/door-1/taps/extra",  # too long
        "/campus/paris/readers/door-1/taps",  # leading slash
        "campus//readers/door-1/taps",  # empty campus
        "campus/paris/events/alerts",  # not a reader topic
        "$share/ingest/campus/paris/readers/door-1/taps",  # a filter, not a topic
        "",
    ],
)
def test_bad_topics_are_rejected(topic: str) -> None:
    assert reason_of(parse_reader_topic, topic) is Reason.BAD_TOPIC


# --------------------------------------------------------------------------- rejections

# (parser, payload, expected reason): every reason the module decides appears here.
REJECTED_PAYLOADS: list[tuple[str, bytes | str, Reason]] = [
    # size, encoding, syntax
    ("tap", b" " * (MAX_PAYLOAD_BYTES + 1), Reason.TOO_LARGE),
    ("tap", encode(tap_body()) + b" " * MAX_PAYLOAD_BYTES, Reason.TOO_LARGE),
    ("feedback", "é" * (MAX_PAYLOAD_BYTES // 2 + 1), Reason.TOO_LARGE),  # bytes, not chars
    ("tap", b"\xff\xfe{}", Reason.NOT_UTF8),
    (
        "feedback",
        json.dumps(feedback_body(text="entrée"), ensure_ascii=False).encode("latin-1"),
        Reason.NOT_UTF8,
    ),
    ("status", b"\xc3", Reason.NOT_UTF8),  # truncated multi-byte sequence
    ("tap", b"", Reason.MALFORMED_JSON),
    ("tap", b'{"v":1,', Reason.MALFORMED_JSON),
    ("tap", b"{'v': 1}", Reason.MALFORMED_JSON),
    ("tap", encode(tap_body()) + b"{}", Reason.MALFORMED_JSON),
    ("status", b"\xef\xbb\xbf" + encode(status_body()), Reason.MALFORMED_JSON),  # BOM
    ("tap", b"[]", Reason.NOT_AN_OBJECT),
    ("tap", b"[" + encode(tap_body()) + b"]", Reason.NOT_AN_OBJECT),
    ("status", b"42", Reason.NOT_AN_OBJECT),
    ("feedback", b'"in"', Reason.NOT_AN_OBJECT),
    ("feedback", b"null", Reason.NOT_AN_OBJECT),
    # version
    ("tap", encode(tap_body(v=3)), Reason.UNKNOWN_VERSION),
    ("feedback", encode(feedback_body(v=2)), Reason.UNKNOWN_VERSION),  # feedback stays v1
    ("confirm", b'{"v": 1, "ids": ["abcdefgh"]}', Reason.UNKNOWN_VERSION),  # new in v2
    ("status", encode(status_body(queued=1, oldest=TS_TEXT)), Reason.EXTRA_FIELD),  # v1
    ("status", encode(status_body(v=2, oldest=TS_TEXT)), Reason.BAD_VALUE),  # queued 0
    ("status", encode(status_body(v=2, queued=1, oldest="yesterday")), Reason.BAD_TIMESTAMP),
    ("confirm", b'{"v": 2}', Reason.MISSING_FIELD),
    ("confirm", b'{"v": 2, "ids": ["abcdefgh"], "why": 1}', Reason.EXTRA_FIELD),
    ("confirm", b'{"v": 2, "ids": "abcdefgh"}', Reason.WRONG_TYPE),
    ("confirm", b'{"v": 2, "ids": [12345678]}', Reason.WRONG_TYPE),
    ("confirm", b'{"v": 2, "ids": []}', Reason.BAD_VALUE),
    ("confirm", b'{"v": 2, "ids": ["short"]}', Reason.BAD_VALUE),
    ("confirm", json.dumps({"v": 2, "ids": [f"tap-{n:08d}" for n in range(51)]}), Reason.BAD_VALUE),
    ("tap", encode(tap_body(v=0)), Reason.UNKNOWN_VERSION),
    ("tap", encode(tap_body(v="1")), Reason.UNKNOWN_VERSION),
    ("tap", encode(tap_body(v=True)), Reason.UNKNOWN_VERSION),
    ("status", encode(status_body(v=1.0)), Reason.UNKNOWN_VERSION),
    ("feedback", encode(feedback_body(v=None)), Reason.UNKNOWN_VERSION),
    ("feedback", encode(feedback_body(v=[1])), Reason.UNKNOWN_VERSION),
    # fields
    ("tap", encode(without(tap_body(), "v")), Reason.MISSING_FIELD),
    ("tap", b"{}", Reason.MISSING_FIELD),
    ("tap", encode(tap_body(name="Alice")), Reason.EXTRA_FIELD),
    ("tap", encode(tap_body(heartbeat=60)), Reason.EXTRA_FIELD),  # a status field
    ("feedback", encode(feedback_body(clock_synced=True)), Reason.EXTRA_FIELD),
    ("status", encode(status_body(uid=UID)), Reason.EXTRA_FIELD),
    # types: JSON true is not a number, 1.0 is not an integer
    ("tap", encode(tap_body(seq=True)), Reason.WRONG_TYPE),
    ("tap", encode(tap_body(seq=1.0)), Reason.WRONG_TYPE),
    ("tap", encode(tap_body(seq="1")), Reason.WRONG_TYPE),
    ("tap", encode(tap_body(seq=None)), Reason.WRONG_TYPE),
    ("tap", b'{"v":1,"id":"abcdefgh","uid":"04a1b2c3","ts":"x","seq":NaN}', Reason.WRONG_TYPE),
    ("tap", encode(tap_body(id=12345678)), Reason.WRONG_TYPE),
    ("tap", encode(tap_body(uid=0x04A1B2C3)), Reason.WRONG_TYPE),
    ("tap", encode(tap_body(uid=["04", "a1", "b2", "c3"])), Reason.WRONG_TYPE),
    ("tap", encode(tap_body(ts=1764000000)), Reason.WRONG_TYPE),
    ("tap", encode(tap_body(clock_synced="false")), Reason.WRONG_TYPE),
    ("tap", encode(tap_body(clock_synced=0)), Reason.WRONG_TYPE),
    ("status", encode(status_body(queued=True)), Reason.WRONG_TYPE),
    ("status", encode(status_body(queued=1.5)), Reason.WRONG_TYPE),
    ("status", encode(status_body(detail=None)), Reason.WRONG_TYPE),
    ("status", encode(status_body(state=1)), Reason.WRONG_TYPE),
    ("status", encode(status_body(heartbeat=False)), Reason.WRONG_TYPE),
    ("status", encode(status_body(heartbeat=60.0)), Reason.WRONG_TYPE),
    ("status", encode(status_body(clock_synced=None)), Reason.WRONG_TYPE),
    ("feedback", encode(feedback_body(text=None)), Reason.WRONG_TYPE),
    ("feedback", encode(feedback_body(result=True)), Reason.WRONG_TYPE),
    ("feedback", encode(feedback_body(id=None)), Reason.WRONG_TYPE),
    # values
    ("tap", encode(tap_body(id="a" * 7)), Reason.BAD_VALUE),
    ("tap", encode(tap_body(id="a" * 65)), Reason.BAD_VALUE),
    ("tap", encode(tap_body(id="abc.defgh")), Reason.BAD_VALUE),
    ("tap", encode(tap_body(id="abcdéfgh")), Reason.BAD_VALUE),
    ("tap", encode(tap_body(seq=-1)), Reason.BAD_VALUE),
    ("tap", encode(tap_body(seq=2**63)), Reason.BAD_VALUE),
    ("status", encode(status_body(queued=2**64)), Reason.BAD_VALUE),
    ("status", encode(status_body(state="ONLINE")), Reason.BAD_VALUE),
    ("status", encode(status_body(state="rebooting")), Reason.BAD_VALUE),
    ("status", encode(status_body(queued=-1)), Reason.BAD_VALUE),
    ("status", encode(status_body(detail="x" * (MAX_DETAIL_CHARS + 1))), Reason.BAD_VALUE),
    ("status", encode(status_body(heartbeat=0)), Reason.BAD_VALUE),
    ("status", encode(status_body(heartbeat=3601)), Reason.BAD_VALUE),
    ("feedback", encode(feedback_body(result="ok")), Reason.BAD_VALUE),
    ("feedback", encode(feedback_body(text="x" * (MAX_TEXT_CHARS + 1))), Reason.BAD_VALUE),
    ("feedback", encode(feedback_body(id="short")), Reason.BAD_VALUE),
    # uids
    ("tap", encode(tap_body(uid="04a1b2c")), Reason.BAD_UID),  # odd length
    ("tap", encode(tap_body(uid="00000000a")), Reason.BAD_UID),  # odd, 9 digits
    ("tap", encode(tap_body(uid="00000000000000a")), Reason.BAD_UID),  # odd, 15 digits
    ("tap", encode(tap_body(uid="0000000000000000a")), Reason.BAD_UID),  # odd, 17 digits
    ("tap", encode(tap_body(uid="00000000000000000000a")), Reason.BAD_UID),  # odd, 21 digits
    ("tap", encode(tap_body(uid="04a1b2zz")), Reason.BAD_UID),  # not hex
    ("tap", encode(tap_body(uid="04:a1:b2:c3")), Reason.BAD_UID),  # separators
    ("tap", encode(tap_body(uid="0x04a1b2c3")), Reason.BAD_UID),  # prefix
    ("tap", encode(tap_body(uid="")), Reason.BAD_UID),
    ("tap", encode(tap_body(uid="04a1b2c3d4")), Reason.BAD_UID),  # 5 bytes: no such tag
    ("tap", encode(tap_body(uid="04a1b2c3d4e5")), Reason.BAD_UID),  # 6 bytes
    ("tap", encode(tap_body(uid="00" * 9)), Reason.BAD_UID),
    ("tap", encode(tap_body(uid="00" * 11)), Reason.BAD_UID),
    ("tap", encode(tap_body(uid="00" * 2)), Reason.BAD_UID),
    # timestamps (more in test_bad_timestamps_are_rejected)
    ("tap", encode(tap_body(ts="2026-11-23T09:14:03.512")), Reason.BAD_TIMESTAMP),
    ("status", encode(status_body(ts="not a date")), Reason.BAD_TIMESTAMP),
]

# Reasons that only the server decides (they need a clock, the registry or the store).
SERVER_REASONS = {
    Reason.RETAINED,
    Reason.TS_IN_FUTURE,
    Reason.TS_TOO_OLD,
    Reason.UNKNOWN_READER,
    Reason.ID_CONFLICT,
}


@pytest.mark.parametrize(
    ("kind", "payload", "expected"),
    REJECTED_PAYLOADS,
    ids=[f"{kind}-{reason.value}-{n}" for n, (kind, _, reason) in enumerate(REJECTED_PAYLOADS)],
)
def test_rejected_payloads(kind: str, payload: bytes | str, expected: Reason) -> None:
    assert reason_of(PARSERS[kind], payload) is expected


def test_every_message_reason_is_reached_by_a_payload() -> None:
    reached = {reason for _, _, reason in REJECTED_PAYLOADS} | {Reason.BAD_TOPIC}
    assert reached == set(Reason) - SERVER_REASONS


def test_reason_codes_are_stable() -> None:
    """Codes are counters' labels and dead-letter keys: renaming one breaks dashboards."""
    assert {reason.name: reason.value for reason in Reason} == {
        "TOO_LARGE": "too_large",
        "NOT_UTF8": "not_utf8",
        "MALFORMED_JSON": "malformed_json",
        "NOT_AN_OBJECT": "not_an_object",
        "UNKNOWN_VERSION": "unknown_version",
        "MISSING_FIELD": "missing_field",
        "EXTRA_FIELD": "extra_field",
        "WRONG_TYPE": "wrong_type",
        "BAD_VALUE": "bad_value",
        "BAD_UID": "bad_uid",
        "BAD_TIMESTAMP": "bad_timestamp",
        "BAD_TOPIC": "bad_topic",
        "TS_IN_FUTURE": "ts_in_future",
        "TS_TOO_OLD": "ts_too_old",
        "UNKNOWN_READER": "unknown_reader",
        "ID_CONFLICT": "id_conflict",
        "RETAINED": "retained",
    }


REQUIRED_FIELDS = [
    (kind, field)
    for kind, fields in {
        "tap": ["v", "id", "uid", "ts", "seq"],
        "status": ["v", "state", "ts", "queued", "detail"],
        "feedback": ["v", "id", "result", "text"],
    }.items()
    for field in fields
]


@pytest.mark.parametrize(("kind", "field"), REQUIRED_FIELDS)
def test_each_required_field_is_required(kind: str, field: str) -> None:
    body = BODIES[kind]()
    assert field in body
    reason = reason_of(PARSERS[kind], encode(without(body, field)))
    assert reason is Reason.MISSING_FIELD


def test_missing_fields_are_reported_before_wrong_types() -> None:
    payload = encode({"v": 1, "id": 5, "ts": TS_TEXT, "seq": 1})  # uid missing, id wrong
    with pytest.raises(ProtocolError) as caught:
        Tap.from_json(payload)
    assert caught.value.reason is Reason.MISSING_FIELD
    assert "uid" in str(caught.value)


def test_protocol_error_is_a_value_error_with_a_reason() -> None:
    with pytest.raises(ValueError) as caught:
        Tap.from_json(b"[]")
    assert isinstance(caught.value, ProtocolError)
    assert isinstance(caught.value.reason, Reason)


@pytest.mark.parametrize(
    "body",
    [
        tap_body(uid="04a1b2c3d4e5f"),  # odd length
        tap_body(uid="04a1b2c3d4e5f6a1b2c3d4"),  # 11 bytes
        tap_body(uid="04A1B2C3D4E5F6A1B2C3", ts="not a date"),
        tap_body(uid="04a1b2c3d4e5f6a1", seq=-5),
        tap_body(uid="04a1b2c3d4e5f6a1", clock_synced="04a1b2c3d4e5f6a1"),
    ],
)
def test_error_messages_never_repeat_the_uid(body: dict[str, Any]) -> None:
    with pytest.raises(ProtocolError) as caught:
        Tap.from_json(encode(body))
    assert body["uid"].lower() not in str(caught.value).lower()


def test_error_messages_stay_short_on_huge_values() -> None:
    body = tap_body()
    body.update({f"k{i:03}" + "x" * 40: 1 for i in range(40)})
    with pytest.raises(ProtocolError) as caught:
        Tap.from_json(encode(body))
    assert caught.value.reason is Reason.EXTRA_FIELD
    assert len(str(caught.value)) < 200


def test_constructors_validate_like_the_parsers() -> None:
    cases: list[tuple[Callable[[], object], Reason]] = [
        (lambda: Tap(id="short", uid=UID, ts=TS, seq=1), Reason.BAD_VALUE),
        (lambda: Tap(id=TAP_ID, uid="abc", ts=TS, seq=1), Reason.BAD_UID),
        (lambda: Tap(id=TAP_ID, uid=UID, ts=TS, seq=-1), Reason.BAD_VALUE),
        (lambda: ReaderStatus(state=ReaderState.ONLINE, ts=TS, queued=-1), Reason.BAD_VALUE),
        (lambda: ReaderStatus(state=ReaderState.ONLINE, ts=TS, heartbeat=0), Reason.BAD_VALUE),
        (lambda: Feedback(id=TAP_ID, result=FeedbackResult.IN, text="x" * 65), Reason.BAD_VALUE),
        (lambda: Feedback(id="bad id!", result=FeedbackResult.IN), Reason.BAD_VALUE),
    ]
    for build, expected in cases:
        with pytest.raises(ProtocolError) as caught:
            build()
        assert caught.value.reason is expected


def test_messages_are_frozen() -> None:
    tap = Tap(id=TAP_ID, uid=UID, ts=TS, seq=1)
    with pytest.raises(AttributeError):
        tap.seq = 2  # type: ignore[misc]


# --------------------------------------------------------------------------- properties

# Whole-minute offsets: RFC 3339 has no seconds in offsets (others are refused).
offsets = st.integers(min_value=-(24 * 60 - 1), max_value=24 * 60 - 1).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)
aware_datetimes = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=offsets
)
tap_ids = st.from_regex(r"[A-Za-z0-9_-]{8,64}", fullmatch=True)
uids = st.sampled_from(sorted(UID_BYTE_LENGTHS)).flatmap(
    lambda size: st.binary(min_size=size, max_size=size).map(bytes.hex)
)
taps = st.builds(
    Tap,
    id=tap_ids,
    uid=uids,
    ts=aware_datetimes,
    seq=st.integers(min_value=0, max_value=MAX_INT64),
    clock_synced=st.booleans(),
)


def _to_ms(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


@given(taps)
def test_any_valid_tap_survives_a_round_trip(tap: Tap) -> None:
    payload = tap.to_json()
    assert len(payload) <= MAX_PAYLOAD_BYTES
    parsed = Tap.from_json(payload)
    expected = Tap(
        id=tap.id, uid=tap.uid, ts=_to_ms(tap.ts), seq=tap.seq, clock_synced=tap.clock_synced
    )
    assert parsed == expected
    assert parsed.ts.utcoffset() == tap.ts.utcoffset()  # the reader's offset is kept
    assert Tap.from_json(parsed.to_json()) == parsed  # stable after one trip


def _outcome(parse: Callable[[bytes], Tap], payload: bytes) -> tuple[Any, ...]:
    """What a tap parser makes of a payload: the tap with the fields equality leaves out,
    or the refusal's reason."""
    try:
        tap = parse(payload)
    except ProtocolError as error:
        return ("refused", error.reason)
    return (tap, tap.version, tap.ts.utcoffset(), type(tap.uid), type(tap.seq))


@given(taps, st.sampled_from(sorted(protocol.READABLE_VERSIONS)))
def test_a_tap_written_as_the_doors_write_it_is_read_by_the_canonical_path(
    tap: Tap, version: int
) -> None:
    """Tap.from_json reads the doors' own spelling without the JSON decoder (issue 16):
    the same tap, version and offset as the general path, for every valid tap."""
    payload = replace(tap, version=version).to_json()
    fast = Tap._from_canonical_json(payload)
    assert fast is not None
    assert _outcome(lambda _: fast, payload) == _outcome(Tap._from_any_json, payload)


@settings(max_examples=500)
@given(taps, st.integers(min_value=0), st.binary(min_size=1, max_size=3))
def test_a_changed_canonical_tap_reads_as_the_general_path_reads_it(
    tap: Tap, position: int, replacement: bytes
) -> None:
    """Bytes of a door's payload replaced: whatever the canonical path accepts, the
    general path accepts as the same tap; the rest it leaves to the general path, which
    says why it refuses (one outcome, whichever path reads it)."""
    payload = tap.to_json()
    at = position % len(payload)
    changed = payload[:at] + replacement + payload[at + len(replacement) :]
    assert _outcome(Tap.from_json, changed) == _outcome(Tap._from_any_json, changed)


CANONICAL = (
    b'{"v":2,"id":"0190f3a2b4c5d6e7f8a9b0c1d2e3f4a5","uid":"04a1b2c3d4e5f6",'
    b'"ts":"2026-11-23T09:14:03.512+01:00","seq":5}'
)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"04a1b2c3d4e5f6", b"04A1B2C3D4E5F6"),  # uppercase: lowered by the general path
        (b"04a1b2c3d4e5f6", b"04a1b2c3d4"),  # 5 bytes: no real tag's
        (b'"seq":5', b'"seq":9223372036854775808'),  # past 2**63 - 1
        (b'"seq":5', b'"seq":05'),  # not JSON
        (b'"seq":5', b'"seq":5,"clock_synced":true'),  # true is the default: not written
        (b'"seq":5', b'"seq":5,"clock_synced":false'),  # read by the canonical path
        (b"2026-11-23", b"2026-02-30"),  # no such day
        (b"+01:00", b"+24:00"),  # no such offset
        (b'"v":2', b'"v":3'),  # unknown version
        (b'"v":2,', b'"v":2, '),  # spacing
        (b'"seq":5}', b'"seq":5,"seq":6}'),  # a key twice: the last one, as JSON reads it
    ],
)
def test_every_other_spelling_of_a_tap_reads_as_the_general_path_reads_it(
    old: bytes, new: bytes
) -> None:
    payload = CANONICAL.replace(old, new)
    assert payload != CANONICAL
    assert _outcome(Tap.from_json, payload) == _outcome(Tap._from_any_json, payload)
    canonical = Tap._from_canonical_json(payload)
    if canonical is not None:  # only the doors' spelling: clock_synced false
        assert new == b'"seq":5,"clock_synced":false' and canonical.clock_synced is False


@given(
    st.builds(
        ReaderStatus,
        state=st.sampled_from(list(ReaderState)),
        ts=aware_datetimes.map(_to_ms),
        queued=st.integers(min_value=0, max_value=10**9),
        detail=st.text(max_size=MAX_DETAIL_CHARS),
        clock_synced=st.booleans(),
        heartbeat=st.integers(min_value=1, max_value=3600),
    )
)
def test_any_valid_status_survives_a_round_trip(status: ReaderStatus) -> None:
    payload = status.to_json()
    assert len(payload) <= MAX_PAYLOAD_BYTES
    assert ReaderStatus.from_json(payload) == status


@given(
    st.builds(
        Feedback,
        id=tap_ids,
        result=st.sampled_from(list(FeedbackResult)),
        text=st.text(max_size=MAX_TEXT_CHARS),
    )
)
def test_any_valid_feedback_survives_a_round_trip(feedback: Feedback) -> None:
    payload = feedback.to_json()
    assert len(payload) <= MAX_PAYLOAD_BYTES
    assert Feedback.from_json(payload) == feedback


def _only_protocol_errors(parse: Parser, payload: bytes | str) -> None:
    try:
        parse(payload)
    except ProtocolError as error:
        assert isinstance(error.reason, Reason)
        assert error.reason not in SERVER_REASONS


@settings(max_examples=300)
@given(st.sampled_from(list(PARSERS.values())), st.binary(max_size=MAX_PAYLOAD_BYTES + 16))
def test_arbitrary_bytes_raise_only_protocol_errors(parse: Parser, payload: bytes) -> None:
    _only_protocol_errors(parse, payload)


@given(st.sampled_from(list(PARSERS.values())), st.text(max_size=200))
def test_arbitrary_text_raises_only_protocol_errors(parse: Parser, payload: str) -> None:
    _only_protocol_errors(parse, payload)  # lone surrogates: tested below


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
FIELD_NAMES = ["v", "id", "uid", "ts", "seq", "clock_synced", "state", "queued", "detail"]
FIELD_NAMES += ["heartbeat", "result", "text", "name"]


@settings(max_examples=300)
@given(
    st.sampled_from(list(BODIES)),
    st.dictionaries(st.sampled_from(FIELD_NAMES), json_values, max_size=4),
    st.lists(st.sampled_from(FIELD_NAMES), max_size=2),
)
def test_mutated_messages_parse_or_raise_protocol_errors(
    kind: str, changes: dict[str, Any], removed: list[str]
) -> None:
    """Valid bodies with fields replaced by arbitrary JSON values or removed."""
    body = BODIES[kind](**changes)
    for field in removed:
        body.pop(field, None)
    payload = encode(body)
    try:
        message = PARSERS[kind](payload)
    except ProtocolError as error:
        assert error.reason not in SERVER_REASONS
        if kind == "tap" and isinstance(body.get("uid"), str) and len(body["uid"]) >= 8:
            assert body["uid"].lower() not in str(error).lower()
    else:
        assert type(message).from_json(message.to_json()) == message


@given(st.text(max_size=120))
def test_arbitrary_topics_raise_only_protocol_errors(topic: str) -> None:
    try:
        parsed = parse_reader_topic(topic)
    except ProtocolError as error:
        assert error.reason is Reason.BAD_TOPIC
    else:
        assert reader_topic(parsed.campus, parsed.reader, parsed.kind) == topic


@given(
    st.from_regex(r"[a-z0-9-]{1,64}", fullmatch=True),
    st.from_regex(r"[a-z0-9-]{1,64}", fullmatch=True),
    st.sampled_from(list(TopicKind)),
)
def test_any_valid_topic_round_trips(campus: str, reader: str, kind: TopicKind) -> None:
    assert parse_reader_topic(reader_topic(campus, reader, kind)) == ReaderTopic(
        campus, reader, kind
    )


# --------------------------------------------------------------------------- hostile input
# Each of these was a defect these tests found (first pinned as strict xfails, then fixed
# in edge/protocol.py): they stay as regression tests.


@pytest.mark.parametrize("parse", list(PARSERS.values()), ids=list(PARSERS))
@pytest.mark.parametrize(
    ("prefix", "suffix"), [(b"", b""), (b'{"v":1,"id":', b"}")], ids=["bare", "in-a-field"]
)
def test_deeply_nested_json_is_malformed_not_a_crash(
    parse: Parser, prefix: bytes, suffix: bytes
) -> None:
    """json.loads raises RecursionError past ~1000 levels, which fit in 4096 bytes: it
    escaped ProtocolError and made the ingest retry one payload forever."""
    depth = (MAX_PAYLOAD_BYTES - len(prefix) - len(suffix)) // 2
    payload = prefix + b"[" * depth + b"]" * depth + suffix
    assert len(payload) <= MAX_PAYLOAD_BYTES
    assert reason_of(parse, payload) is Reason.MALFORMED_JSON


def test_str_payload_with_a_lone_surrogate_is_not_utf8() -> None:
    assert reason_of(Tap.from_json, '{"v":1,"id":"\ud800"}') is Reason.NOT_UTF8


@pytest.mark.parametrize(
    "offset",
    [timedelta(minutes=9, seconds=21), timedelta(hours=-1, microseconds=1)],
    ids=["paris-lmt", "microseconds"],
)
def test_offsets_that_rfc3339_cannot_write_are_refused_on_construction(
    offset: timedelta,
) -> None:
    """zoneinfo gives offsets with seconds for old dates (Europe/Paris before 1911):
    format_timestamp wrote them as +00:09:21, which parse_timestamp refuses."""
    moment = datetime(1900, 1, 1, tzinfo=timezone(offset))
    for build in (
        lambda: Tap(id=TAP_ID, uid=UID, ts=moment, seq=1),
        lambda: ReaderStatus(state=ReaderState.ONLINE, ts=moment),
    ):
        with pytest.raises(ProtocolError) as caught:
            build()
        assert caught.value.reason is Reason.BAD_TIMESTAMP


def test_uppercase_uid_is_normalised_by_the_constructor() -> None:
    """One spelling per badge, so its keyed hash is the same whichever way the Tap was
    made (built in process, or received over MQTT)."""
    tap = Tap(id=TAP_ID, uid=UID.upper(), ts=TS, seq=1)
    assert tap.uid == UID
    assert Tap.from_json(tap.to_json()) == tap
    assert tap == Tap(id=TAP_ID, uid=UID, ts=TS, seq=1)


@pytest.mark.parametrize(
    ("kind", "field"), [("tap", "seq"), ("status", "queued")], ids=["seq", "queued"]
)
def test_counters_are_signed_64_bit_integers(kind: str, field: str) -> None:
    """InfluxDB and SQLite store them as int64: a larger value passed the contract and
    then failed the store write."""
    largest = PARSERS[kind](encode(BODIES[kind](**{field: MAX_INT64})))
    assert getattr(largest, field) == MAX_INT64
    too_large = encode(BODIES[kind](**{field: MAX_INT64 + 1}))
    assert reason_of(PARSERS[kind], too_large) is Reason.BAD_VALUE


def _imported(path: Path) -> set[str]:
    """Dotted names of what a module imports (``from edge import x`` gives ``edge.x``)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            module = "." * node.level + (node.module or "")
            if module == "edge":
                names |= {f"edge.{alias.name}" for alias in node.names}
            else:
                names.add(module)
    return names


def test_module_imports_only_the_standard_library() -> None:
    """The edge agent installs it without the server's dependencies: the contract and
    the edge modules it imports use the standard library only."""
    folder = Path(protocol.__file__).parent
    pending, seen, outside = ["protocol"], set(), set()
    while pending:
        name = pending.pop()
        seen.add(name)
        for imported in _imported(folder / f"{name}.py"):
            if imported.startswith("edge."):
                local = imported.removeprefix("edge.")
                pending += [] if local in seen else [local]
            else:
                outside.add(imported.split(".")[0])
    assert {"protocol", "protocol_checks"} <= seen
    assert outside - {"__future__"} <= sys.stdlib_module_names
