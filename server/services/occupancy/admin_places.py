"""Use cases of the admin's place page: a campus's capacity, its rooms (add, edit) and
its readers (mode, room). Every change is audited. Live occupancy reads the reader modes
again within minutes; room limits apply when it rebuilds the day's counts."""

from __future__ import annotations

from collections.abc import Callable

from server.domain.accounts import Actor
from server.domain.capacity import Limits
from server.domain.errors import DomainError
from server.ports.occupancy import (
    READER_MODES,
    ROOM_KINDS,
    OccupancyUnitOfWork,
    PlaceSheet,
    ReaderLine,
    RoomInfo,
    RoomLine,
    RoomRecord,
)

MODES = READER_MODES  # toggle | in | out doors, or a room reader
KINDS = ROOM_KINDS

__all__ = ["KINDS", "MODES", "PlaceSheet", "PlacesAdmin", "ReaderLine", "RoomLine"]


class PlacesAdmin:
    def __init__(self, unit_of_work: Callable[[], OccupancyUnitOfWork]) -> None:
        self.unit_of_work = unit_of_work

    def place_sheet(self, campus: str) -> PlaceSheet:
        with self.unit_of_work() as uow:
            return uow.places.place_sheet(campus)

    def set_campus_limits(self, campus: str, limits: Limits, actor: Actor) -> None:
        with self.unit_of_work() as uow:
            uow.places.set_campus_limits(campus, limits, actor=actor.name, at=actor.at)
            uow.commit()

    def add_room(self, campus: str, room: RoomInfo, actor: Actor) -> None:
        """A new room; its code (public id) and name are unique in the campus."""
        with self.unit_of_work() as uow:
            if uow.places.room_taken(campus, name=room.name, code=room.code):
                raise DomainError("A room of this campus already has this name or code.")
            uow.places.add_room(campus, room, actor=actor.name, at=actor.at)
            uow.commit()

    def edit_room(
        self,
        campus: str,
        room_id: int,
        *,
        name: str,
        kind: str,
        limits: Limits,
        actor: Actor,
    ) -> None:
        """Rename a room, change its kind or its limits (its code stays: events use it)."""
        with self.unit_of_work() as uow:
            room = uow.places.room(room_id)
            if room is None or room.campus != campus:
                raise DomainError("There is no such room.")
            if uow.places.name_taken(campus, name, other_than=room_id):
                raise DomainError("A room of this campus already has this name or code.")
            before = _room_summary(room)
            room.name, room.capacity, room.area_m2 = name, limits.capacity, limits.area_m2
            room.kind, room.soft, room.hard = kind, limits.soft, limits.hard
            uow.places.save_room(room)
            uow.audit.record(
                at=actor.at,
                actor=actor.name,
                action="room_updated",
                entity="room",
                entity_id=f"{campus}/{room.code}",
                before=before,
                after=_room_summary(room),
            )
            uow.commit()

    def set_reader(
        self, campus: str, reader_id: str, *, mode: str, room_code: str, actor: Actor
    ) -> None:
        """A door (``toggle``, ``in``, ``out``: no room) or the reader of a room."""
        if mode not in READER_MODES:
            raise DomainError("Choose one of the proposed values.")
        if (mode == "room") != bool(room_code):
            raise DomainError("A room reader needs its room; a door reader has none.")
        with self.unit_of_work() as uow:
            reader = uow.places.reader(campus, reader_id)
            if reader is None:
                raise DomainError("There is no such reader.")
            before = {"mode": reader.mode, "room_id": reader.room_id}
            if mode == "room":
                try:
                    room_id: int | None = uow.places.link_reader(campus, reader_id, room_code)
                except LookupError:
                    raise DomainError("There is no such room.") from None
            else:
                uow.places.set_door(campus, reader_id, mode)
                room_id = None
            uow.audit.record(
                at=actor.at,
                actor=actor.name,
                action="reader_updated",
                entity="reader",
                entity_id=f"{campus}/{reader_id}",
                before=before,
                after={"mode": mode, "room_id": room_id},
            )
            uow.commit()


def _room_summary(room: RoomRecord) -> dict[str, object]:
    return {
        "name": room.name,
        "kind": room.kind,
        "capacity": room.capacity,
        "area_m2": room.area_m2,
        "soft": room.soft,
        "hard": room.hard,
    }
