"""Use case: the annual report of a campus (or of several, side by side) over an
academic year or a period of at most five years. One function, :func:`annual_grid`,
gathers the inputs from the registry, the ledger, the alerts' evidence, the occupancy
samples, the calendar and the readers' stored statuses; ``domain.annual_report.grid``
computes the figures; the page, the workbook, the API and the CLI render its result."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from server.domain import annual_report as rules
from server.domain.academic_year import AcademicYear
from server.domain.annual_report import (
    AbsenceFacts,
    ActivityFacts,
    Grid,
    GridInputs,
    OccupancyFacts,
    ReportPeriod,
    StudentFacts,
    StudentHours,
)
from server.domain.calendar import Interval, IsoWeek, local_midnight
from server.domain.errors import InvalidInput
from server.domain.events import CAMPUS_WIDE
from server.domain.occupancy_stats import stats
from server.domain.outcomes import AgeBand, ProfileStatus, Result, StudentYear
from server.domain.reader_health import Health, silence_limit, stamped_at
from server.services.presence.ledger import LedgerService
from server.services.reporting import coordinator_reports
from server.services.reporting.coordinator_reports import Reports

STATUS_LOOKBACK = timedelta(days=1)
OUTCOME_OF = {
    Result.PASSED: "success",
    Result.FAILED: "failed",
    Result.DROPPED_OUT: "dropped_out",
    Result.REORIENTED: "reoriented",
}  # Result.PENDING: not recorded yet


def annual_grid(reports: Reports, campus: str, period: ReportPeriod, now: datetime) -> Grid:
    """The grid of one campus; a period without data gives an empty but valid grid."""
    ledger = reports.ledger
    tz = ledger.campus_timezone(campus)
    start = local_midnight(period.first, tz)
    end = min(local_midnight(period.last + timedelta(days=1), tz), max(now, start))
    with reports.units() as uow:
        name = uow.reports.campus_name(campus) or campus
        place = uow.reports.place(campus)
    calendar = ledger.calendar(campus)
    students = _headcount(reports, campus, period)
    past = []
    year = AcademicYear.of(period.first)
    for _ in range(rules.PAST_YEARS):
        year = year.previous()
        past.append((str(year), len(_headcount(reports, campus, rules.academic_year(str(year))))))
    schedule = calendar.schedule(period.first, period.last)
    intervals = [(a, b) for a, b in schedule.intervals if a < end and b > start]
    inputs = GridInputs(
        campus=campus,
        campus_name=name,
        period=period,
        tz=tz,
        students=students,
        past_headcounts=list(reversed(past)),
        hours=_hours(ledger, campus, period, now, {s.student_id for s in students}),
        absences=_absences(reports, campus, period, tz),
        occupancy=_occupancy(ledger, campus, start, end, intervals, tz, place),
        open_intervals=intervals,
        reader_availability=_readers(ledger, campus, start, end, intervals),
        activity=_activity(reports, campus, period),
    )
    return rules.grid(inputs)


def _headcount(reports: Reports, campus: str, period: ReportPeriod) -> list[StudentFacts]:
    """The students of the period: those with a contract in it and those with a year
    recorded (``services.outcomes``), with what that record says of them."""
    with reports.units() as uow:
        headcount = uow.reports.headcount(campus, period.first, period.last)
    found = {facts.student_id: facts for facts in headcount}
    records: dict[str, StudentYear] = {}
    year = AcademicYear.of(period.first)
    while year.first_day <= period.last:
        for record in reports.outcomes(campus, year):
            records[record.student_id] = record  # the latest year wins
        year = year.following()
    for student_id, record in records.items():
        known = found.get(student_id, StudentFacts(student_id))
        found[student_id] = replace(
            known,
            public=record.institution_public,
            programme_type=record.programme_type.value,
            status=None if record.status is ProfileStatus.NOT_GIVEN else record.status.value,
            age_band=None if record.age_band is AgeBand.NOT_GIVEN else record.age_band.value,
            outcome=OUTCOME_OF.get(record.result),
            institution_type=known.institution_type,
        )
    return [found[key] for key in sorted(found)]


def _activity(reports: Reports, campus: str, period: ReportPeriod) -> ActivityFacts:
    log = reports.activities(campus, period.first, period.last)
    return ActivityFacts(
        workshops=[(workshop.theme, workshop.attendance) for workshop in log.workshops],
        interviews={
            modality.value: count for modality, count in log.interviews_by_modality.items()
        },
        exams=log.exam_count,
        exam_candidates=log.exam_candidates,
        copil=log.meeting_count,
    )


def _hours(
    ledger: LedgerService, campus: str, period: ReportPeriod, now: datetime, ids: set[str]
) -> list[StudentHours]:
    """Hours committed and attended per student over the weeks of the period (the
    weekly ledger), up to the current week."""
    last = min(period.last, now.astimezone(ledger.campus_timezone(campus)).date())
    weeks: list[IsoWeek] = []
    week = IsoWeek.of(period.first)
    while week.monday <= last:
        weeks.append(week)
        week = week.shifted(1)
    expected: dict[str, int] = defaultdict(int)
    attended: dict[str, int] = defaultdict(int)
    for lines in ledger.weeks(weeks, now, campus=campus).values():
        for line in lines:
            if line.student_id in ids:
                expected[line.student_id] += line.expected_s
                attended[line.student_id] += line.attended_s
    return [StudentHours(sid, expected[sid], attended[sid]) for sid in sorted(expected)]


def _absences(reports: Reports, campus: str, period: ReportPeriod, tz: ZoneInfo) -> AbsenceFacts:
    report = coordinator_reports.evidence(reports, campus, period.first, period.last, tz=tz)
    line = report.total.line
    return AbsenceFacts(
        noticed=line.noticed,
        needing_call=line.needing_call,
        called_same_day=line.called_same_day,
        median_minutes_to_call=line.median_minutes_to_call,
    )


def _occupancy(
    ledger: LedgerService,
    campus: str,
    start: datetime,
    end: datetime,
    intervals: list[Interval],
    tz: ZoneInfo,
    place: tuple[int | None, float | None],
) -> OccupancyFacts:
    capacity, area = place
    if end <= start:
        return OccupancyFacts(capacity=capacity, area_m2=area)
    samples = ledger.events.occupancy(start, end, campus=campus, room=CAMPUS_WIDE)
    figures = stats(samples, start, end, open_intervals=intervals, tz=tz, capacity=capacity)
    return OccupancyFacts(
        peak=figures.peak,
        average=figures.average,
        utilisation=figures.utilisation,
        capacity=capacity,
        area_m2=area,
    )


def _readers(
    ledger: LedgerService,
    campus: str,
    start: datetime,
    end: datetime,
    intervals: list[Interval],
) -> float | None:
    """Average share of the open time each reader was online (stored statuses)."""
    if end <= start or not intervals:
        return None
    by_reader: dict[str, list[tuple[datetime, bool, timedelta]]] = defaultdict(list)
    for status in ledger.events.stamped_statuses(start - STATUS_LOOKBACK, end, campus=campus):
        by_reader[status.reader].append(
            (stamped_at(status), status.state == Health.ONLINE, silence_limit(status))
        )
    shares = [
        share
        for records in by_reader.values()
        if (share := rules.online_share(sorted(records, key=lambda r: r[0]), intervals)) is not None
    ]
    return round(sum(shares) / len(shares), 3) if shares else None


def campus_grids(
    reports: Reports, campuses: list[str], period: ReportPeriod, now: datetime
) -> list[Grid]:
    """The same grid for several campuses of this server, side by side (a region)."""
    return [annual_grid(reports, campus, period, now) for campus in campuses]


class MergeError(InvalidInput):
    """A file of a merge that cannot be read: its name and the reason."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name
        self.reason = reason


def merge(files: list[tuple[str, bytes]]) -> list[Grid]:
    """The grids of every exported file (XLSX or JSON of any server), in order; the first
    file that cannot be read stops the merge (nothing is written from a partial one)."""
    from server.services.reporting.annual_workbook import read_grids

    grids: list[Grid] = []
    for name, data in files:
        try:
            grids.extend(read_grids(data))
        except rules.GridFormatError as error:
            raise MergeError(name, str(error)) from None
    return grids
