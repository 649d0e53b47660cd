"""What the coordinator's reports add to the ledger and to the occupancy statistics
(pure, no I/O).

- *remaining*: verified hours still needed to meet the week's commitment (never below
  zero; unverified hours do not count until a tutor confirms them, as in the ledger);
- *shortfall*: the hours missing once the week is over (status ``short``), else zero;
- *at risk*: the ledger's early warning (the remaining slots can no longer make it up).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from server.domain.ledger import WeekLine, WeekStatus, hours
from server.domain.occupancy_stats import Segment


@dataclass(frozen=True, slots=True)
class StudentInfo:
    """Who a ledger line is about, as the report shows it."""

    student_pk: int
    student_id: str
    last_name: str
    first_name: str
    programme: str
    tutor_id: int | None
    tutor: str  # the tutor's name, else e-mail; "" without a tutor


@dataclass(frozen=True, slots=True)
class ReportLine:
    student: StudentInfo
    expected: float
    attended: float
    unverified: float
    remaining: float
    shortfall: float
    missed_slots: int
    late_arrivals: int
    status: WeekStatus

    @property
    def at_risk(self) -> bool:
        return self.status is WeekStatus.AT_RISK


def report_line(line: WeekLine, student: StudentInfo) -> ReportLine:
    remaining_s = line.remaining_s
    return ReportLine(
        student=student,
        expected=hours(line.expected_s),
        attended=hours(line.attended_s),
        unverified=hours(line.unverified_s),
        remaining=hours(remaining_s),
        shortfall=hours(remaining_s) if line.status is WeekStatus.SHORT else 0.0,
        missed_slots=line.missed_slots,
        late_arrivals=line.late_arrivals,
        status=line.status,
    )


@dataclass(frozen=True, slots=True)
class Totals:
    students: int
    expected: float
    attended: float
    remaining: float
    at_risk: int
    short: int


def totals(lines: Sequence[ReportLine]) -> Totals:
    return Totals(
        students=len(lines),
        expected=round(sum(line.expected for line in lines), 2),
        attended=round(sum(line.attended for line in lines), 2),
        remaining=round(sum(line.remaining for line in lines), 2),
        at_risk=sum(1 for line in lines if line.at_risk),
        short=sum(1 for line in lines if line.status is WeekStatus.SHORT),
    )


@dataclass(frozen=True, slots=True)
class HourPeak:
    """The most people present at once during one local hour (or day), and the mean."""

    start: datetime  # UTC
    peak: int
    average: float


HOURLY_UP_TO_DAYS = 31  # a history of more days is read day by day


def history_step(days: int) -> str:
    """``hour`` for a history of at most :data:`HOURLY_UP_TO_DAYS` days, else ``day``."""
    return "hour" if days <= HOURLY_UP_TO_DAYS else "day"


def hourly_peaks(segs: Iterable[Segment], tz: ZoneInfo) -> list[HourPeak]:
    """Per local hour covered by the segments (a step function), its peak and its mean;
    the hours where nobody came are left out (the table stays short)."""
    return _peaks(segs, tz, "hour")


def daily_peaks(segs: Iterable[Segment], tz: ZoneInfo) -> list[HourPeak]:
    """Per local day (midnight to midnight) covered by the segments, its peak and its
    mean over the whole day; the days where nobody came are left out."""
    return _peaks(segs, tz, "day")


def _bucket(local: datetime, step: str) -> tuple[datetime, datetime]:
    """The local hour or day ``local`` falls in: its start and the next one's (local)."""
    if step == "hour":
        hour = local.replace(minute=0, second=0, microsecond=0)
        return hour, hour + timedelta(hours=1)
    day = local.replace(hour=0, minute=0, second=0, microsecond=0)
    following = datetime.combine(day.date() + timedelta(days=1), day.time(), tzinfo=local.tzinfo)
    return day, following


def _peaks(segs: Iterable[Segment], tz: ZoneInfo, step: str) -> list[HourPeak]:
    peaks: dict[datetime, int] = {}
    weighted: dict[datetime, float] = {}
    covered: dict[datetime, float] = {}
    for start, end, count in segs:
        moment = start
        while moment < end:
            first, following = _bucket(moment.astimezone(tz), step)
            cut = min(end, following.astimezone(start.tzinfo))
            key = first.astimezone(start.tzinfo)
            peaks[key] = max(peaks.get(key, 0), count)
            length = (cut - moment).total_seconds()
            weighted[key] = weighted.get(key, 0.0) + count * length
            covered[key] = covered.get(key, 0.0) + length
            moment = cut
    return [
        HourPeak(key, peaks[key], round(weighted[key] / covered[key], 2))
        for key in sorted(peaks)
        if peaks[key] > 0
    ]


@dataclass(frozen=True, slots=True)
class PeriodTotal:
    """One student's weeks over a period: the sums of the ledger's lines and the weeks
    meeting the commitment (status ``met``) among the weeks where hours were due."""

    student_id: str
    weeks: int  # weeks with a contract
    due_weeks: int  # of which hours were due (not ``excused``)
    met_weeks: int
    expected_s: int
    attended_s: int
    unverified_s: int

    def as_dict(self) -> dict[str, object]:
        return {
            "student_id": self.student_id,
            "weeks": self.weeks,
            "weeks_due": self.due_weeks,
            "weeks_met": self.met_weeks,
            "expected_hours": hours(self.expected_s),
            "attended_hours": hours(self.attended_s),
            "unverified_hours": hours(self.unverified_s),
        }


def period_totals(lines: Iterable[WeekLine]) -> dict[str, PeriodTotal]:
    """Per student id (in the order first met), the totals of its weekly lines."""
    sums: dict[str, list[int]] = {}
    for line in lines:
        row = sums.setdefault(line.student_id, [0, 0, 0, 0, 0, 0])
        row[0] += 1
        row[1] += line.status is not WeekStatus.EXCUSED
        row[2] += line.status is WeekStatus.MET
        row[3] += line.expected_s
        row[4] += line.attended_s
        row[5] += line.unverified_s
    return {student: PeriodTotal(student, *row) for student, row in sums.items()}
