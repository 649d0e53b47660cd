"""Use cases of the campus's activity log: list a period's activities (what the annual
report counts) and add, change or delete a workshop, an interview, an exam session or
a steering-committee meeting. Every change is audited; students named must be of the
campus."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, orm, select

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
from server.registry import audit
from server.registry.models import Badge, Reader, Student
from server.registry.outcome_models import (
    ExamCandidate,
    ExamSessionRow,
    InterviewRow,
    SteeringMeetingRow,
    WorkshopAttendee,
    WorkshopRow,
)

Registry = Callable[[], orm.Session]
KINDS = ("workshop", "interview", "exam", "meeting")
_ROWS: dict[str, type[Any]] = {
    "workshop": WorkshopRow,
    "interview": InterviewRow,
    "exam": ExamSessionRow,
    "meeting": SteeringMeetingRow,
}


def _workshop(row: WorkshopRow, attendees: tuple[int, ...]) -> Workshop:
    return Workshop(
        id=row.id,
        campus_id=row.campus_id,
        day=row.day,
        theme=row.theme,
        attendee_pks=attendees,
        source=AttendanceSource(row.source),
        note=row.note,
    )


def _interview(row: InterviewRow) -> Interview:
    return Interview(
        id=row.id,
        campus_id=row.campus_id,
        day=row.day,
        student_pk=row.student_pk,
        modality=Modality(row.modality),
        tutor_id=row.tutor_id,
        note=row.note,
    )


def _exam(row: ExamSessionRow, candidates: tuple[int, ...]) -> ExamSession:
    return ExamSession(
        id=row.id,
        campus_id=row.campus_id,
        day=row.day,
        institution=row.institution,
        student_pks=candidates,
        candidates=row.candidates,
        note=row.note,
    )


def _meeting(row: SteeringMeetingRow) -> SteeringMeeting:
    return SteeringMeeting(id=row.id, campus_id=row.campus_id, day=row.day, note=row.note)


def _links(session: orm.Session, model: Any, key: Any, ids: list[int]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    if not ids:
        return found
    for owner, student_pk in session.execute(
        select(key, model.student_pk).where(key.in_(ids)).order_by(model.student_pk)
    ):
        found.setdefault(owner, []).append(student_pk)
    return found


def activities_for(
    registry: Registry,
    campus_id: str,
    first_day: date,
    last_day: date,
    *,
    tutor_id: int | None = None,
) -> ActivityLog:
    """The campus's activities from ``first_day`` to ``last_day`` (included), by day.
    With ``tutor_id``, only the interviews that tutor logged (the rest is unchanged)."""
    with registry() as session:

        def within(model: Any) -> Any:
            return (
                select(model)
                .where(
                    model.campus_id == campus_id,
                    model.day >= first_day,
                    model.day <= last_day,
                )
                .order_by(model.day, model.id)
            )

        workshops = session.scalars(within(WorkshopRow)).all()
        attendees = _links(
            session, WorkshopAttendee, WorkshopAttendee.workshop_id, [w.id for w in workshops]
        )
        interviews_query = within(InterviewRow)
        if tutor_id is not None:
            interviews_query = interviews_query.where(InterviewRow.tutor_id == tutor_id)
        interviews = session.scalars(interviews_query).all()
        exams = session.scalars(within(ExamSessionRow)).all()
        candidates = _links(session, ExamCandidate, ExamCandidate.exam_id, [e.id for e in exams])
        meetings = session.scalars(within(SteeringMeetingRow)).all()
        return ActivityLog(
            campus_id=campus_id,
            first_day=first_day,
            last_day=last_day,
            workshops=[_workshop(w, tuple(attendees.get(w.id, []))) for w in workshops],
            interviews=[_interview(row) for row in interviews],
            exams=[_exam(e, tuple(candidates.get(e.id, []))) for e in exams],
            meetings=[_meeting(row) for row in meetings],
        )


def activity(registry: Registry, kind: str, item_id: int) -> Any:
    """One activity (Workshop, Interview, ExamSession or SteeringMeeting), or None."""
    with registry() as session:
        row = session.get(_ROWS[kind], item_id)
        if row is None:
            return None
        if kind == "workshop":
            found = _links(session, WorkshopAttendee, WorkshopAttendee.workshop_id, [row.id])
            return _workshop(row, tuple(found.get(row.id, [])))
        if kind == "exam":
            found = _links(session, ExamCandidate, ExamCandidate.exam_id, [row.id])
            return _exam(row, tuple(found.get(row.id, [])))
        return _interview(row) if kind == "interview" else _meeting(row)


def _campus_students(session: orm.Session, campus_id: str, pks: Iterable[int]) -> list[int]:
    wanted = sorted(set(pks))
    if not wanted:
        return []
    found = set(
        session.scalars(
            select(Student.id).where(Student.id.in_(wanted), Student.campus_id == campus_id)
        )
    )
    if found != set(wanted):
        raise DomainError("A student named here is not a student of this campus.")
    return wanted


def _audit(
    session: orm.Session,
    actor: Actor,
    action: str,
    campus_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
) -> None:
    audit.record(
        session,
        at=actor.at,
        actor=actor.name,
        action=action,
        entity="campus",
        entity_id=campus_id,
        before=before,
        after=after,
    )


def _existing(session: orm.Session, kind: str, item_id: int, campus_id: str) -> Any:
    row = session.get(_ROWS[kind], item_id)
    if row is None or row.campus_id != campus_id:
        raise DomainError("This entry no longer exists.")
    return row


def save_workshop(
    registry: Registry,
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
    with registry() as session, session.begin():
        attendees = _campus_students(session, campus_id, attendee_pks)
        before = None
        if item_id is None:
            row = WorkshopRow(campus_id=campus_id)
            session.add(row)
        else:
            row = _existing(session, "workshop", item_id, campus_id)
            old = _links(session, WorkshopAttendee, WorkshopAttendee.workshop_id, [row.id])
            before = {
                "id": row.id,
                "day": row.day,
                "theme": row.theme,
                "attendees": old.get(row.id, []),
            }
            session.execute(delete(WorkshopAttendee).where(WorkshopAttendee.workshop_id == row.id))
        row.day, row.theme, row.note, row.source = day, theme, note, source.value
        session.flush()
        session.add_all(WorkshopAttendee(workshop_id=row.id, student_pk=pk) for pk in attendees)
        after = {"id": row.id, "day": day, "theme": theme, "attendees": attendees}
        _audit(session, actor, "workshop_saved", campus_id, before, after)
        return row.id


def save_interview(
    registry: Registry,
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
    with registry() as session, session.begin():
        _campus_students(session, campus_id, [student_pk])
        before = None
        if item_id is None:
            row = InterviewRow(campus_id=campus_id)
            session.add(row)
        else:
            row = _existing(session, "interview", item_id, campus_id)
            before = {
                "id": row.id,
                "day": row.day,
                "student_pk": row.student_pk,
                "modality": row.modality,
            }
        row.day, row.student_pk, row.modality, row.note = day, student_pk, modality.value, note
        row.tutor_id = tutor_id
        session.flush()
        after = {"id": row.id, "day": day, "student_pk": student_pk, "modality": modality.value}
        _audit(session, actor, "interview_saved", campus_id, before, after)
        return row.id


def save_exam(
    registry: Registry,
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
    with registry() as session, session.begin():
        students = _campus_students(session, campus_id, student_pks)
        before = None
        if item_id is None:
            row = ExamSessionRow(campus_id=campus_id)
            session.add(row)
        else:
            row = _existing(session, "exam", item_id, campus_id)
            old = _links(session, ExamCandidate, ExamCandidate.exam_id, [row.id])
            before = {
                "id": row.id,
                "day": row.day,
                "institution": row.institution,
                "candidates": row.candidates,
                "students": old.get(row.id, []),
            }
            session.execute(delete(ExamCandidate).where(ExamCandidate.exam_id == row.id))
        row.day, row.institution, row.candidates, row.note = day, institution, candidates, note
        session.flush()
        session.add_all(ExamCandidate(exam_id=row.id, student_pk=pk) for pk in students)
        after = {
            "id": row.id,
            "day": day,
            "institution": institution,
            "candidates": candidates,
            "students": students,
        }
        _audit(session, actor, "exam_saved", campus_id, before, after)
        return row.id


def save_meeting(
    registry: Registry,
    campus_id: str,
    *,
    day: date,
    note: str = "",
    actor: Actor,
    item_id: int | None = None,
) -> int:
    """Add or replace a steering-committee (COPIL) meeting."""
    check_note(note)
    with registry() as session, session.begin():
        before = None
        if item_id is None:
            row = SteeringMeetingRow(campus_id=campus_id)
            session.add(row)
        else:
            row = _existing(session, "meeting", item_id, campus_id)
            before = {"id": row.id, "day": row.day}
        row.day, row.note = day, note
        session.flush()
        _audit(session, actor, "meeting_saved", campus_id, before, {"id": row.id, "day": day})
        return row.id


def delete_activity(
    registry: Registry, kind: str, item_id: int, campus_id: str, *, actor: Actor
) -> None:
    """Delete one activity of the campus (its attendees or candidates go with it)."""
    with registry() as session, session.begin():
        row = _existing(session, kind, item_id, campus_id)
        if kind == "workshop":
            session.execute(delete(WorkshopAttendee).where(WorkshopAttendee.workshop_id == row.id))
        if kind == "exam":
            session.execute(delete(ExamCandidate).where(ExamCandidate.exam_id == row.id))
        before = {"id": row.id, "day": row.day}
        session.delete(row)
        _audit(session, actor, f"{kind}_deleted", campus_id, before, None)


MAX_WORKSHOP_HOURS = 12


def campus_readers(registry: Registry, campus_id: str) -> list[str]:
    """The campus's reader ids (a workshop's attendance can be taken at one of them)."""
    with registry() as session:
        return list(
            session.scalars(
                select(Reader.reader_id)
                .where(Reader.campus_id == campus_id)
                .order_by(Reader.reader_id)
            )
        )


def attendance_from_badges(
    registry: Registry,
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
    if reader not in campus_readers(registry, campus_id):
        raise DomainError("Unknown reader {reader}.", reader=reader)
    workshop = activity(registry, "workshop", workshop_id)
    if workshop is None or workshop.campus_id != campus_id:
        raise DomainError("This entry no longer exists.")
    taps = store.taps(start, end, campus=campus_id, reader=reader)
    hashes = sorted({tap.badge for tap in taps})
    with registry() as session:
        holdings = session.execute(
            select(Badge.badge_hash, Badge.student_pk, Badge.active_from, Badge.revoked_at)
            .join(Student, Student.id == Badge.student_pk)
            .where(Badge.badge_hash.in_(hashes), Student.campus_id == campus_id)
        ).all()
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
        registry,
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
    registry: Registry,
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
    workshop = activity(registry, "workshop", workshop_id)
    if workshop is None or workshop.campus_id != campus_id:
        raise DomainError("This entry no longer exists.")
    attendees = tuple(sorted((set(workshop.attendee_pks) - among) | ticked))
    if attendees != tuple(sorted(workshop.attendee_pks)):
        save_workshop(
            registry,
            campus_id,
            day=workshop.day,
            theme=workshop.theme,
            attendee_pks=attendees,
            note=workshop.note,
            actor=actor,
            item_id=workshop_id,
        )
    return attendees
