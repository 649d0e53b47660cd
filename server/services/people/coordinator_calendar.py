"""Use case: what closes a campus in the coming months — its own closures, the school
holidays of its zone and the public holidays — as the coordinator's calendar shows it.
Adding a closure is ``calendar_admin.add_closure``."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from server.domain.calendar import ClosureKind, Period, french_public_holidays
from server.ports.people import PeopleUnitOfWork

HORIZON = timedelta(days=183)  # about six months
MAX_CLOSURE_DAYS = 366


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    kind: ClosureKind
    start: date
    end: date  # included
    label: str
    closes: bool  # does the campus close then (school holidays only close some campuses)


@dataclass(frozen=True, slots=True)
class UpcomingCalendar:
    campus: str
    first: date
    last: date
    closures: list[CalendarEntry]
    school_holidays: list[CalendarEntry]
    public_holidays: list[CalendarEntry]
    closes_on_school_holidays: bool


def upcoming(
    unit_of_work: Callable[[], PeopleUnitOfWork],
    campus: str,
    today: date,
    *,
    horizon: timedelta = HORIZON,
) -> UpcomingCalendar:
    """Everything that overlaps ``[today, today + horizon]``, sorted by start."""
    last = today + horizon
    with unit_of_work() as uow:
        calendar = uow.campuses.calendar(campus)

    def overlapping(
        periods: Iterable[Period], kind: ClosureKind, closes: bool
    ) -> list[CalendarEntry]:
        return sorted(
            (
                CalendarEntry(kind, period.start, period.end, period.label, closes)
                for period in periods
                if period.end >= today and period.start <= last
            ),
            key=lambda entry: entry.start,
        )

    public = [
        CalendarEntry(
            ClosureKind.PUBLIC_HOLIDAY, day, day, name, calendar.closes_on_public_holidays
        )
        for year in range(today.year, last.year + 1)
        for day, name in sorted(french_public_holidays(year, calendar.holiday_subdivision).items())
        if today <= day <= last
    ]
    return UpcomingCalendar(
        campus=campus,
        first=today,
        last=last,
        closures=overlapping(calendar.closures, ClosureKind.CLOSURE, True),
        school_holidays=overlapping(
            calendar.school_holidays,
            ClosureKind.SCHOOL_HOLIDAY,
            calendar.closes_on_school_holidays,
        ),
        public_holidays=public,
        closes_on_school_holidays=calendar.closes_on_school_holidays,
    )
