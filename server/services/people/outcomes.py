"""Use cases of students' academic years: read a campus's year (what the annual report
counts), and save one student's year (checked by ``domain.outcomes``, audited)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from sqlalchemy import orm, select

from server.domain.academic_year import AcademicYear
from server.domain.accounts import Actor
from server.domain.errors import DomainError
from server.domain.outcomes import (
    AgeBand,
    ProfileStatus,
    ProgrammeType,
    Result,
    StudentYear,
    check_student_year,
)
from server.registry import audit
from server.registry.models import Student
from server.registry.outcome_models import StudentYearRow

Registry = Callable[[], orm.Session]


@dataclass(frozen=True)
class YearRoster:
    """A campus's students with their record for one year, ``None`` when none yet."""

    campus_id: str
    year: AcademicYear
    entries: list[tuple[StudentYear | None, Student]]


def _name(student: Student) -> str:
    return f"{student.last_name} {student.first_name}".strip()


def as_student_year(row: StudentYearRow, student: Student) -> StudentYear:
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
        display_name=_name(student),
    )


def outcomes_for(registry: Registry, campus_id: str, year: AcademicYear) -> list[StudentYear]:
    """The recorded academic years of the campus's students for ``year``, by name.
    Students without a record for that year are not in the list (empty year: [])."""
    with registry() as session:
        rows = session.execute(
            select(StudentYearRow, Student)
            .join(Student, Student.id == StudentYearRow.student_pk)
            .where(Student.campus_id == campus_id, StudentYearRow.year == str(year))
            .order_by(Student.last_name, Student.first_name, Student.id)
        ).all()
        return [as_student_year(row, student) for row, student in rows]


def outcome_years(registry: Registry, campus_id: str) -> list[AcademicYear]:
    """The academic years with at least one record on the campus, oldest first."""
    with registry() as session:
        texts = session.scalars(
            select(StudentYearRow.year)
            .join(Student, Student.id == StudentYearRow.student_pk)
            .where(Student.campus_id == campus_id)
            .distinct()
        ).all()
    return sorted(AcademicYear.parse(text) for text in texts)


def year_roster(registry: Registry, campus_id: str, year: AcademicYear) -> YearRoster:
    """Every student of the campus, with their record for ``year`` if any."""
    with registry() as session:
        students = session.scalars(
            select(Student)
            .where(Student.campus_id == campus_id)
            .order_by(Student.last_name, Student.first_name, Student.id)
        ).all()
        rows = {
            row.student_pk: row
            for row in session.scalars(
                select(StudentYearRow).where(
                    StudentYearRow.year == str(year),
                    StudentYearRow.student_pk.in_([student.id for student in students]),
                )
            )
        }
        entries = [(as_student_year(rows[s.id], s) if s.id in rows else None, s) for s in students]
    return YearRoster(campus_id=campus_id, year=year, entries=entries)


def student_year(
    registry: Registry, student_pk: int, year: AcademicYear
) -> tuple[StudentYear, bool]:
    """The student's record for ``year`` and whether it exists (else a blank one,
    prefilled with the student's programme and institution)."""
    with registry() as session:
        student = session.get(Student, student_pk)
        if student is None:
            raise DomainError("No such student.")
        row = session.scalar(
            select(StudentYearRow).where(
                StudentYearRow.student_pk == student_pk, StudentYearRow.year == str(year)
            )
        )
        if row is not None:
            return as_student_year(row, student), True
        blank = StudentYear(
            student_pk=student.id,
            student_id=student.student_id,
            campus_id=student.campus_id,
            year=year,
            programme=student.programme,
            institution=student.institution,
            institution_public={"public": True, "private": False}.get(
                student.institution_type.strip().lower()
            ),
            display_name=_name(student),
        )
        return blank, False


_FIELDS = (
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


def _values(record: StudentYear) -> dict[str, Any]:
    values = asdict(record)
    return {name: values[name] for name in _FIELDS}


def save_student_year(registry: Registry, record: StudentYear, *, actor: Actor) -> bool:
    """Create or replace the student's record for ``record.year`` (checked, audited as
    ``student_year_saved``). Returns True when something changed."""
    check_student_year(record)
    with registry() as session, session.begin():
        return store_student_year(session, record, actor=actor)


def store_student_year(session: orm.Session, record: StudentYear, *, actor: Actor) -> bool:
    """:func:`save_student_year` inside the caller's transaction (the spreadsheet import
    saves a row's student and year together)."""
    check_student_year(record)
    student = session.get(Student, record.student_pk)
    if student is None:
        raise DomainError("No such student.")
    record = replace(record, campus_id=student.campus_id, student_id=student.student_id)
    row = session.scalar(
        select(StudentYearRow).where(
            StudentYearRow.student_pk == record.student_pk,
            StudentYearRow.year == str(record.year),
        )
    )
    before = None if row is None else _values(as_student_year(row, student))
    after = _values(record)
    if before == after:
        return False
    if row is None:
        row = StudentYearRow(student_pk=record.student_pk, year=str(record.year))
        session.add(row)
    for name, value in after.items():
        setattr(row, name, value.value if hasattr(value, "value") else value)
    row.updated_at = actor.at
    session.flush()
    audit.record(
        session,
        at=actor.at,
        actor=actor.name,
        action="student_year_saved",
        entity="student",
        entity_id=student.student_id,
        before=None if before is None else {"year": str(record.year), **before},
        after={"year": str(record.year), **after},
    )
    return True
