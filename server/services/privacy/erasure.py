"""Use case: erase a student (the right to erasure, docs/domain.md "Personal data").

One transaction. The student's row stays, so that the weekly records and the alerts
still count, but it no longer says who it was: the student id becomes a keyed hash
(``erased-…``), the first name "Étudiant effacé" and the last name that hash, and the
e-mail, phone, programme and institution are cleared. Deleted: tutors' notes, the
student's accounts, the badge holdings (the taps in the event store hold only a keyed
hash of the UID and now link to nobody; they leave with the retention period) and the
unknown-badge sightings attached to them. Cleared: the free texts of excused absences,
of presence corrections and of call notes (the call rows stay: their time and outcome
are the campus's proof that it called), of interview notes, and the programme,
institution and result reason of the student's academic years (their codes, dates and
results stay: the annual report counts them). Contracts end the day before, open alerts are
closed (no more absences for someone who left), and the audit log keeps its entries
with the personal values left out. One ``student_erased`` entry, counts only.

A second erasure of the same student finds the erased row and changes nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, func, or_, orm, select, update

from server.domain.accounts import Actor
from server.registry import audit
from server.registry.account_models import Account, StudentNote
from server.registry.alert_models import Alert, AlertCall
from server.registry.models import (
    AuditEntry,
    Badge,
    ExcusedAbsence,
    PresenceCorrection,
    Student,
    UnknownBadge,
    WeeklyRecord,
)
from server.registry.models import Contract as ContractRow
from server.registry.outcome_models import InterviewRow, StudentYearRow
from server.registry.student_repository import StudentRepository

log = logging.getLogger(__name__)

Registry = Callable[[], orm.Session]
ERASED_NAME = "Étudiant effacé"
ERASED_PREFIX = "erased-"
HASH_CHARS = 12
# Keys of audit summaries whose values are personal data or free text about a person.
PERSONAL_KEYS = frozenset(
    {
        "last_name",
        "first_name",
        "email",
        "phone",
        "programme",
        "institution",
        "login",
        "display_name",
        "reason",
        "result_reason",
        "note",
        "body",
        "text",
    }
)


@dataclass(frozen=True, slots=True)
class ErasureCounts:
    """What an erasure deletes or clears, and what it keeps as anonymous counts."""

    notes: int  # deleted
    excuse_texts: int  # cleared (the excused periods stay)
    call_texts: int  # cleared (the calls stay: time and outcome)
    correction_texts: int  # cleared (the corrections stay)
    accounts: int  # deleted
    badges: int  # holdings deleted
    contracts: int  # ended the day before (or withdrawn if not started)
    open_alerts: int  # closed
    weekly_records: int  # kept
    alerts: int  # kept
    calls: int  # kept

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class ErasurePreview:
    """What the confirmation page says will happen."""

    student_id: str
    campus_id: str
    last_name: str
    first_name: str
    has_email: bool
    has_phone: bool
    already_erased: bool
    counts: ErasureCounts


@dataclass(frozen=True, slots=True)
class ErasureReport:
    student_id: str  # the erased row's id now (``erased-…``)
    campus_id: str
    already_erased: bool
    counts: ErasureCounts
    audit_entries: int = 0  # older entries whose personal values were left out


def pseudonym(student_id: str, secret: bytes) -> str:
    """The erased row's id: a keyed hash, so that nobody can test a list of student ids
    against it without the deployment's secret, yet a second erasure finds it."""
    digest = hmac.new(secret, student_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return ERASED_PREFIX + digest[:HASH_CHARS]


def is_erased(student: Student) -> bool:
    return student.student_id.startswith(ERASED_PREFIX) and student.first_name == ERASED_NAME


def preview(
    registry: Registry, student_id: str, *, secret: bytes, now: datetime, zone: ZoneInfo
) -> ErasurePreview | None:
    """What erasing ``student_id`` at ``now`` would do; None if there is no such student."""
    with registry() as session:
        student = _find(session, student_id, secret)
        if student is None:
            return None
        return ErasurePreview(
            student.student_id,
            student.campus_id,
            student.last_name,
            student.first_name,
            bool(student.email),
            bool(student.phone),
            is_erased(student),
            _counts(session, student, _last_day(now, zone)),
        )


def erase_student(
    registry: Registry, student_id: str, actor: Actor, *, secret: bytes, zone: ZoneInfo
) -> ErasureReport | None:
    """Erase the student (see the module's docstring); None if there is no such student.
    A student already erased is left as it is (``already_erased``)."""
    with registry() as session, session.begin():
        student = _find(session, student_id, secret)
        if student is None:
            return None
        last_day = _last_day(actor.at, zone)
        counts = _counts(session, student, last_day)
        if is_erased(student):
            return ErasureReport(student.student_id, student.campus_id, True, counts)
        old_id, new_id = student.student_id, _free_pseudonym(session, student, secret)
        logins, accounts = _delete_personal_rows(session, student)
        _clear_free_texts(session, student.id)
        _end_contracts(session, student.id, last_day, actor)
        _close_open_alerts(session, student.id, actor)
        scrubbed = _scrub_audit(session, old_id, new_id, logins, accounts)
        _anonymise(student, new_id, actor)
        audit.record(
            session,
            at=actor.at,
            actor=actor.name,
            action="student_erased",
            entity="student",
            entity_id=new_id,
            after={**counts.as_dict(), "audit_entries": len(scrubbed)},
        )
    log.info("student erased: now %s (%d audit entries cleaned)", new_id, len(scrubbed))
    return ErasureReport(new_id, student.campus_id, False, counts, len(scrubbed))


# --------------------------------------------------------------------------- finding


def _find(session: orm.Session, student_id: str, secret: bytes) -> Student | None:
    """The student by their id, or the erased row that id became."""
    students = StudentRepository(session)
    found = students.student(student_id)
    if found is None and not student_id.startswith(ERASED_PREFIX):
        found = students.student(pseudonym(student_id, secret))
    return found


def _free_pseudonym(session: orm.Session, student: Student, secret: bytes) -> str:
    """The pseudonym, made unique with the row's key if an earlier erasure of the same
    id (a student imported again after erasure) already took it."""
    wanted = pseudonym(student.student_id, secret)
    if StudentRepository(session).student(wanted) is None:
        return wanted
    return f"{wanted}-{student.id}"


def _last_day(at: datetime, zone: ZoneInfo) -> date:
    """The day before the erasure, in the campus's time zone."""
    return at.astimezone(zone).date() - timedelta(days=1)


# --------------------------------------------------------------------------- counting


def _count(session: orm.Session, column: Any, *conditions: ColumnElement[bool]) -> int:
    return session.scalar(select(func.count(column)).where(*conditions)) or 0


def _counts(session: orm.Session, student: Student, last_day: date) -> ErasureCounts:
    pk = student.id
    alert_ids = select(Alert.id).where(Alert.student_pk == pk)
    running = or_(ContractRow.valid_to.is_(None), ContractRow.valid_to > last_day)
    return ErasureCounts(
        notes=_count(session, StudentNote.id, StudentNote.student_pk == pk),
        excuse_texts=_count(
            session, ExcusedAbsence.id, ExcusedAbsence.student_pk == pk, ExcusedAbsence.note != ""
        ),
        call_texts=_count(
            session, AlertCall.id, AlertCall.alert_pk.in_(alert_ids), AlertCall.reason != ""
        ),
        correction_texts=_count(
            session,
            PresenceCorrection.id,
            PresenceCorrection.student_pk == pk,
            PresenceCorrection.reason != "",
        ),
        accounts=_count(session, Account.id, Account.student_pk == pk),
        badges=_count(session, Badge.id, Badge.student_pk == pk),
        contracts=_count(
            session,
            ContractRow.id,
            ContractRow.student_pk == pk,
            ContractRow.replaced_at.is_(None),
            running,
        ),
        open_alerts=_count(session, Alert.id, Alert.student_pk == pk, Alert.status != "closed"),
        weekly_records=_count(session, WeeklyRecord.id, WeeklyRecord.student_pk == pk),
        alerts=_count(session, Alert.id, Alert.student_pk == pk),
        calls=_count(session, AlertCall.id, AlertCall.alert_pk.in_(alert_ids)),
    )


# --------------------------------------------------------------------------- erasing


def _delete_personal_rows(session: orm.Session, student: Student) -> tuple[list[str], list[str]]:
    """Notes, accounts, badge holdings and the sightings attached to them; returns the
    deleted accounts' logins and ids (the audit log names them)."""
    pk = student.id
    accounts = session.execute(select(Account.login, Account.id).where(Account.student_pk == pk))
    logins, ids = [], []
    for login, account_id in accounts:
        logins.append(login)
        ids.append(str(account_id))
    session.execute(delete(StudentNote).where(StudentNote.student_pk == pk))
    session.execute(delete(Account).where(Account.student_pk == pk))
    session.execute(delete(UnknownBadge).where(UnknownBadge.student_pk == pk))
    session.execute(delete(Badge).where(Badge.student_pk == pk))
    session.expire(student, ["badges"])
    return logins, ids


def _clear_free_texts(session: orm.Session, pk: int) -> None:
    alert_ids = select(Alert.id).where(Alert.student_pk == pk)
    session.execute(update(ExcusedAbsence).where(ExcusedAbsence.student_pk == pk).values(note=""))
    session.execute(update(AlertCall).where(AlertCall.alert_pk.in_(alert_ids)).values(reason=""))
    session.execute(
        update(PresenceCorrection).where(PresenceCorrection.student_pk == pk).values(reason="")
    )
    session.execute(update(InterviewRow).where(InterviewRow.student_pk == pk).values(note=""))
    session.execute(
        update(StudentYearRow)
        .where(StudentYearRow.student_pk == pk)
        .values(programme="", institution="", result_reason="")
    )


def _end_contracts(session: orm.Session, pk: int, last_day: date, actor: Actor) -> None:
    """No slot after the erasure: no expected hours, no absence noticed."""
    rows = session.scalars(
        select(ContractRow).where(ContractRow.student_pk == pk, ContractRow.replaced_at.is_(None))
    )
    for row in rows:
        if row.valid_from > last_day:
            row.replaced_at = actor.at
        elif row.valid_to is None or row.valid_to > last_day:
            row.valid_to = last_day


def _close_open_alerts(session: orm.Session, pk: int, actor: Actor) -> None:
    session.execute(
        update(Alert)
        .where(Alert.student_pk == pk, Alert.status != "closed")
        .values(status="closed", closed_at=actor.at)
    )


def _anonymise(student: Student, new_id: str, actor: Actor) -> None:
    student.student_id = new_id
    student.first_name = ERASED_NAME  # pages say "Étudiant effacé 1e7ac781783c"
    student.last_name = new_id.removeprefix(ERASED_PREFIX)
    student.email = student.phone = student.programme = student.institution = ""
    student.tutor_id = None
    student.updated_at = actor.at


# --------------------------------------------------------------------------- audit log


def _scrub_audit(
    session: orm.Session, old_id: str, new_id: str, logins: list[str], accounts: list[str]
) -> list[AuditEntry]:
    """Entries about the student keep who/what/when, without personal values: the old
    id becomes the pseudonym, the student's logins as actors too."""
    quoted = json.dumps(old_id)
    about = or_(
        and_(AuditEntry.entity == "student", AuditEntry.entity_id == old_id),
        and_(
            AuditEntry.entity == "weekly_record",
            AuditEntry.entity_id.startswith(f"{old_id}/", autoescape=True),
        ),
        AuditEntry.actor.in_(logins),
        AuditEntry.before.contains(quoted, autoescape=True),
        AuditEntry.after.contains(quoted, autoescape=True),
        and_(AuditEntry.entity == "account", AuditEntry.entity_id.in_(accounts)),
    )
    entries = list(session.scalars(select(AuditEntry).where(about)))
    for entry in entries:
        if entry.entity_id == old_id:
            entry.entity_id = new_id
        elif entry.entity == "weekly_record" and entry.entity_id.startswith(f"{old_id}/"):
            entry.entity_id = new_id + entry.entity_id[len(old_id) :]
        if entry.actor in logins:
            entry.actor = new_id
        entry.before = _redact(entry.before, old_id, new_id)
        entry.after = _redact(entry.after, old_id, new_id)
    return entries


def _redact(text: str, old_id: str, new_id: str) -> str:
    if not text:
        return text
    try:
        values = json.loads(text)
    except ValueError:
        return ""
    return json.dumps(_clean(values, old_id, new_id), sort_keys=True, ensure_ascii=False)


def _clean(value: Any, old_id: str, new_id: str) -> Any:
    if isinstance(value, dict):
        return {
            key: "" if key in PERSONAL_KEYS and item else _clean(item, old_id, new_id)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_clean(item, old_id, new_id) for item in value]
    return new_id if value == old_id else value
