"""The MQTT contract between door readers and the server, version 2 (reads version 1 too).

One dependency-free module (standard library only) imported by both the edge agent and
the server, so that both sides parse, validate and serialise messages the same way.
Every parser raises :class:`ProtocolError` with a stable ``reason`` code (used for
counters and dead-letter records) and a message that never contains personal data
(badge UIDs are not repeated back).

Topics::

    campus/{campus}/readers/{reader}/taps       reader -> server, QoS 1
    campus/{campus}/readers/{reader}/status     reader -> server, QoS 1, retained
    campus/{campus}/readers/{reader}/feedback   server -> reader, QoS 1
    campus/{campus}/readers/{reader}/confirm    server -> reader, QoS 1 (v2)
    campus/{campus}/events/{kind}               server -> integrations

See ``docs/protocol.md`` for an example of every message.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from edge import protocol_checks as _checks

# The checks live in edge/protocol_checks.py; these names are part of this module's API.
Reason = _checks.Reason
ProtocolError = _checks.ProtocolError
MAX_INT64 = _checks.MAX_INT64
UID_BYTE_LENGTHS = _checks.UID_BYTE_LENGTHS

VERSION = 2  # what this code publishes (taps, statuses, confirmations)
FEEDBACK_VERSION = 1  # feedback stays v1: doors of version 1 read it too
READABLE_VERSIONS = frozenset({1, 2})  # taps and statuses of either version are accepted
MAX_CONFIRM_IDS = 50  # ids in one confirmation: 50 * 67 bytes stay under 4096
MAX_PAYLOAD_BYTES = 4096
TOPIC_ROOT = "campus"
TAPS_SHARED_SUBSCRIPTION = "$share/ingest/campus/+/readers/+/taps"
TAPS_SUBSCRIPTION = "campus/+/readers/+/taps"
CONFIRM_SUBSCRIPTION = "campus/+/readers/+/confirm"
STATUS_SUBSCRIPTION = "campus/+/readers/+/status"
MAX_TEXT_CHARS = 64
MAX_DETAIL_CHARS = 200

_ID = re.compile(r"[a-z0-9-]{1,64}")
_TAP_ID = re.compile(r"[A-Za-z0-9_-]{8,64}")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?(Z|[+-]\d{2}:\d{2})")
# A tap exactly as :meth:`Tap.to_json` writes it (compact, keys in this order, lowercase
# UID, no escapes): what the doors send. :meth:`Tap.from_json` reads it without the JSON
# decoder and the field-by-field checks (issue 16: the ingest's most frequent call);
# anything else (other spacing or key order, escapes, ``"clock_synced":true``, a value
# out of range) is read by the general path, which says why it is refused.
_CANONICAL_TAP = re.compile(
    rb'\{"v":(' + "|".join(map(str, sorted(READABLE_VERSIONS))).encode() + rb"),"
    rb'"id":"([A-Za-z0-9_-]{8,64})",'
    rb'"uid":"((?:[0-9a-f]{2})+)",'
    rb'"ts":"([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(?:\.[0-9]{1,6})?'
    rb'(?:Z|[+-][0-9]{2}:[0-9]{2}))",'
    rb'"seq":(0|[1-9][0-9]{0,18})'
    rb'(,"clock_synced":false)?\}'
)


class TopicKind(StrEnum):
    TAPS = "taps"
    STATUS = "status"
    FEEDBACK = "feedback"
    CONFIRM = "confirm"


class ReaderState(StrEnum):
    ONLINE = "online"
    OFFLINE = "offline"
    DEGRADED = "degraded"


class FeedbackResult(StrEnum):
    IN = "in"
    OUT = "out"
    UNKNOWN_BADGE = "unknown_badge"
    REJECTED = "rejected"


# --------------------------------------------------------------------------- topics


def is_valid_id(value: str) -> bool:
    """Campus and reader ids: ``[a-z0-9-]{1,64}``."""
    return isinstance(value, str) and _ID.fullmatch(value) is not None


def _check_id(value: str, what: str) -> str:
    if not is_valid_id(value):
        raise ValueError(f"{what} id must match [a-z0-9-]{{1,64}}, got {value!r}")
    return value


def reader_topic(campus: str, reader: str, kind: TopicKind) -> str:
    _check_id(campus, "campus")
    _check_id(reader, "reader")
    return f"{TOPIC_ROOT}/{campus}/readers/{reader}/{TopicKind(kind).value}"


def taps_topic(campus: str, reader: str) -> str:
    return reader_topic(campus, reader, TopicKind.TAPS)


def status_topic(campus: str, reader: str) -> str:
    return reader_topic(campus, reader, TopicKind.STATUS)


def feedback_topic(campus: str, reader: str) -> str:
    return reader_topic(campus, reader, TopicKind.FEEDBACK)


def confirm_topic(campus: str, reader: str) -> str:
    return reader_topic(campus, reader, TopicKind.CONFIRM)


def events_topic(campus: str, kind: str) -> str:
    _check_id(campus, "campus")
    _check_id(kind, "event kind")
    return f"{TOPIC_ROOT}/{campus}/events/{kind}"


@dataclass(frozen=True, slots=True)
class ReaderTopic:
    campus: str
    reader: str
    kind: TopicKind


def parse_reader_topic(topic: str) -> ReaderTopic:
    """``campus/{campus}/readers/{reader}/{kind}`` -> :class:`ReaderTopic`."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[0] != TOPIC_ROOT or parts[2] != "readers":
        raise ProtocolError(Reason.BAD_TOPIC, "topic is not campus/{campus}/readers/{reader}/…")
    _, campus, _, reader, kind = parts
    if not is_valid_id(campus) or not is_valid_id(reader):
        raise ProtocolError(Reason.BAD_TOPIC, "campus or reader id in topic is malformed")
    try:
        topic_kind = TopicKind(kind)
    except ValueError:
        raise ProtocolError(Reason.BAD_TOPIC, f"unknown topic kind {kind[:20]!r}") from None
    return ReaderTopic(campus, reader, topic_kind)


