"""Registry tables of occupancy: what a room is for and its limits, and the campus's
own capacity. Rooms themselves (name, capacity, area) are ``models.Room``; readers are
linked to their room by ``models.Reader.room_id``. Migration ``0002_occupancy``."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from server.registry.models import Base

ROOM_KINDS = ("individual", "group", "social", "other")


class RoomProfile(Base):
    """A room's public id (``code``, as in MQTT events and the API), kind and limits."""

    __tablename__ = "room_profiles"
    __table_args__ = (
        UniqueConstraint("campus_id", "code"),
        CheckConstraint(f"kind IN ({', '.join(repr(kind) for kind in ROOM_KINDS)})", name="kind"),
    )

    room_id: Mapped[int] = mapped_column(ForeignKey("rooms.id"), primary_key=True)
    campus_id: Mapped[str] = mapped_column(ForeignKey("campuses.id"))
    code: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(20), default="individual")
    soft_limit: Mapped[int | None] = mapped_column(Integer)
    hard_limit: Mapped[int | None] = mapped_column(Integer)


class CampusCapacity(Base):
    """The whole place's capacity, area and limits (fire safety caps the building)."""

    __tablename__ = "campus_capacities"

    campus_id: Mapped[str] = mapped_column(ForeignKey("campuses.id"), primary_key=True)
    capacity: Mapped[int | None] = mapped_column(Integer)
    area_m2: Mapped[float | None] = mapped_column(Float)
    soft_limit: Mapped[int | None] = mapped_column(Integer)
    hard_limit: Mapped[int | None] = mapped_column(Integer)
