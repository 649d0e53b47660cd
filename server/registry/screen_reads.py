"""The registry's implementation of the screens' read port (``server.ports.screens``):
one SQLAlchemy session per unit of work, rows copied to the port's records. Its
``presence`` is the presence repository on the same session."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime
from functools import partial

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.config import PresenceSettings
from server.domain.absences import Verdict
from server.ports.screens import (
    STUDENT_ALERTS,
    AlertFacts,
    CallLine,
    ContractView,
    Escalation,
    ExcuseView,
    NoteView,
    Scope,
    SlotView,
    StudentDetails,
    StudentRef,
)
from server.registry import audit
from server.registry.account_models import StudentNote
from server.registry.alert_models import AbsenceEvaluation, Alert, AlertCall, AlertChannelSettings
from server.registry.alert_repository import state_of
from server.registry.models import Student, Tutor, UnknownBadge
from server.registry.presence_repository import PresenceRepository
from server.registry.student_repository import StudentRepository
from server.registry.unit_of_work import SessionUnitOfWork


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


def facts_of(row: Alert) -> AlertFacts:
    assert row.student_pk is not None  # alerts about students only
    return AlertFacts(
        id=row.id,
        public_id=row.public_id,
        kind=row.kind,
        campus_id=row.campus_id,
        student_pk=row.student_pk,
        status=row.status,
        resolution=row.resolution,
        slot_start=row.slot_start,
        slot_end=row.slot_end,
        week=row.week,
        noticed_at=row.noticed_at,
        acknowledged_at=row.acknowledged_at,
        called_at=row.called_at,
        arrived_at=row.arrived_at,
        state=state_of(row),
    )


def line_of(row: AlertCall) -> CallLine:
    return CallLine(
        row.called_at, row.outcome, row.reason_category, row.reason, row.excused, row.author
    )


class SqlScreenReads(SessionUnitOfWork):
    """``server.ports.screens.ScreenReads`` on one registry session."""

    def __init__(self, registry: Callable[[], Session], settings: PresenceSettings) -> None:
        super().__init__(registry)
        self._settings = settings

    def _bind(self, session: Session) -> None:
        self.presence = PresenceRepository(
            session,
            school_zone=self._settings.school_zone,
            timezone=self._settings.timezone,
        )

    @property
    def session(self) -> Session:
        assert self._session is not None, "use it inside `with`"
        return self._session

    # ------------------------------------------------------------------ students

    def students(self, scope: Scope) -> list[StudentRef]:
        return students_in(self.session, scope)

    def student_ref(self, student_id: str) -> StudentRef | None:
        return student_ref(self.session, student_id)

    def student(self, student_pk: int) -> StudentDetails | None:
        row = self.session.get(Student, student_pk)
        if row is None:
            return None
        return StudentDetails(
            pk=row.id,
            student_id=row.student_id,
            campus_id=row.campus_id,
            tutor_id=row.tutor_id,
            first_name=row.first_name,
            email=row.email,
            programme=row.programme,
            institution=row.institution,
        )

    def current_contracts(self, student_pk: int) -> list[ContractView]:
        rows = StudentRepository(self.session).contracts_of(student_pk, current=True)
        return [
            ContractView(
                weekly_hours=round(row.weekly_minutes / 60, 2),
                valid_from=row.valid_from,
                valid_to=row.valid_to,
                slots=tuple(
                    SlotView(s.weekday, s.start, s.end)
                    for s in sorted(row.slots, key=lambda s: (s.weekday, s.start))
                ),
            )
            for row in rows
        ]

    def student_excuses(self, student_pk: int, *, limit: int) -> list[ExcuseView]:
        rows = self.presence.student_excuses(student_pk, limit=limit)
        return [ExcuseView(r.start, r.end, r.category, r.note, r.created_by) for r in rows]

    def notes(self, student_pk: int, *, limit: int) -> list[NoteView]:
        rows = self.session.scalars(
            select(StudentNote)
            .where(StudentNote.student_pk == student_pk)
            .order_by(StudentNote.created_at.desc(), StudentNote.id.desc())
            .limit(limit)
        )
        return [NoteView(row.created_at, row.author, row.body) for row in rows]

    def add_note(self, ref: StudentRef, *, author: str, body: str, at: datetime) -> int:
        note = StudentNote(student_pk=ref.pk, author=author, body=body, created_at=at)
        self.session.add(note)
        self.session.flush()
        audit.record(
            self.session,
            at=at,
            actor=author,
            action="note_added",
            entity="student_note",
            entity_id=note.id,
            after={"student_id": ref.student_id, "chars": len(body)},
        )
        return note.id

    # ------------------------------------------------------------------ alerts

    def open_alerts(self, student_pks: Collection[int]) -> list[AlertFacts]:
        wanted = set(student_pks)
        if not wanted:
            return []
        rows = self.session.scalars(
            select(Alert)
            .where(
                Alert.status != "closed",
                Alert.kind.in_(STUDENT_ALERTS),
                Alert.student_pk.in_(list(wanted)),
            )
            .order_by(Alert.noticed_at, Alert.id)
        )
        return [facts_of(row) for row in rows if row.student_pk in wanted]

    def student_alerts(self, student_pk: int, *, limit: int) -> list[AlertFacts]:
        rows = self.session.scalars(
            select(Alert)
            .where(Alert.student_pk == student_pk, Alert.kind.in_(STUDENT_ALERTS))
            .order_by(Alert.noticed_at.desc(), Alert.id.desc())
            .limit(limit)
        )
        return [facts_of(row) for row in rows]

    def alert(self, public_id: str) -> tuple[AlertFacts, StudentRef] | None:
        row = self.session.execute(
            select(Alert, Student, Tutor)
            .join(Student, Student.id == Alert.student_pk)
            .outerjoin(Tutor, Tutor.id == Student.tutor_id)
            .where(Alert.public_id == public_id, Alert.kind.in_(STUDENT_ALERTS))
        ).first()
        if row is None:
            return None
        alert, student, tutor = row
        return facts_of(alert), ref_of(student, tutor)

    def calls(self, alert_ids: Collection[int]) -> dict[int, list[CallLine]]:
        found: dict[int, list[CallLine]] = {pk: [] for pk in alert_ids}
        if not found:
            return found
        rows = self.session.scalars(
            select(AlertCall).where(AlertCall.alert_pk.in_(list(found))).order_by(AlertCall.id)
        )
        for row in rows:
            found[row.alert_pk].append(line_of(row))
        return found

    def escalations(self, campus_ids: Collection[str]) -> dict[str, Escalation]:
        wanted = list(set(campus_ids))
        if not wanted:
            return {}
        rows = self.session.scalars(
            select(AlertChannelSettings).where(AlertChannelSettings.campus_id.in_(wanted))
        )
        return {row.campus_id: Escalation(row.escalation_minutes) for row in rows}

    def verdicts(
        self, slots: Collection[tuple[int, datetime]]
    ) -> dict[tuple[int, datetime], Verdict]:
        if not slots:
            return {}
        rows = self.session.execute(
            select(
                AbsenceEvaluation.student_pk,
                AbsenceEvaluation.slot_start,
                AbsenceEvaluation.verdict,
            ).where(
                AbsenceEvaluation.student_pk.in_(list({pk for pk, _ in slots})),
                AbsenceEvaluation.slot_start.in_(list({start for _, start in slots})),
            )
        )
        return {(pk, start): Verdict(verdict) for pk, start, verdict in rows}

    # ------------------------------------------------------------------ the admin's overview

    def student_count(self, campus_ids: Collection[str]) -> int:
        query = select(func.count(Student.id)).where(Student.campus_id.in_(list(campus_ids)))
        return self.session.scalar(query) or 0

    def unknown_badges_waiting(self, campus_ids: Collection[str]) -> int:
        query = select(func.count(UnknownBadge.id)).where(
            UnknownBadge.attached_at.is_(None), UnknownBadge.campus_id.in_(list(campus_ids))
        )
        return self.session.scalar(query) or 0


def screen_reads(
    registry: Callable[[], Session], settings: PresenceSettings
) -> Callable[[], SqlScreenReads]:
    """The factory of units of work the screens receive from the composition root."""
    return partial(SqlScreenReads, registry, settings)
