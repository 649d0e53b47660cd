"""What the occupancy use cases need from the registry, as ports: the places (campuses
and rooms with their limits), which reader is in which room and in which mode, the badge
holders and calendars the live counts are derived with, the audited count corrections,
the admin's place sheet, and the reader outages alerted and not resolved yet.

The registry's adapter is ``server.registry.occupancy_store`` (SQLite and PostgreSQL;
the place reads and writes themselves are ``server.registry.occupancy_repository``);
the unit tests of :mod:`server.services.occupancy` use in-memory fakes of these ports
(tests/unit/occupancy/fakes.py), and one contract suite runs against both. Records are
plain values; nothing is written until the unit of work commits."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Protocol

from server.domain.calendar import CampusCalendar
from server.domain.capacity import Limits
from server.domain.contracts import Contract
from server.domain.sessions import ReaderMode
from server.ports.accounts import AuditTrail

READER_MODES = tuple(mode.value for mode in ReaderMode)  # toggle | in | out, or a room
ROOM_KINDS = ("individual", "group", "social", "other")


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


@dataclass(frozen=True, slots=True)
class RoomLine:
    """A room as the admin's place page lists it."""

    id: int
    code: str
    name: str
    kind: str
    limits: Limits


@dataclass(frozen=True, slots=True)
class ReaderLine:
    reader_id: str
    mode: str
    room_code: str  # '' for a door


@dataclass(frozen=True, slots=True)
class PlaceSheet:
    campus: str
    limits: Limits
    rooms: tuple[RoomLine, ...]
    readers: tuple[ReaderLine, ...]


@dataclass(slots=True)
class RoomRecord:
    """A room as it is edited: ``kind``, ``soft`` and ``hard`` are None while the room
    has no profile yet (a room made before occupancy existed; ``save`` gives it one,
    its ``code`` then ``room-<id>``)."""

    id: int
    campus: str
    code: str
    name: str
    kind: str | None
    capacity: int | None
    area_m2: float | None
    soft: int | None
    hard: int | None


@dataclass(frozen=True, slots=True)
class ReaderRecord:
    campus: str
    reader_id: str
    mode: str
    room_id: int | None


class Holding(Protocol):
    """A student holding a badge (by its hash) for a while."""

    @property
    def badge_hash(self) -> str: ...

    @property
    def student_pk(self) -> int: ...

    def holds_at(self, moment: datetime) -> bool: ...


class OccupancyRecords(Protocol):
    """The places and what the live counts are derived with."""

    def places(self) -> dict[str, Place]:
        """Every campus (with no limits when none were set) and its rooms."""
        ...

    def room_readers(self) -> dict[tuple[str, str], str]:
        """(campus, reader) → room code, for the readers linked to a room."""
        ...

    def reader_modes(self) -> dict[tuple[str, str], ReaderMode]: ...

    def campus_ids(self) -> list[str]: ...

    def holdings_for_campus(self, campus: str) -> Sequence[Holding]: ...

    def calendar(self, campus: str) -> CampusCalendar: ...

    def contracts(self, campus: str, first: date, last: date) -> list[tuple[Contract, ...]]:
        """Of each student of the campus with a contract (not replaced) overlapping
        ``first``..``last``: those contracts, with their slots."""
        ...

    def record_correction(
        self,
        campus: str,
        room: str | None,
        *,
        count: int,
        computed: int,
        reason: str,
        actor: str,
        at: datetime,
    ) -> None:
        """A count set by hand (audited)."""
        ...

    def corrections_since(self, campus: str, since: datetime) -> list[tuple[str | None, int]]:
        """(room, adjustment) of the campus's corrections since ``since``, oldest first."""
        ...

    def corrections_between(
        self, campus: str, since: datetime, until: datetime
    ) -> list[CountCorrection]:
        """The campus's corrections between ``since`` and ``until``, newest first."""
        ...

    # -- the admin's place page --------------------------------------------------------

    def place_sheet(self, campus: str) -> PlaceSheet: ...

    def set_campus_limits(self, campus: str, limits: Limits, *, actor: str, at: datetime) -> None:
        """Audited."""
        ...

    def room_taken(self, campus: str, *, name: str, code: str) -> bool:
        """Has a room of the campus this name or this code?"""
        ...

    def name_taken(self, campus: str, name: str, *, other_than: int) -> bool:
        """Has a room of the campus other than ``other_than`` this name?"""
        ...

    def add_room(self, campus: str, room: RoomInfo, *, actor: str, at: datetime) -> None:
        """Audited."""
        ...

    def room(self, room_id: int) -> RoomRecord | None: ...

    def save_room(self, record: RoomRecord) -> None: ...

    def reader(self, campus: str, reader_id: str) -> ReaderRecord | None: ...

    def link_reader(self, campus: str, reader: str, room_code: str) -> int:
        """Make ``reader`` the reader of the room ``room_code`` (mode ``room``); the
        room's id. LookupError when the campus has no such room."""
        ...

    def set_door(self, campus: str, reader: str, mode: str) -> None:
        """Make ``reader`` a door of this mode, linked to no room."""
        ...


class OccupancyUnitOfWork(Protocol):
    """One transaction: ``with uow: ...; uow.commit()``; leaving without ``commit``
    discards every change."""

    places: OccupancyRecords
    audit: AuditTrail

    def __enter__(self) -> OccupancyUnitOfWork: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Outage:
    """A reader down during opening hours, alerted and not back yet."""

    campus: str
    reader: str
    noticed_at: datetime
    last_seen: datetime | None
    reader_state: str  # offline | silent


class ReaderOutages(Protocol):
    """The reader watch's memory, shared by every process. Each method is one
    transaction."""

    def all(self) -> list[Outage]: ...

    def notice(self, outage: Outage) -> bool:
        """Store a new outage; False when another process stored it first."""
        ...

    def resolve(self, campus: str, reader: str) -> bool:
        """Delete the reader's outage; False when there was none (another process
        resolved it first)."""
        ...

    def calendars(self, campuses: Sequence[str]) -> dict[str, CampusCalendar]:
        """The campuses' calendars (opening hours), read together."""
        ...
