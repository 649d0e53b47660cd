"""The registry's unit of work of the presence ports (``server.ports.presence``): one
SQLAlchemy session, the presence store (:class:`PresenceRepository`, Core reads in bulk),
the students it names and the audit log."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import orm, select

from server.config import PresenceSettings
from server.domain.accounts import Actor
from server.domain.calendar import IsoWeek
from server.ports.presence import PresenceUnits, StudentCard, StudentKey
from server.registry.account_store import SqlAuditTrail
from server.registry.models import Student, Tutor
from server.registry.presence_repository import PresenceRepository
from server.registry.student_repository import StudentRepository
from server.registry.unit_of_work import SessionUnitOfWork


class SqlPresenceStudents:
    def __init__(self, session: orm.Session, read: dict[int, Student]) -> None:
        self._session = session
        self._read = read  # the students read in this session (held: not read again)

    def key(self, student_id: str) -> StudentKey | None:
        student = self._session.scalar(select(Student).where(Student.student_id == student_id))
        if student is None:
            return None
        self._read[student.id] = student
        return StudentKey(student.id, student.student_id)

    def card(self, student_id: str) -> StudentCard | None:
        row = self._session.execute(
            select(Student, Tutor)
            .outerjoin(Tutor, Tutor.id == Student.tutor_id)
            .where(Student.student_id == student_id)
        ).first()
        if row is None:
            return None
        student, tutor = row
        return StudentCard(
            pk=student.id,
            student_id=student.student_id,
            campus_id=student.campus_id,
            tutor_id=student.tutor_id,
            name=f"{student.first_name} {student.last_name}".strip(),
            phone=student.phone,
            tutor=tutor.label if tutor else "",
        )

    def reopen_weeks(
        self, student: StudentKey, weeks: Iterable[IsoWeek], actor: Actor, *, cause: str
    ) -> list[IsoWeek]:
        row = self._read.get(student.pk) or self._session.get(Student, student.pk)
        if row is None:
            return []
        return StudentRepository(self._session).reopen_weeks(row, weeks, actor, cause=cause)


class SqlPresenceUnitOfWork(SessionUnitOfWork):
    """``server.ports.presence.PresenceUnitOfWork`` on one registry session."""

    def __init__(
        self,
        registry: Callable[[], orm.Session],
        settings: PresenceSettings,
        *,
        reads_only: bool = False,
    ) -> None:
        super().__init__(registry, reads_only=reads_only)
        self._settings = settings

    def _bind(self, session: orm.Session) -> None:
        settings = self._settings
        self.presence = PresenceRepository(
            session, school_zone=settings.school_zone, timezone=settings.timezone
        )
        self.students = SqlPresenceStudents(session, self.presence.students_read)
        self.audit = SqlAuditTrail(session)


def presence_unit_of_work(
    registry: Callable[[], orm.Session], settings: PresenceSettings
) -> PresenceUnits:
    """What the presence use cases (``server.services.presence``) are built with."""

    def units(*, reads_only: bool = False) -> SqlPresenceUnitOfWork:
        return SqlPresenceUnitOfWork(registry, settings, reads_only=reads_only)

    return units
