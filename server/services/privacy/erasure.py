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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from server.domain.accounts import Actor
from server.ports.privacy import (
    AuditRecord,
    ErasureCounts,
    ErasureRecords,
    PrivacyUnitOfWork,
    StudentRecord,
)

log = logging.getLogger(__name__)

UnitOfWork = Callable[[], PrivacyUnitOfWork]
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


class Named(Protocol):
    @property
    def student_id(self) -> str: ...

    @property
    def first_name(self) -> str: ...


def pseudonym(student_id: str, secret: bytes) -> str:
    """The erased row's id: a keyed hash, so that nobody can test a list of student ids
    against it without the deployment's secret, yet a second erasure finds it."""
    digest = hmac.new(secret, student_id.encode("utf-8"), hashlib.sha256).hexdigest()
    return ERASED_PREFIX + digest[:HASH_CHARS]


def is_erased(student: Named) -> bool:
    return student.student_id.startswith(ERASED_PREFIX) and student.first_name == ERASED_NAME


class Erasure:
    """The admin's erasure page: :func:`preview` and :func:`erase_student` with the
    deployment's secret and time zone."""

    def __init__(self, unit_of_work: UnitOfWork, *, secret: bytes, zone: ZoneInfo) -> None:
        self.unit_of_work = unit_of_work
        self.secret = secret
        self.zone = zone

    def preview(self, student_id: str, now: datetime) -> ErasurePreview | None:
        return preview(self.unit_of_work, student_id, secret=self.secret, now=now, zone=self.zone)

    def erase(self, student_id: str, actor: Actor) -> ErasureReport | None:
        return erase_student(
            self.unit_of_work, student_id, actor, secret=self.secret, zone=self.zone
        )


def preview(
    unit_of_work: UnitOfWork, student_id: str, *, secret: bytes, now: datetime, zone: ZoneInfo
) -> ErasurePreview | None:
    """What erasing ``student_id`` at ``now`` would do; None if there is no such student."""
    with unit_of_work() as uow:
        student = _find(uow.erasure, student_id, secret)
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
            uow.erasure.counts(student.pk, _last_day(now, zone)),
        )


def erase_student(
    unit_of_work: UnitOfWork, student_id: str, actor: Actor, *, secret: bytes, zone: ZoneInfo
) -> ErasureReport | None:
    """Erase the student (see the module's docstring); None if there is no such student.
    A student already erased is left as it is (``already_erased``)."""
    with unit_of_work() as uow:
        records = uow.erasure
        student = _find(records, student_id, secret)
        if student is None:
            return None
        last_day = _last_day(actor.at, zone)
        counts = records.counts(student.pk, last_day)
        if is_erased(student):
            return ErasureReport(student.student_id, student.campus_id, True, counts)
        old_id, new_id = student.student_id, _free_pseudonym(records, student, secret)
        deleted = records.delete_personal_rows(student.pk)
        records.clear_free_texts(student.pk)
        _end_contracts(records, student.pk, last_day, actor)
        records.close_open_alerts(student.pk, actor.at)
        scrubbed = _scrub_audit(records, old_id, new_id, deleted.logins, deleted.account_ids)
        _anonymise(student, new_id, actor)
        records.save_student(student)
        uow.audit.record(
            at=actor.at,
            actor=actor.name,
            action="student_erased",
            entity="student",
            entity_id=new_id,
            after={**counts.as_dict(), "audit_entries": scrubbed},
        )
        uow.commit()
    log.info("student erased: now %s (%d audit entries cleaned)", new_id, scrubbed)
    return ErasureReport(new_id, student.campus_id, False, counts, scrubbed)


# --------------------------------------------------------------------------- finding


def _find(records: ErasureRecords, student_id: str, secret: bytes) -> StudentRecord | None:
    """The student by their id, or the erased row that id became."""
    found = records.student(student_id)
    if found is None and not student_id.startswith(ERASED_PREFIX):
        found = records.student(pseudonym(student_id, secret))
    return found


def _free_pseudonym(records: ErasureRecords, student: StudentRecord, secret: bytes) -> str:
    """The pseudonym, made unique with the row's key if an earlier erasure of the same
    id (a student imported again after erasure) already took it."""
    wanted = pseudonym(student.student_id, secret)
    if records.student(wanted) is None:
        return wanted
    return f"{wanted}-{student.pk}"


def _last_day(at: datetime, zone: ZoneInfo) -> date:
    """The day before the erasure, in the campus's time zone."""
    return at.astimezone(zone).date() - timedelta(days=1)


# --------------------------------------------------------------------------- erasing


def _end_contracts(records: ErasureRecords, pk: int, last_day: date, actor: Actor) -> None:
    """No slot after the erasure: no expected hours, no absence noticed."""
    for span in records.contracts_in_force(pk):
        if span.valid_from > last_day:
            span.replaced_at = actor.at
        elif span.valid_to is None or span.valid_to > last_day:
            span.valid_to = last_day
        else:
            continue
        records.save_contract(span)


def _anonymise(student: StudentRecord, new_id: str, actor: Actor) -> None:
    student.student_id = new_id
    student.first_name = ERASED_NAME  # pages say "Étudiant effacé 1e7ac781783c"
    student.last_name = new_id.removeprefix(ERASED_PREFIX)
    student.email = student.phone = student.programme = student.institution = ""
    student.tutor_id = None
    student.updated_at = actor.at


# --------------------------------------------------------------------------- audit log


def _scrub_audit(
    records: ErasureRecords, old_id: str, new_id: str, logins: list[str], accounts: list[str]
) -> int:
    """Entries about the student keep who/what/when, without personal values: the old
    id becomes the pseudonym, the student's logins as actors too. How many."""
    entries = records.audit_about(old_id, logins, accounts)
    for entry in entries:
        _scrub(entry, old_id, new_id, logins)
        records.save_audit(entry)
    return len(entries)


def _scrub(entry: AuditRecord, old_id: str, new_id: str, logins: list[str]) -> None:
    if entry.entity_id == old_id:
        entry.entity_id = new_id
    elif entry.entity == "weekly_record" and entry.entity_id.startswith(f"{old_id}/"):
        entry.entity_id = new_id + entry.entity_id[len(old_id) :]
    if entry.actor in logins:
        entry.actor = new_id
    entry.before = _redact(entry.before, old_id, new_id)
    entry.after = _redact(entry.after, old_id, new_id)


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
