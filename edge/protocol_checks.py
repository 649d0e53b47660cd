"""The checks of the MQTT contract: why a message is refused, and the field validators.

Part of :mod:`edge.protocol`, which re-exports the public names (:class:`Reason`,
:class:`ProtocolError`, ``MAX_INT64``, ``UID_BYTE_LENGTHS``); standard library only, like
it, so that the edge agent installs without the server's dependencies. Messages never
repeat personal data back (a badge UID is not quoted in an error).
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

MAX_INT64 = 2**63 - 1

# UID lengths in bytes that real tags have: ISO 14443-A single/double/triple size (4, 7,
# 10), ISO 14443-B PUPI (4), FeliCa IDm and ISO 15693 (8).
UID_BYTE_LENGTHS = frozenset({4, 7, 8, 10})

_HEX = re.compile(r"[0-9a-fA-F]+")


class Reason(StrEnum):
    """Why a message was rejected: stable codes for counters and dead letters."""

    TOO_LARGE = "too_large"
    NOT_UTF8 = "not_utf8"
    MALFORMED_JSON = "malformed_json"
    NOT_AN_OBJECT = "not_an_object"
    UNKNOWN_VERSION = "unknown_version"
    MISSING_FIELD = "missing_field"
    EXTRA_FIELD = "extra_field"
    WRONG_TYPE = "wrong_type"
    BAD_VALUE = "bad_value"
    BAD_UID = "bad_uid"
    BAD_TIMESTAMP = "bad_timestamp"
    BAD_TOPIC = "bad_topic"
    # Decided by the server, not by edge/protocol.py, but part of the same vocabulary.
    TS_IN_FUTURE = "ts_in_future"
    TS_TOO_OLD = "ts_too_old"
    UNKNOWN_READER = "unknown_reader"
    ID_CONFLICT = "id_conflict"
    RETAINED = "retained"


class ProtocolError(ValueError):
    """A message that does not follow the contract. ``reason`` is a :class:`Reason`."""

    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_fields(body: dict[str, Any], *, required: set[str], optional: set[str]) -> None:
    keys = body.keys()
    if len(keys) == len(required) + 1 and "v" in body and keys >= required:
        return  # the usual message: exactly the required fields and "v" (never required)
    missing = sorted(required - keys)
    if missing:
        raise ProtocolError(Reason.MISSING_FIELD, f"missing field(s) {', '.join(missing)}")
    extra = sorted(keys - required - optional - {"v"})
    if extra:
        names = ", ".join(name[:20] for name in extra[:5])
        raise ProtocolError(Reason.EXTRA_FIELD, f"unexpected field(s) {names}")


def typed(body: dict[str, Any], field: str, kind: type) -> Any:
    value = body[field]
    # bool is a subclass of int in Python; JSON true is not a number.
    if type(value) is not kind:
        raise ProtocolError(Reason.WRONG_TYPE, f"{field} must be {kind.__name__}")
    return value


def enum_member(body: dict[str, Any], field: str, kind: type[StrEnum]) -> Any:
    value = typed(body, field, str)
    try:
        return kind(value)
    except ValueError:
        allowed = "|".join(member.value for member in kind)
        raise ProtocolError(Reason.BAD_VALUE, f"{field} must be one of {allowed}") from None


def check_timestamp(moment: datetime) -> None:
    offset = moment.utcoffset()
    if offset is None:
        raise ProtocolError(Reason.BAD_TIMESTAMP, "ts must be timezone-aware")
    if offset.seconds % 60 or offset.microseconds:
        # RFC 3339 offsets are whole minutes (zoneinfo gives seconds for dates before 1911).
        raise ProtocolError(Reason.BAD_TIMESTAMP, "ts offset must be a whole number of minutes")


def check_count(value: int, field: str) -> None:
    """Counters are stored as signed 64-bit integers (SQLite, InfluxDB)."""
    if not 0 <= value <= MAX_INT64:
        raise ProtocolError(Reason.BAD_VALUE, f"{field} must be between 0 and 2**63-1")


def check_uid(uid: str) -> None:
    if not isinstance(uid, str) or _HEX.fullmatch(uid) is None or len(uid) % 2:
        raise ProtocolError(Reason.BAD_UID, "uid must be an even number of hex digits")
    if len(uid) // 2 not in UID_BYTE_LENGTHS:
        raise ProtocolError(Reason.BAD_UID, f"uid length {len(uid) // 2} bytes is not a real tag's")
