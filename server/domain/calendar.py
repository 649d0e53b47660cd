"""When a campus is open: weekly hours, exceptional days, closures and holidays (pure).

Everything is computed in the campus's own time zone (Europe/Paris by default) and turned
into aware UTC instants, so that a day or a week with a daylight-saving change has its
real length (a Europe/Paris week has 169 h in October and 167 h in March).

French public holidays come from the ``holidays`` library (pure computation, no network).
School holiday periods are data entered by the admin or loaded from a file, per zone.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import cache, cached_property
from zoneinfo import ZoneInfo

import holidays as holiday_rules

Interval = tuple[datetime, datetime]  # [start, end) in aware UTC
Span = tuple[int, int]  # [start, end) in microseconds since the Unix epoch (UTC)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)
US_PER_S = 1_000_000


def to_us(moment: datetime) -> int:
    """An aware instant as microseconds since the epoch: the integer form the hot paths of
    ``domain.sessions``, ``domain.slots`` and ``domain.ledger`` compute on (exact)."""
    return (moment - EPOCH) // _US


def from_us(value: int) -> datetime:
    """The aware UTC instant of :func:`to_us`."""
    return EPOCH + timedelta(microseconds=value)


def us_of(delta: timedelta) -> int:
    """A duration in microseconds."""
    return delta // _US


def span_seconds(spans: Iterable[Span]) -> int:
    """:func:`seconds` of integer spans: whole seconds, rounded down."""
    total = 0
    for start, end in spans:
        total += end - start
    return total // US_PER_S


_WEEK = re.compile(r"(\d{4})-?W(\d{1,2})")

# The days a user may name (API parameters, pages, commands): years 2000 to 2100. Far
# enough for any contract or report, and a day, week or month around them stays a valid
# date in every time zone (``date.max`` plus an offset overflows).
FIRST_YEAR = 2000
LAST_YEAR = 2100


def supported_day(day: date) -> bool:
    """``day`` (or the day of an instant, in its own offset) is in the supported years."""
    return FIRST_YEAR <= day.year <= LAST_YEAR


def parse_day(text: str) -> date:
    """A ``YYYY-MM-DD`` day of the supported years; ``ValueError`` otherwise."""
    day = date.fromisoformat(text) if isinstance(text, str) else None
    if day is None or not supported_day(day):
        raise ValueError(f"not a day of {FIRST_YEAR}-{LAST_YEAR}: {str(text)[:20]!r}")
    return day


class ClosureKind(StrEnum):
    CLOSURE = "closure"  # the campus decided to close (works, staff away…)
    PUBLIC_HOLIDAY = "public_holiday"
    SCHOOL_HOLIDAY = "school_holiday"


@dataclass(frozen=True, slots=True, order=True)
class IsoWeek:
    """An ISO week (Monday to Sunday), written ``2026-W48``."""

    year: int
    week: int

    def __post_init__(self) -> None:
        date.fromisocalendar(self.year, self.week, 1)  # ValueError if it does not exist

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        match = _WEEK.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None or not FIRST_YEAR <= int(match.group(1)) <= LAST_YEAR:
            raise ValueError(f"not an ISO week like 2026-W48 of {FIRST_YEAR}-{LAST_YEAR}")
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, day: date) -> IsoWeek:
        year, week, _ = day.isocalendar()
        return cls(year, week)

    @property
    def monday(self) -> date:
        return date.fromisocalendar(self.year, self.week, 1)

    def days(self) -> tuple[date, ...]:
        monday = self.monday
        return tuple(monday + timedelta(days=offset) for offset in range(7))

    def shifted(self, weeks: int) -> IsoWeek:
        return IsoWeek.of(self.monday + timedelta(weeks=weeks))

    def bounds(self, tz: ZoneInfo) -> Interval:
        """Local Monday 00:00 to the next local Monday 00:00, as UTC instants."""
        return local_midnight(self.monday, tz), local_midnight(self.monday + timedelta(7), tz)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def local_instant(day: date, moment: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, moment, tzinfo=tz).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Period:
    """Whole days from ``start`` to ``end``, both included."""

    start: date
    end: date
    label: str = ""

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("a period cannot end before it starts")

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class Hours:
    """Opening hours of one day; ``closes`` at or before ``opens`` means the next day."""

    opens: time
    closes: time

    def interval(self, day: date, tz: ZoneInfo) -> Interval:
        start = local_instant(day, self.opens, tz)
        end_day = day if self.closes > self.opens else day + timedelta(days=1)
        return start, local_instant(end_day, self.closes, tz)


@cache
def french_public_holidays(year: int, subdivision: str | None = None) -> Mapping[date, str]:
    """Public holidays of France for one year (``subdivision`` e.g. ``"57"`` for Moselle,
    which has two more)."""
    rules = holiday_rules.France(years=[year], subdiv=subdivision, language="fr")
    return dict(rules.items())


@dataclass(frozen=True)
class CampusCalendar:
    """Opening rules of one campus. ``weekly`` maps a weekday (0 = Monday) to its hours;
    ``None`` means no opening hours are configured (open at any time)."""

    timezone: str = "Europe/Paris"
    weekly: Mapping[int, tuple[Hours, ...]] | None = None
    exceptions: Mapping[date, tuple[Hours, ...]] = field(default_factory=dict)
    closures: tuple[Period, ...] = ()
    school_holidays: tuple[Period, ...] = ()
    closes_on_school_holidays: bool = False
    closes_on_public_holidays: bool = True
    holiday_subdivision: str | None = None

    @cached_property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def closure(self, day: date) -> tuple[ClosureKind, str] | None:
        """Why the campus is closed all day on ``day``, or None."""
        if self.closes_on_public_holidays:
            name = french_public_holidays(day.year, self.holiday_subdivision).get(day)
            if name is not None:
                return ClosureKind.PUBLIC_HOLIDAY, name
        for period in self.closures:
            if day in period:
                return ClosureKind.CLOSURE, period.label
        if self.closes_on_school_holidays:
            for period in self.school_holidays:
                if day in period:
                    return ClosureKind.SCHOOL_HOLIDAY, period.label
        if self.exceptions.get(day) == ():
            return ClosureKind.CLOSURE, ""
        return None

    def hours_on(self, day: date) -> tuple[Hours, ...] | None:
        """Opening hours of ``day`` (empty when closed), None when open all day."""
        if self.closure(day) is not None:
            return ()
        if day in self.exceptions:
            return self.exceptions[day]
        if self.weekly is None:
            return None
        return self.weekly.get(day.weekday(), ())

    def schedule(self, first: date, last: date) -> Schedule:
        """Open intervals and day restrictions from ``first`` to ``last`` (included)."""
        tz = self.tz
        intervals: list[Interval] = []
        limits: dict[date, tuple[Interval, ...]] = {}
        day = first - timedelta(days=1)  # hours opened the day before may cross midnight
        while day <= last:
            hours = self.hours_on(day)
            if hours is None:
                intervals.append((local_midnight(day, tz), local_midnight(day + timedelta(1), tz)))
            else:
                day_intervals = tuple(item.interval(day, tz) for item in hours)
                intervals.extend(day_intervals)
                if day >= first and (day in self.exceptions or not day_intervals):
                    limits[day] = day_intervals
            day += timedelta(days=1)
        return Schedule(merge(intervals), limits)


@dataclass(frozen=True)
class Schedule:
    """A campus's open intervals (sorted, disjoint, UTC) over a span of days, with fast
    lookups. ``limits`` lists the days whose committed slots are restricted: closed days
    (no interval) and days with exceptional hours."""

    intervals: tuple[Interval, ...]
    limits: Mapping[date, tuple[Interval, ...]] = field(default_factory=dict)

    @cached_property
    def starts(self) -> list[datetime]:
        """The intervals' starts, for binary searches."""
        return [start for start, _ in self.intervals]

    @cached_property
    def spans(self) -> tuple[Span, ...]:
        """The intervals in microseconds (:func:`to_us`)."""
        return tuple((to_us(start), to_us(end)) for start, end in self.intervals)

    @cached_property
    def span_starts(self) -> list[int]:
        return [start for start, _ in self.spans]

    @cached_property
    def spans_memo(self) -> dict[Span, tuple[Span, ...]]:
        """Open parts of spans already asked for (``domain.slots``, integer form): a
        schedule never changes, so every student of a campus shares them."""
        return {}

    def closing_after_us(self, moment: int) -> int | None:
        """:meth:`closing_after` in microseconds."""
        index = bisect.bisect_right(self.span_starts, moment) - 1
        if index >= 0 and self.spans[index][1] > moment:
            return self.spans[index][1]
        return None

    def opening_after_us(self, moment: int) -> int | None:
        """:meth:`opening_after` in microseconds."""
        index = bisect.bisect_right(self.span_starts, moment)
        return self.spans[index][0] if index < len(self.spans) else None

    def closing_after(self, moment: datetime) -> datetime | None:
        """End of the open interval containing ``moment``; None when closed then."""
        index = bisect.bisect_right(self.starts, moment) - 1
        if index >= 0 and self.intervals[index][1] > moment:
            return self.intervals[index][1]
        return None

    def opening_after(self, moment: datetime) -> datetime | None:
        index = bisect.bisect_right(self.starts, moment)
        return self.intervals[index][0] if index < len(self.intervals) else None

    def restrict(self, day: date, interval: Interval) -> tuple[Interval, ...]:
        """The part of a committed slot of ``day`` that falls while the campus is open."""
        limit = self.limits.get(day)
        if limit is None:
            return (interval,)
        return intersect((interval,), limit)


