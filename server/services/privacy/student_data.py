"""Use case: what the campus holds about one student (GDPR right of access).

Everything kept about the student, as plain values (instants stay aware ``datetime``s
for the page; :func:`as_json` turns them into ISO 8601 for the downloaded copy). Badges
appear by the first characters of their keyed hash only: the registry never has the UID.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from server.domain.contracts import format_slots
from server.ports.privacy import Identity, PrivacyUnitOfWork, StudentFiles
from server.services.screens.student_space import Me, NotAStudent, StudentSpace

HASH_PREFIX = 8  # characters of a badge's keyed hash shown to its holder


class StudentData:
    def __init__(
        self,
        unit_of_work: Callable[[], PrivacyUnitOfWork],
        space: StudentSpace,
        *,
        retention_days: int,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.space = space
        self.retention = timedelta(days=retention_days)

    def everything(self, student_pk: int, now: datetime) -> dict[str, Any]:
        """The student's data, section by section."""
        me = self.space.me(student_pk)
        with self.unit_of_work() as uow:
            files = uow.files
            identity = files.identity(student_pk)
            if identity is None:
                raise NotAStudent(student_pk)
            alerts = _alerts(files, student_pk)
            data: dict[str, Any] = {
                "generated_at": now,
                "retention_days": self.retention.days,
                "identity": _identity(identity),
                "accounts": _accounts(files, student_pk),
                "contracts": _contracts(files, student_pk),
                "badges": _badges(files, student_pk),
                "sessions": self._sessions(uow, me, now),
                "weeks": _weeks(files, student_pk),
                "excuses": _excuses(files, student_pk),
                "corrections": _corrections(files, student_pk),
                "alerts": alerts,
                "notes": _notes(files, student_pk),
            }
            student_id = identity.student.student_id
            audit = files.audit(student_pk, student_id, [alert["id"] for alert in alerts])
            data["audit"] = [
                {"at": row.at, "by": row.actor, "action": row.action, "entity": row.entity}
                for row in audit
            ]
        return data

    def _sessions(self, uow: PrivacyUnitOfWork, me: Me, now: datetime) -> list[dict[str, Any]]:
        """Sessions rebuilt from the taps still kept (the retention period)."""
        calendar = uow.files.calendar(me.campus_id)
        span = (now - self.retention, now)
        found = self.space.sessions(uow.presence, me, calendar, span, now)
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


def _identity(identity: Identity) -> dict[str, Any]:
    student = identity.student
    return {
        "student_id": student.student_id,
        "first_name": student.first_name,
        "last_name": student.last_name,
        "email": student.email,
        "phone": student.phone,
        "programme": student.programme,
        "institution": student.institution,
        "institution_type": student.institution_type,
        "campus": {"id": student.campus_id, "name": identity.campus_name},
        "tutor": (
            {"name": identity.tutor_name, "email": identity.tutor_email}
            if identity.tutor_name is not None
            else None
        ),
        "created_at": student.created_at,
        "updated_at": student.updated_at,
    }


def _accounts(files: StudentFiles, student_pk: int) -> list[dict[str, Any]]:
    return [
        {
            "login": row.login,
            "active": row.active,
            "created_at": row.created_at,
            "last_login_at": row.last_login_at,
        }
        for row in files.accounts(student_pk)
    ]


def _contracts(files: StudentFiles, student_pk: int) -> list[dict[str, Any]]:
    return [
        {
            "weekly_hours": row.weekly_minutes / 60,
            "slots": format_slots(row.slots),
            "valid_from": row.valid_from,
            "valid_to": row.valid_to,
            "created_at": row.created_at,
            "replaced_at": row.replaced_at,
        }
        for row in files.contracts(student_pk)
    ]


def _badges(files: StudentFiles, student_pk: int) -> list[dict[str, Any]]:
    return [
        {
            "hash_prefix": row.badge_hash[:HASH_PREFIX],
            "active_from": row.active_from,
            "revoked_at": row.revoked_at,
            "revoked_reason": row.revoked_reason,
        }
        for row in files.badges(student_pk)
    ]


def _weeks(files: StudentFiles, student_pk: int) -> list[dict[str, Any]]:
    """Weeks kept as weekly records (they outlive the raw taps)."""
    return [
        {
            "week": row.week,
            "expected_hours": round(row.expected_s / 3600, 2),
            "attended_hours": round(row.attended_s / 3600, 2),
            "status": row.status,
            "frozen_at": row.frozen_at,
        }
        for row in files.weekly_records(student_pk)
    ]


def _excuses(files: StudentFiles, student_pk: int) -> list[dict[str, Any]]:
    return [
        {
            "start": row.start,
            "end": row.end,
            "category": row.category,
            "note": row.note,
            "recorded_by": row.created_by,
            "recorded_at": row.created_at,
        }
        for row in files.excuses(student_pk)
    ]


def _corrections(files: StudentFiles, student_pk: int) -> list[dict[str, Any]]:
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
        for row in files.corrections(student_pk)
    ]


def _alerts(files: StudentFiles, student_pk: int) -> list[dict[str, Any]]:
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
            "calls": [
                {
                    "called_at": call.called_at,
                    "outcome": call.outcome,
                    "reason_category": call.reason_category,
                    "reason": call.reason,
                    "excused": call.excused,
                    "by": call.author,
                }
                for call in row.calls
            ],
        }
        for row in files.alerts(student_pk)
    ]


def _notes(files: StudentFiles, student_pk: int) -> list[dict[str, Any]]:
    return [
        {"at": row.created_at, "by": row.author, "text": row.body}
        for row in files.notes(student_pk)
    ]
