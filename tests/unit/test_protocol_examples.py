"""``docs/protocol.md`` cannot drift from ``edge/protocol.py``.

Each JSON example in the page follows a marker comment::

    <!-- example: tap topic=campus/paris-13/readers/door-1/taps -->
    <!-- example: tap invalid=bad_uid -->
    <!-- example: confirm topic=campus/paris-13/readers/door-1/confirm -->
    <!-- example: event topic=campus/paris-13/events/alerts -->

Valid tap, status and feedback examples must parse with the matching class and be exactly
what that class writes back; invalid ones must be refused with the reason they name. The
field tables, the reason tables and the limits quoted in the text are checked too.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from edge.protocol import (
    MAX_DETAIL_CHARS,
    MAX_INT64,
    MAX_PAYLOAD_BYTES,
    MAX_TEXT_CHARS,
    STATUS_SUBSCRIPTION,
    TAPS_SHARED_SUBSCRIPTION,
    UID_BYTE_LENGTHS,
    Confirmation,
    Feedback,
    FeedbackResult,
    ProtocolError,
    ReaderState,
    ReaderStatus,
    Reason,
    Tap,
    TopicKind,
    events_topic,
    parse_reader_topic,
    parse_timestamp,
)

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"

MESSAGES: dict[str, type[Tap] | type[ReaderStatus] | type[Feedback] | type[Confirmation]] = {
    "tap": Tap,
    "status": ReaderStatus,
    "feedback": Feedback,
    "confirm": Confirmation,
}
KINDS = {
    "tap": TopicKind.TAPS,
    "status": TopicKind.STATUS,
    "feedback": TopicKind.FEEDBACK,
    "confirm": TopicKind.CONFIRM,
}

_MARKER = re.compile(
    r"<!--\s*example:\s*(?P<kind>[a-z]+)(?P<attrs>(?:\s+[a-z_]+=\S+)*)\s*-->\n"
    r"```json\n(?P<body>.*?)\n```",
    re.DOTALL,
)
_ATTR = re.compile(r"([a-z_]+)=(\S+)")
_TABLE_CODE = re.compile(r"^\|\s*`([a-z0-9_]+)`", re.MULTILINE)
PERSONAL_KEYS = {"name", "first_name", "last_name", "email", "phone", "uid", "badge"}


@dataclass(frozen=True)
class Example:
    kind: str
    attrs: dict[str, str]
    body: str
    line: int

    @property
    def id(self) -> str:
        label = self.attrs.get("invalid", "valid")
        return f"{self.kind}-{label}-line{self.line}"

    @property
    def payload(self) -> bytes:
        return self.body.encode()


def _doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _examples() -> list[Example]:
    text = _doc()
    return [
        Example(
            kind=match["kind"],
            attrs=dict(_ATTR.findall(match["attrs"])),
            body=match["body"],
            line=text.count("\n", 0, match.start()) + 1,
        )
        for match in _MARKER.finditer(text)
    ]


EXAMPLES = _examples()
VALID = [e for e in EXAMPLES if e.kind in MESSAGES and "invalid" not in e.attrs]
INVALID = [e for e in EXAMPLES if e.kind in MESSAGES and "invalid" in e.attrs]
EVENTS = [e for e in EXAMPLES if e.kind == "event"]


def _section(title: str) -> str:
    """The text of the ``## title`` section (up to the next level-2 heading)."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", _doc(), re.M | re.S)
    assert match, f"docs/protocol.md has no section '## {title}'"
    return match[1]


def _first_table_codes(section: str) -> list[str]:
    table = re.search(r"^\|.*?(?=\n[^|]|\Z)", section, re.M | re.S)
    assert table, "no table in section"
    return _TABLE_CODE.findall(table[0])


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


# --------------------------------------------------------------------------- structure


def test_every_json_block_is_a_checked_example() -> None:
    blocks = _doc().count("```json")
    assert blocks == len(EXAMPLES), "a ```json block lacks its <!-- example: … --> marker"
    assert {e.kind for e in EXAMPLES} <= {*MESSAGES, "event"}
    assert VALID and INVALID and EVENTS


def test_examples_cover_every_message_variant() -> None:
    parsed = {kind: [] for kind in MESSAGES}
    for example in VALID:
        parsed[example.kind].append(MESSAGES[example.kind].from_json(example.payload))
    assert any(tap.clock_synced for tap in parsed["tap"])
    assert any(not tap.clock_synced for tap in parsed["tap"])
    assert {status.state for status in parsed["status"]} == set(ReaderState)
    assert {feedback.result for feedback in parsed["feedback"]} == set(FeedbackResult)
    assert {tap.version for tap in parsed["tap"]} == {1, 2}  # version 1 is still read
    assert {status.version for status in parsed["status"]} == {1, 2}
    assert any(status.oldest is not None for status in parsed["status"])
    assert any(len(confirmation.ids) > 1 for confirmation in parsed["confirm"])


