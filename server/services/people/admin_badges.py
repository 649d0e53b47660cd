"""Use cases of the admin's badge page, on top of :mod:`server.services.people.enrolment`: which
campus a sighting or a student belongs to (for the access checks of the page), and
attaching a sighting only to a student of the campus where the badge was seen (readers
match badges campus by campus: a badge given across campuses would never count)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import orm, select

from server.adapters.event_store import EventStore
from server.domain.accounts import Actor
from server.domain.errors import DomainError
from server.registry.models import Student, UnknownBadge
from server.services.people.enrolment import attach_unknown_badge

Registry = Callable[[], orm.Session]


@dataclass(frozen=True, slots=True)
class StudentRef:
    pk: int
    student_id: str
    campus_id: str
    tutor_id: int | None


def student_ref(registry: Registry, student_id: str) -> StudentRef | None:
    with registry() as session:
        row = session.scalar(select(Student).where(Student.student_id == student_id))
        if row is None:
            return None
        return StudentRef(row.id, row.student_id, row.campus_id, row.tutor_id)


def sighting_campus(registry: Registry, sighting_id: int) -> str | None:
    """The campus of an unknown badge still waiting to be attached, else None."""
    with registry() as session:
        row = session.get(UnknownBadge, sighting_id)
        return row.campus_id if row is not None and row.attached_at is None else None


def attach(
    registry: Registry,
    events: EventStore,
    sighting_id: int,
    student_id: str,
    *,
    actor: Actor,
    zone: ZoneInfo,
    credit_past: bool | None = None,
) -> None:
    """Give the badge of a sighting to a student of the same campus. When the badge
    already has taps, ``credit_past`` must say whether they count for the student
    (:class:`~server.services.people.enrolment.PastTapsChoice` otherwise). Raises
    :class:`DomainError`."""
    campus = sighting_campus(registry, sighting_id)
    if campus is None:
        raise DomainError("no unknown badge {number} waiting to be attached", number=sighting_id)
    student = student_ref(registry, student_id)
    if student is None:
        raise DomainError("unknown student {student_id}", student_id=student_id)
    if student.campus_id != campus:
        raise DomainError("This badge was seen at another campus than the student's.")
    attach_unknown_badge(
        registry,
        events,
        sighting_id,
        student_id,
        actor=actor,
        zone=zone,
        credit_past=credit_past,
    )