# --------------------------------------------------------------------------- time


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 with milliseconds and the moment's own offset (aware datetimes only)."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware")
    text = moment.isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z") if moment.utcoffset() == timedelta(0) else text


def parse_timestamp(text: Any, field: str = "ts") -> datetime:
    if not isinstance(text, str):
        raise ProtocolError(Reason.WRONG_TYPE, f"{field} must be a string")
    if _RFC3339.fullmatch(text) is None:
        raise ProtocolError(
            Reason.BAD_TIMESTAMP,
            f"{field} must be RFC 3339 with an offset, e.g. 2026-11-23T09:14:03.512+01:00",
        )
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise ProtocolError(Reason.BAD_TIMESTAMP, f"{field} is not a real date and time") from None


# --------------------------------------------------------------------------- messages


@dataclass(frozen=True, slots=True)
class Tap:
    """A badge tap as the reader publishes it. ``uid`` is the raw tag UID (lowercase hex):
    personal data that the server replaces by a keyed hash before storing anything."""

    id: str
    uid: str
    ts: datetime
    seq: int
    clock_synced: bool = True
    # 2: the reader waits for a confirmation; 1: an old reader. Same tap either way.
    version: int = field(default=VERSION, compare=False)

    def __post_init__(self) -> None:
        _check_version(self.version, READABLE_VERSIONS)
        if _TAP_ID.fullmatch(self.id) is None:
            raise ProtocolError(Reason.BAD_VALUE, "id must match [A-Za-z0-9_-]{8,64}")
        _checks.check_uid(self.uid)
        object.__setattr__(self, "uid", self.uid.lower())  # one spelling, one badge hash
        _checks.check_timestamp(self.ts)
        _checks.check_count(self.seq, "seq")

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "v": self.version,
            "id": self.id,
            "uid": self.uid,
            "ts": format_timestamp(self.ts),
            "seq": self.seq,
        }
        if not self.clock_synced:
            body["clock_synced"] = False
        return body

    def to_json(self) -> bytes:
        return _dump(self.to_dict())

    @classmethod
    def from_json(cls, payload: bytes | str) -> Tap:
        if type(payload) is bytes:
            tap = cls._from_canonical_json(payload)
            if tap is not None:
                return tap
        return cls._from_any_json(payload)

    @classmethod
    def _from_canonical_json(cls, payload: bytes) -> Tap | None:
        """The tap of a payload written as the doors write it (``_CANONICAL_TAP``), with
        every check of :meth:`_from_any_json` and ``__post_init__`` made by the pattern or
        here; None for any other payload (the general path reads it). The same Tap: tested
        against the general path (tests/unit/test_protocol.py)."""
        found = _CANONICAL_TAP.fullmatch(payload)
        if found is None:
            return None
        version, tap_id, uid, ts, seq, unsynced = found.groups()
        number = int(seq)
        if len(uid) // 2 not in UID_BYTE_LENGTHS or number > MAX_INT64:
            return None
        try:
            moment = datetime.fromisoformat(ts.decode())
        except ValueError:
            return None  # not a real date: the general path says so
        # Aware, with an offset of whole minutes (the pattern's): every check of
        # __post_init__ is made, so not made twice.
        tap = object.__new__(cls)
        set_field = object.__setattr__  # frozen: as the dataclass's own __init__ does
        set_field(tap, "id", tap_id.decode())
        set_field(tap, "uid", uid.decode())
        set_field(tap, "ts", moment)
        set_field(tap, "seq", number)
        set_field(tap, "clock_synced", unsynced is None)
        set_field(tap, "version", int(version))
        return tap

    @classmethod
    def _from_any_json(cls, payload: bytes | str) -> Tap:
        body = _load(payload, READABLE_VERSIONS)
        _checks.check_fields(body, required={"id", "uid", "ts", "seq"}, optional={"clock_synced"})
        tap_id = _checks.typed(body, "id", str)
        uid = _checks.typed(body, "uid", str)
        seq = _checks.typed(body, "seq", int)
        clock_synced = _checks.typed(body, "clock_synced", bool) if "clock_synced" in body else True
        return cls(
            id=tap_id,
            uid=uid,
            ts=parse_timestamp(body["ts"]),
            seq=seq,
            clock_synced=clock_synced,
            version=body["v"],
        )


