"""The registry's implementation of the people ports (``server.ports.people``): one
SQLAlchemy session per unit of work, rows copied to records. The writes of students,
tutors, contracts, badges and frozen weeks are :class:`StudentRepository`'s, so they are
audited exactly as the ledger's and the erasure's writes through it are."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import delete, func, or_, orm, select

from server.config import PresenceSettings
from server.domain.academic_year import AcademicYear
from server.domain.accounts import Actor
from server.domain.activities import (
    ActivityLog,
    AttendanceSource,
    ExamSession,
    Interview,
    Modality,
    SteeringMeeting,
    Workshop,
)
from server.domain.calendar import CampusCalendar, IsoWeek
from server.domain.contracts import Contract, Slot
from server.domain.outcomes import AgeBand, ProfileStatus, ProgrammeType, Result, StudentYear
from server.ports.activities import Activity
from server.ports.people import (
    CampusRef,
    CampusZones,
    HeldBadge,
    SaveOutcome,
    Sighting,
    StudentLine,
    StudentRecord,
    TutorRef,
)
from server.registry.account_store import SqlAuditTrail
from server.registry.models import (
    Badge,
    Campus,
    Closure,
    OpeningHours,
    Reader,
    SchoolHoliday,
    Student,
    Tutor,
    UnknownBadge,
)
from server.registry.outcome_models import (
    ExamCandidate,
    ExamSessionRow,
    InterviewRow,
    SteeringMeetingRow,
    StudentYearRow,
    WorkshopAttendee,
    WorkshopRow,
)
from server.registry.presence_repository import PresenceRepository
from server.registry.student_repository import StudentRepository, as_contract
from server.registry.unit_of_work import SessionUnitOfWork

_STUDENT_FIELDS = (
    "student_id",
    "campus_id",
    "last_name",
    "first_name",
    "email",
    "phone",
    "programme",
    "institution",
    "institution_type",
    "tutor_id",
)
_YEAR_FIELDS = (
    "programme",
    "programme_type",
    "institution",
    "institution_public",
    "enrolled_on",
    "left_on",
    "age_band",
    "status",
    "result",
    "result_on",
    "result_reason",
)


def student_record(row: Student) -> StudentRecord:
    return StudentRecord(row.id, **{name: getattr(row, name) for name in _STUDENT_FIELDS})


def _sighting(row: UnknownBadge) -> Sighting:
    return Sighting(
        row.id,
        row.badge_hash,
        row.campus_id,
        row.reader_id,
        row.first_seen,
        row.last_seen,
        row.seen_count,
        row.attached_at,
    )


def student_year(row: StudentYearRow, student: Student) -> StudentYear:
    return StudentYear(
        student_pk=student.id,
        student_id=student.student_id,
        campus_id=student.campus_id,
        year=AcademicYear.parse(row.year),
        programme=row.programme,
        programme_type=ProgrammeType(row.programme_type),
        institution=row.institution,
        institution_public=row.institution_public,
        enrolled_on=row.enrolled_on,
        left_on=row.left_on,
        age_band=AgeBand(row.age_band),
        status=ProfileStatus(row.status),
        result=Result(row.result),
        result_on=row.result_on,
        result_reason=row.result_reason,
        display_name=f"{student.last_name} {student.first_name}".strip(),
    )


class _Session:
    def __init__(self, session: orm.Session) -> None:
        self._session = session
        self._repository = StudentRepository(session)

    def _student(self, pk: int) -> Student:
        row = self._session.get(Student, pk)
        assert row is not None, f"no student {pk}"
        return row


class SqlCampuses(_Session):
    def __init__(self, session: orm.Session, presence: PresenceSettings | None) -> None:
        super().__init__(session)
        self._presence = presence

    def listing(self) -> list[CampusRef]:
        rows = self._session.execute(select(Campus.id, Campus.name).order_by(Campus.id))
        return [CampusRef(campus_id, name) for campus_id, name in rows]

    def exists(self, campus_id: str) -> bool:
        return self._session.get(Campus, campus_id) is not None

    def _campus(self, campus_id: str) -> Campus:
        row = self._session.get(Campus, campus_id)
        assert row is not None, f"no campus {campus_id}"
        return row

    def add(self, campus_id: str, name: str, timezone: str, school_zone: str | None) -> None:
        row = Campus(id=campus_id, name=name, timezone=timezone, school_zone=school_zone)
        self._session.add(row)
        self._session.flush()

    def readers(self, campus_id: str) -> list[str]:
        query = select(Reader.reader_id).where(Reader.campus_id == campus_id)
        return list(self._session.scalars(query.order_by(Reader.reader_id)))

    def add_reader(self, campus_id: str, reader_id: str, mode: str) -> None:
        self._session.add(Reader(campus_id=campus_id, reader_id=reader_id, mode=mode))

    def zones(self) -> list[CampusZones]:
        rows = self._session.execute(
            select(Campus.id, Campus.timezone, Campus.school_zone).order_by(Campus.id)
        )
        return [CampusZones(*row) for row in rows]

    def set_zones(self, campus_id: str, timezone: str, school_zone: str | None) -> None:
        row = self._campus(campus_id)
        row.timezone, row.school_zone = timezone, school_zone

    def calendar(self, campus_id: str) -> CampusCalendar:
        assert self._presence is not None, "people_unit_of_work(..., presence=) not given"
        presence = self._presence
        repository = PresenceRepository(
            self._session, school_zone=presence.school_zone, timezone=presence.timezone
        )
        return repository.calendar(campus_id)

    def opening_hours(self, campus_id: str) -> list[Slot]:
        rows = self._session.scalars(
            select(OpeningHours).where(OpeningHours.campus_id == campus_id)
        )
        return [Slot(row.weekday, row.opens, row.closes) for row in rows]

    def set_opening_hours(self, campus_id: str, hours: Sequence[Slot]) -> None:
        self._session.execute(delete(OpeningHours).where(OpeningHours.campus_id == campus_id))
        for slot in hours:
            self._session.add(
                OpeningHours(
                    campus_id=campus_id, weekday=slot.weekday, opens=slot.start, closes=slot.end
                )
            )

    def add_closure(self, campus_id: str, start: date, end: date, label: str) -> int:
        row = Closure(campus_id=campus_id, start=start, end=end, label=label)
        self._session.add(row)
        self._session.flush()
        return row.id

    def closes_on_school_holidays(self, campus_id: str) -> bool:
        return self._campus(campus_id).closes_on_school_holidays

    def set_closes_on_school_holidays(self, campus_id: str, closes: bool) -> None:
        self._campus(campus_id).closes_on_school_holidays = closes

    def put_school_holiday(self, zone: str, start: date, end: date, label: str) -> None:
        row = self._session.scalar(
            select(SchoolHoliday).where(SchoolHoliday.zone == zone, SchoolHoliday.start == start)
        )
        if row is None:
            self._session.add(SchoolHoliday(zone=zone, start=start, end=end, label=label))
        else:
            row.end, row.label = end, label


class SqlStudents(_Session):
    def get(self, pk: int) -> StudentRecord | None:
        row = self._session.get(Student, pk)
        return student_record(row) if row is not None else None

    def by_student_id(self, student_id: str) -> StudentRecord | None:
        row = self._repository.student(student_id)
        return student_record(row) if row is not None else None

    def save(
        self, student_id: str, values: Mapping[str, Any], actor: Actor
    ) -> tuple[StudentRecord, SaveOutcome]:
        row, outcome = self._repository.save_student(student_id, values, actor)
        return student_record(row), cast(SaveOutcome, outcome)

    def count(self, campus_ids: Iterable[str]) -> int:
        query = select(func.count(Student.id)).where(Student.campus_id.in_(list(campus_ids)))
        return self._session.scalar(query) or 0

    def listing(self, campus_ids: Iterable[str], search: str, limit: int) -> list[StudentLine]:
        held = (
            select(Badge.student_pk, func.count(Badge.id).label("held"))
            .where(Badge.revoked_at.is_(None))
            .group_by(Badge.student_pk)
            .subquery()
        )
        query = (
            select(Student, Tutor.email, held.c.held)
            .outerjoin(Tutor, Tutor.id == Student.tutor_id)
            .outerjoin(held, held.c.student_pk == Student.id)
            .where(Student.campus_id.in_(list(campus_ids)))
        )
        words = search.strip()
        if words:
            pattern = f"%{words}%"
            query = query.where(
                or_(
                    Student.student_id.ilike(pattern),
                    Student.last_name.ilike(pattern),
                    Student.first_name.ilike(pattern),
                    (Student.first_name + " " + Student.last_name).ilike(pattern),
                )
            )
        query = query.order_by(Student.last_name, Student.first_name).limit(limit)
        return [
            StudentLine(
                row.id,
                row.student_id,
                row.last_name,
                row.first_name,
                row.campus_id,
                row.programme,
                email or "",
                count or 0,
            )
            for row, email, count in self._session.execute(query)
        ]

    def of_campus(self, campus_id: str) -> list[StudentRecord]:
        rows = self._session.scalars(
            select(Student)
            .where(Student.campus_id == campus_id)
            .order_by(Student.last_name, Student.first_name, Student.id)
        )
        return [student_record(row) for row in rows]

    def of_tutor(self, tutor_id: int) -> list[StudentRecord]:
        rows = self._session.scalars(
            select(Student)
            .where(Student.tutor_id == tutor_id)
            .order_by(Student.last_name, Student.first_name, Student.id)
        )
        return [student_record(row) for row in rows]

    def on_campus(self, campus_id: str, pks: Iterable[int]) -> set[int]:
        wanted = sorted(set(pks))
        if not wanted:
            return set()
        query = select(Student.id).where(Student.id.in_(wanted), Student.campus_id == campus_id)
        return set(self._session.scalars(query))

    def campus_exists(self, campus_id: str) -> bool:
        return self._repository.campus_exists(campus_id)


class SqlTutors(_Session):
    def listing(self) -> list[TutorRef]:
        rows = self._session.scalars(select(Tutor).order_by(Tutor.name, Tutor.email))
        return [TutorRef(row.id, row.email, row.name) for row in rows]

    def exists(self, tutor_id: int) -> bool:
        return self._session.get(Tutor, tutor_id) is not None

    def by_email(self, email: str, actor: Actor) -> TutorRef:
        row = self._repository.tutor(email, actor)
        return TutorRef(row.id, row.email, row.name)


class SqlContracts(_Session):
    def in_force(self, student_pk: int) -> list[Contract]:
        student = self._student(student_pk)
        return [as_contract(row) for row in student.contracts if row.replaced_at is None]

    def apply(self, student_pk: int, contract: Contract, actor: Actor) -> bool:
        return self._repository.apply_contract(self._student(student_pk), contract, actor)


class SqlBadges(_Session):
    def held(self, student_pk: int) -> int:
        query = select(func.count(Badge.id)).where(
            Badge.student_pk == student_pk, Badge.revoked_at.is_(None)
        )
        return self._session.scalar(query) or 0

    def give(self, student_pk: int, badge_hash: str, active_from: datetime, actor: Actor) -> bool:
        student = self._student(student_pk)
        return self._repository.give_badge(student, badge_hash, active_from, actor)

    def revoke_all(self, student_pk: int, reason: str, actor: Actor) -> int:
        held = self._session.scalars(
            select(Badge).where(Badge.student_pk == student_pk, Badge.revoked_at.is_(None))
        ).all()
        for badge in held:
            self._repository.revoke_badge(badge, reason, actor)
        return len(held)

    def sighting(self, sighting_id: int) -> Sighting | None:
        row = self._session.get(UnknownBadge, sighting_id)
        return _sighting(row) if row is not None else None

    def sightings(self, campus_id: str | None = None) -> list[Sighting]:
        query = select(UnknownBadge).where(UnknownBadge.attached_at.is_(None))
        if campus_id is not None:
            query = query.where(UnknownBadge.campus_id == campus_id)
        rows = self._session.scalars(query.order_by(UnknownBadge.last_seen.desc()))
        return [_sighting(row) for row in rows]

    def seen_unattached(self, badge_hash: str) -> bool:
        found = self._session.scalar(
            select(UnknownBadge.id).where(
                UnknownBadge.badge_hash == badge_hash, UnknownBadge.attached_at.is_(None)
            )
        )
        return found is not None

    def holdings(self, campus_id: str, badge_hashes: Iterable[str]) -> list[HeldBadge]:
        rows = self._session.execute(
            select(Badge.badge_hash, Badge.student_pk, Badge.active_from, Badge.revoked_at)
            .join(Student, Student.id == Badge.student_pk)
            .where(Badge.badge_hash.in_(list(badge_hashes)), Student.campus_id == campus_id)
        )
        return [HeldBadge(*row) for row in rows]


class SqlWeeks(_Session):
    def reopen(
        self, student_pk: int, weeks: Iterable[IsoWeek], actor: Actor, *, cause: str
    ) -> list[IsoWeek]:
        student = self._student(student_pk)
        return self._repository.reopen_weeks(student, weeks, actor, cause=cause)


class SqlStudentYears(_Session):
    def get(self, student_pk: int, year: AcademicYear) -> StudentYear | None:
        row = self._row(student_pk, year)
        return student_year(row, self._student(student_pk)) if row is not None else None

    def _row(self, student_pk: int, year: AcademicYear) -> StudentYearRow | None:
        return self._session.scalar(
            select(StudentYearRow).where(
                StudentYearRow.student_pk == student_pk, StudentYearRow.year == str(year)
            )
        )

    def of_students(self, student_pks: Iterable[int], year: AcademicYear) -> dict[int, StudentYear]:
        pks = list(student_pks)
        if not pks:
            return {}
        rows = self._session.execute(
            select(StudentYearRow, Student)
            .join(Student, Student.id == StudentYearRow.student_pk)
            .where(StudentYearRow.year == str(year), StudentYearRow.student_pk.in_(pks))
        ).all()
        return {student.id: student_year(row, student) for row, student in rows}

    def of_campus(self, campus_id: str, year: AcademicYear) -> list[StudentYear]:
        rows = self._session.execute(
            select(StudentYearRow, Student)
            .join(Student, Student.id == StudentYearRow.student_pk)
            .where(Student.campus_id == campus_id, StudentYearRow.year == str(year))
            .order_by(Student.last_name, Student.first_name, Student.id)
        ).all()
        return [student_year(row, student) for row, student in rows]

    def years(self, campus_id: str) -> list[AcademicYear]:
        texts = self._session.scalars(
            select(StudentYearRow.year)
            .join(Student, Student.id == StudentYearRow.student_pk)
            .where(Student.campus_id == campus_id)
            .distinct()
        ).all()
        return sorted(AcademicYear.parse(text) for text in texts)

    def put(self, record: StudentYear, at: datetime) -> None:
        row = self._row(record.student_pk, record.year)
        if row is None:
            row = StudentYearRow(student_pk=record.student_pk, year=str(record.year))
            self._session.add(row)
        for name in _YEAR_FIELDS:
            value = getattr(record, name)
            setattr(row, name, value.value if hasattr(value, "value") else value)
        row.updated_at = at
        self._session.flush()


_ROWS: dict[str, type[Any]] = {
    "workshop": WorkshopRow,
    "interview": InterviewRow,
    "exam": ExamSessionRow,
    "meeting": SteeringMeetingRow,
}
_KIND = {
    Workshop: "workshop",
    Interview: "interview",
    ExamSession: "exam",
    SteeringMeeting: "meeting",
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


class SqlActivities(_Session):
    def _links(self, model: Any, key: Any, ids: list[int]) -> dict[int, list[int]]:
        found: dict[int, list[int]] = {}
        if not ids:
            return found
        for owner, student_pk in self._session.execute(
            select(key, model.student_pk).where(key.in_(ids)).order_by(model.student_pk)
        ):
            found.setdefault(owner, []).append(student_pk)
        return found

    def _attendees(self, ids: list[int]) -> dict[int, list[int]]:
        return self._links(WorkshopAttendee, WorkshopAttendee.workshop_id, ids)

    def _candidates(self, ids: list[int]) -> dict[int, list[int]]:
        return self._links(ExamCandidate, ExamCandidate.exam_id, ids)

    def in_period(
        self, campus_id: str, first_day: date, last_day: date, *, tutor_id: int | None = None
    ) -> ActivityLog:
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

        session = self._session
        workshops = session.scalars(within(WorkshopRow)).all()
        attendees = self._attendees([w.id for w in workshops])
        interviews_query = within(InterviewRow)
        if tutor_id is not None:
            interviews_query = interviews_query.where(InterviewRow.tutor_id == tutor_id)
        interviews = session.scalars(interviews_query).all()
        exams = session.scalars(within(ExamSessionRow)).all()
        candidates = self._candidates([e.id for e in exams])
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

    def get(self, kind: str, item_id: int) -> Activity | None:
        row = self._session.get(_ROWS[kind], item_id)
        if row is None:
            return None
        if kind == "workshop":
            return _workshop(row, tuple(self._attendees([row.id]).get(row.id, [])))
        if kind == "exam":
            return _exam(row, tuple(self._candidates([row.id]).get(row.id, [])))
        return _interview(row) if kind == "interview" else _meeting(row)

    def add(self, record: Activity) -> int:
        row = _ROWS[_KIND[type(record)]](campus_id=record.campus_id)
        self._session.add(row)
        self._write(row, record)
        return row.id

    def replace(self, record: Activity) -> None:
        row = self._session.get(_ROWS[_KIND[type(record)]], record.id)
        assert row is not None and row.campus_id == record.campus_id
        self._unlink(record, row.id)
        self._write(row, record)

    def _unlink(self, record: Activity, item_id: int) -> None:
        if isinstance(record, Workshop):
            self._session.execute(
                delete(WorkshopAttendee).where(WorkshopAttendee.workshop_id == item_id)
            )
        elif isinstance(record, ExamSession):
            self._session.execute(delete(ExamCandidate).where(ExamCandidate.exam_id == item_id))

    def _write(self, row: Any, record: Activity) -> None:
        row.day, row.note = record.day, record.note
        if isinstance(record, Workshop):
            row.theme, row.source = record.theme, record.source.value
        elif isinstance(record, Interview):
            row.student_pk, row.modality = record.student_pk, record.modality.value
            row.tutor_id = record.tutor_id
        elif isinstance(record, ExamSession):
            row.institution, row.candidates = record.institution, record.candidates
        self._session.flush()
        if isinstance(record, Workshop):
            self._session.add_all(
                WorkshopAttendee(workshop_id=row.id, student_pk=pk) for pk in record.attendee_pks
            )
        elif isinstance(record, ExamSession):
            self._session.add_all(
                ExamCandidate(exam_id=row.id, student_pk=pk) for pk in record.student_pks
            )

    def delete(self, kind: str, item_id: int) -> None:
        row = self._session.get(_ROWS[kind], item_id)
        assert row is not None
        if kind == "workshop":
            self._session.execute(
                delete(WorkshopAttendee).where(WorkshopAttendee.workshop_id == row.id)
            )
        if kind == "exam":
            self._session.execute(delete(ExamCandidate).where(ExamCandidate.exam_id == row.id))
        self._session.delete(row)


class SqlPeopleUnitOfWork(SessionUnitOfWork):
    """``server.ports.people.PeopleUnitOfWork`` on one registry session."""

    def __init__(
        self, registry: Callable[[], orm.Session], presence: PresenceSettings | None = None
    ) -> None:
        super().__init__(registry)
        self._presence = presence

    def _bind(self, session: orm.Session) -> None:
        self.campuses = SqlCampuses(session, self._presence)
        self.students = SqlStudents(session)
        self.tutors = SqlTutors(session)
        self.contracts = SqlContracts(session)
        self.badges = SqlBadges(session)
        self.weeks = SqlWeeks(session)
        self.years = SqlStudentYears(session)
        self.activities = SqlActivities(session)
        self.audit = SqlAuditTrail(session)


def people_unit_of_work(
    registry: Callable[[], orm.Session], presence: PresenceSettings | None = None
) -> Callable[[], SqlPeopleUnitOfWork]:
    """What the people use cases (``server.services.people``) are given. ``presence``:
    the configured zones a campus's calendar is read with (the coordinator's calendar)."""
    return lambda: SqlPeopleUnitOfWork(registry, presence)
