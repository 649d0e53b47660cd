"""Is a reader working? Judged from its status messages (pure, ``now`` passed in).

A reader re-sends its retained status every ``heartbeat`` seconds and leaves an
``offline`` last will. It is *offline* when it said so or when nothing came for
``MISSED_HEARTBEATS`` periods (a dead Pi or a cut network sends nothing at all), and
*degraded* when it says its NFC device or its outbox is in trouble.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from server.domain.events import ReaderStatusRecord

MISSED_HEARTBEATS = 2


class Health(StrEnum):
    ONLINE = "online"
    DEGRADED = "degraded"
    OFFLINE = "offline"
    UNKNOWN = "unknown"  # never heard of since the events were kept


@dataclass(frozen=True, slots=True)
class ReaderHealth:
    campus: str
    reader: str
    health: Health
    last_seen: datetime | None  # when the server last received a status
    queued: int = 0  # taps the reader holds, not yet delivered
    detail: str = ""
    clock_synced: bool = True

    @property
    def reliable(self) -> bool:
        """Can an absence of taps from this reader be trusted?"""
        return self.health is Health.ONLINE


def silence_limit(status: ReaderStatusRecord) -> timedelta:
    return timedelta(seconds=status.heartbeat * MISSED_HEARTBEATS)


def health_at(
    campus: str, reader: str, last: ReaderStatusRecord | None, at: datetime
) -> ReaderHealth:
    """The reader's health at ``at``, given the last status received at or before it."""
    if last is None:
        return ReaderHealth(campus, reader, Health.UNKNOWN, None)
    if last.received_at > at:
        raise ValueError("the status must have been received at or before the instant judged")
    if last.state == Health.OFFLINE or at - last.received_at > silence_limit(last):
        health = Health.OFFLINE
    else:
        health = Health(last.state)
    return ReaderHealth(
        campus, reader, health, last.received_at, last.queued, last.detail, last.clock_synced
    )


def reliable_throughout(
    statuses: Sequence[ReaderStatusRecord], start: datetime, end: datetime
) -> bool:
    """Was the reader online during the whole of ``[start, end]``? ``statuses`` are one
    reader's status records, oldest first, including the last one received before
    ``start``. Any offline/degraded report or any silence longer than the limit in the
    interval makes it unreliable."""
    before = [status for status in statuses if status.received_at <= start]
    during = [status for status in statuses if start < status.received_at <= end]
    if not before:
        return False
    previous = before[-1]
    for status in [*during, None]:
        if previous.state != Health.ONLINE:
            return False
        until = status.received_at if status is not None else end
        if until - previous.received_at > silence_limit(previous):
            return False
        if status is not None:
            previous = status
    return True
