"""Use cases of the admin's place page: a campus's capacity, its rooms (add, edit) and
its readers (mode, room). Every change is audited. Live occupancy reads the reader modes
again within minutes; room limits apply when it rebuilds the day's counts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import orm, select

from server.domain.accounts import Actor
from server.domain.capacity import Limits
from server.domain.errors import DomainError
from server.ports.occupancy import RoomInfo
from server.registry import audit
from server.registry.models import READER_MODES, Reader, Room
from server.registry.occupancy_models import ROOM_KINDS, CampusCapacity, RoomProfile
from server.registry.occupancy_repository import OccupancyRepository

Registry = Callable[[], orm.Session]
MODES = READER_MODES  # toggle | in | out doors, or a room reader
KINDS = ROOM_KINDS


@dataclass(frozen=True, slots=True)
class RoomLine:
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


def place_sheet(registry: Registry, campus: str) -> PlaceSheet:
    with registry() as session:
        capacity = session.get(CampusCapacity, campus)
        limits = (
            Limits(capacity.capacity, capacity.soft_limit, capacity.hard_limit, capacity.area_m2)
            if capacity is not None
            else Limits()
        )
        rooms = tuple(_rooms(session, campus))
        codes = {room.id: room.code for room in rooms}
        readers = tuple(
            ReaderLine(row.reader_id, row.mode, codes.get(row.room_id, "") if row.room_id else "")
            for row in session.scalars(
                select(Reader).where(Reader.campus_id == campus).order_by(Reader.reader_id)
            )
        )
    return PlaceSheet(campus, limits, rooms, readers)


def _rooms(session: orm.Session, campus: str) -> list[RoomLine]:
    query = (
        select(Room, RoomProfile)
        .outerjoin(RoomProfile, RoomProfile.room_id == Room.id)
        .where(Room.campus_id == campus)
        .order_by(Room.name)
    )
    return [
        RoomLine(
            room.id,
            profile.code if profile else f"room-{room.id}",
            room.name,
            profile.kind if profile else "other",
            Limits(
                room.capacity,
                profile.soft_limit if profile else None,
                profile.hard_limit if profile else None,
                room.area_m2,
            ),
        )
        for room, profile in session.execute(query)
    ]


def set_campus_limits(registry: Registry, campus: str, limits: Limits, actor: Actor) -> None:
    with registry() as session, session.begin():
        OccupancyRepository(session).set_campus_limits(
            campus, limits, actor=actor.name, at=actor.at
        )


def add_room(registry: Registry, campus: str, room: RoomInfo, actor: Actor) -> None:
    """A new room; its code (public id) and name are unique in the campus."""
    with registry() as session, session.begin():
        taken = session.scalar(
            select(Room.id)
            .outerjoin(RoomProfile, RoomProfile.room_id == Room.id)
            .where(Room.campus_id == campus)
            .where((Room.name == room.name) | (RoomProfile.code == room.code))
        )
        if taken is not None:
            raise DomainError("A room of this campus already has this name or code.")
        OccupancyRepository(session).add_room(campus, room, actor=actor.name, at=actor.at)


def edit_room(
    registry: Registry,
    campus: str,
    room_id: int,
    *,
    name: str,
    kind: str,
    limits: Limits,
    actor: Actor,
) -> None:
    """Rename a room, change its kind or its limits (its code stays: events use it)."""
    with registry() as session, session.begin():
        room = session.get(Room, room_id)
        if room is None or room.campus_id != campus:
            raise DomainError("There is no such room.")
        clash = session.scalar(
            select(Room.id).where(Room.campus_id == campus, Room.name == name, Room.id != room_id)
        )
        if clash is not None:
            raise DomainError("A room of this campus already has this name or code.")
        profile = session.get(RoomProfile, room_id)
        if profile is None:
            profile = RoomProfile(room_id=room_id, campus_id=campus, code=f"room-{room_id}")
            session.add(profile)
        before = _room_summary(room, profile)
        room.name, room.capacity, room.area_m2 = name, limits.capacity, limits.area_m2
        profile.kind, profile.soft_limit, profile.hard_limit = kind, limits.soft, limits.hard
        after = _room_summary(room, profile)
        _audit(session, actor, "room_updated", "room", f"{campus}/{profile.code}", before, after)


def set_reader(
    registry: Registry, campus: str, reader_id: str, *, mode: str, room_code: str, actor: Actor
) -> None:
    """A door (``toggle``, ``in``, ``out``: no room) or the reader of a room."""
    if mode not in READER_MODES:
        raise DomainError("Choose one of the proposed values.")
    if (mode == "room") != bool(room_code):
        raise DomainError("A room reader needs its room; a door reader has none.")
    with registry() as session, session.begin():
        reader = session.scalar(
            select(Reader).where(Reader.campus_id == campus, Reader.reader_id == reader_id)
        )
        if reader is None:
            raise DomainError("There is no such reader.")
        before = {"mode": reader.mode, "room_id": reader.room_id}
        if mode == "room":
            try:
                OccupancyRepository(session).link_reader(campus, reader_id, room_code)
            except LookupError:
                raise DomainError("There is no such room.") from None
        else:
            reader.mode, reader.room_id = mode, None
        after = {"mode": reader.mode, "room_id": reader.room_id}
        _audit(session, actor, "reader_updated", "reader", f"{campus}/{reader_id}", before, after)


def _room_summary(room: Room, profile: RoomProfile) -> dict[str, object]:
    return {
        "name": room.name,
        "kind": profile.kind,
        "capacity": room.capacity,
        "area_m2": room.area_m2,
        "soft": profile.soft_limit,
        "hard": profile.hard_limit,
    }


def _audit(
    session: orm.Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: str,
    before: dict[str, object],
    after: dict[str, object],
) -> None:
    audit.record(
        session,
        at=actor.at,
        actor=actor.name,
        action=action,
        entity=entity,
        entity_id=entity_id,
        before=before,
        after=after,
    )
