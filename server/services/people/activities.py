"""Use cases of the campus's activity log: list a period's activities (what the annual
report counts) and add, change or delete a workshop, an interview, an exam session or
a steering-committee meeting. Every change is audited; students named must be of the
campus."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from server.adapters.event_store import EventStore
from server.domain.accounts import Actor
from server.domain.activities import (
    ActivityLog,
    AttendanceSource,
    ExamSession,
    Interview,
    Modality,
    SteeringMeeting,
    Workshop,
    attendees_from_taps,
    check_exam,
    check_note,
    check_theme,
)
from server.domain.errors import DomainError
from server.ports.activities import Activity
from server.ports.people import PeopleUnitOfWork, StudentRecord

UnitOfWork = Callable[[], PeopleUnitOfWork]
KINDS = ("workshop", "interview", "exam", "meeting")


def activities_for(
    unit_of_work: UnitOfWork,
    campus_id: str,
    first_day: date,
    last_day: date,
    *,
    tutor_id: int | None = None,
) -> ActivityLog:
    """The campus's activities from ``first_day`` to ``last_day`` (included), by day.
    With ``tutor_id``, only the interviews that tutor logged (the rest is unchanged)."""
    with unit_of_work() as uow:
        return uow.activities.in_period(campus_id, first_day, last_day, tutor_id=tutor_id)


def activity(unit_of_work: UnitOfWork, kind: str, item_id: int) -> Any:
    """One activity (Workshop, Interview, ExamSession or SteeringMeeting), or None."""
    with unit_of_work() as uow:
        return uow.activities.get(kind, item_id)


def campus_students(
    unit_of_work: UnitOfWork, campus_id: str, tutor_id: int | None = None
) -> list[tuple[int, str]]:
    """(pk, "Last First") of the campus's students (a tutor's only, with ``tutor_id``),
    by name."""
    with unit_of_work() as uow:
        students = uow.students.of_campus(campus_id)
    return [
        (s.pk, f"{s.last_name} {s.first_name}".strip())
        for s in students
        if tutor_id is None or s.tutor_id == tutor_id
    ]


def tutor_students(
    unit_of_work: UnitOfWork, tutor_id: int, campus_id: str | None = None
) -> list[StudentRecord]:
    """The students a tutor follows (on ``campus_id`` only, when given), by name: whose
    interviews and workshop attendance the tutor logs."""
    with unit_of_work() as uow:
        students = uow.students.of_tutor(tutor_id)
    return [s for s in students if campus_id is None or s.campus_id == campus_id]


def _campus_students(uow: PeopleUnitOfWork, campus_id: str, pks: Iterable[int]) -> list[int]:
    wanted = sorted(set(pks))
    if not wanted:
        return []
    if uow.students.on_campus(campus_id, wanted) != set(wanted):
        raise DomainError("A student named here is not a student of this campus.")
    return wanted


def _audit(
    uow: PeopleUnitOfWork,
    actor: Actor,
    action: str,
    campus_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    uow.audit.record(
        at=actor.at,
        actor=actor.name,
        action=action,
        entity="campus",
        entity_id=campus_id,
        before=before,
        after=after,
    )


def _existing(uow: PeopleUnitOfWork, kind: str, item_id: int, campus_id: str) -> Any:
    found = uow.activities.get(kind, item_id)
    if found is None or found.campus_id != campus_id:
        raise DomainError("This entry no longer exists.")
    return found


def _store(uow: PeopleUnitOfWork, record: Activity, item_id: int | None) -> int:
    if item_id is None:
        return uow.activities.add(record)
    uow.activities.replace(record)
    return item_id


def save_workshop(
    unit_of_work: UnitOfWork,
    campus_id: str,
    *,
    day: date,
    theme: str,
    attendee_pks: Iterable[int],
    note: str = "",
    actor: Actor,
    item_id: int | None = None,
    source: AttendanceSource = AttendanceSource.TICKED,
) -> int:
    """Add a workshop (``item_id`` None) or replace one; the attendees are replaced."""
    theme = theme.strip()
    check_theme(theme)
    check_note(note)
    with unit_of_work() as uow:
        attendees = _campus_students(uow, campus_id, attendee_pks)
        before = None
        if item_id is not None:
            old = _existing(uow, "workshop", item_id, campus_id)
            before = {
                "id": old.id,
                "day": old.day,
                "theme": old.theme,
                "attendees": list(old.attendee_pks),
            }
        record = Workshop(item_id or 0, campus_id, day, theme, tuple(attendees), source, note)
        saved = _store(uow, record, item_id)
        after = {"id": saved, "day": day, "theme": theme, "attendees": attendees}
        _audit(uow, actor, "workshop_saved", campus_id, before, after)
        uow.commit()
        return saved


def save_interview(
    unit_of_work: UnitOfWork,
    campus_id: str,
    *,
    day: date,
    student_pk: int,
    modality: Modality,
    tutor_id: int | None,
    note: str = "",
    actor: Actor,
    item_id: int | None = None,
) -> int:
    """Add or replace an individual interview with a student of the campus."""
    check_note(note)
    with unit_of_work() as uow:
        _campus_students(uow, campus_id, [student_pk])
        before = None
        if item_id is not None:
            old = _existing(uow, "interview", item_id, campus_id)
            before = {
                "id": old.id,
                "day": old.day,
                "student_pk": old.student_pk,
                "modality": old.modality.value,
            }
        record = Interview(item_id or 0, campus_id, day, student_pk, modality, tutor_id, note)
        saved = _store(uow, record, item_id)
        after = {"id": saved, "day": day, "student_pk": student_pk, "modality": modality.value}
        _audit(uow, actor, "interview_saved", campus_id, before, after)
        uow.commit()
        return saved


def save_exam(
    unit_of_work: UnitOfWork,
    campus_id: str,
    *,
    day: date,
    institution: str,
    student_pks: Iterable[int] = (),
    candidates: int = 0,
    note: str = "",
    actor: Actor,
    item_id: int | None = None,
) -> int:
    """Add or replace an exam session held on site (its students, or their count)."""
    institution = institution.strip()
    student_pks = list(student_pks)
    check_exam(institution, student_pks, candidates)
    check_note(note)
    with unit_of_work() as uow:
        students = _campus_students(uow, campus_id, student_pks)
        before = None
        if item_id is not None:
            old = _existing(uow, "exam", item_id, campus_id)
            before = {
                "id": old.id,
                "day": old.day,
                "institution": old.institution,
                "candidates": old.candidates,
                "students": list(old.student_pks),
            }
        record = ExamSession(
            item_id or 0, campus_id, day, institution, tuple(students), candidates, note
        )
        saved = _store(uow, record, item_id)
        after = {
            "id": saved,
            "day": day,
            "institution": institution,
            "candidates": candidates,
            "students": students,
        }
        _audit(uow, actor, "exam_saved", campus_id, before, after)
        uow.commit()
        return saved


def save_meeting(
    unit_of_work: UnitOfWork,
    campus_id: str,
    *,
    day: date,
    note: str = "",
    actor: Actor,
    item_id: int | None = None,
) -> int:
    """Add or replace a steering-committee (COPIL) meeting."""
    check_note(note)
    with unit_of_work() as uow:
        before = None
        if item_id is not None:
            old = _existing(uow, "meeting", item_id, campus_id)
            before = {"id": old.id, "day": old.day}
        saved = _store(uow, SteeringMeeting(item_id or 0, campus_id, day, note), item_id)
        _audit(uow, actor, "meeting_saved", campus_id, before, {"id": saved, "day": day})
        uow.commit()
        return saved


def delete_activity(
    unit_of_work: UnitOfWork, kind: str, item_id: int, campus_id: str, *, actor: Actor
) -> None:
    """Delete one activity of the campus (its attendees or candidates go with it)."""
    with unit_of_work() as uow:
        old = _existing(uow, kind, item_id, campus_id)
        uow.activities.delete(kind, item_id)
        _audit(uow, actor, f"{kind}_deleted", campus_id, {"id": old.id, "day": old.day}, None)
        uow.commit()


MAX_WORKSHOP_HOURS = 12


def campus_readers(unit_of_work: UnitOfWork, campus_id: str) -> list[str]:
    """The campus's reader ids (a workshop's attendance can be taken at one of them)."""
    with unit_of_work() as uow:
        return uow.campuses.readers(campus_id)


def attendance_from_badges(
    unit_of_work: UnitOfWork,
    store: EventStore,
    workshop_id: int,
    campus_id: str,
    *,
    reader: str,
    start: datetime,
    end: datetime,
    actor: Actor,
) -> int:
    """Take a workshop's attendance from the badges tapped at ``reader`` (a room reader
    put in workshop mode) from ``start`` to ``end``: each student of the campus whose
    badge was tapped there then attends once; the list replaces the ticked one (source
    ``badges``, audited). Only this list is kept: the taps are read once for this
    explicit purpose and no one's moves between rooms are recorded. Returns the number
    of attendees."""
    if end <= start:
        raise DomainError("A workshop must end after it starts.")
    if end - start > timedelta(hours=MAX_WORKSHOP_HOURS):
        raise DomainError("A workshop lasts at most {count} hours.", count=MAX_WORKSHOP_HOURS)
    if reader not in campus_readers(unit_of_work, campus_id):
        raise DomainError("Unknown reader {reader}.", reader=reader)
    workshop = activity(unit_of_work, "workshop", workshop_id)
    if workshop is None or workshop.campus_id != campus_id:
        raise DomainError("This entry no longer exists.")
    taps = store.taps(start, end, campus=campus_id, reader=reader)
    hashes = sorted({tap.badge for tap in taps})
    with unit_of_work() as uow:
        holdings = uow.badges.holdings(campus_id, hashes)
    pairs = [
        (tap.ts, holding.student_pk)
        for tap in taps
        for holding in holdings
        if holding.badge_hash == tap.badge
        and holding.active_from <= tap.ts
        and (holding.revoked_at is None or tap.ts < holding.revoked_at)
    ]
    attendees = attendees_from_taps(pairs, start, end)
    save_workshop(
        unit_of_work,
        campus_id,
        day=workshop.day,
        theme=workshop.theme,
        attendee_pks=attendees,
        note=workshop.note,
        actor=actor,
        item_id=workshop_id,
        source=AttendanceSource.BADGES,
    )
    return len(attendees)


def tick_attendees(
    unit_of_work: UnitOfWork,
    workshop_id: int,
    campus_id: str,
    *,
    among: Iterable[int],
    ticked: Iterable[int],
    actor: Actor,
) -> tuple[int, ...]:
    """A tutor ticks who of their students (``among``) attended: the other attendees
    stay as they are. Returns the new attendee list."""
    among = set(among)
    ticked = set(ticked)
    if not ticked <= among:
        raise DomainError("A student named here is not a student of this campus.")
    workshop = activity(unit_of_work, "workshop", workshop_id)
    if workshop is None or workshop.campus_id != campus_id:
        raise DomainError("This entry no longer exists.")
    attendees = tuple(sorted((set(workshop.attendee_pks) - among) | ticked))
    if attendees != tuple(sorted(workshop.attendee_pks)):
        save_workshop(
            unit_of_work,
            campus_id,
            day=workshop.day,
            theme=workshop.theme,
            attendee_pks=attendees,
            note=workshop.note,
            actor=actor,
            item_id=workshop_id,
        )
    return attendees
