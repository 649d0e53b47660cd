"""Rules applied to a message at the server's boundary, before anything is stored.

Pure functions: the caller passes the reception time, the badge hasher and the set of
known readers. A message either becomes a record to store or a :class:`Rejection`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from edge.protocol import (
    ProtocolError,
    ReaderStatus,
    ReaderTopic,
    Reason,
    Tap,
    TopicKind,
    parse_reader_topic,
)
from server.domain.events import ReaderStatusRecord, Rejection, StoredTap

# A deployment has a few hundred reader topics at most: each is parsed once (a topic
# the contract refuses raises each time and is not kept).
_reader_topic = lru_cache(maxsize=4096)(parse_reader_topic)

BadgeHasher = Callable[[str], str]
ReaderCheck = Callable[[str, str], bool]


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """How far from the reception time a tap's own timestamp may be."""

    max_future: timedelta
    retention: timedelta


@dataclass(frozen=True, slots=True)
class Intake:
    """What the boundary needs to judge one message."""

    hash_badge: BadgeHasher
    is_known_reader: ReaderCheck
    window: TimeWindow


def judge_message(
    topic: str, payload: bytes, received_at: datetime, intake: Intake, *, retained: bool = False
) -> StoredTap | ReaderStatusRecord | Rejection:
    """Turn one MQTT message into a record to store, or a rejection with its reason.

    ``retained``: the broker delivered it with the RETAIN flag. A reader never publishes
    a tap retained; a retained tap is a replay kept by the broker (or a foreign message,
    or the empty message that clears one) and is refused as ``retained``."""
    try:
        where = _reader_topic(topic)
    except ProtocolError as error:
        return _reject(error, received_at, _safe_topic(topic), payload)
    if not intake.is_known_reader(where.campus, where.reader):
        error = ProtocolError(Reason.UNKNOWN_READER, "no such campus/reader in the registry")
        return _reject(error, received_at, topic, payload, where)
    try:
        if where.kind is TopicKind.TAPS and retained:
            raise ProtocolError(Reason.RETAINED, "a tap published retained is never stored")
        if where.kind is TopicKind.TAPS:
            return _judge_tap(Tap.from_json(payload), where, received_at, intake)
        if where.kind is TopicKind.STATUS:
            return _status_record(ReaderStatus.from_json(payload), where, received_at)
        raise ProtocolError(Reason.BAD_TOPIC, f"the server does not accept {where.kind} messages")
    except ProtocolError as error:
        return _reject(error, received_at, topic, payload, where)


def _judge_tap(tap: Tap, where: ReaderTopic, received_at: datetime, intake: Intake) -> StoredTap:
    ts = _judge_timestamp(tap, received_at, intake.window)
    return StoredTap(
        tap_id=tap.id,
        campus=where.campus,
        reader=where.reader,
        badge=intake.hash_badge(tap.uid),
        ts=ts,
        seq=tap.seq,
        received_at=received_at,
        clock_synced=tap.clock_synced and ts == tap.ts,
    )


def _judge_timestamp(tap: Tap, received_at: datetime, window: TimeWindow) -> datetime:
    """A reader whose clock is known to be unsynchronised (just booted, no NTP yet) may
    stamp 1970 or 2038: its tap is kept, stamped with the reception time and left marked
    unsynchronised so a tutor can judge it. A reader claiming a good clock is trusted
    only within the window."""
    too_late = tap.ts > received_at + window.max_future
    too_old = tap.ts < received_at - window.retention
    if not tap.clock_synced and (too_late or too_old):
        return received_at
    if too_late:
        raise ProtocolError(Reason.TS_IN_FUTURE, "ts is further in the future than allowed")
    if too_old:
        raise ProtocolError(Reason.TS_TOO_OLD, "ts is older than the retention period")
    return tap.ts


def _status_record(
    status: ReaderStatus, where: ReaderTopic, received_at: datetime
) -> ReaderStatusRecord:
    return ReaderStatusRecord(
        campus=where.campus,
        reader=where.reader,
        state=status.state.value,
        ts=status.ts,
        received_at=received_at,
        queued=status.queued,
        detail=status.detail,
        clock_synced=status.clock_synced,
        heartbeat=status.heartbeat,
        oldest=status.oldest,  # status v2 (docs/protocol.md)
    )


def conflict_rejection(tap: StoredTap, topic: str) -> Rejection:
    return Rejection(
        received_at=tap.received_at,
        reason=Reason.ID_CONFLICT.value,
        topic=topic,
        detail="tap id already stored with other content; the first one is kept",
        size=0,
        campus=tap.campus,
        reader=tap.reader,
    )


def _reject(
    error: ProtocolError,
    received_at: datetime,
    topic: str,
    payload: bytes,
    where: ReaderTopic | None = None,
) -> Rejection:
    return Rejection(
        received_at=received_at,
        reason=error.reason.value,
        topic=topic,
        detail=str(error),
        size=len(payload),
        campus=where.campus if where else None,
        reader=where.reader if where else None,
    )


def _safe_topic(topic: str) -> str:
    """A malformed topic is kept for the dead letter, shortened and printable only."""
    printable = "".join(char if char.isprintable() else "?" for char in topic)
    return printable[:120]