@dataclass(frozen=True, slots=True)
class ReaderStatus:
    """Retained status of a reader, re-sent every ``heartbeat`` seconds; the last will is
    the same message with state ``offline``."""

    state: ReaderState
    ts: datetime
    queued: int = 0
    detail: str = ""
    clock_synced: bool = True
    heartbeat: int = 60
    # v2: the ``ts`` of the oldest tap awaiting the server's confirmation (None: none).
    oldest: datetime | None = None
    version: int = field(default=VERSION, compare=False)

    def __post_init__(self) -> None:
        _check_version(self.version, READABLE_VERSIONS)
        _checks.check_timestamp(self.ts)
        _checks.check_count(self.queued, "queued")
        if self.oldest is not None:
            if self.version < 2:
                raise ProtocolError(Reason.EXTRA_FIELD, "unexpected field(s) oldest")
            _checks.check_timestamp(self.oldest)
            if self.queued == 0:
                raise ProtocolError(Reason.BAD_VALUE, "oldest is sent only when queued > 0")
        if len(self.detail) > MAX_DETAIL_CHARS:
            raise ProtocolError(Reason.BAD_VALUE, f"detail is longer than {MAX_DETAIL_CHARS} chars")
        if not 1 <= self.heartbeat <= 3600:
            raise ProtocolError(Reason.BAD_VALUE, "heartbeat must be 1..3600 seconds")

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "v": self.version,
            "state": self.state.value,
            "ts": format_timestamp(self.ts),
            "queued": self.queued,
            "detail": self.detail,
        }
        if not self.clock_synced:
            body["clock_synced"] = False
        if self.heartbeat != 60:
            body["heartbeat"] = self.heartbeat
        if self.oldest is not None:
            body["oldest"] = format_timestamp(self.oldest)
        return body

    def to_json(self) -> bytes:
        return _dump(self.to_dict())

    @classmethod
    def from_json(cls, payload: bytes | str) -> ReaderStatus:
        body = _load(payload, READABLE_VERSIONS)
        optional = {"clock_synced", "heartbeat"} | ({"oldest"} if body["v"] >= 2 else set())
        _checks.check_fields(body, required={"state", "ts", "queued", "detail"}, optional=optional)
        state = _checks.enum_member(body, "state", ReaderState)
        return cls(
            state=state,
            ts=parse_timestamp(body["ts"]),
            queued=_checks.typed(body, "queued", int),
            detail=_checks.typed(body, "detail", str),
            clock_synced=_checks.typed(body, "clock_synced", bool)
            if "clock_synced" in body
            else True,
            heartbeat=_checks.typed(body, "heartbeat", int) if "heartbeat" in body else 60,
            oldest=parse_timestamp(body["oldest"], "oldest") if "oldest" in body else None,
            version=body["v"],
        )


