"""Use cases reading occupancy back: history, statistics of a period, next week's
forecast from the contracts. Counts only: nothing here knows who was where."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from server.domain.calendar import IsoWeek
from server.domain.coordinator_reports import HourPeak, daily_peaks, history_step, hourly_peaks
from server.domain.events import CAMPUS_WIDE, OccupancySample
from server.domain.occupancy_forecast import HourForecast, forecast_week
from server.domain.occupancy_stats import (
    OccupancyStats,
    Period,
    period_bounds,
    segments,
    stats,
)
from server.services.occupancy.occupancy import OccupancyService, capacity_of

MAX_HISTORY = timedelta(days=5 * 365 + 2)  # five years, with up to two leap days
INITIAL_LOOKBACK = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Zone:
    campus: str
    room: str | None  # None: the whole campus


def history(
    service: OccupancyService,
    zone: Zone,
    start: datetime,
    end: datetime,
    *,
    step: timedelta | None = None,
) -> list[OccupancySample]:
    """Samples of one zone; with ``step``, the last sample of each step (a chart)."""
    room = zone.room if zone.room is not None else CAMPUS_WIDE
    samples = service.events.occupancy(start, end, campus=zone.campus, room=room)
    if step is None:
        return samples
    buckets: dict[int, OccupancySample] = {}
    for sample in samples:
        buckets[int((sample.at - start) / step)] = sample
    return [buckets[key] for key in sorted(buckets)]


def peaks(
    service: OccupancyService, zone: Zone, start: datetime, end: datetime, tz: ZoneInfo
) -> tuple[str, list[HourPeak]]:
    """The peak and mean of each local hour (up to 31 days) or day (beyond) of the span
    where someone was counted, and which step it is (``hour`` or ``day``)."""
    before = history(service, zone, start - INITIAL_LOOKBACK, start)
    initial = before[-1].count if before else 0
    segs = segments(history(service, zone, start, end), start, end, initial=initial)
    days = (end.astimezone(tz).date() - start.astimezone(tz).date()).days + 1
    step = history_step(days)
    return step, hourly_peaks(segs, tz) if step == "hour" else daily_peaks(segs, tz)


def period_stats(
    service: OccupancyService, zone: Zone, period: Period, day: date, now: datetime
) -> OccupancyStats:
    with service.unit_of_work() as uow:
        calendar = uow.places.calendar(zone.campus)
    start, end = period_bounds(period, day, calendar.tz)
    end = min(end, max(now, start))
    schedule = calendar.schedule(start.astimezone(calendar.tz).date(), day + timedelta(days=31))
    place = service.places(now).get(zone.campus)
    limits = place.limits_of(zone.room) if place is not None else None
    before = history(service, zone, start - INITIAL_LOOKBACK, start)
    return stats(
        history(service, zone, start, end),
        start,
        end,
        open_intervals=schedule.intervals,
        tz=calendar.tz,
        capacity=capacity_of(limits) if limits is not None else None,
        area_m2=limits.area_m2 if limits is not None else None,
        initial=before[-1].count if before else 0,
    )


def forecast(
    service: OccupancyService, campus: str, week: IsoWeek, now: datetime
) -> list[HourForecast]:
    """Students expected by their slots in each hour of ``week`` vs the campus capacity."""
    sunday = week.monday + timedelta(days=6)
    with service.unit_of_work() as uow:
        calendar = uow.places.calendar(campus)
        contracts = uow.places.contracts(campus, week.monday, sunday)
    schedule = calendar.schedule(week.monday, sunday)
    place = service.places(now).get(campus)
    capacity = capacity_of(place.limits) if place is not None else None
    return forecast_week(
        week,
        contracts,
        tz=calendar.tz,
        schedule=schedule,
        capacity=capacity,
    )
