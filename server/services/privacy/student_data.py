"""Use case: what the campus holds about one student (GDPR right of access).

Everything kept about the student, as plain values (instants stay aware ``datetime``s
for the page; :func:`as_json` turns them into ISO 8601 for the downloaded copy). Badges
appear by the first characters of their keyed hash only: the registry never has the UID.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy import orm as sa_orm

from server.domain.contracts import Slot, format_slots
from server.registry.account_models import Account, StudentNote
from server.registry.alert_models import Alert, AlertCall
from server.registry.models import (
    AuditEntry,
    Badge,
    Campus,
    Contract,
    ExcusedAbsence,
    PresenceCorrection,
    Student,
    WeeklyRecord,
)
from server.registry.presence_repository import PresenceRepository, repository
from server.registry.student_repository import StudentRepository
from server.services.screens.student_space import Me, NotAStudent, StudentSpace

HASH_PREFIX = 8  # characters of a badge's keyed hash shown to its holder


class StudentData:
    def __init__(
        self,
        registry: Callable[[], sa_orm.Session],
        space: StudentSpace,
        *,
        retention_days: int,
    ) -> None:
        self.registry = registry
        self.space = space
        self.retention = timedelta(days=retention_days)

    def everything(self, student_pk: int, now: datetime) -> dict[str, Any]:
        """The student's data, section by section."""
        me = self.space.me(student_pk)
        with self.registry() as session:
            student = session.get(Student, student_pk)
            if student is None:
                raise NotAStudent(student_pk)
            alerts = _alerts(session, student_pk)
            data: dict[str, Any] = {
                "generated_at": now,
                "retention_days": self.retention.days,
                "identity": _identity(session, student),
                "accounts": _accounts(session, student_pk),
                "contracts": _contracts(session, student_pk),
                "badges": _badges(session, student_pk),
                "sessions": self._sessions(session, me, now),
                "weeks": _weeks(session, student_pk),
                "excuses": _excuses(session, student_pk),
                "corrections": _corrections(session, student_pk),
                "alerts": alerts,
                "notes": _notes(session, student_pk),
            }
            data["audit"] = _audit(session, student, [alert["id"] for alert in alerts])
        return data

    def _sessions(self, session: sa_orm.Session, me: Me, now: datetime) -> list[dict[str, Any]]:
        """Sessions rebuilt from the taps still kept (the retention period)."""
        repo = repository(session, self.space.settings)
        calendar = repo.calendar(me.campus_id)
        found = self.space.sessions(repo, me, calendar, (now - self.retention, now), now)
        return [
            {"start": item.start, "end": item.end, "state": item.state.value}
            for item in reversed(found)
        ]


