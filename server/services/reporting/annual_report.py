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

from sqlalchemy import or_, orm, select

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
from server.registry.models import Campus, Contract, Room, Student
from server.registry.occupancy_models import CampusCapacity
from server.registry.people_store import people_unit_of_work
from server.services.people.activities import activities_for
from server.services.people.outcomes import outcomes_for
from server.services.presence.ledger import LedgerService, repository
from server.services.reporting import coordinator_reports

STATUS_LOOKBACK = timedelta(days=1)
OUTCOME_OF = {
    Result.PASSED: "success",
    Result.FAILED: "failed",
    Result.DROPPED_OUT: "dropped_out",
    Result.REORIENTED: "reoriented",
}  # Result.PENDING: not recorded yet


def annual_grid(ledger: LedgerService, campus: str, period: ReportPeriod, now: datetime) -> Grid:
    """The grid of one campus; a period without data gives an empty but valid grid."""
    tz = ledger.campus_timezone(campus)
    start = local_midnight(period.first, tz)
    end = min(local_midnight(period.last + timedelta(days=1), tz), max(now, start))
    with ledger.registry() as session:
        row = session.get(Campus, campus)
        name = row.name if row is not None and row.name else campus
        calendar = repository(session, ledger.settings).calendar(campus)
        place = _place(session, campus)
    students = _headcount(ledger, campus, period)
    past = []
    year = AcademicYear.of(period.first)
    for _ in range(rules.PAST_YEARS):
        year = year.previous()
        past.append((str(year), len(_headcount(ledger, campus, rules.academic_year(str(year))))))
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
        absences=_absences(ledger, campus, period, tz),
        occupancy=_occupancy(ledger, campus, start, end, intervals, tz, place),
        open_intervals=intervals,
        reader_availability=_readers(ledger, campus, start, end, intervals),
        activity=_activity(ledger, campus, period),
    )
    return rules.grid(inputs)


def _place(session: orm.Session, campus: str) -> tuple[int | None, float | None]:
    """The campus's capacity and surface: its own settings, else the sum of its rooms'."""
    own = session.get(CampusCapacity, campus)
    rooms = list(session.scalars(select(Room).where(Room.campus_id == campus)))
    capacity = own.capacity if own is not None else None
    area = own.area_m2 if own is not None else None
    if capacity is None and any(room.capacity for room in rooms):
        capacity = sum(room.capacity or 0 for room in rooms)
    if area is None and any(room.area_m2 for room in rooms):
        area = sum(room.area_m2 or 0.0 for room in rooms)
    return capacity, area


def _headcount(ledger: LedgerService, campus: str, period: ReportPeriod) -> list[StudentFacts]:
    """The students of the period: those with a contract in it and those with a year
    recorded (``services.outcomes``), with what that record says of them."""
    with ledger.registry() as session:
        found = {facts.student_id: facts for facts in _students(session, campus, period)}
    records: dict[str, StudentYear] = {}
    year = AcademicYear.of(period.first)
    while year.first_day <= period.last:
        for record in outcomes_for(people_unit_of_work(ledger.registry), campus, year):
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


def _activity(ledger: LedgerService, campus: str, period: ReportPeriod) -> ActivityFacts:
    log = activities_for(people_unit_of_work(ledger.registry), campus, period.first, period.last)
    return ActivityFacts(
        workshops=[(workshop.theme, workshop.attendance) for workshop in log.workshops],
        interviews={
            modality.value: count for modality, count in log.interviews_by_modality.items()
        },
        exams=log.exam_count,
        exam_candidates=log.exam_candidates,
        copil=log.meeting_count,
    )


def _students(session: orm.Session, campus: str, period: ReportPeriod) -> list[StudentFacts]:
    """Students with a contract (not replaced) overlapping the period: the headcount."""
    query = (
        select(Student)
        .join(Contract, Contract.student_pk == Student.id)
        .where(
            Student.campus_id == campus,
            Contract.replaced_at.is_(None),
            Contract.valid_from <= period.last,
            or_(Contract.valid_to.is_(None), Contract.valid_to >= period.first),
        )
        .distinct()
        .order_by(Student.student_id)
    )
    return [
        StudentFacts(
            student_id=student.student_id,
            tutor_id=student.tutor_id,
            institution_type=student.institution_type or "",
        )
        for student in session.scalars(query)
    ]


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


def _absences(
    ledger: LedgerService, campus: str, period: ReportPeriod, tz: ZoneInfo
) -> AbsenceFacts:
    report = coordinator_reports.evidence(
        ledger.registry, campus, period.first, period.last, tz=tz, settings=ledger.settings
    )
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
    ledger: LedgerService, campuses: list[str], period: ReportPeriod, now: datetime
) -> list[Grid]:
    """The same grid for several campuses of this server, side by side (a region)."""
    return [annual_grid(ledger, campus, period, now) for campus in campuses]


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
