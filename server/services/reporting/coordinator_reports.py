"""Use cases of the coordinator's reports for one campus: the weekly presence of every
student (with names, tutors and programmes, filtered), and the call-on-absence evidence.

The figures come from the ledger (``LedgerService.weekly``) and from the alerts'
evidence rules (``domain.alerts.evidence``); this module only adds who is who and keeps
to one campus."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from edge.protocol import format_timestamp
from server.config import PresenceSettings
from server.domain import alerts as alert_rules
from server.domain.academic_year import AcademicYear
from server.domain.activities import ActivityLog
from server.domain.alerts import EvidenceLine
from server.domain.calendar import IsoWeek, local_midnight
from server.domain.coordinator_reports import (
    PeriodTotal,
    ReportLine,
    StudentInfo,
    Totals,
    period_totals,
    report_line,
    totals,
)
from server.domain.ledger import hours
from server.domain.outcomes import StudentYear
from server.domain.periods import Period
from server.ports.reporting import AbsenceRecord, CallRecord, ReportingUnitOfWork
from server.services.alerts.alerts import call_policy
from server.services.presence.ledger import LedgerService

__all__ = ["AbsenceRecord", "CallRecord"]  # records of ``server.ports.reporting``, named here


@dataclass(frozen=True, slots=True, kw_only=True)
class Reports:
    """What the reports are computed from: the ledger, the reporting store's units of
    work (``server.ports.reporting``) and the people's records (a campus's recorded
    academic years, its activities: ``services.people``), composed by the composition
    root."""

    ledger: LedgerService
    units: Callable[[], ReportingUnitOfWork]
    settings: PresenceSettings
    outcomes: Callable[[str, AcademicYear], list[StudentYear]]
    activities: Callable[[str, date, date], ActivityLog]


@dataclass(frozen=True, slots=True)
class WeeklyReport:
    campus: str
    week: IsoWeek
    lines: list[ReportLine]
    totals: Totals
    tutors: list[tuple[int, str]]  # (tutor id, label): the tutor filter's choices
    programmes: list[str]


def students_of(reports: Reports, campus: str) -> dict[str, StudentInfo]:
    """The campus's students by student id, with their tutor's name (else e-mail)."""
    with reports.units() as uow:
        return uow.reports.directory(campus)


def weekly_report(
    reports: Reports,
    campus: str,
    week: IsoWeek,
    now: datetime,
    *,
    tutor_id: int | None = None,
    programme: str = "",
) -> WeeklyReport:
    """Every student of the campus with a contract that week, sorted by name."""
    directory = students_of(reports, campus)
    lines = [
        report_line(line, directory[line.student_id])
        for line in reports.ledger.weekly(week, now, campus=campus)
        if line.student_id in directory
    ]
    tutors = sorted(
        {(line.student.tutor_id, line.student.tutor) for line in lines if line.student.tutor_id},
        key=lambda item: item[1].lower(),
    )
    programmes = sorted({line.student.programme for line in lines if line.student.programme})
    chosen = [
        line
        for line in lines
        if (tutor_id is None or line.student.tutor_id == tutor_id)
        and (not programme or line.student.programme == programme)
    ]
    chosen.sort(key=lambda line: (line.student.last_name.lower(), line.student.first_name.lower()))
    return WeeklyReport(
        campus=campus,
        week=week,
        lines=chosen,
        totals=totals(chosen),
        tutors=[(pk, label) for pk, label in tutors if pk is not None],
        programmes=programmes,
    )


@dataclass(frozen=True, slots=True)
class PeriodRow:
    week: IsoWeek
    line: ReportLine


@dataclass(frozen=True, slots=True)
class StudentPeriod:
    student: StudentInfo
    total: PeriodTotal

    @property
    def expected(self) -> float:
        return hours(self.total.expected_s)

    @property
    def attended(self) -> float:
        return hours(self.total.attended_s)

    @property
    def unverified(self) -> float:
        return hours(self.total.unverified_s)


@dataclass(frozen=True, slots=True)
class PeriodReport:
    campus: str
    span: Period
    weeks: list[IsoWeek]
    rows: list[PeriodRow]  # by week, then by name
    students: list[StudentPeriod]  # by name


def period_report(reports: Reports, campus: str, span: Period, now: datetime) -> PeriodReport:
    """Every student-week of the campus over the ISO weeks touching ``span`` (the ledger
    read once for all of them) and each student's totals (``domain.coordinator_reports.
    period_totals``), sorted by name."""
    directory = students_of(reports, campus)
    weeks = span.weeks()
    by_week = reports.ledger.weeks(weeks, now, campus=campus)

    def by_name(student: StudentInfo) -> tuple[str, str, str]:
        return (student.last_name.lower(), student.first_name.lower(), student.student_id)

    lines = [
        (week, line)
        for week in weeks
        for line in sorted(
            (line for line in by_week[week] if line.student_id in directory),
            key=lambda line: by_name(directory[line.student_id]),
        )
    ]
    rows = [PeriodRow(week, report_line(line, directory[line.student_id])) for week, line in lines]
    students = [
        StudentPeriod(directory[key], total)
        for key, total in period_totals(line for _week, line in lines).items()
    ]
    students.sort(key=lambda item: by_name(item.student))
    return PeriodReport(campus, span, weeks, rows, students)


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    line: EvidenceLine
    excused: int  # absences a call excused (illness, exam…)


@dataclass(frozen=True, slots=True)
class EvidenceReport:
    campus: str
    first: date
    last: date
    tutors: list[EvidenceRow]
    total: EvidenceRow


def evidence(
    reports: Reports,
    campus: str,
    first: date,
    last: date,
    *,
    tz: ZoneInfo,
) -> EvidenceReport:
    """The call-on-absence evidence of one campus from ``first`` to ``last`` (local days,
    included): per tutor (by name), then the total; the shares are of the absences that
    still needed a call (``domain.alerts.call_needed`` under the campus's policy)."""
    start, end = local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
    with reports.units() as uow:
        # ``call_policy`` reads only the channels' ``escalation_minutes``.
        policy = call_policy(reports.settings, uow.reports.channel_policy(campus))  # type: ignore[arg-type]
        facts = uow.reports.alert_facts(start, end, campus, policy)
    lines = alert_rules.evidence(facts, tz)
    rows = [EvidenceRow(line, line.excused) for line in lines[:-1]]
    total = EvidenceRow(lines[-1], lines[-1].excused)
    return EvidenceReport(campus, first, last, rows, total)


def absences(
    reports: Reports, campus: str | None, first: date, last: date, *, tz: ZoneInfo
) -> list[AbsenceRecord]:
    """Every absence alert of the campus (``None``: of every campus) noticed from
    ``first`` to ``last`` (local days, included), in the order noticed, with its calls in
    the order made."""
    start, end = local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
    with reports.units() as uow:
        return uow.reports.absence_records(campus, start, end)


def absence_dict(record: AbsenceRecord) -> dict[str, object]:
    """The API's view of an absence with its calls (RFC 3339 UTC times, ids, no names
    but the tutor's)."""

    def moment(value: datetime | None) -> str | None:
        return format_timestamp(value) if value is not None else None

    return {
        "alert_id": record.alert_id,
        "noticed_at": moment(record.noticed_at),
        "student_id": record.student_id,
        "tutor": record.tutor,
        "slot_start": moment(record.slot_start),
        "slot_end": moment(record.slot_end),
        "acknowledged_at": moment(record.acknowledged_at),
        "acknowledged_by": record.acknowledged_by,
        "status": record.status,
        "resolution": record.resolution,
        "closed_at": moment(record.closed_at),
        "calls": [
            {
                "called_at": moment(call.called_at),
                "outcome": call.outcome,
                "by": call.author,
                "excused": call.excused,
            }
            for call in record.calls
        ],
    }