def as_json(value: Any) -> Any:
    """``value`` with its dates and instants as ISO 8601 strings."""
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [as_json(item) for item in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def _identity(session: sa_orm.Session, student: Student) -> dict[str, Any]:
    campus = session.get(Campus, student.campus_id)
    tutor = student.tutor
    return {
        "student_id": student.student_id,
        "first_name": student.first_name,
        "last_name": student.last_name,
        "email": student.email,
        "phone": student.phone,
        "programme": student.programme,
        "institution": student.institution,
        "institution_type": student.institution_type,
        "campus": {"id": student.campus_id, "name": campus.name if campus else ""},
        "tutor": {"name": tutor.name, "email": tutor.email} if tutor else None,
        "created_at": student.created_at,
        "updated_at": student.updated_at,
    }


def _accounts(session: sa_orm.Session, student_pk: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(Account).where(Account.student_pk == student_pk))
    return [
        {
            "login": row.login,
            "active": row.active,
            "created_at": row.created_at,
            "last_login_at": row.last_login_at,
        }
        for row in rows
    ]


def _contracts(session: sa_orm.Session, student_pk: int) -> list[dict[str, Any]]:
    rows = StudentRepository(session).contracts_of(student_pk)
    return [
        {
            "weekly_hours": row.weekly_minutes / 60,
            "slots": format_slots(Slot(s.weekday, s.start, s.end) for s in row.slots),
            "valid_from": row.valid_from,
            "valid_to": row.valid_to,
            "created_at": row.created_at,
            "replaced_at": row.replaced_at,
        }
        for row in rows
    ]


def _badges(session: sa_orm.Session, student_pk: int) -> list[dict[str, Any]]:
    rows = session.scalars(select(Badge).where(Badge.student_pk == student_pk).order_by(Badge.id))
    return [
        {
            "hash_prefix": row.badge_hash[:HASH_PREFIX],
            "active_from": row.active_from,
            "revoked_at": row.revoked_at,
            "revoked_reason": row.revoked_reason,
        }
        for row in rows
    ]


def _weeks(session: sa_orm.Session, student_pk: int) -> list[dict[str, Any]]:
    """Weeks kept as weekly records (they outlive the raw taps)."""
    rows = session.scalars(
        select(WeeklyRecord)
        .where(WeeklyRecord.student_pk == student_pk)
        .order_by(WeeklyRecord.week.desc())
    )
    return [
        {
            "week": row.week,
            "expected_hours": round(row.expected_s / 3600, 2),
            "attended_hours": round(row.attended_s / 3600, 2),
            "status": row.status,
            "frozen_at": row.frozen_at,
        }
        for row in rows
    ]


def _excuses(session: sa_orm.Session, student_pk: int) -> list[dict[str, Any]]:
    rows = PresenceRepository(session).student_excuses(student_pk)
    return [
        {
            "start": row.start,
            "end": row.end,
            "category": row.category,
            "note": row.note,
            "recorded_by": row.created_by,
            "recorded_at": row.created_at,
        }
        for row in rows
    ]


def _corrections(session: sa_orm.Session, student_pk: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(PresenceCorrection)
        .where(PresenceCorrection.student_pk == student_pk)
        .order_by(PresenceCorrection.created_at.desc())
    )
    return [
        {
            "kind": row.kind,
            "session_start": row.session_start,
            "start": row.start,
            "end": row.end,
            "reason": row.reason,
            "by": row.author,
            "at": row.created_at,
        }
        for row in rows
    ]


def _alerts(session: sa_orm.Session, student_pk: int) -> list[dict[str, Any]]:
    rows = list(
        session.scalars(
            select(Alert).where(Alert.student_pk == student_pk).order_by(Alert.noticed_at.desc())
        )
    )
    calls: dict[int, list[dict[str, Any]]] = {row.id: [] for row in rows}
    for call in session.scalars(
        select(AlertCall).where(AlertCall.alert_pk.in_(list(calls))).order_by(AlertCall.id)
    ):
        calls[call.alert_pk].append(
            {
                "called_at": call.called_at,
                "outcome": call.outcome,
                "reason_category": call.reason_category,
                "reason": call.reason,
                "excused": call.excused,
                "by": call.author,
            }
        )
    return [
        {
            "id": row.public_id,
            "kind": row.kind,
            "status": row.status,
            "resolution": row.resolution,
            "slot_start": row.slot_start,
            "slot_end": row.slot_end,
            "week": row.week,
            "noticed_at": row.noticed_at,
            "closed_at": row.closed_at,
            "calls": calls[row.id],
        }
        for row in rows
    ]


def _notes(session: sa_orm.Session, student_pk: int) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(StudentNote)
        .where(StudentNote.student_pk == student_pk)
        .order_by(StudentNote.created_at.desc())
    )
    return [{"at": row.created_at, "by": row.author, "text": row.body} for row in rows]


def _audit(session: sa_orm.Session, student: Student, alert_ids: list[str]) -> list[dict[str, Any]]:
    """Audit entries about the student: their record, contracts, badges, excuses,
    corrections, weeks, alerts, notes, and who looked at their data."""
    pk = student.id

    def ids(column: Any) -> list[str]:
        return [str(value) for value in session.scalars(select(column).where(_owner(column, pk)))]

    about = [
        and_(AuditEntry.entity == "student", AuditEntry.entity_id == student.student_id),
        and_(AuditEntry.entity == "contract", AuditEntry.entity_id.in_(ids(Contract.id))),
        and_(AuditEntry.entity == "badge", AuditEntry.entity_id.in_(ids(Badge.id))),
        and_(
            AuditEntry.entity == "excused_absences",
            AuditEntry.entity_id.in_(ids(ExcusedAbsence.id)),
        ),
        and_(
            AuditEntry.entity == "presence_corrections",
            AuditEntry.entity_id.in_(ids(PresenceCorrection.id)),
        ),
        and_(AuditEntry.entity == "student_note", AuditEntry.entity_id.in_(ids(StudentNote.id))),
        and_(
            AuditEntry.entity == "weekly_record",
            AuditEntry.entity_id.startswith(f"{student.student_id}/", autoescape=True),
        ),
        and_(AuditEntry.entity == "alert", AuditEntry.entity_id.in_(alert_ids)),
    ]
    rows = session.scalars(
        select(AuditEntry).where(or_(*about)).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    )
    return [
        {"at": row.at, "by": row.actor, "action": row.action, "entity": row.entity} for row in rows
    ]


def _owner(column: Any, student_pk: int) -> ColumnElement[bool]:
    return column.class_.student_pk == student_pk
