"""What the reporting use cases (``server.services.reporting``: the coordinator's weekly
and period reports, the call-on-absence evidence, the annual grid) read from storage
besides the ledger, as ports: who is who on a campus, its place, its headcount and the
absence alerts with their calls.

The registry's adapter is ``server.registry.reporting_store``; the unit tests use
in-memory fakes (``tests/unit/reporting/fakes.py``) and one contract suite runs against
both. Reads only: a report writes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Protocol

from server.domain.alerts import AlertFact, CallPolicy
from server.domain.annual_report import StudentFacts
from server.domain.coordinator_reports import StudentInfo


@dataclass(frozen=True, slots=True)
class CallRecord:
    called_at: datetime  # UTC
    outcome: str  # domain.alerts.CallOutcome value
    author: str
    excused: bool


@dataclass(frozen=True, slots=True)
class AbsenceRecord:
    """One absence noticed, as the evidence export shows it, with every call logged."""

    alert_id: str
    noticed_at: datetime  # UTC
    student_id: str
    last_name: str
    first_name: str
    tutor: str  # by name, else e-mail; "" without a tutor
    slot_start: datetime | None
    slot_end: datetime | None
    acknowledged_at: datetime | None
    acknowledged_by: str
    status: str
    resolution: str | None  # how it closed: called, arrived (None while open)
    closed_at: datetime | None
    calls: tuple[CallRecord, ...]


@dataclass(frozen=True, slots=True)
class ChannelPolicy:
    """What the call policy takes from a campus's alert channels."""

    escalation_minutes: int


class ReportingStore(Protocol):
    def directory(self, campus: str) -> dict[str, StudentInfo]:
        """The campus's students by student id, with their tutor's name (else e-mail)."""
        ...

    def campus_name(self, campus: str) -> str | None:
        """The campus's name; None for an unknown campus or one without a name."""
        ...

    def place(self, campus: str) -> tuple[int | None, float | None]:
        """The campus's capacity and surface: its own settings, else the sum of its
        rooms' (None when neither says)."""
        ...

    def headcount(self, campus: str, first: date, last: date) -> list[StudentFacts]:
        """Students of the campus with a contract (not replaced) overlapping
        ``first``..``last``, by student id."""
        ...

    def channel_policy(self, campus: str) -> ChannelPolicy | None:
        """The campus's alert channel settings, None when it has none."""
        ...

    def alert_facts(
        self, start: datetime, end: datetime, campus: str, policy: CallPolicy
    ) -> list[AlertFact]:
        """Absence alerts noticed in ``[start, end)``, each tutor by name."""
        ...

    def absence_records(
        self, campus: str | None, start: datetime, end: datetime
    ) -> list[AbsenceRecord]:
        """Absence alerts of the campus (None: every campus) noticed in ``[start, end)``,
        in the order noticed, each with its calls in the order made."""
        ...


class ReportingUnitOfWork(Protocol):
    """One read transaction: ``with uow: ...`` (a report writes nothing)."""

    reports: ReportingStore

    def __enter__(self) -> ReportingUnitOfWork: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...
