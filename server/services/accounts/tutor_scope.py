"""Which students a member of staff follows: a tutor their own students (on their
campus), a coordinator every student of their campus, an admin every student."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.domain.accounts import Principal, Role
from server.registry.models import Student, Tutor


@dataclass(frozen=True, slots=True)
class Scope:
    """``campus_id`` / ``tutor_id`` None: no restriction on it."""

    campus_id: str | None
    tutor_id: int | None

    @classmethod
    def of(cls, who: Principal) -> Scope:
        campus = who.campus_id or None
        if who.role is Role.TUTOR:
            # A tutor account without its tutor row sees nobody (-1 matches no tutor).
            return cls(campus, who.tutor_id if who.tutor_id is not None else -1)
        return cls(campus, None)


@dataclass(frozen=True, slots=True)
class StudentRef:
    """A student as the tutor pages name them, with what access checks need."""

    pk: int
    student_id: str
    campus_id: str
    tutor_id: int | None
    name: str
    phone: str
    tutor: str  # the tutor's name (``Tutor.label``), "" without a tutor


def students_in(session: Session, scope: Scope) -> list[StudentRef]:
    """The scope's students, by name."""
    query = select(Student, Tutor).outerjoin(Tutor, Tutor.id == Student.tutor_id)
    if scope.campus_id is not None:
        query = query.where(Student.campus_id == scope.campus_id)
    if scope.tutor_id is not None:
        query = query.where(Student.tutor_id == scope.tutor_id)
    rows = session.execute(query.order_by(Student.last_name, Student.first_name, Student.id))
    return [ref_of(student, tutor) for student, tutor in rows]


def student_ref(session: Session, student_id: str) -> StudentRef | None:
    row = session.execute(
        select(Student, Tutor)
        .outerjoin(Tutor, Tutor.id == Student.tutor_id)
        .where(Student.student_id == student_id)
    ).first()
    return ref_of(*row) if row else None


def ref_of(student: Student, tutor: Tutor | None) -> StudentRef:
    return StudentRef(
        pk=student.id,
        student_id=student.student_id,
        campus_id=student.campus_id,
        tutor_id=student.tutor_id,
        name=f"{student.first_name} {student.last_name}".strip(),
        phone=student.phone,
        tutor=tutor.label if tutor else "",
    )
