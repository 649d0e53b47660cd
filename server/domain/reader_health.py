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
    oldest: datetime | None = None  # ts of the oldest tap not yet confirmed (protocol v2)

    @property
    def reliable(self) -> bool:
        """Can an absence of taps from this reader be trusted?"""
        return self.health is Health.ONLINE


def stamped_at(status: ReaderStatusRecord) -> datetime:
    """When a status describes the reader: its own stamp when its clock is synchronised
    (a status the broker held while the server was away still tells how the reader was
    then), else when the server received it."""
    return status.ts if status.clock_synced else status.received_at


def silence_limit(status: ReaderStatusRecord) -> timedelta:
    return timedelta(seconds=status.heartbeat * MISSED_HEARTBEATS)


def health_at(
    campus: str,
    reader: str,
    last: ReaderStatusRecord | None,
    at: datetime,
    *,
    stamped: bool = False,
) -> ReaderHealth:
    """The reader's health at ``at``, given the last status received at or before it (or,
    ``stamped``, the last one describing the reader at or before it: the stored history,
    see :func:`stamped_at`)."""
    if last is None:
        return ReaderHealth(campus, reader, Health.UNKNOWN, None)
    # A status from after the instant judged (a clock set back, a demo restarted at 08:30
    # over yesterday's data) counts as seen at that instant: never an error on a page.
    seen = min(stamped_at(last) if stamped else last.received_at, at)
    if last.state == Health.OFFLINE or at - seen > silence_limit(last):
        health = Health.OFFLINE
    else:
        health = Health(last.state)
    return ReaderHealth(
        campus,
        reader,
        health,
        seen,
        last.queued,
        last.detail,
        last.clock_synced,
        last.oldest if last.queued else None,
    )


def reliable_throughout(
    statuses: Sequence[ReaderStatusRecord],
    start: datetime,
    end: datetime,
    *,
    stamped: bool = False,
) -> bool:
    """Was the reader online during the whole of ``[start, end]``? ``statuses`` are one
    reader's status records, oldest first, including the last one before ``start``; their
    time is the reception, or with ``stamped`` the instant they describe
    (:func:`stamped_at`: the stored history, whenever it was received). Any
    offline/degraded report or any silence longer than the limit in the interval makes
    it unreliable."""
    time_of = stamped_at if stamped else _received_at
    before = [status for status in statuses if time_of(status) <= start]
    during = [status for status in statuses if start < time_of(status) <= end]
    if not before:
        return False
    previous = before[-1]
    for status in [*during, None]:
        if previous.state != Health.ONLINE:
            return False
        until = time_of(status) if status is not None else end
        if until - time_of(previous) > silence_limit(previous):
            return False
        if status is not None:
            previous = status
    return True


def _received_at(status: ReaderStatusRecord) -> datetime:
    return status.received_at
