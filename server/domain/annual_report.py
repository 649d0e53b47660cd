"""The annual report's grid: pilotage indicators of one campus over an academic year (or
any period of at most five years) and the eligibility criteria of the national
specification (docs/annual-report.md), computed from plain inputs.

Pure: no clock, no database. The service gathers the inputs; the page, the workbook,
the API and the CLI all render the :class:`Grid` this module returns. A figure nobody
recorded is ``None`` ("not recorded"), never a zero."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from server.domain import periods
from server.domain.academic_year import AcademicYear
from server.domain.calendar import Interval
from server.domain.errors import InvalidInput

FORMAT_ID = "campus-presence.annual-grid"
FORMAT_VERSION = 1
MAX_YEARS = periods.MAX_YEARS
PAST_YEARS = 4  # the headcount trend looks this many academic years back
MIN_STUDENTS = 15
MIN_PUBLIC_SHARE = 0.7
MAX_STUDENTS_PER_TUTOR = 20
EVENING_FROM = time(18, 0)
HOURS_BANDS = (0.5, 0.8, 1.0)  # attended ÷ committed: < 50 %, 50-80 %, 80-100 %, ≥ 100 %
OUTCOMES = ("success", "failed", "dropped_out", "reoriented")

Value = int | float | str | None


class PeriodError(InvalidInput):
    """A period the report refuses, with the reason (English, translated at the edge)."""


class GridFormatError(InvalidInput):
    """An exported grid this version cannot read (unknown format or another version)."""


@dataclass(frozen=True, slots=True)
class ReportPeriod:
    first: date
    last: date  # included
    label: str

    def previous_year(self) -> ReportPeriod:
        """The academic year before (the trend); only meaningful for a year."""
        start = self.first.year - 1
        return academic_year(f"{start}-{start + 1}")


def academic_year(text: str) -> ReportPeriod:
    """``2026-2027`` → 1 September 2026 to 31 August 2027 (``domain.academic_year``)."""
    try:
        year = AcademicYear.parse(text)
    except ValueError:
        raise PeriodError("An academic year is expected, like 2026-2027.") from None
    return ReportPeriod(year.first_day, year.last_day, str(year))


_RANGE_REFUSALS = {
    "reversed": "The end date cannot be before the start date.",
    "too_long": "A report covers at most 5 years.",
    "unsupported_day": "A date is expected, like 2026-09-01.",
}


def date_range(first: date, last: date) -> ReportPeriod:
    """Any period of at most :data:`MAX_YEARS` years (days included): the rule of
    ``domain.periods``, shared with the other reports over a period."""
    try:
        span = periods.period(first, last)
    except periods.PeriodError as refused:
        raise PeriodError(_RANGE_REFUSALS[refused.code]) from None
    return ReportPeriod(span.first, span.last, f"{first.isoformat()}..{last.isoformat()}")


def report_period(year: str | None, first: str | None, last: str | None) -> ReportPeriod:
    """An academic year (``2026-2027``) or a ``first``..``last`` ISO date range, as the
    CLI, the pages and the API ask it (``PeriodError`` with the reason)."""
    if year is not None and (first or last):
        raise PeriodError("Give an academic year or a date range, not both.")
    if year is not None:
        return academic_year(year)
    if not first or not last:
        raise PeriodError("Give an academic year, like 2026-2027, or a first and a last day.")
    try:
        days = date.fromisoformat(first), date.fromisoformat(last)
    except ValueError:
        raise PeriodError("A date is expected, like 2026-09-01.") from None
    return date_range(*days)


# -- inputs ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StudentFacts:
    student_id: str
    tutor_id: int | None = None
    institution_type: str = ""
    public: bool | None = None  # recorded for the year; None: read ``institution_type``
    programme_type: str | None = None  # lmd, daeu, bts, other; None: not recorded
    status: str | None = None  # e.g. recent_bachelor, employed…; None: not recorded
    age_band: str | None = None
    outcome: str | None = None  # one of OUTCOMES; None: not recorded


@dataclass(frozen=True, slots=True)
class StudentHours:
    student_id: str
    expected_s: int
    attended_s: int


@dataclass(frozen=True, slots=True)
class AbsenceFacts:
    noticed: int = 0
    needing_call: int = 0
    called_same_day: int = 0
    median_minutes_to_call: float | None = None


@dataclass(frozen=True, slots=True)
class OccupancyFacts:
    peak: int = 0
    average: float = 0.0
    utilisation: float | None = None
    capacity: int | None = None
    area_m2: float | None = None


@dataclass(frozen=True, slots=True)
class ActivityFacts:
    """The campus's activity log for the period (issue 14, item 2)."""

    workshops: Sequence[tuple[str, int]] = ()  # (theme, attendees) per workshop
    interviews: dict[str, int] = field(default_factory=dict)  # modality → count
    exams: int = 0
    exam_candidates: int = 0
    copil: int = 0


