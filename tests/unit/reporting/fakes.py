"""In-memory fakes of the reporting ports (``server.ports.reporting``), for the unit tests
of the reporting use cases. The same contract suite runs against them and against the
registry's adapter (tests/integration/registry/test_reporting_store_contract.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from types import TracebackType
from typing import Any

from server.domain.alerts import AlertFact, CallPolicy
from server.domain.annual_report import StudentFacts
from server.domain.coordinator_reports import StudentInfo
from server.ports.reporting import AbsenceRecord, ChannelPolicy


@dataclass
class Stored:
    directory: dict[str, dict[str, StudentInfo]] = field(default_factory=dict)  # by campus
    names: dict[str, str] = field(default_factory=dict)
    places: dict[str, tuple[int | None, float | None]] = field(default_factory=dict)
    # by campus: (facts, first day, last day) of each student's contract
    enrolled: dict[str, list[tuple[StudentFacts, date, date | None]]] = field(default_factory=dict)
    channels: dict[str, ChannelPolicy] = field(default_factory=dict)
    facts: list[tuple[str, AlertFact]] = field(default_factory=list)  # (campus, fact)
    absences: list[tuple[str, AbsenceRecord]] = field(default_factory=list)  # (campus, record)
    policies_asked: list[CallPolicy] = field(default_factory=list)


class FakeReports:
    def __init__(self, stored: Stored) -> None:
        self._s = stored

    def directory(self, campus: str) -> dict[str, StudentInfo]:
        return dict(self._s.directory.get(campus, {}))

    def campus_name(self, campus: str) -> str | None:
        return self._s.names.get(campus) or None

    def place(self, campus: str) -> tuple[int | None, float | None]:
        return self._s.places.get(campus, (None, None))

    def headcount(self, campus: str, first: date, last: date) -> list[StudentFacts]:
        found = {
            facts.student_id: facts
            for facts, start, end in self._s.enrolled.get(campus, [])
            if start <= last and (end is None or end >= first)
        }
        return [found[key] for key in sorted(found)]

    def channel_policy(self, campus: str) -> ChannelPolicy | None:
        return self._s.channels.get(campus)

    def alert_facts(
        self, start: datetime, end: datetime, campus: str, policy: CallPolicy
    ) -> list[AlertFact]:
        self._s.policies_asked.append(policy)
        return [f for c, f in self._s.facts if c == campus and start <= f.noticed_at < end]

    def absence_records(
        self, campus: str | None, start: datetime, end: datetime
    ) -> list[AbsenceRecord]:
        found = [
            record
            for c, record in self._s.absences
            if (campus is None or c == campus) and start <= record.noticed_at < end
        ]
        return sorted(found, key=lambda record: record.noticed_at)


class FakeReportingUnitOfWork:
    def __init__(self, stored: Stored) -> None:
        self._stored = stored

    def __enter__(self) -> FakeReportingUnitOfWork:
        self.reports = FakeReports(self._stored)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        return None

    def commit(self) -> None:  # a report writes nothing
        return None


def units(stored: Stored) -> Any:
    return lambda: FakeReportingUnitOfWork(stored)
