"""Use cases of the admin's badge page, on top of :mod:`server.services.people.enrolment`: which
campus a sighting or a student belongs to (for the access checks of the page), and
attaching a sighting only to a student of the campus where the badge was seen (readers
match badges campus by campus: a badge given across campuses would never count)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from server.adapters.event_store import EventStore
from server.domain.accounts import Actor
from server.domain.errors import DomainError
from server.ports.people import PeopleUnitOfWork
from server.services.people.enrolment import attach_unknown_badge

UnitOfWork = Callable[[], PeopleUnitOfWork]


@dataclass(frozen=True, slots=True)
class StudentRef:
    pk: int
    student_id: str
    campus_id: str
    tutor_id: int | None


def student_ref(unit_of_work: UnitOfWork, student_id: str) -> StudentRef | None:
    with unit_of_work() as uow:
        row = uow.students.by_student_id(student_id)
    if row is None:
        return None
    return StudentRef(row.pk, row.student_id, row.campus_id, row.tutor_id)


def sighting_campus(unit_of_work: UnitOfWork, sighting_id: int) -> str | None:
    """The campus of an unknown badge still waiting to be attached, else None."""
    with unit_of_work() as uow:
        row = uow.badges.sighting(sighting_id)
    return row.campus_id if row is not None and row.attached_at is None else None


def attach(
    unit_of_work: UnitOfWork,
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
    campus = sighting_campus(unit_of_work, sighting_id)
    if campus is None:
        raise DomainError("no unknown badge {number} waiting to be attached", number=sighting_id)
    student = student_ref(unit_of_work, student_id)
    if student is None:
        raise DomainError("unknown student {student_id}", student_id=student_id)
    if student.campus_id != campus:
        raise DomainError("This badge was seen at another campus than the student's.")
    attach_unknown_badge(
        unit_of_work,
        events,
        sighting_id,
        student_id,
        actor=actor,
        zone=zone,
        credit_past=credit_past,
    )