# --------------------------------------------------------------------------- messages


@pytest.mark.parametrize("example", VALID, ids=[e.id for e in VALID])
def test_valid_example_parses_and_is_canonical(example: Example) -> None:
    cls = MESSAGES[example.kind]
    message = cls.from_json(example.payload)
    assert len(example.payload) <= MAX_PAYLOAD_BYTES
    # Exactly what the code writes: no optional field sent with its default value.
    assert message.to_dict() == json.loads(example.body)
    topic = example.attrs.get("topic")
    assert topic, "valid examples name their topic"
    assert parse_reader_topic(topic).kind is KINDS[example.kind]


@pytest.mark.parametrize("example", INVALID, ids=[e.id for e in INVALID])
def test_invalid_example_fails_with_the_documented_reason(example: Example) -> None:
    expected = Reason(example.attrs["invalid"])
    json.loads(example.body)  # valid JSON: each invalid example shows one mistake
    with pytest.raises(ProtocolError) as caught:
        MESSAGES[example.kind].from_json(example.payload)
    assert caught.value.reason is expected


@pytest.mark.parametrize(
    ("title", "cls"),
    [
        ("Tap", Tap),
        ("Reader status", ReaderStatus),
        ("Confirmation", Confirmation),
        ("Feedback", Feedback),
    ],
)
def test_field_tables_list_exactly_the_message_fields(title: str, cls: type) -> None:
    documented = _first_table_codes(_section(title))
    assert documented[0] == "v"
    fields = {field.name for field in dataclasses.fields(cls)} - {"version"}  # it is `v`
    assert set(documented) == {"v"} | fields


# --------------------------------------------------------------------------- events


@pytest.mark.parametrize("example", EVENTS, ids=[e.id for e in EVENTS])
def test_event_example_follows_the_v1_shape(example: Example) -> None:
    body = json.loads(example.body)
    topic = example.attrs["topic"]
    kind = topic.rsplit("/", 1)[-1]
    assert topic == events_topic(body["campus"], kind)
    assert body["v"] == 1
    parse_timestamp(body["ts"])
    assert not PERSONAL_KEYS & set(_keys(body)), "events carry no personal data"
    assert len(example.payload) <= MAX_PAYLOAD_BYTES
    if kind == "occupancy":
        assert set(body) == {"v", "ts", "campus", "room", "count", "capacity"}
        assert body["room"] is None or isinstance(body["room"], str)
        assert isinstance(body["count"], int) and body["count"] >= 0
    else:
        assert kind == "alerts"
        assert body["kind"] in {"absence", "shortfall", "capacity", "reader_down"}
        assert body["state"] in {"raised", "resolved"}
        assert re.fullmatch(r"[A-Za-z0-9_-]{8,64}", body["id"])


def test_every_alert_kind_has_an_example() -> None:
    kinds = {json.loads(e.body)["kind"] for e in EVENTS if e.attrs["topic"].endswith("/alerts")}
    assert kinds == {"absence", "shortfall", "capacity", "reader_down"}
    rooms = [json.loads(e.body)["room"] for e in EVENTS if e.attrs["topic"].endswith("/occupancy")]
    assert None in rooms and any(isinstance(room, str) for room in rooms)


# --------------------------------------------------------------------------- text


def test_reason_tables_list_exactly_the_reason_codes() -> None:
    documented = _TABLE_CODE.findall(_section("Rejections"))
    assert sorted(documented) == sorted(reason.value for reason in Reason)


def test_limits_quoted_in_the_text_are_the_module_constants() -> None:
    text = _doc()
    sizes = sorted(UID_BYTE_LENGTHS)
    uid_sizes = ", ".join(str(size) for size in sizes[:-1]) + f" or {sizes[-1]} bytes"
    for phrase in [
        f"at most {MAX_PAYLOAD_BYTES} bytes",
        f"over {MAX_PAYLOAD_BYTES} bytes",
        f"at most {MAX_TEXT_CHARS} characters",
        f"longer than {MAX_TEXT_CHARS} characters",
        f"at most {MAX_DETAIL_CHARS} characters",
        f"0 to {MAX_INT64} (signed 64-bit)",
        uid_sizes,
        f"`{TAPS_SHARED_SUBSCRIPTION}`",
        f"`$share/ingest/{STATUS_SUBSCRIPTION}`",
    ]:
        assert phrase in text, f"docs/protocol.md should say {phrase!r}"


def test_topics_table_names_every_reader_topic_kind() -> None:
    topics = re.findall(r"`(campus/\{campus\}/[^`]+)`", _section("Topics"))
    kinds = {topic.rsplit("/", 1)[-1] for topic in topics if "/readers/" in topic}
    assert kinds == {kind.value for kind in TopicKind}