@dataclass(frozen=True, slots=True)
class GridInputs:
    campus: str
    campus_name: str
    period: ReportPeriod
    tz: ZoneInfo
    students: Sequence[StudentFacts] = ()
    past_headcounts: Sequence[tuple[str, int]] = ()  # (label, headcount), oldest first
    hours: Sequence[StudentHours] = ()
    absences: AbsenceFacts = AbsenceFacts()
    occupancy: OccupancyFacts | None = None
    open_intervals: Sequence[Interval] = ()
    reader_availability: float | None = None  # share of open time the readers were online
    activity: ActivityFacts | None = None  # None: the activity log is not recorded


# -- output ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Criterion:
    key: str  # min_students, public_share, students_per_tutor
    figure: float | None
    threshold: float
    met: bool | None  # None: cannot be judged (no figure)


@dataclass(frozen=True, slots=True)
class Grid:
    campus: str
    campus_name: str
    period: ReportPeriod
    indicators: dict[str, Value]  # key → figure, in the grid's order
    breakdowns: dict[str, dict[str, int]]  # e.g. programme_type → {lmd: 12, …}
    criteria: list[Criterion]
    trend: list[tuple[str, int]]  # headcount per academic year, oldest first, this one last

    def as_dict(self) -> dict[str, Any]:
        """The exported grid (JSON), with its format id and version."""
        return {
            "format": FORMAT_ID,
            "version": FORMAT_VERSION,
            "campus": self.campus,
            "campus_name": self.campus_name,
            "period": {
                "first": self.period.first.isoformat(),
                "last": self.period.last.isoformat(),
                "label": self.period.label,
            },
            "indicators": dict(self.indicators),
            "breakdowns": {key: dict(value) for key, value in self.breakdowns.items()},
            "criteria": [
                {"key": c.key, "figure": c.figure, "threshold": c.threshold, "met": c.met}
                for c in self.criteria
            ],
            "trend": [[label, count] for label, count in self.trend],
        }


def is_public(institution_type: str) -> bool:
    """Public higher education: the type says so (``public``, ``publique``…)."""
    return institution_type.strip().lower().startswith(("public", "publique"))


def _public(student: StudentFacts) -> bool:
    return student.public if student.public is not None else is_public(student.institution_type)


def _institution(student: StudentFacts) -> str:
    if student.public is not None:
        return "public" if student.public else "private"
    return student.institution_type.strip().lower()


def grid(inputs: GridInputs) -> Grid:
    students = list(inputs.students)
    headcount = len(students)
    trend = [*inputs.past_headcounts, (inputs.period.label, headcount)]
    tutors = {s.tutor_id for s in students if s.tutor_id is not None}
    public = sum(1 for s in students if _public(s))
    public_share = _share(public, headcount)
    per_tutor = round(headcount / len(tutors), 2) if tutors else None
    indicators: dict[str, Value] = {
        "headcount": headcount,
        "headcount_average": round(statistics.fmean(c for _, c in trend), 2),
        "headcount_change": headcount - trend[-2][1] if len(trend) > 1 else None,
        "public_students": public,
        "public_share": public_share,
        "tutors": len(tutors),
        "students_per_tutor": per_tutor,
    }
    indicators.update(_outcomes(students))
    indicators.update(_hours(inputs.hours))
    indicators.update(_absences(inputs.absences))
    indicators.update(_occupancy(inputs.occupancy))
    indicators.update(_opening(inputs.open_intervals, inputs.tz))
    indicators["reader_availability"] = inputs.reader_availability
    indicators.update(_activity(inputs.activity))
    return Grid(
        campus=inputs.campus,
        campus_name=inputs.campus_name,
        period=inputs.period,
        indicators=indicators,
        breakdowns=_breakdowns(students, inputs.hours, inputs.activity),
        criteria=criteria(headcount, public_share, per_tutor),
        trend=trend,
    )


