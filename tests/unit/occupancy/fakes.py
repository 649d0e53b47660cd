"""In-memory fakes of the occupancy ports (``server.ports.occupancy``), for the unit
tests of the occupancy use cases. The same contract suite runs against them and against
the registry's adapter (tests/integration/registry/test_occupancy_store_contract.py).
Count corrections are kept, as in the registry, as audit entries."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import TracebackType
from typing import Any

from server.domain.calendar import CampusCalendar
from server.domain.capacity import Limits
from server.domain.contracts import Contract
from server.domain.sessions import ReaderMode
from server.ports.occupancy import (
    CountCorrection,
    Holding,
    Outage,
    Place,
    PlaceSheet,
    ReaderLine,
    ReaderRecord,
    RoomInfo,
    RoomLine,
    RoomRecord,
)
from tests.unit.accounts.fakes import FakeAuditTrail

CORRECTION = "occupancy_correction"


@dataclass
class Stored:
    """What the fake registry holds (committed state)."""

    campuses: dict[str, Limits] = field(default_factory=dict)  # campus -> its own limits
    rooms: dict[int, RoomRecord] = field(default_factory=dict)
    readers: dict[tuple[str, str], ReaderRecord] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)
    calendars: dict[str, CampusCalendar] = field(default_factory=dict)
    holdings: dict[str, list[Holding]] = field(default_factory=dict)
    contracts: dict[str, list[tuple[Contract, ...]]] = field(default_factory=dict)
    commits: int = 0


def _limits(room: RoomRecord) -> Limits:
    return Limits(room.capacity, room.soft, room.hard, room.area_m2)


def _summary(limits: Limits) -> dict[str, object]:
    return {
        "capacity": limits.capacity,
        "soft": limits.soft,
        "hard": limits.hard,
        "area_m2": limits.area_m2,
    }


class FakeOccupancyRecords:
    def __init__(self, state: Stored, audit: FakeAuditTrail) -> None:
        self._state = state
        self._audit = audit

    # -- live occupancy ----------------------------------------------------------------

    def _rooms_of(self, campus: str) -> list[RoomRecord]:
        rooms = [room for room in self._state.rooms.values() if room.campus == campus]
        return sorted(rooms, key=lambda room: room.name)

    def places(self) -> dict[str, Place]:
        return {
            campus: Place(
                campus,
                limits,
                tuple(
                    RoomInfo(room.code, room.name, room.kind or "other", _limits(room))
                    for room in self._rooms_of(campus)
                ),
            )
            for campus, limits in self._state.campuses.items()
        }

    def room_readers(self) -> dict[tuple[str, str], str]:
        return {
            key: self._state.rooms[reader.room_id].code
            for key, reader in self._state.readers.items()
            if reader.room_id is not None
        }

    def reader_modes(self) -> dict[tuple[str, str], ReaderMode]:
        return {key: ReaderMode(reader.mode) for key, reader in self._state.readers.items()}

    def campus_ids(self) -> list[str]:
        return sorted(self._state.campuses)

    def holdings_for_campus(self, campus: str) -> Sequence[Holding]:
        return list(self._state.holdings.get(campus, []))

    def calendar(self, campus: str) -> CampusCalendar:
        return self._state.calendars.get(campus, CampusCalendar())

    def contracts(self, campus: str, first: date, last: date) -> list[tuple[Contract, ...]]:
        return [
            contracts
            for contracts in self._state.contracts.get(campus, [])
            if any(
                c.valid_from <= last and (c.valid_to is None or c.valid_to >= first)
                for c in contracts
            )
        ]

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
        self._audit.record(
            at=at,
            actor=actor,
            action=CORRECTION,
            entity="occupancy",
            entity_id=f"{campus}/{room or ''}",
            before={"count": computed},
            after={"count": count, "adjustment": count - computed, "reason": reason},
        )

    def _corrections(self, campus: str) -> list[dict[str, Any]]:
        return [
            entry
            for entry in self._audit._entries
            if entry["action"] == CORRECTION and entry["entity_id"].startswith(f"{campus}/")
        ]

    def corrections_since(self, campus: str, since: datetime) -> list[tuple[str | None, int]]:
        found = [entry for entry in self._corrections(campus) if entry["at"] >= since]
        found.sort(key=lambda entry: entry["at"])
        return [
            (entry["entity_id"].split("/", 1)[1] or None, int(entry["after"]["adjustment"]))
            for entry in found
        ]

    def corrections_between(
        self, campus: str, since: datetime, until: datetime
    ) -> list[CountCorrection]:
        found = [e for e in self._corrections(campus) if since <= e["at"] <= until]
        found.sort(key=lambda entry: entry["at"], reverse=True)
        return [
            CountCorrection(
                entry["at"],
                entry["entity_id"].split("/", 1)[1] or None,
                int(entry["before"]["count"]),
                int(entry["after"]["count"]),
                str(entry["after"]["reason"]),
                entry["actor"],
            )
            for entry in found
        ]

    # -- the admin's place page --------------------------------------------------------

    def place_sheet(self, campus: str) -> PlaceSheet:
        rooms = tuple(
            RoomLine(room.id, room.code, room.name, room.kind or "other", _limits(room))
            for room in self._rooms_of(campus)
        )
        readers = tuple(
            ReaderLine(
                reader.reader_id,
                reader.mode,
                self._state.rooms[reader.room_id].code if reader.room_id is not None else "",
            )
            for key, reader in sorted(self._state.readers.items())
            if key[0] == campus
        )
        return PlaceSheet(campus, self._state.campuses.get(campus, Limits()), rooms, readers)

    def set_campus_limits(self, campus: str, limits: Limits, *, actor: str, at: datetime) -> None:
        known = self._state.campuses.get(campus)
        before = None
        if known is not None and known != Limits():
            before = {"capacity": known.capacity, "soft": known.soft, "hard": known.hard}
        self._state.campuses[campus] = limits
        self._audit.record(
            at=at,
            actor=actor,
            action="campus_capacity_set",
            entity="campus",
            entity_id=campus,
            before=before,
            after=_summary(limits),
        )

    def room_taken(self, campus: str, *, name: str, code: str) -> bool:
        return any(room.name == name or room.code == code for room in self._rooms_of(campus))

    def name_taken(self, campus: str, name: str, *, other_than: int) -> bool:
        return any(r.name == name and r.id != other_than for r in self._rooms_of(campus))

    def add_room(self, campus: str, room: RoomInfo, *, actor: str, at: datetime) -> None:
        room_id = max(self._state.rooms, default=0) + 1
        limits = room.limits
        self._state.rooms[room_id] = RoomRecord(
            room_id,
            campus,
            room.code,
            room.name,
            room.kind,
            limits.capacity,
            limits.area_m2,
            limits.soft,
            limits.hard,
        )
        self._audit.record(
            at=at,
            actor=actor,
            action="room_added",
            entity="room",
            entity_id=f"{campus}/{room.code}",
            after=_summary(limits) | {"name": room.name, "kind": room.kind},
        )

    def room(self, room_id: int) -> RoomRecord | None:
        return copy.copy(self._state.rooms.get(room_id))

    def save_room(self, record: RoomRecord) -> None:
        assert record.id in self._state.rooms
        self._state.rooms[record.id] = copy.copy(record)

    def reader(self, campus: str, reader_id: str) -> ReaderRecord | None:
        return self._state.readers.get((campus, reader_id))

    def link_reader(self, campus: str, reader: str, room_code: str) -> int:
        found = [room for room in self._rooms_of(campus) if room.code == room_code]
        if not found:
            raise LookupError(f"no room {room_code!r} in campus {campus!r}")
        self._state.readers[(campus, reader)] = ReaderRecord(campus, reader, "room", found[0].id)
        return found[0].id

    def set_door(self, campus: str, reader: str, mode: str) -> None:
        self._state.readers[(campus, reader)] = ReaderRecord(campus, reader, mode, None)


class FakeUnitOfWork:
    """A transaction on a copy of the stored state: ``commit`` puts it back."""

    def __init__(self, stored: Stored) -> None:
        self._stored = stored

    def __enter__(self) -> FakeUnitOfWork:
        self._state = copy.deepcopy(self._stored)
        self.audit = FakeAuditTrail(self._state.audit)
        self.places = FakeOccupancyRecords(self._state, self.audit)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        del self.places, self.audit  # no use after the transaction

    def commit(self) -> None:
        for name in ("campuses", "rooms", "readers", "audit"):
            setattr(self._stored, name, copy.deepcopy(getattr(self._state, name)))
        self._stored.commits += 1


@dataclass
class FakeReaderOutages:
    """The reader outages several processes share (one instance, several watches)."""

    outages: dict[tuple[str, str], Outage] = field(default_factory=dict)
    calendar_of: dict[str, CampusCalendar] = field(default_factory=dict)

    def all(self) -> list[Outage]:
        return list(self.outages.values())

    def notice(self, outage: Outage) -> bool:
        key = (outage.campus, outage.reader)
        if key in self.outages:
            return False
        self.outages[key] = outage
        return True

    def resolve(self, campus: str, reader: str) -> bool:
        return self.outages.pop((campus, reader), None) is not None

    def calendars(self, campuses: Sequence[str]) -> dict[str, CampusCalendar]:
        return {campus: self.calendar_of.get(campus, CampusCalendar()) for campus in campuses}