def merge(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Sorted union of intervals; touching intervals are joined."""
    if isinstance(intervals, list) and _separate(intervals):
        return tuple(intervals)  # already sorted, disjoint and apart: the union itself
    result: list[Interval] = []
    for start, end in sorted(intervals):
        if end <= start:
            continue
        if result and start <= result[-1][1]:
            if end > result[-1][1]:
                result[-1] = (result[-1][0], end)
        else:
            result.append((start, end))
    return tuple(result)


def _separate(intervals: list[Interval]) -> bool:
    """Whether every interval is not empty and starts after the previous one ends."""
    previous = None
    for start, end in intervals:
        if end <= start or (previous is not None and start <= previous):
            return False
        previous = end
    return True


def intersect(first: Iterable[Interval], second: Iterable[Interval]) -> tuple[Interval, ...]:
    """Intersection of two unions of intervals, as sorted disjoint intervals."""
    left, right = merge(first), merge(second)
    result: list[Interval] = []
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            result.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return tuple(result)


def subtract(base: Iterable[Interval], removed: Iterable[Interval]) -> tuple[Interval, ...]:
    """``base`` minus ``removed``, as sorted disjoint intervals."""
    result: list[Interval] = []
    cuts = merge(removed)
    for start, end in merge(base):
        cursor = start
        for cut_start, cut_end in cuts:
            if cut_end <= cursor or cut_start >= end:
                continue
            if cut_start > cursor:
                result.append((cursor, cut_start))
            cursor = max(cursor, cut_end)
        if cursor < end:
            result.append((cursor, end))
    return tuple(result)


def seconds(intervals: Iterable[Interval]) -> int:
    """Total length of disjoint intervals, in whole seconds (rounded down)."""
    total = timedelta()
    for start, end in intervals:
        total += end - start
    return int(total.total_seconds())