@dataclass(frozen=True, slots=True)
class Feedback:
    """Server -> reader answer to a tap, refining the reader's immediate feedback."""

    id: str
    result: FeedbackResult
    text: str = ""

    def __post_init__(self) -> None:
        if _TAP_ID.fullmatch(self.id) is None:
            raise ProtocolError(Reason.BAD_VALUE, "id must match [A-Za-z0-9_-]{8,64}")
        if len(self.text) > MAX_TEXT_CHARS:
            raise ProtocolError(Reason.BAD_VALUE, f"text is longer than {MAX_TEXT_CHARS} chars")

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": FEEDBACK_VERSION,
            "id": self.id,
            "result": self.result.value,
            "text": self.text,
        }

    def to_json(self) -> bytes:
        return _dump(self.to_dict())

    @classmethod
    def from_json(cls, payload: bytes | str) -> Feedback:
        body = _load(payload, frozenset({FEEDBACK_VERSION}))
        _checks.check_fields(body, required={"id", "result", "text"}, optional=set())
        return cls(
            id=_checks.typed(body, "id", str),
            result=_checks.enum_member(body, "result", FeedbackResult),
            text=_checks.typed(body, "text", str),
        )


@dataclass(frozen=True, slots=True)
class Confirmation:
    """Server -> reader (v2): these taps are stored (now, or already before). The reader
    removes them from its outbox; nothing else removes a tap."""

    ids: tuple[str, ...]

    def __post_init__(self) -> None:
        if not 1 <= len(self.ids) <= MAX_CONFIRM_IDS:
            raise ProtocolError(Reason.BAD_VALUE, f"ids must hold 1 to {MAX_CONFIRM_IDS} tap ids")
        for tap_id in self.ids:
            if not isinstance(tap_id, str):
                raise ProtocolError(Reason.WRONG_TYPE, "ids must be strings")
            if _TAP_ID.fullmatch(tap_id) is None:
                raise ProtocolError(Reason.BAD_VALUE, "ids must match [A-Za-z0-9_-]{8,64}")

    def to_dict(self) -> dict[str, Any]:
        return {"v": VERSION, "ids": list(self.ids)}

    def to_json(self) -> bytes:
        return _dump(self.to_dict())

    @classmethod
    def from_json(cls, payload: bytes | str) -> Confirmation:
        body = _load(payload, frozenset({2}))
        _checks.check_fields(body, required={"ids"}, optional=set())
        ids = _checks.typed(body, "ids", list)
        return cls(ids=tuple(ids))

    @classmethod
    def batches(cls, ids: list[str]) -> list[Confirmation]:
        """``ids`` split into messages of at most ``MAX_CONFIRM_IDS``."""
        return [
            cls(tuple(ids[start : start + MAX_CONFIRM_IDS]))
            for start in range(0, len(ids), MAX_CONFIRM_IDS)
        ]


# --------------------------------------------------------------------------- helpers


def _check_version(version: int, allowed: frozenset[int]) -> None:
    if type(version) is not int or version not in allowed:
        raise ProtocolError(Reason.UNKNOWN_VERSION, f"unsupported version {str(version)[:10]!r}")


def _dump(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def _load(payload: bytes | str, versions: frozenset[int]) -> dict[str, Any]:
    try:
        raw = payload.encode() if isinstance(payload, str) else bytes(payload)
    except UnicodeEncodeError:
        raise ProtocolError(Reason.NOT_UTF8, "payload is not UTF-8") from None
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise ProtocolError(
            Reason.TOO_LARGE, f"payload is {len(raw)} bytes, limit {MAX_PAYLOAD_BYTES}"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError(Reason.NOT_UTF8, "payload is not UTF-8") from None
    try:
        body = json.loads(text)
    except json.JSONDecodeError as error:
        raise ProtocolError(Reason.MALFORMED_JSON, f"malformed JSON at char {error.pos}") from None
    except RecursionError:
        raise ProtocolError(Reason.MALFORMED_JSON, "JSON nested too deeply") from None
    if not isinstance(body, dict):
        raise ProtocolError(Reason.NOT_AN_OBJECT, "payload must be a JSON object")
    version = body.get("v")
    if "v" not in body:
        raise ProtocolError(Reason.MISSING_FIELD, "missing field 'v'")
    _check_version(version, versions)
    return body
