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

from sqlalchemy import orm, select

from edge.protocol import format_timestamp
from server.config import PresenceSettings
from server.domain import alerts as alert_rules
from server.domain.alerts import AlertKind, EvidenceLine
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
from server.domain.periods import Period
from server.registry.alert_models import Alert, AlertCall
from server.registry.alert_repository import AlertRepository
from server.registry.models import Student, Tutor
from server.services.alerts.alerts import call_policy
from server.services.presence.ledger import LedgerService

Registry = Callable[[], orm.Session]


@dataclass(frozen=True, slots=True)
class WeeklyReport:
    campus: str
    week: IsoWeek
    lines: list[ReportLine]
    totals: Totals
    tutors: list[tuple[int, str]]  # (tutor id, label): the tutor filter's choices
    programmes: list[str]


def students_of(registry: Registry, campus: str) -> dict[str, StudentInfo]:
    """The campus's students by student id, with their tutor's name (else e-mail)."""
    query = (  # the columns shown, not whole rows: a report reads it for every student
        select(
            Student.id.label("pk"),
            Student.student_id,
            Student.last_name,
            Student.first_name,
            Student.programme,
            Student.tutor_id,
            Tutor.id.label("tutor_pk"),
            Tutor.name.label("tutor_name"),
            Tutor.email.label("tutor_email"),
        )
        .outerjoin(Tutor, Tutor.id == Student.tutor_id)
        .where(Student.campus_id == campus)
    )
    with registry() as session:
        rows = session.execute(query).all()
    return {
        row.student_id: StudentInfo(
            student_pk=row.pk,
            student_id=row.student_id,
            last_name=row.last_name,
            first_name=row.first_name,
            programme=row.programme,
            tutor_id=row.tutor_id,
            tutor=(row.tutor_name or row.tutor_email) if row.tutor_pk is not None else "",
        )
        for row in rows
    }


def weekly_report(
    ledger: LedgerService,
    campus: str,
    week: IsoWeek,
    now: datetime,
    *,
    tutor_id: int | None = None,
    programme: str = "",
) -> WeeklyReport:
    """Every student of the campus with a contract that week, sorted by name."""
    directory = students_of(ledger.registry, campus)
    lines = [
        report_line(line, directory[line.student_id])
        for line in ledger.weekly(week, now, campus=campus)
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


def period_report(ledger: LedgerService, campus: str, span: Period, now: datetime) -> PeriodReport:
    """Every student-week of the campus over the ISO weeks touching ``span`` (the ledger
    read once for all of them) and each student's totals (``domain.coordinator_reports.
    period_totals``), sorted by name."""
    directory = students_of(ledger.registry, campus)
    weeks = span.weeks()
    by_week = ledger.weeks(weeks, now, campus=campus)

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
    registry: Registry,
    campus: str,
    first: date,
    last: date,
    *,
    tz: ZoneInfo,
    settings: PresenceSettings | None = None,
) -> EvidenceReport:
    """The call-on-absence evidence of one campus from ``first`` to ``last`` (local days,
    included): per tutor (by name), then the total; the shares are of the absences that
    still needed a call (``domain.alerts.call_needed`` under the campus's policy)."""
    start, end = local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
    with registry() as session:
        repo = AlertRepository(session, timezone=str(tz))
        policy = call_policy(settings or PresenceSettings(), repo.channel_settings(campus))
        facts = repo.facts(start, end, campus, policy)
    lines = alert_rules.evidence(facts, tz)
    rows = [EvidenceRow(line, line.excused) for line in lines[:-1]]
    total = EvidenceRow(lines[-1], lines[-1].excused)
    return EvidenceReport(campus, first, last, rows, total)


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


def absences(
    registry: Registry, campus: str | None, first: date, last: date, *, tz: ZoneInfo
) -> list[AbsenceRecord]:
    """Every absence alert of the campus (``None``: of every campus) noticed from
    ``first`` to ``last`` (local days, included), in the order noticed, with its calls in
    the order made."""
    start, end = local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz)
    query = (
        select(Alert, Student)
        .outerjoin(Student, Student.id == Alert.student_pk)
        .where(
            Alert.kind == AlertKind.ABSENCE.value,
            Alert.noticed_at >= start,
            Alert.noticed_at < end,
        )
        .order_by(Alert.noticed_at, Alert.id)
    )
    if campus is not None:
        query = query.where(Alert.campus_id == campus)
    with registry() as session:
        rows = session.execute(query).all()
        ids = [alert.id for alert, _student in rows]
        calls: dict[int, list[CallRecord]] = {}
        for call in session.scalars(
            select(AlertCall).where(AlertCall.alert_pk.in_(ids)).order_by(AlertCall.called_at)
        ):
            calls.setdefault(call.alert_pk, []).append(
                CallRecord(call.called_at, call.outcome, call.author, call.excused)
            )
        tutors = AlertRepository(session, timezone=str(tz)).tutor_names(
            {alert.tutor_id for alert, _student in rows if alert.tutor_id}
        )
    return [
        AbsenceRecord(
            alert_id=alert.public_id,
            noticed_at=alert.noticed_at,
            student_id=student.student_id if student is not None else "",
            last_name=student.last_name if student is not None else "",
            first_name=student.first_name if student is not None else "",
            tutor=tutors.get(alert.tutor_id, "") if alert.tutor_id else "",
            slot_start=alert.slot_start,
            slot_end=alert.slot_end,
            acknowledged_at=alert.acknowledged_at,
            acknowledged_by=alert.acknowledged_by,
            status=alert.status,
            resolution=alert.resolution,
            closed_at=alert.closed_at,
            calls=tuple(calls.get(alert.id, ())),
        )
        for alert, student in rows
    ]


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
