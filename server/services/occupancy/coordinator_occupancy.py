"""Use cases of the coordinator's occupancy pages for one campus: the counts now (campus
and rooms against capacity) with the readers' health, and the history of a span of days
with its statistics and hour × weekday heatmap. Counts only, never who."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from server.domain.calendar import local_midnight
from server.domain.capacity import CapacityLevel
from server.domain.coordinator_reports import (
    HourPeak,
    daily_peaks,
    history_step,
    hourly_peaks,
)
from server.domain.occupancy_stats import OccupancyStats, Segment, segments, stats
from server.domain.reader_health import ReaderHealth
from server.services.occupancy import occupancy_reports as reports
from server.services.occupancy.occupancy import OccupancyService, capacity_of
from server.services.occupancy.reader_health import ReaderHealthService
from server.services.occupancy.reader_watch import ReaderWatch


@dataclass(frozen=True, slots=True)
class ZoneNow:
    room: str | None  # None: the whole campus
    name: str
    count: int
    capacity: int | None
    level: CapacityLevel
    corrected: bool  # a coordinator set the count by hand today

    @property
    def ratio(self) -> float | None:
        return round(self.count / self.capacity, 3) if self.capacity else None


@dataclass(frozen=True, slots=True)
class ReaderNow:
    health: ReaderHealth
    alerted: bool  # a reader_down alert is open for it


@dataclass(frozen=True, slots=True)
class OccupancyNow:
    campus: str
    at: datetime
    whole: ZoneNow
    rooms: list[ZoneNow]
    readers: list[ReaderNow]


def campus_now(
    occupancy: OccupancyService,
    health: ReaderHealthService,
    watch: ReaderWatch | None,
    campus: str,
    now: datetime,
    *,
    known_readers: Iterable[tuple[str, str]] = (),
) -> OccupancyNow:
    place = occupancy.places(now).get(campus)
    names = {room.code: room.name for room in place.rooms} if place is not None else {}
    zones = [
        ZoneNow(
            room=item.room,
            name=names.get(item.room, item.room or "") if item.room else "",
            count=item.count.count,
            capacity=capacity_of(item.limits),
            level=item.level,
            corrected=item.count.adjustment != 0,
        )
        for item in occupancy.current(now, campus=campus)
    ]
    whole = next(
        (zone for zone in zones if zone.room is None),
        ZoneNow(None, "", 0, None, CapacityLevel.NORMAL, False),
    )
    down = watch.current(now) if watch is not None else {}
    readers = [
        ReaderNow(item, (item.campus, item.reader) in down)
        for item in health.current(now, known=known_readers, campus=campus)
    ]
    rooms = sorted((zone for zone in zones if zone.room is not None), key=lambda z: z.name)
    return OccupancyNow(campus, now, whole, rooms, readers)


@dataclass(frozen=True, slots=True)
class OccupancyHistory:
    campus: str
    room: str | None  # None: the whole campus
    first: date
    last: date
    start: datetime
    end: datetime  # not after now
    segments: list[Segment]  # the campus count as a step function
    hours: list[HourPeak]  # per hour, or per day beyond 31 days (``step``)
    stats: OccupancyStats
    step: str = "hour"  # "hour" or "day": domain.coordinator_reports.history_step


def campus_history(
    occupancy: OccupancyService,
    campus: str,
    first: date,
    last: date,
    now: datetime,
    *,
    room: str | None = None,
) -> OccupancyHistory:
    """The count of the campus (or of one of its rooms) from ``first`` to ``last`` (local
    days, included), its statistics over the opening hours against that zone's capacity,
    and the heatmap; the peak and mean per hour, or per day beyond 31 days. ``room``
    must be a room of the campus (see ``room_names``)."""
    with occupancy.unit_of_work() as uow:
        calendar = uow.places.calendar(campus)
    tz = calendar.tz
    start = local_midnight(first, tz)
    end = max(start, min(local_midnight(last + timedelta(days=1), tz), now))
    zone = reports.Zone(campus, room)
    before = reports.history(occupancy, zone, start - reports.INITIAL_LOOKBACK, start)
    initial = before[-1].count if before else 0
    samples = reports.history(occupancy, zone, start, end)
    place = occupancy.places(now).get(campus)
    limits = place.limits_of(room) if place is not None else None
    result = stats(
        samples,
        start,
        end,
        open_intervals=calendar.schedule(first, last).intervals,
        tz=tz,
        capacity=capacity_of(limits) if limits is not None else None,
        area_m2=limits.area_m2 if limits is not None else None,
        initial=initial,
    )
    segs = segments(samples, start, end, initial=initial) if end > start else []
    step = history_step((last - first).days + 1)
    peaks = hourly_peaks(segs, tz) if step == "hour" else daily_peaks(segs, tz)
    return OccupancyHistory(campus, room, first, last, start, end, segs, peaks, result, step)


def room_names(occupancy: OccupancyService, campus: str, now: datetime) -> dict[str, str]:
    """The campus's rooms, code → name, in the order of their names."""
    place = occupancy.places(now).get(campus)
    rooms = sorted(place.rooms, key=lambda room: room.name) if place is not None else []
    return {room.code: room.name for room in rooms}
