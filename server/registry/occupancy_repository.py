"""What occupancy reads from and writes to the registry: the place (campus and rooms with
their limits), which reader is in which room, and the audited manual corrections."""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain.capacity import Limits
from server.ports.occupancy import (
    CountCorrection,
    Place,
    PlaceSheet,
    ReaderLine,
    ReaderRecord,
    RoomInfo,
    RoomLine,
    RoomRecord,
)
from server.registry import audit
from server.registry.models import AuditEntry, Campus, Reader, Room
from server.registry.occupancy_models import CampusCapacity, RoomProfile

CORRECTION_ACTION = "occupancy_correction"
CORRECTION_ENTITY = "occupancy"


class OccupancyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session
        self._readers: dict[tuple[str, str], Reader] = {}

    def places(self) -> dict[str, Place]:
        capacities = {row.campus_id: row for row in self.session.scalars(select(CampusCapacity))}
        rooms: dict[str, list[RoomInfo]] = {}
        query = select(Room, RoomProfile).outerjoin(RoomProfile, RoomProfile.room_id == Room.id)
        for room, profile in self.session.execute(query.order_by(Room.campus_id, Room.name)):
            rooms.setdefault(room.campus_id, []).append(_room_info(room, profile))
        result = {}
        for campus in self.session.scalars(select(Campus.id)):
            row = capacities.get(campus)
            limits = (
                Limits(row.capacity, row.soft_limit, row.hard_limit, row.area_m2)
                if row is not None
                else Limits()
            )
            result[campus] = Place(campus, limits, tuple(rooms.get(campus, ())))
        return result

    def room_readers(self) -> dict[tuple[str, str], str]:
        """(campus, reader) → room code, for the readers linked to a room."""
        query = (
            select(Reader.campus_id, Reader.reader_id, Room.id, Room.name, RoomProfile.code)
            .join(Room, Room.id == Reader.room_id)
            .outerjoin(RoomProfile, RoomProfile.room_id == Room.id)
        )
        return {
            (campus, reader): code or _default_code(room_id)
            for campus, reader, room_id, _name, code in self.session.execute(query)
        }

    def add_room(
        self,
        campus: str,
        room: RoomInfo,
        *,
        actor: str,
        at: datetime,
    ) -> None:
        row = Room(
            campus_id=campus,
            name=room.name,
            capacity=room.limits.capacity,
            area_m2=room.limits.area_m2,
        )
        self.session.add(row)
        self.session.flush()
        self.session.add(
            RoomProfile(
                room_id=row.id,
                campus_id=campus,
                code=room.code,
                kind=room.kind,
                soft_limit=room.limits.soft,
                hard_limit=room.limits.hard,
            )
        )
        audit.record(
            self.session,
            at=at,
            actor=actor,
            action="room_added",
            entity="room",
            entity_id=f"{campus}/{room.code}",
            after=_limits_summary(room.limits) | {"name": room.name, "kind": room.kind},
        )

    def set_campus_limits(self, campus: str, limits: Limits, *, actor: str, at: datetime) -> None:
        row = self.session.get(CampusCapacity, campus)
        before = None
        if row is None:
            row = CampusCapacity(campus_id=campus)
            self.session.add(row)
        else:
            before = {"capacity": row.capacity, "soft": row.soft_limit, "hard": row.hard_limit}
        row.capacity, row.area_m2 = limits.capacity, limits.area_m2
        row.soft_limit, row.hard_limit = limits.soft, limits.hard
        audit.record(
            self.session,
            at=at,
            actor=actor,
            action="campus_capacity_set",
            entity="campus",
            entity_id=campus,
            before=before,
            after=_limits_summary(limits),
        )

    def link_reader(self, campus: str, reader: str, room_code: str) -> int:
        """Make ``reader`` the room reader of ``room_code`` (mode ``room``); the room's id."""
        room_id = self.session.scalar(
            select(RoomProfile.room_id).where(
                RoomProfile.campus_id == campus, RoomProfile.code == room_code
            )
        )
        if room_id is None:
            raise LookupError(f"no room {room_code!r} in campus {campus!r}")
        row = self.session.scalars(
            select(Reader).where(Reader.campus_id == campus, Reader.reader_id == reader)
        ).one()
        row.mode, row.room_id = "room", room_id
        return room_id

    def set_door(self, campus: str, reader: str, mode: str) -> None:
        row = self._readers.get((campus, reader))  # read by ``reader`` in this session
        if row is None:
            row = self.session.scalars(
                select(Reader).where(Reader.campus_id == campus, Reader.reader_id == reader)
            ).one()
        row.mode, row.room_id = mode, None

    def reader(self, campus: str, reader_id: str) -> ReaderRecord | None:
        row = self.session.scalar(
            select(Reader).where(Reader.campus_id == campus, Reader.reader_id == reader_id)
        )
        if row is None:
            return None
        self._readers[(campus, reader_id)] = row
        return ReaderRecord(row.campus_id, row.reader_id, row.mode, row.room_id)

    def place_sheet(self, campus: str) -> PlaceSheet:
        capacity = self.session.get(CampusCapacity, campus)
        limits = (
            Limits(capacity.capacity, capacity.soft_limit, capacity.hard_limit, capacity.area_m2)
            if capacity is not None
            else Limits()
        )
        query = (
            select(Room, RoomProfile)
            .outerjoin(RoomProfile, RoomProfile.room_id == Room.id)
            .where(Room.campus_id == campus)
            .order_by(Room.name)
        )
        rooms = tuple(
            RoomLine(room.id, info.code, info.name, info.kind, info.limits)
            for room, profile in self.session.execute(query)
            for info in [_room_info(room, profile)]
        )
        codes = {room.id: room.code for room in rooms}
        readers = tuple(
            ReaderLine(row.reader_id, row.mode, codes.get(row.room_id, "") if row.room_id else "")
            for row in self.session.scalars(
                select(Reader).where(Reader.campus_id == campus).order_by(Reader.reader_id)
            )
        )
        return PlaceSheet(campus, limits, rooms, readers)

    def room_taken(self, campus: str, *, name: str, code: str) -> bool:
        taken = self.session.scalar(
            select(Room.id)
            .outerjoin(RoomProfile, RoomProfile.room_id == Room.id)
            .where(Room.campus_id == campus)
            .where((Room.name == name) | (RoomProfile.code == code))
        )
        return taken is not None

    def name_taken(self, campus: str, name: str, *, other_than: int) -> bool:
        clash = self.session.scalar(
            select(Room.id).where(
                Room.campus_id == campus, Room.name == name, Room.id != other_than
            )
        )
        return clash is not None

    def room(self, room_id: int) -> RoomRecord | None:
        room = self.session.get(Room, room_id)
        if room is None:
            return None
        profile = self.session.get(RoomProfile, room_id)
        return RoomRecord(
            room.id,
            room.campus_id,
            profile.code if profile is not None else _default_code(room.id),
            room.name,
            profile.kind if profile is not None else None,
            room.capacity,
            room.area_m2,
            profile.soft_limit if profile is not None else None,
            profile.hard_limit if profile is not None else None,
        )

    def save_room(self, record: RoomRecord) -> None:
        room = self.session.get(Room, record.id)
        assert room is not None
        profile = self.session.get(RoomProfile, record.id)
        if profile is None:
            profile = RoomProfile(room_id=record.id, campus_id=record.campus, code=record.code)
            self.session.add(profile)
        room.name, room.capacity, room.area_m2 = record.name, record.capacity, record.area_m2
        profile.kind, profile.soft_limit, profile.hard_limit = (
            record.kind,
            record.soft,
            record.hard,
        )

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
        audit.record(
            self.session,
            at=at,
            actor=actor,
            action=CORRECTION_ACTION,
            entity=CORRECTION_ENTITY,
            entity_id=f"{campus}/{room or ''}",
            before={"count": computed},
            after={"count": count, "adjustment": count - computed, "reason": reason},
        )

    def corrections_since(self, campus: str, since: datetime) -> list[tuple[str | None, int]]:
        """(room, adjustment) of the campus's corrections since ``since``, oldest first."""
        rows = self.session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action == CORRECTION_ACTION,
                AuditEntry.entity_id.startswith(f"{campus}/"),
                AuditEntry.at >= since,
            )
            .order_by(AuditEntry.at, AuditEntry.id)
        )
        result = []
        for row in rows:
            room = row.entity_id.split("/", 1)[1] or None
            result.append((room, int(json.loads(row.after)["adjustment"])))
        return result

    def corrections_between(
        self, campus: str, since: datetime, until: datetime
    ) -> list[CountCorrection]:
        """The campus's corrections between ``since`` and ``until``, newest first."""
        rows = self.session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action == CORRECTION_ACTION,
                AuditEntry.entity == CORRECTION_ENTITY,
                AuditEntry.entity_id.startswith(f"{campus}/", autoescape=True),
                AuditEntry.at >= since,
                AuditEntry.at <= until,
            )
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        )
        return [_count_correction(row) for row in rows]


def _count_correction(row: AuditEntry) -> CountCorrection:
    before = json.loads(row.before or "{}")
    after = json.loads(row.after or "{}")
    return CountCorrection(
        at=row.at,
        room=row.entity_id.split("/", 1)[1] or None,
        computed=int(before.get("count", 0)),
        count=int(after.get("count", 0)),
        reason=str(after.get("reason", "")),
        actor=row.actor,
    )


def _default_code(room_id: int) -> str:
    return f"room-{room_id}"


def _room_info(room: Room, profile: RoomProfile | None) -> RoomInfo:
    soft = profile.soft_limit if profile is not None else None
    hard = profile.hard_limit if profile is not None else None
    return RoomInfo(
        code=profile.code if profile is not None else _default_code(room.id),
        name=room.name,
        kind=profile.kind if profile is not None else "other",
        limits=Limits(room.capacity, soft, hard, room.area_m2),
    )


def _limits_summary(limits: Limits) -> dict[str, object]:
    return {
        "capacity": limits.capacity,
        "soft": limits.soft,
        "hard": limits.hard,
        "area_m2": limits.area_m2,
    }