def criteria(
    headcount: int, public_share: float | None, per_tutor: float | None
) -> list[Criterion]:
    """The specification's three measurable eligibility criteria."""
    return [
        Criterion("min_students", headcount, MIN_STUDENTS, headcount >= MIN_STUDENTS),
        Criterion(
            "public_share",
            public_share,
            MIN_PUBLIC_SHARE,
            None if public_share is None else public_share >= MIN_PUBLIC_SHARE,
        ),
        Criterion(
            "students_per_tutor",
            per_tutor,
            MAX_STUDENTS_PER_TUTOR,
            None if per_tutor is None else per_tutor <= MAX_STUDENTS_PER_TUTOR,
        ),
    ]


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _outcomes(students: Sequence[StudentFacts]) -> dict[str, Value]:
    """Rates over the students whose result is recorded; ``None`` when none is."""
    known = [s.outcome for s in students if s.outcome in OUTCOMES]
    counts = Counter(known)
    result: dict[str, Value] = {"outcomes_recorded": len(known)}
    for outcome in OUTCOMES:
        result[f"{outcome}_rate"] = _share(counts[outcome], len(known))
    return result


def _hours(lines: Sequence[StudentHours]) -> dict[str, Value]:
    expected = sum(line.expected_s for line in lines)
    attended = sum(line.attended_s for line in lines)
    return {
        "hours_committed": round(expected / 3600, 2),
        "hours_attended": round(attended / 3600, 2),
        "hours_ratio": _share(attended, expected),
    }


def hours_band(line: StudentHours) -> str:
    """Where one student's attended hours stand against the committed ones."""
    ratio = line.attended_s / line.expected_s if line.expected_s else 1.0
    if ratio < HOURS_BANDS[0]:
        return "under_50"
    if ratio < HOURS_BANDS[1]:
        return "50_80"
    return "80_100" if ratio < HOURS_BANDS[2] else "100_plus"


def _absences(facts: AbsenceFacts) -> dict[str, Value]:
    return {
        "absences_noticed": facts.noticed,
        "absences_needing_call": facts.needing_call,
        "called_same_day_share": _share(facts.called_same_day, facts.needing_call),
        "median_minutes_to_call": facts.median_minutes_to_call,
    }


def _occupancy(facts: OccupancyFacts | None) -> dict[str, Value]:
    if facts is None:
        facts = OccupancyFacts()
    area = facts.area_m2
    return {
        "occupancy_peak": facts.peak,
        "occupancy_average": round(facts.average, 2),
        "utilisation": facts.utilisation,
        "capacity": facts.capacity,
        "area_m2": area,
        "m2_per_place": round(area / facts.capacity, 2) if area and facts.capacity else None,
        "m2_per_person_at_peak": round(area / facts.peak, 2) if area and facts.peak else None,
    }


def _opening(intervals: Sequence[Interval], tz: ZoneInfo) -> dict[str, Value]:
    """Hours open, of which evenings (after 18:00) and weekends, and days open."""
    total = evening = weekend = 0.0
    days: set[date] = set()
    for start, end in intervals:
        moment = start
        while moment < end:
            local = moment.astimezone(tz)
            next_day = datetime.combine(local.date() + timedelta(days=1), time(0), tz)
            cut = min(end, next_day.astimezone(start.tzinfo))
            length = (cut - moment).total_seconds()
            total += length
            days.add(local.date())
            if local.weekday() >= 5:
                weekend += length
            evening_start = datetime.combine(local.date(), EVENING_FROM, tz)
            evening += max(0.0, (cut - max(moment, evening_start)).total_seconds())
            moment = cut
    return {
        "days_open": len(days),
        "hours_open": round(total / 3600, 2),
        "hours_open_evenings": round(evening / 3600, 2),
        "hours_open_weekends": round(weekend / 3600, 2),
    }


