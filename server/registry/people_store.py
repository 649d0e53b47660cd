"""The registry's implementation of the people ports (``server.ports.people``): one
SQLAlchemy session per unit of work, rows copied to records. The writes of students,
tutors, contracts, badges and frozen weeks are :class:`StudentRepository`'s, so they are
audited exactly as the ledger's and the erasure's writes through it are."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from functools import partial
from types import TracebackType
from typing import Any, cast

from sqlalchemy import func, or_, orm, select

from server.domain.academic_year import AcademicYear
from server.domain.accounts import Actor
from server.domain.calendar import IsoWeek
from server.domain.contracts import Contract
from server.domain.outcomes import AgeBand, ProfileStatus, ProgrammeType, Result, StudentYear
from server.ports.people import (
    SaveOutcome,
    Sighting,
    StudentLine,
    StudentRecord,
    TutorRef,
)
from server.registry import audit
from server.registry.models import Badge, Student, Tutor, UnknownBadge
from server.registry.outcome_models import StudentYearRow
from server.registry.student_repository import StudentRepository, as_contract

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


class SqlAuditTrail:
    """The audit log of one session: :func:`server.registry.audit.record` with the
    session given."""

    def __init__(self, session: orm.Session) -> None:
        self.record = partial(audit.record, session)


class SqlPeopleUnitOfWork:
    """``server.ports.people.PeopleUnitOfWork`` on one registry session."""

    def __init__(self, registry: Callable[[], orm.Session]) -> None:
        self._registry = registry
        self._session: orm.Session | None = None

    def __enter__(self) -> SqlPeopleUnitOfWork:
        session = self._session = self._registry()
        self.students = SqlStudents(session)
        self.tutors = SqlTutors(session)
        self.contracts = SqlContracts(session)
        self.badges = SqlBadges(session)
        self.weeks = SqlWeeks(session)
        self.years = SqlStudentYears(session)
        self.audit = SqlAuditTrail(session)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        assert self._session is not None
        try:
            self._session.rollback()  # whatever was not committed
        finally:
            self._session.close()
            self._session = None

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        assert self._session is not None
        with self._session.begin_nested():
            yield

    def commit(self) -> None:
        assert self._session is not None
        self._session.commit()


def people_unit_of_work(
    registry: Callable[[], orm.Session],
) -> Callable[[], SqlPeopleUnitOfWork]:
    """What the people use cases (``server.services.people``) are given."""
    return lambda: SqlPeopleUnitOfWork(registry)
