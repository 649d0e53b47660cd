"""How many students the contracts bring in each hour of a week, against capacity (pure).

A student is expected in an hour when one of their committed slots (contracts in force
that day, ``domain.contracts``) overlaps it while the campus is open (the schedule's
restrictions of closed days and exceptional hours apply, as for expected hours).
Excused absences are not subtracted: the forecast is what the contracts commit to.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from server.domain.calendar import IsoWeek, Schedule, local_instant
from server.domain.contracts import Contract


@dataclass(frozen=True, slots=True)
class HourForecast:
    start: datetime  # UTC start of the local hour
    expected: int
    capacity: int | None

    @property
    def over(self) -> bool:
        return self.capacity is not None and self.expected > self.capacity


def forecast_week(
    week: IsoWeek,
    students: Iterable[Sequence[Contract]],
    *,
    tz: ZoneInfo,
    schedule: Schedule,
    capacity: int | None,
) -> list[HourForecast]:
    """One entry per local hour of the week (167 to 169 of them: DST changes)."""
    start, end = week.bounds(tz)
    counts: dict[datetime, int] = {}
    for contracts in students:
        for hour in _hours_of(week, contracts, tz, schedule):
            counts[hour] = counts.get(hour, 0) + 1
    result = []
    moment = start
    while moment < end:
        result.append(HourForecast(moment, counts.get(moment, 0), capacity))
        moment += timedelta(hours=1)
    return result


def _hours_of(
    week: IsoWeek, contracts: Sequence[Contract], tz: ZoneInfo, schedule: Schedule
) -> set[datetime]:
    """The UTC hour starts in which one student is expected (each counted once)."""
    hours: set[datetime] = set()
    for day in week.days():
        for contract in contracts:
            for slot in contract.slots_on(day):
                interval = (local_instant(day, slot.start, tz), local_instant(day, slot.end, tz))
                for low, high in schedule.restrict(day, interval):
                    hour = low.replace(minute=0, second=0, microsecond=0)
                    while hour < high:
                        hours.add(hour)
                        hour += timedelta(hours=1)
    return hours
