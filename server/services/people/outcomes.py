"""Use cases of students' academic years: read a campus's year (what the annual report
counts), and save one student's year (checked by ``domain.outcomes``, audited)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from typing import Any

from server.domain.academic_year import AcademicYear
from server.domain.accounts import Actor
from server.domain.errors import DomainError
from server.domain.outcomes import StudentYear, check_student_year
from server.ports.people import PeopleUnitOfWork, StudentRecord

UnitOfWork = Callable[[], PeopleUnitOfWork]


@dataclass(frozen=True)
class YearRoster:
    """A campus's students with their record for one year, ``None`` when none yet."""

    campus_id: str
    year: AcademicYear
    entries: list[tuple[StudentYear | None, StudentRecord]]


def _name(student: StudentRecord) -> str:
    return f"{student.last_name} {student.first_name}".strip()


def outcomes_for(unit_of_work: UnitOfWork, campus_id: str, year: AcademicYear) -> list[StudentYear]:
    """The recorded academic years of the campus's students for ``year``, by name.
    Students without a record for that year are not in the list (empty year: [])."""
    with unit_of_work() as uow:
        return uow.years.of_campus(campus_id, year)


def outcome_years(unit_of_work: UnitOfWork, campus_id: str) -> list[AcademicYear]:
    """The academic years with at least one record on the campus, oldest first."""
    with unit_of_work() as uow:
        return uow.years.years(campus_id)


def year_roster(unit_of_work: UnitOfWork, campus_id: str, year: AcademicYear) -> YearRoster:
    """Every student of the campus, with their record for ``year`` if any."""
    with unit_of_work() as uow:
        students = uow.students.of_campus(campus_id)
        records = uow.years.of_students([student.pk for student in students], year)
    entries = [(records.get(student.pk), student) for student in students]
    return YearRoster(campus_id=campus_id, year=year, entries=entries)


def student_by_pk(unit_of_work: UnitOfWork, student_pk: int) -> StudentRecord | None:
    """The student with this registry key (for the access check of the year's form)."""
    with unit_of_work() as uow:
        return uow.students.get(student_pk)


def student_year(
    unit_of_work: UnitOfWork, student_pk: int, year: AcademicYear
) -> tuple[StudentYear, bool]:
    """The student's record for ``year`` and whether it exists (else a blank one,
    prefilled with the student's programme and institution)."""
    with unit_of_work() as uow:
        student = uow.students.get(student_pk)
        if student is None:
            raise DomainError("No such student.")
        found = uow.years.get(student_pk, year)
    if found is not None:
        return found, True
    blank = StudentYear(
        student_pk=student.pk,
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


def save_student_year(unit_of_work: UnitOfWork, record: StudentYear, *, actor: Actor) -> bool:
    """Create or replace the student's record for ``record.year`` (checked, audited as
    ``student_year_saved``). Returns True when something changed."""
    check_student_year(record)
    with unit_of_work() as uow:
        changed = store_student_year(uow, record, actor=actor)
        uow.commit()
        return changed


def store_student_year(uow: PeopleUnitOfWork, record: StudentYear, *, actor: Actor) -> bool:
    """:func:`save_student_year` inside the caller's unit of work (the spreadsheet
    import saves a row's student and year together)."""
    check_student_year(record)
    student = uow.students.get(record.student_pk)
    if student is None:
        raise DomainError("No such student.")
    record = replace(record, campus_id=student.campus_id, student_id=student.student_id)
    stored = uow.years.get(record.student_pk, record.year)
    before = None if stored is None else _values(stored)
    after = _values(record)
    if before == after:
        return False
    uow.years.put(record, actor.at)
    uow.audit.record(
        at=actor.at,
        actor=actor.name,
        action="student_year_saved",
        entity="student",
        entity_id=student.student_id,
        before=None if before is None else {"year": str(record.year), **before},
        after={"year": str(record.year), **after},
    )
    return True
