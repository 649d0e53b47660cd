"""What the privacy use cases need from the registry, as ports: everything kept about
one student (the right of access), what an erasure deletes, clears and rewrites (the
right to erasure), and the audit log (who looked at whose data).

The registry's adapter is ``server.registry.privacy_store`` (SQLite and PostgreSQL);
the unit tests of :mod:`server.services.privacy` use in-memory fakes of these ports
(tests/unit/privacy/fakes.py), and one contract suite runs against both. Records are
plain values; nothing is written until the unit of work commits."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from types import TracebackType
from typing import Any, Protocol

from server.domain.calendar import CampusCalendar
from server.domain.contracts import Slot
from server.ports.accounts import AuditTrail

# --------------------------------------------------------------------------- access


@dataclass(slots=True)
class StudentRecord:
    """A student's row as the privacy use cases read and (erasure) rewrite it."""

    pk: int
    student_id: str
    campus_id: str
    first_name: str
    last_name: str
    email: str
    phone: str
    programme: str
    institution: str
    institution_type: str
    tutor_id: int | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Identity:
    student: StudentRecord
    campus_name: str  # '' when the campus is gone
    tutor_name: str | None  # None: no tutor
    tutor_email: str | None


@dataclass(frozen=True, slots=True)
class AccountLine:
    login: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None


@dataclass(frozen=True, slots=True)
class ContractLine:
    weekly_minutes: int
    slots: tuple[Slot, ...]
    valid_from: date
    valid_to: date | None
    created_at: datetime
    replaced_at: datetime | None


@dataclass(frozen=True, slots=True)
class BadgeLine:
    badge_hash: str
    active_from: datetime
    revoked_at: datetime | None
    revoked_reason: str


@dataclass(frozen=True, slots=True)
class WeekRecordLine:
    week: str
    expected_s: int
    attended_s: int
    status: str
    frozen_at: datetime | None


@dataclass(frozen=True, slots=True)
class ExcuseLine:
    start: datetime
    end: datetime
    category: str
    note: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CorrectionLine:
    kind: str
    session_start: datetime | None
    start: datetime | None
    end: datetime | None
    reason: str
    author: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CallLine:
    called_at: datetime
    outcome: str
    reason_category: str
    reason: str
    excused: bool
    author: str


@dataclass(frozen=True, slots=True)
class AlertLine:
    public_id: str
    kind: str
    status: str
    resolution: str | None
    slot_start: datetime | None
    slot_end: datetime | None
    week: str | None
    noticed_at: datetime
    closed_at: datetime | None
    calls: tuple[CallLine, ...] = ()


@dataclass(frozen=True, slots=True)
class NoteLine:
    created_at: datetime
    author: str
    body: str


@dataclass(frozen=True, slots=True)
class AuditLine:
    at: datetime
    actor: str
    action: str
    entity: str


class StudentFiles(Protocol):
    """Everything the registry keeps about one student (by the row's key, ``pk``)."""

    def identity(self, pk: int) -> Identity | None: ...

    def accounts(self, pk: int) -> list[AccountLine]: ...

    def contracts(self, pk: int) -> list[ContractLine]:
        """In the order they were recorded (replaced ones too)."""
        ...

    def badges(self, pk: int) -> list[BadgeLine]:
        """In the order they were given."""
        ...

    def weekly_records(self, pk: int) -> list[WeekRecordLine]:
        """Latest week first."""
        ...

    def excuses(self, pk: int) -> list[ExcuseLine]:
        """Latest first."""
        ...

    def corrections(self, pk: int) -> list[CorrectionLine]:
        """Latest recorded first."""
        ...

    def alerts(self, pk: int) -> list[AlertLine]:
        """Latest noticed first, each with its calls in the order they were made."""
        ...

    def notes(self, pk: int) -> list[NoteLine]:
        """Latest first."""
        ...

    def audit(self, pk: int, student_id: str, alert_ids: list[str]) -> list[AuditLine]:
        """Entries about the student: their record, contracts, badges, excuses,
        corrections, weeks, alerts (by public id), notes; latest first."""
        ...

    def calendar(self, campus: str) -> CampusCalendar: ...


# --------------------------------------------------------------------------- erasure


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


@dataclass(slots=True)
class ContractSpan:
    """A contract in force (not replaced), as an erasure ends it."""

    id: int
    valid_from: date
    valid_to: date | None
    replaced_at: datetime | None = None


@dataclass(slots=True)
class AuditRecord:
    """An audit entry as an erasure rewrites it (``before``/``after``: JSON text)."""

    id: int
    entity: str
    entity_id: str
    actor: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class Deleted:
    """The student's accounts an erasure deleted (the audit log names them)."""

    logins: list[str] = field(default_factory=list)
    account_ids: list[str] = field(default_factory=list)


class ErasureRecords(Protocol):
    def student(self, student_id: str) -> StudentRecord | None: ...

    def save_student(self, record: StudentRecord) -> None: ...

    def counts(self, pk: int, last_day: date) -> ErasureCounts:
        """What erasing the student with ``last_day`` as their contracts' end would do."""
        ...

    def delete_personal_rows(self, pk: int) -> Deleted:
        """Tutors' notes, accounts, badge holdings and the unknown-badge sightings
        attached to them."""
        ...

    def clear_free_texts(self, pk: int) -> None:
        """The texts of excuses, calls, presence corrections and interviews; the
        programme, institution and result reason of the academic years."""
        ...

    def contracts_in_force(self, pk: int) -> list[ContractSpan]: ...

    def save_contract(self, span: ContractSpan) -> None: ...

    def close_open_alerts(self, pk: int, at: datetime) -> None: ...

    def audit_about(
        self, student_id: str, logins: list[str], account_ids: list[str]
    ) -> list[AuditRecord]:
        """Entries about the student (their id as entity, in a weekly record's id, in a
        summary), written by their logins, or about their accounts."""
        ...

    def save_audit(self, record: AuditRecord) -> None: ...


class PrivacyUnitOfWork(Protocol):
    """One transaction: ``with uow: ...; uow.commit()``; leaving without ``commit``
    discards every change. ``presence`` is what the student space rebuilds sessions
    with (the presence capability's reads, on the same transaction)."""

    files: StudentFiles
    erasure: ErasureRecords
    audit: AuditTrail
    presence: Any

    def __enter__(self) -> PrivacyUnitOfWork: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...
