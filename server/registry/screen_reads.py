"""The registry's implementation of the screens' read port (``server.ports.screens``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.ports.screens import Scope, StudentRef
from server.registry.models import Student, Tutor


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
