"""Small builders for presence tests: local Paris times, taps, calendars."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.domain.calendar import CampusCalendar, Hours, IsoWeek
from server.domain.ledger import WeekFrame
from server.domain.sessions import DoorTap, ReaderMode
from server.domain.slots import closures

PARIS = ZoneInfo("Europe/Paris")


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    """A Paris wall-clock time as an aware UTC instant."""
    return datetime.combine(day, time(hour, minute, second), tzinfo=PARIS).astimezone(UTC)


def taps(*moments: datetime, mode: ReaderMode = ReaderMode.TOGGLE) -> list[DoorTap]:
    return [DoorTap(moment, mode, f"tap-{index:04d}") for index, moment in enumerate(moments)]


WEEKDAYS_8_TO_19 = {day: (Hours(time(8), time(19)),) for day in range(5)}


def calendar(**options: object) -> CampusCalendar:
    options.setdefault("weekly", WEEKDAYS_8_TO_19)
    return CampusCalendar(**options)  # type: ignore[arg-type]


def frame(week: str, cal: CampusCalendar | None = None) -> WeekFrame:
    cal = cal or calendar()
    iso = IsoWeek.parse(week)
    schedule = cal.schedule(iso.monday - timedelta(days=2), iso.monday + timedelta(days=6))
    return WeekFrame.build(iso, cal.tz, schedule, closures(cal, iso.monday, iso.days()[-1]))


def hours(value: float) -> int:
    return round(value * 3600)