def _activity(facts: ActivityFacts | None) -> dict[str, Value]:
    if facts is None:
        keys = (
            "workshops",
            "workshop_attendance",
            "interviews",
            "exams_on_site",
            "exam_candidates",
            "copil",
        )
        return dict.fromkeys(keys)
    return {
        "workshops": len(facts.workshops),
        "workshop_attendance": sum(attendees for _, attendees in facts.workshops),
        "interviews": sum(facts.interviews.values()),
        "exams_on_site": facts.exams,
        "exam_candidates": facts.exam_candidates,
        "copil": facts.copil,
    }


def _breakdowns(
    students: Sequence[StudentFacts],
    hours: Sequence[StudentHours],
    activity: ActivityFacts | None,
) -> dict[str, dict[str, int]]:
    def count(values: Sequence[str | None]) -> dict[str, int]:
        return dict(sorted(Counter(value or "not_recorded" for value in values).items()))

    result = {
        "status": count([s.status for s in students]),
        "age_band": count([s.age_band for s in students]),
        "programme_type": count([s.programme_type for s in students]),
        "institution_type": count([_institution(s) for s in students]),
        "hours_distribution": {
            band: sum(1 for line in hours if hours_band(line) == band)
            for band in ("under_50", "50_80", "80_100", "100_plus")
        },
    }
    if activity is not None:
        result["workshop_themes"] = count([theme for theme, _ in activity.workshops])
        result["interview_modality"] = dict(sorted(activity.interviews.items()))
    return result


def from_dict(data: object) -> Grid:
    """A grid exported by :meth:`Grid.as_dict` (another server's), checked first."""
    if not isinstance(data, dict) or data.get("format") != FORMAT_ID:
        raise GridFormatError("This file is not an annual grid of campus-presence.")
    if data.get("version") != FORMAT_VERSION:
        raise GridFormatError("This grid has another format version.")
    try:
        period = data["period"]
        return Grid(
            campus=str(data["campus"]),
            campus_name=str(data.get("campus_name", "")),
            period=ReportPeriod(
                date.fromisoformat(period["first"]),
                date.fromisoformat(period["last"]),
                str(period["label"]),
            ),
            indicators={str(k): _value(v) for k, v in dict(data["indicators"]).items()},
            breakdowns={
                str(k): {str(a): int(b) for a, b in dict(v).items()}
                for k, v in dict(data.get("breakdowns", {})).items()
            },
            criteria=[
                Criterion(str(c["key"]), c["figure"], float(c["threshold"]), c["met"])
                for c in data.get("criteria", [])
            ],
            trend=[(str(label), int(count)) for label, count in data.get("trend", [])],
        )
    except (KeyError, TypeError, ValueError) as error:
        raise GridFormatError(f"This grid is incomplete or damaged ({error}).") from None


def _value(value: object) -> Value:
    if value is None or isinstance(value, int | float | str):
        return value
    raise ValueError(f"unexpected value {value!r}")


def online_share(
    statuses: Sequence[tuple[datetime, bool, timedelta]], intervals: Sequence[Interval]
) -> float | None:
    """Share of the open time one reader was online, from its stored statuses ``(when,
    online, silence limit)`` oldest first: a status holds until the next one or until
    its silence limit, whichever comes first. ``None`` without open time."""
    open_s = sum((end - start).total_seconds() for start, end in intervals)
    if not open_s:
        return None
    online: list[Interval] = []
    for index, (moment, is_online, limit) in enumerate(statuses):
        until = moment + limit
        if index + 1 < len(statuses):
            until = min(until, statuses[index + 1][0])
        if not is_online or until <= moment:
            continue
        if online and online[-1][1] >= moment:
            online[-1] = (online[-1][0], max(online[-1][1], until))
        else:
            online.append((moment, until))
    covered = 0.0
    j = 0
    for start, end in intervals:  # both sorted: one sweep
        while j < len(online) and online[j][1] <= start:
            j += 1
        k = j
        while k < len(online) and online[k][0] < end:
            covered += max(0.0, (min(end, online[k][1]) - max(start, online[k][0])).total_seconds())
            k += 1
    return round(min(1.0, covered / open_s), 3)
