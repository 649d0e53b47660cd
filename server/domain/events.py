"""What the server stores about readers and taps: frozen records, no I/O.

A :class:`StoredTap` never holds a raw badge UID: ``badge`` is the keyed hash computed at
the boundary (see ``server.domain.badges``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class WriteOutcome(StrEnum):
    STORED = "stored"
    DUPLICATE = "duplicate"  # same tap id, same content: harmless redelivery
    CONFLICT = "conflict"  # same tap id, other content: rejected, original kept


@dataclass(frozen=True, slots=True)
class StoredTap:
    tap_id: str
    campus: str
    reader: str
    badge: str  # keyed hash of the UID (hex), never the UID itself
    ts: datetime  # when the reader saw the badge (aware)
    seq: int
    received_at: datetime  # when the server received it (aware)
    clock_synced: bool = True

    def same_content(self, other: StoredTap) -> bool:
        """Equal but for the reception time, which differs on every redelivery."""
        return (
            self.tap_id == other.tap_id
            and self.campus == other.campus
            and self.reader == other.reader
            and self.badge == other.badge
            and self.ts == other.ts
            and self.seq == other.seq
            and self.clock_synced == other.clock_synced
        )


@dataclass(frozen=True, slots=True)
class ReaderStatusRecord:
    campus: str
    reader: str
    state: str  # online | offline | degraded
    ts: datetime  # as the reader stamped it (a last will carries its connect time)
    received_at: datetime
    queued: int = 0
    detail: str = ""
    clock_synced: bool = True
    heartbeat: int = 60
    oldest: datetime | None = None  # the oldest tap awaiting confirmation (when queued)


@dataclass(frozen=True, slots=True)
class Rejection:
    """A dead letter: what was refused and why, without the payload (it may hold a UID)."""

    received_at: datetime
    reason: str
    topic: str
    detail: str
    size: int
    campus: str | None = None
    reader: str | None = None


CAMPUS_WIDE = ""  # the ``room`` filter that selects the whole campus's series


@dataclass(frozen=True, slots=True)
class OccupancySample:
    """How many people were present at ``at``: in a room, or in the whole campus
    (``room`` None). A count, never who: the server keeps no person's moves."""

    campus: str
    room: str | None
    at: datetime  # when the count was computed (aware)
    count: int
    capacity: int | None = None


@dataclass(frozen=True, slots=True)
class InboundMessage:
    topic: str
    payload: bytes
    received_at: datetime
    retained: bool = False  # delivered with the RETAIN flag (a tap never is)
