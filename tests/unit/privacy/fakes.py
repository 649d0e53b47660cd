"""In-memory fakes of the privacy ports (``server.ports.privacy``), for the unit tests
of the privacy use cases. The same contract suite runs against them and against the
registry's adapter (tests/integration/registry/test_privacy_store_contract.py). The
audit log keeps its summaries as JSON text, as the registry does."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import TracebackType
from typing import Any

from server.domain.calendar import CampusCalendar
from server.ports.privacy import (
    AccountLine,
    AlertLine,
    AuditLine,
    AuditRecord,
    BadgeLine,
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


@dataclass
class StudentFile:
    """What the fake registry holds about one student."""

    student: StudentRecord
    campus_name: str = ""
    tutor: tuple[str, str] | None = None  # name, e-mail
    accounts: dict[int, AccountLine] = field(default_factory=dict)
    notes: list[NoteLine] = field(default_factory=list)
    badges: list[BadgeLine] = field(default_factory=list)
    sightings: int = 0  # unknown badges attached to the student
    excuses: list[ExcuseLine] = field(default_factory=list)
    corrections: list[CorrectionLine] = field(default_factory=list)
    alerts: list[AlertLine] = field(default_factory=list)
    weekly: list[WeekRecordLine] = field(default_factory=list)
    contracts: dict[int, ContractSpan] = field(default_factory=dict)
    interview_notes: list[str] = field(default_factory=list)
    years: list[dict[str, str]] = field(default_factory=list)  # programme, institution...


@dataclass
class AuditEntry:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: str
    after: str


@dataclass
class Stored:
    files: dict[int, StudentFile] = field(default_factory=dict)
    audit: list[AuditEntry] = field(default_factory=list)
    commits: int = 0


def _summary(values: Mapping[str, Any] | None) -> str:
    if not values:
        return ""
    kept = {k: v for k, v in values.items() if k != "phone"}
    return json.dumps(kept, sort_keys=True, ensure_ascii=False, default=str)


class FakeAudit:
    def __init__(self, entries: list[AuditEntry]) -> None:
        self._entries = entries

    def record(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        entity: str,
        entity_id: str | int,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        number = max((entry.id for entry in self._entries), default=0) + 1
        self._entries.append(
            AuditEntry(
                number, at, actor, action, entity, str(entity_id), _summary(before), _summary(after)
            )
        )


class FakeStudentFiles:
    def __init__(self, state: Stored) -> None:
        self._state = state

    def _file(self, pk: int) -> StudentFile:
        return self._state.files[pk]

    def identity(self, pk: int) -> Identity | None:
        found = self._state.files.get(pk)
        if found is None:
            return None
        name, email = found.tutor if found.tutor is not None else (None, None)
        return Identity(copy.copy(found.student), found.campus_name, name, email)

    def accounts(self, pk: int) -> list[AccountLine]:
        return list(self._file(pk).accounts.values())

    def contracts(self, pk: int) -> list[ContractLine]:
        return [
            ContractLine(60, (), span.valid_from, span.valid_to, span.valid_from, span.replaced_at)
            for _id, span in sorted(self._file(pk).contracts.items())
        ]

    def badges(self, pk: int) -> list[BadgeLine]:
        return list(self._file(pk).badges)

    def weekly_records(self, pk: int) -> list[WeekRecordLine]:
        return sorted(self._file(pk).weekly, key=lambda row: row.week, reverse=True)

    def excuses(self, pk: int) -> list[ExcuseLine]:
        return sorted(self._file(pk).excuses, key=lambda row: row.start, reverse=True)

    def corrections(self, pk: int) -> list[CorrectionLine]:
        return sorted(self._file(pk).corrections, key=lambda row: row.created_at, reverse=True)

    def alerts(self, pk: int) -> list[AlertLine]:
        return sorted(self._file(pk).alerts, key=lambda row: row.noticed_at, reverse=True)

    def notes(self, pk: int) -> list[NoteLine]:
        return sorted(self._file(pk).notes, key=lambda row: row.created_at, reverse=True)

    def audit(self, pk: int, student_id: str, alert_ids: list[str]) -> list[AuditLine]:
        """Entries about the student record, its weeks and its alerts (the fake keeps
        no ids of contracts, badges, excuses, corrections or notes)."""
        found = [
            entry
            for entry in self._state.audit
            if (entry.entity == "student" and entry.entity_id == student_id)
            or (entry.entity == "weekly_record" and entry.entity_id.startswith(f"{student_id}/"))
            or (entry.entity == "alert" and entry.entity_id in alert_ids)
        ]
        found.sort(key=lambda entry: (entry.at, entry.id), reverse=True)
        return [AuditLine(e.at, e.actor, e.action, e.entity) for e in found]

    def calendar(self, campus: str) -> CampusCalendar:
        return CampusCalendar()


class FakeErasureRecords:
    def __init__(self, state: Stored) -> None:
        self._state = state

    def student(self, student_id: str) -> StudentRecord | None:
        for found in self._state.files.values():
            if found.student.student_id == student_id:
                return copy.copy(found.student)
        return None

    def save_student(self, record: StudentRecord) -> None:
        self._state.files[record.pk].student = copy.copy(record)

    def counts(self, pk: int, last_day: date) -> ErasureCounts:
        found = self._state.files[pk]
        alive = [
            span
            for span in found.contracts.values()
            if span.replaced_at is None and (span.valid_to is None or span.valid_to > last_day)
        ]
        calls = [call for alert in found.alerts for call in alert.calls]
        return ErasureCounts(
            notes=len(found.notes),
            excuse_texts=sum(1 for row in found.excuses if row.note),
            call_texts=sum(1 for call in calls if call.reason),
            correction_texts=sum(1 for row in found.corrections if row.reason),
            accounts=len(found.accounts),
            badges=len(found.badges),
            contracts=len(alive),
            open_alerts=sum(1 for alert in found.alerts if alert.status != "closed"),
            weekly_records=len(found.weekly),
            alerts=len(found.alerts),
            calls=len(calls),
        )

    def delete_personal_rows(self, pk: int) -> Deleted:
        found = self._state.files[pk]
        deleted = Deleted(
            [account.login for account in found.accounts.values()],
            [str(number) for number in found.accounts],
        )
        found.accounts, found.notes, found.badges, found.sightings = {}, [], [], 0
        return deleted

    def clear_free_texts(self, pk: int) -> None:
        found = self._state.files[pk]
        found.excuses = [replace(row, note="") for row in found.excuses]
        found.corrections = [replace(row, reason="") for row in found.corrections]
        found.alerts = [
            replace(alert, calls=tuple(replace(call, reason="") for call in alert.calls))
            for alert in found.alerts
        ]
        found.interview_notes = ["" for _note in found.interview_notes]
        found.years = [
            {**year, "programme": "", "institution": "", "result_reason": ""}
            for year in found.years
        ]

    def contracts_in_force(self, pk: int) -> list[ContractSpan]:
        spans = self._state.files[pk].contracts.values()
        return [copy.copy(span) for span in spans if span.replaced_at is None]

    def save_contract(self, span: ContractSpan) -> None:
        for found in self._state.files.values():
            if span.id in found.contracts:
                found.contracts[span.id] = copy.copy(span)

    def close_open_alerts(self, pk: int, at: datetime) -> None:
        found = self._state.files[pk]
        found.alerts = [
            alert if alert.status == "closed" else replace(alert, status="closed", closed_at=at)
            for alert in found.alerts
        ]

    def audit_about(
        self, student_id: str, logins: list[str], account_ids: list[str]
    ) -> list[AuditRecord]:
        quoted = json.dumps(student_id)
        return [
            AuditRecord(e.id, e.entity, e.entity_id, e.actor, e.before, e.after)
            for e in self._state.audit
            if (e.entity == "student" and e.entity_id == student_id)
            or (e.entity == "weekly_record" and e.entity_id.startswith(f"{student_id}/"))
            or e.actor in logins
            or quoted in e.before
            or quoted in e.after
            or (e.entity == "account" and e.entity_id in account_ids)
        ]

    def save_audit(self, record: AuditRecord) -> None:
        (entry,) = [entry for entry in self._state.audit if entry.id == record.id]
        entry.entity_id, entry.actor = record.entity_id, record.actor
        entry.before, entry.after = record.before, record.after


class FakeUnitOfWork:
    """A transaction on a copy of the stored state: ``commit`` puts it back."""

    presence: Any = None  # the student space's sessions are not faked

    def __init__(self, stored: Stored) -> None:
        self._stored = stored

    def __enter__(self) -> FakeUnitOfWork:
        self._state = copy.deepcopy(self._stored)
        self.files = FakeStudentFiles(self._state)
        self.erasure = FakeErasureRecords(self._state)
        self.audit = FakeAudit(self._state.audit)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        del self.files, self.erasure, self.audit  # no use after the transaction

    def commit(self) -> None:
        self._stored.files = copy.deepcopy(self._state.files)
        self._stored.audit = copy.deepcopy(self._state.audit)
        self._stored.commits += 1
