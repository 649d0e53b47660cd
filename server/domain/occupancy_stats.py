"""Statistics of occupancy over a day, a week or a month, from its samples (pure).

A zone's count is a step function: each sample holds until the next one. Averages are
weighted by time and taken over the **opening hours** only (the campus's schedule);
the peak is taken over the whole period (people staying late count too).

Utilisation is occupancy ÷ capacity (capacité d'accueil): *under* below 60 %, *well*
from 60 to 100 %, *over* above 100 %.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from server.domain.calendar import Interval, IsoWeek, local_midnight
from server.domain.events import OccupancySample

Segment = tuple[datetime, datetime, int]  # [start, end) with a constant count
WELL_FROM = 0.6


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class Band(StrEnum):
    UNDER = "under"  # < 60 %
    WELL = "well"  # 60-100 %
    OVER = "over"  # > 100 %


def band(utilisation: float) -> Band:
    if utilisation > 1:
        return Band.OVER
    return Band.WELL if utilisation >= WELL_FROM else Band.UNDER


@dataclass(frozen=True, slots=True)
class OccupancyStats:
    start: datetime
    end: datetime
    peak: int
    peak_at: datetime | None
    average: float  # people, over the opening hours
    open_hours: float
    occupied_share: float  # share of the opening hours with at least one person
    capacity: int | None
    utilisation: float | None  # average ÷ capacity
    peak_utilisation: float | None
    band: Band | None
    m2_per_person_at_peak: float | None
    heatmap: dict[tuple[int, int], float]  # (weekday 0 = Monday, local hour) → average


def period_bounds(period: Period, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The local day, ISO week or month containing ``day``, as UTC instants."""
    if period is Period.DAY:
        first, last = day, day + timedelta(days=1)
    elif period is Period.WEEK:
        first = IsoWeek.of(day).monday
        last = first + timedelta(days=7)
    else:
        first = day.replace(day=1)
        last = (first + timedelta(days=32)).replace(day=1)
    return local_midnight(first, tz), local_midnight(last, tz)


def segments(
    samples: Iterable[OccupancySample], start: datetime, end: datetime, *, initial: int = 0
) -> list[Segment]:
    """The step function over ``[start, end)``; ``initial`` holds until the first sample
    (the last count known before ``start``)."""
    result: list[Segment] = []
    moment, count = start, initial
    for sample in samples:
        if sample.at >= end:
            break
        if sample.at > moment:
            result.append((moment, sample.at, count))
            moment = sample.at
        count = sample.count
    if moment < end:
        result.append((moment, end, count))
    return result


def within(segs: Sequence[Segment], intervals: Sequence[Interval]) -> list[Segment]:
    """The parts of the segments inside the (sorted, disjoint) intervals."""
    result: list[Segment] = []
    j = 0
    for start, end, count in segs:
        while j < len(intervals) and intervals[j][1] <= start:
            j += 1
        k = j
        while k < len(intervals) and intervals[k][0] < end:
            low, high = max(start, intervals[k][0]), min(end, intervals[k][1])
            if low < high:
                result.append((low, high, count))
            k += 1
    return result


def stats(
    samples: Sequence[OccupancySample],
    start: datetime,
    end: datetime,
    *,
    open_intervals: Sequence[Interval],
    tz: ZoneInfo,
    capacity: int | None = None,
    area_m2: float | None = None,
    initial: int = 0,
) -> OccupancyStats:
    """Statistics of one zone over ``[start, end)``; ``samples`` sorted by time."""
    all_segs = segments(samples, start, end, initial=initial)
    opened = within(all_segs, open_intervals)
    open_s = sum((b - a).total_seconds() for a, b, _ in opened)
    weighted = sum((b - a).total_seconds() * count for a, b, count in opened)
    occupied = sum((b - a).total_seconds() for a, b, count in opened if count > 0)
    peak, peak_at = 0, None
    for seg_start, _, count in all_segs:
        if count > peak:
            peak, peak_at = count, seg_start
    average = weighted / open_s if open_s else 0.0
    utilisation = average / capacity if capacity else None
    return OccupancyStats(
        start=start,
        end=end,
        peak=peak,
        peak_at=peak_at,
        average=round(average, 3),
        open_hours=round(open_s / 3600, 3),
        occupied_share=round(occupied / open_s, 3) if open_s else 0.0,
        capacity=capacity,
        utilisation=round(utilisation, 3) if utilisation is not None else None,
        peak_utilisation=round(peak / capacity, 3) if capacity else None,
        band=band(utilisation) if utilisation is not None else None,
        m2_per_person_at_peak=round(area_m2 / peak, 2) if area_m2 and peak else None,
        heatmap=heatmap(opened, tz),
    )


def heatmap(opened: Iterable[Segment], tz: ZoneInfo) -> dict[tuple[int, int], float]:
    """Average count per (weekday, local hour) over the open time of each cell."""
    people: dict[tuple[int, int], float] = defaultdict(float)
    seconds: dict[tuple[int, int], float] = defaultdict(float)
    for start, end, count in opened:
        moment = start
        while moment < end:
            local = moment.astimezone(tz)
            next_hour = local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
            cut = min(end, next_hour.astimezone(start.tzinfo))
            cell = (local.weekday(), local.hour)
            length = (cut - moment).total_seconds()
            people[cell] += length * count
            seconds[cell] += length
            moment = cut
    return {cell: round(people[cell] / seconds[cell], 3) for cell in sorted(seconds)}
