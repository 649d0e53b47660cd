"""The span of local days a report covers (pure, no I/O): ``from``/``to`` days, an ISO
year (``2026``: Monday of 2026-W01 to Sunday of its last week) or an academic year
(``2026-2027``: 1 September to 31 August), at most :data:`MAX_YEARS` years long.

The presence report over a period reads whole ISO weeks: every week with at least one day
in the period (a period starting on a Tuesday takes that week from its Monday)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from server.domain.academic_year import AcademicYear
from server.domain.calendar import FIRST_YEAR, LAST_YEAR, IsoWeek
from server.domain.errors import InvalidInput

MAX_YEARS = 5
_ISO_YEAR = re.compile(r"^(\d{4})$")


class PeriodError(InvalidInput):
    """A period refused: ``code`` (``too_long``, ``reversed``, ``bad_year``,
    ``unsupported_day``: a day outside the supported years) says why."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class Period:
    first: date
    last: date  # included

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def weeks(self) -> list[IsoWeek]:
        """Every ISO week with at least one day in the period, in order."""
        weeks, week = [], IsoWeek.of(self.first)
        while week.monday <= self.last:
            weeks.append(week)
            week = week.shifted(1)
        return weeks


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def period(first: date, last: date) -> Period:
    """``first`` to ``last`` (both included): refused when ``last`` is before ``first``,
    when a day is outside the supported years, or when the span is more than
    :data:`MAX_YEARS` years (``last`` on or after the same day five years later)."""
    if not (FIRST_YEAR <= first.year <= LAST_YEAR and FIRST_YEAR <= last.year <= LAST_YEAR):
        raise PeriodError("unsupported_day")
    if last < first:
        raise PeriodError("reversed")
    if last >= _years_after(first, MAX_YEARS):
        raise PeriodError("too_long")
    return Period(first, last)


def year_period(text: str) -> Period:
    """``2026`` (ISO year) or ``2026-2027`` (academic year), of the supported years."""
    text = text.strip()
    if match := _ISO_YEAR.match(text):
        year = int(match.group(1))
        if FIRST_YEAR <= year <= LAST_YEAR:
            first = date.fromisocalendar(year, 1, 1)
            return Period(first, date.fromisocalendar(year + 1, 1, 1) - timedelta(days=1))
    else:
        try:
            academic = AcademicYear.parse(text)
        except ValueError:
            raise PeriodError("bad_year") from None
        if academic.start_year >= FIRST_YEAR and academic.start_year + 1 <= LAST_YEAR:
            return Period(academic.first_day, academic.last_day)
    raise PeriodError("bad_year")
