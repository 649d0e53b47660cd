"""Use cases: badges that no student holds yet, attaching them, revoking badges.

An unknown badge tapped at a reader is kept as a sighting (keyed hash, campus, reader,
first and last time seen). When an admin attaches it to a student, the badge counts for
that student from the first time it was seen, so the taps of the day it was handed out
are not lost.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import orm, select

from server.domain.contracts import DomainError
from server.registry.models import Badge, UnknownBadge
from server.registry.student_repository import Actor, StudentRepository


@dataclass(frozen=True, slots=True)
class UnknownBadgeSeen:
    id: int
    campus_id: str
    reader_id: str
    first_seen: datetime
    last_seen: datetime
    seen_count: int
    badge_hash: str

    @property
    def short_hash(self) -> str:
        """Enough of the hash to tell two cards apart on a screen."""
        return self.badge_hash[:10]


def unknown_badges(
    registry: Callable[[], orm.Session], *, campus: str | None = None
) -> list[UnknownBadgeSeen]:
    """Unknown badges not attached yet, most recently seen first."""
    query = select(UnknownBadge).where(UnknownBadge.attached_at.is_(None))
    if campus is not None:
        query = query.where(UnknownBadge.campus_id == campus)
    with registry() as session:
        rows = session.scalars(query.order_by(UnknownBadge.last_seen.desc()))
        return [
            UnknownBadgeSeen(
                row.id,
                row.campus_id,
                row.reader_id,
                row.first_seen,
                row.last_seen,
                row.seen_count,
                row.badge_hash,
            )
            for row in rows
        ]


def attach_unknown_badge(
    registry: Callable[[], orm.Session], sighting_id: int, student_id: str, *, actor: Actor
) -> None:
    """Give the badge of sighting ``sighting_id`` to ``student_id``, from when it was
    first seen."""
    with registry() as session, session.begin():
        sighting = session.get(UnknownBadge, sighting_id)
        if sighting is None or sighting.attached_at is not None:
            raise DomainError(
                "no unknown badge {number} waiting to be attached", number=sighting_id
            )
        students = StudentRepository(session)
        student = students.student(student_id)
        if student is None:
            raise DomainError("unknown student {student_id}", student_id=student_id)
        students.give_badge(student, sighting.badge_hash, sighting.first_seen, actor)


def revoke_badges(
    registry: Callable[[], orm.Session], student_id: str, *, reason: str, actor: Actor
) -> int:
    """Revoke every badge the student holds now (lost card, end of contract)."""
    with registry() as session, session.begin():
        students = StudentRepository(session)
        student = students.student(student_id)
        if student is None:
            raise DomainError("unknown student {student_id}", student_id=student_id)
        held = session.scalars(
            select(Badge).where(Badge.student_pk == student.id, Badge.revoked_at.is_(None))
        ).all()
        for badge in held:
            students.revoke_badge(badge, reason, actor)
        return len(held)
