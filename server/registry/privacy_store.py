"""The registry's implementation of the privacy ports (``server.ports.privacy``): one
SQLAlchemy session per unit of work; what is kept about a student read table by table
(the right of access) and what an erasure deletes, clears and rewrites."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, orm, select, update

from server.config import PresenceSettings
from server.domain.calendar import CampusCalendar
from server.domain.contracts import Slot
from server.ports.privacy import (
    AccountLine,
    AlertLine,
    AuditLine,
    AuditRecord,
    BadgeLine,
    CallLine,
    ContractLine,
    ContractSpan,
    CorrectionLine,
    Deleted,
    ErasureCounts,
    ExcuseLine,
    Identity,
    NoteLine,
    StudentRecord,
    WeekRecordLine,
)
from server.registry.account_models import Account, StudentNote
from server.registry.account_store import SqlAuditTrail
from server.registry.alert_models import Alert, AlertCall
from server.registry.models import (
    AuditEntry,
    Badge,
    Campus,
    ExcusedAbsence,
    PresenceCorrection,
    Student,
    UnknownBadge,
    WeeklyRecord,
)
from server.registry.models import Contract as ContractRow
from server.registry.outcome_models import InterviewRow, StudentYearRow
from server.registry.presence_repository import PresenceRepository
from server.registry.student_repository import StudentRepository
from server.registry.unit_of_work import SessionUnitOfWork

Registry = Callable[[], orm.Session]

_STUDENT_FIELDS = (
    "student_id",
    "campus_id",
    "first_name",
    "last_name",
    "email",
    "phone",
    "programme",
    "institution",
    "institution_type",
    "tutor_id",
    "created_at",
    "updated_at",
)


def _student(row: Student) -> StudentRecord:
    return StudentRecord(row.id, **{name: getattr(row, name) for name in _STUDENT_FIELDS})


class SqlStudentFiles:
    def __init__(self, session: orm.Session, presence: PresenceRepository) -> None:
        self._session = session
        self._presence = presence

    def identity(self, pk: int) -> Identity | None:
        row = self._session.get(Student, pk)
        if row is None:
            return None
        campus = self._session.get(Campus, row.campus_id)
        tutor = row.tutor
        return Identity(
            _student(row),
            campus.name if campus else "",
            tutor.name if tutor else None,
            tutor.email if tutor else None,
        )

    def accounts(self, pk: int) -> list[AccountLine]:
        rows = self._session.scalars(select(Account).where(Account.student_pk == pk))
        return [AccountLine(r.login, r.active, r.created_at, r.last_login_at) for r in rows]

    def contracts(self, pk: int) -> list[ContractLine]:
        return [
            ContractLine(
                row.weekly_minutes,
                tuple(Slot(s.weekday, s.start, s.end) for s in row.slots),
                row.valid_from,
                row.valid_to,
                row.created_at,
                row.replaced_at,
            )
            for row in StudentRepository(self._session).contracts_of(pk)
        ]

    def badges(self, pk: int) -> list[BadgeLine]:
        rows = self._session.scalars(select(Badge).where(Badge.student_pk == pk).order_by(Badge.id))
        return [
            BadgeLine(r.badge_hash, r.active_from, r.revoked_at, r.revoked_reason) for r in rows
        ]

    def weekly_records(self, pk: int) -> list[WeekRecordLine]:
        rows = self._session.scalars(
            select(WeeklyRecord)
            .where(WeeklyRecord.student_pk == pk)
            .order_by(WeeklyRecord.week.desc())
        )
        return [
            WeekRecordLine(r.week, r.expected_s, r.attended_s, r.status, r.frozen_at) for r in rows
        ]

    def excuses(self, pk: int) -> list[ExcuseLine]:
        return [
            ExcuseLine(r.start, r.end, r.category, r.note, r.created_by, r.created_at)
            for r in self._presence.student_excuses(pk)
        ]

    def corrections(self, pk: int) -> list[CorrectionLine]:
        rows = self._session.scalars(
            select(PresenceCorrection)
            .where(PresenceCorrection.student_pk == pk)
            .order_by(PresenceCorrection.created_at.desc())
        )
        return [
            CorrectionLine(
                r.kind, r.session_start, r.start, r.end, r.reason, r.author, r.created_at
            )
            for r in rows
        ]

    def alerts(self, pk: int) -> list[AlertLine]:
        rows = list(
            self._session.scalars(
                select(Alert).where(Alert.student_pk == pk).order_by(Alert.noticed_at.desc())
            )
        )
        calls: dict[int, list[CallLine]] = {row.id: [] for row in rows}
        for call in self._session.scalars(
            select(AlertCall).where(AlertCall.alert_pk.in_(list(calls))).order_by(AlertCall.id)
        ):
            calls[call.alert_pk].append(
                CallLine(
                    call.called_at,
                    call.outcome,
                    call.reason_category,
                    call.reason,
                    call.excused,
                    call.author,
                )
            )
        return [
            AlertLine(
                row.public_id,
                row.kind,
                row.status,
                row.resolution,
                row.slot_start,
                row.slot_end,
                row.week,
                row.noticed_at,
                row.closed_at,
                tuple(calls[row.id]),
            )
            for row in rows
        ]

    def notes(self, pk: int) -> list[NoteLine]:
        rows = self._session.scalars(
            select(StudentNote)
            .where(StudentNote.student_pk == pk)
            .order_by(StudentNote.created_at.desc())
        )
        return [NoteLine(row.created_at, row.author, row.body) for row in rows]

    def audit(self, pk: int, student_id: str, alert_ids: list[str]) -> list[AuditLine]:
        session = self._session

        def ids(column: Any) -> list[str]:
            return [
                str(value) for value in session.scalars(select(column).where(_owner(column, pk)))
            ]

        about = [
            and_(AuditEntry.entity == "student", AuditEntry.entity_id == student_id),
            and_(AuditEntry.entity == "contract", AuditEntry.entity_id.in_(ids(ContractRow.id))),
            and_(AuditEntry.entity == "badge", AuditEntry.entity_id.in_(ids(Badge.id))),
            and_(
                AuditEntry.entity == "excused_absences",
                AuditEntry.entity_id.in_(ids(ExcusedAbsence.id)),
            ),
            and_(
                AuditEntry.entity == "presence_corrections",
                AuditEntry.entity_id.in_(ids(PresenceCorrection.id)),
            ),
            and_(
                AuditEntry.entity == "student_note", AuditEntry.entity_id.in_(ids(StudentNote.id))
            ),
            and_(
                AuditEntry.entity == "weekly_record",
                AuditEntry.entity_id.startswith(f"{student_id}/", autoescape=True),
            ),
            and_(AuditEntry.entity == "alert", AuditEntry.entity_id.in_(alert_ids)),
        ]
        rows = session.scalars(
            select(AuditEntry)
            .where(or_(*about))
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        )
        return [AuditLine(row.at, row.actor, row.action, row.entity) for row in rows]

    def calendar(self, campus: str) -> CampusCalendar:
        return self._presence.calendar(campus)


def _owner(column: Any, student_pk: int) -> ColumnElement[bool]:
    return column.class_.student_pk == student_pk


class SqlErasureRecords:
    def __init__(self, session: orm.Session) -> None:
        self._session = session

    def student(self, student_id: str) -> StudentRecord | None:
        row = StudentRepository(self._session).student(student_id)
        return _student(row) if row is not None else None

    def save_student(self, record: StudentRecord) -> None:
        row = self._session.get(Student, record.pk)
        assert row is not None
        for name in _STUDENT_FIELDS:
            setattr(row, name, getattr(record, name))

    def _count(self, column: Any, *conditions: ColumnElement[bool]) -> int:
        return self._session.scalar(select(func.count(column)).where(*conditions)) or 0

    def counts(self, pk: int, last_day: date) -> ErasureCounts:
        count = self._count
        alert_ids = select(Alert.id).where(Alert.student_pk == pk)
        running = or_(ContractRow.valid_to.is_(None), ContractRow.valid_to > last_day)
        return ErasureCounts(
            notes=count(StudentNote.id, StudentNote.student_pk == pk),
            excuse_texts=count(
                ExcusedAbsence.id, ExcusedAbsence.student_pk == pk, ExcusedAbsence.note != ""
            ),
            call_texts=count(
                AlertCall.id, AlertCall.alert_pk.in_(alert_ids), AlertCall.reason != ""
            ),
            correction_texts=count(
                PresenceCorrection.id,
                PresenceCorrection.student_pk == pk,
                PresenceCorrection.reason != "",
            ),
            accounts=count(Account.id, Account.student_pk == pk),
            badges=count(Badge.id, Badge.student_pk == pk),
            contracts=count(
                ContractRow.id,
                ContractRow.student_pk == pk,
                ContractRow.replaced_at.is_(None),
                running,
            ),
            open_alerts=count(Alert.id, Alert.student_pk == pk, Alert.status != "closed"),
            weekly_records=count(WeeklyRecord.id, WeeklyRecord.student_pk == pk),
            alerts=count(Alert.id, Alert.student_pk == pk),
            calls=count(AlertCall.id, AlertCall.alert_pk.in_(alert_ids)),
        )

    def delete_personal_rows(self, pk: int) -> Deleted:
        session = self._session
        accounts = session.execute(
            select(Account.login, Account.id).where(Account.student_pk == pk)
        )
        deleted = Deleted()
        for login, account_id in accounts:
            deleted.logins.append(login)
            deleted.account_ids.append(str(account_id))
        session.execute(delete(StudentNote).where(StudentNote.student_pk == pk))
        session.execute(delete(Account).where(Account.student_pk == pk))
        session.execute(delete(UnknownBadge).where(UnknownBadge.student_pk == pk))
        session.execute(delete(Badge).where(Badge.student_pk == pk))
        student = session.get(Student, pk)
        if student is not None:
            session.expire(student, ["badges"])
        return deleted

    def clear_free_texts(self, pk: int) -> None:
        session = self._session
        alert_ids = select(Alert.id).where(Alert.student_pk == pk)
        session.execute(
            update(ExcusedAbsence).where(ExcusedAbsence.student_pk == pk).values(note="")
        )
        session.execute(
            update(AlertCall).where(AlertCall.alert_pk.in_(alert_ids)).values(reason="")
        )
        session.execute(
            update(PresenceCorrection).where(PresenceCorrection.student_pk == pk).values(reason="")
        )
        session.execute(update(InterviewRow).where(InterviewRow.student_pk == pk).values(note=""))
        session.execute(
            update(StudentYearRow)
            .where(StudentYearRow.student_pk == pk)
            .values(programme="", institution="", result_reason="")
        )

    def contracts_in_force(self, pk: int) -> list[ContractSpan]:
        rows = self._session.scalars(
            select(ContractRow).where(
                ContractRow.student_pk == pk, ContractRow.replaced_at.is_(None)
            )
        )
        return [ContractSpan(row.id, row.valid_from, row.valid_to, row.replaced_at) for row in rows]

    def save_contract(self, span: ContractSpan) -> None:
        row = self._session.get(ContractRow, span.id)
        assert row is not None
        row.valid_from, row.valid_to, row.replaced_at = (
            span.valid_from,
            span.valid_to,
            span.replaced_at,
        )

    def close_open_alerts(self, pk: int, at: datetime) -> None:
        self._session.execute(
            update(Alert)
            .where(Alert.student_pk == pk, Alert.status != "closed")
            .values(status="closed", closed_at=at)
        )

    def audit_about(
        self, student_id: str, logins: list[str], account_ids: list[str]
    ) -> list[AuditRecord]:
        quoted = json_string(student_id)
        about = or_(
            and_(AuditEntry.entity == "student", AuditEntry.entity_id == student_id),
            and_(
                AuditEntry.entity == "weekly_record",
                AuditEntry.entity_id.startswith(f"{student_id}/", autoescape=True),
            ),
            AuditEntry.actor.in_(logins),
            AuditEntry.before.contains(quoted, autoescape=True),
            AuditEntry.after.contains(quoted, autoescape=True),
            and_(AuditEntry.entity == "account", AuditEntry.entity_id.in_(account_ids)),
        )
        return [
            AuditRecord(row.id, row.entity, row.entity_id, row.actor, row.before, row.after)
            for row in self._session.scalars(select(AuditEntry).where(about))
        ]

    def save_audit(self, record: AuditRecord) -> None:
        row = self._session.get(AuditEntry, record.id)
        assert row is not None
        row.entity_id, row.actor = record.entity_id, record.actor
        row.before, row.after = record.before, record.after


def json_string(value: str) -> str:
    """``value`` as JSON writes it in an audit summary."""
    return json.dumps(value)


class SqlPrivacyUnitOfWork(SessionUnitOfWork):
    """``server.ports.privacy.PrivacyUnitOfWork`` on one registry session."""

    def __init__(self, registry: Registry, settings: PresenceSettings) -> None:
        super().__init__(registry)
        self._settings = settings

    def _bind(self, session: orm.Session) -> None:
        self.presence = PresenceRepository(
            session, school_zone=self._settings.school_zone, timezone=self._settings.timezone
        )
        self.files = SqlStudentFiles(session, self.presence)
        self.erasure = SqlErasureRecords(session)
        self.audit = SqlAuditTrail(session)


def privacy_unit_of_work(
    registry: Registry, settings: PresenceSettings
) -> Callable[[], SqlPrivacyUnitOfWork]:
    """What the privacy use cases are built with."""
    return lambda: SqlPrivacyUnitOfWork(registry, settings)
