"""What the occupancy use cases need from the registry: the places (campuses and rooms
with their limits), which reader is in which room, and the audited count corrections."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from server.domain.capacity import Limits


@dataclass(frozen=True, slots=True)
class CountCorrection:
    """A count set by hand on the coordinator's occupancy page."""

    at: datetime
    room: str | None  # None: the whole campus
    computed: int  # what the readers counted then
    count: int  # what was set by hand
    reason: str
    actor: str


@dataclass(frozen=True, slots=True)
class RoomInfo:
    code: str  # public id: MQTT events, API
    name: str
    kind: str
    limits: Limits


@dataclass(frozen=True, slots=True)
class Place:
    """A campus with its capacity and rooms."""

    campus: str
    limits: Limits
    rooms: tuple[RoomInfo, ...]

    def room(self, code: str) -> RoomInfo | None:
        return next((room for room in self.rooms if room.code == code), None)

    def limits_of(self, zone: str | None) -> Limits:
        if zone is None:
            return self.limits
        room = self.room(zone)
        return room.limits if room is not None else Limits()
