"""Periods of the reports over any span (pure): the five-year bound, the year shortcuts,
the ISO weeks a period reads, the totals per student and the day-by-day occupancy."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from server.domain.calendar import IsoWeek
from server.domain.coordinator_reports import (
    daily_peaks,
    history_step,
    hourly_peaks,
    period_totals,
)
from server.domain.ledger import WeekLine, WeekStatus
from server.domain.periods import PeriodError, period, year_period

PARIS = ZoneInfo("Europe/Paris")


def test_five_years_at_most() -> None:
    assert period(date(2026, 9, 1), date(2031, 8, 31)).days == 1826
    with pytest.raises(PeriodError) as refused:
        period(date(2026, 9, 1), date(2031, 9, 1))
    assert refused.value.code == "too_long"
    # 29 February: five years later is 28 February
    with pytest.raises(PeriodError):
        period(date(2028, 2, 29), date(2033, 2, 28))
    assert period(date(2028, 2, 29), date(2033, 2, 27)).first == date(2028, 2, 29)


@pytest.mark.parametrize(
    ("first", "last", "code"),
    [
        (date(2026, 9, 2), date(2026, 9, 1), "reversed"),
        (date(1999, 12, 31), date(2000, 1, 2), "unsupported_day"),
        (date(2100, 12, 30), date(2101, 1, 1), "unsupported_day"),
    ],
)
def test_refusals(first: date, last: date, code: str) -> None:
    with pytest.raises(PeriodError) as refused:
        period(first, last)
    assert refused.value.code == code


def test_year_shortcuts() -> None:
    academic = year_period("2026-2027")
    assert (academic.first, academic.last) == (date(2026, 9, 1), date(2027, 8, 31))
    iso = year_period(" 2026 ")
    assert (iso.first, iso.last) == (date(2025, 12, 29), date(2027, 1, 3))
    assert [str(w) for w in iso.weeks()][::52] == ["2026-W01", "2026-W53"]
    # One way to read an academic year, domain.academic_year's: 2026/2027 is 2026-2027.
    assert year_period("2026/2027") == academic
    for text in ("2026-2028", "1999", "2100-2101", "26", ""):
        with pytest.raises(PeriodError):
            year_period(text)


def test_weeks_touching_the_period() -> None:
    span = period(date(2026, 9, 1), date(2026, 9, 14))  # a Tuesday to a Monday
    assert [str(w) for w in span.weeks()] == ["2026-W36", "2026-W37", "2026-W38"]
    assert period(date(2026, 9, 6), date(2026, 9, 6)).weeks() == [IsoWeek(2026, 36)]


def _line(student: str, week: int, status: WeekStatus, attended_h: float) -> WeekLine:
    return WeekLine(
        student, IsoWeek(2026, week), 12 * 3600, int(attended_h * 3600), 0, 0, 0, status
    )


def test_totals_per_student() -> None:
    totals = period_totals(
        [
            _line("E1", 47, WeekStatus.MET, 12),
            _line("E1", 48, WeekStatus.SHORT, 3.5),
            _line("E1", 49, WeekStatus.EXCUSED, 0),
            _line("E2", 48, WeekStatus.MET, 13),
        ]
    )
    e1 = totals["E1"].as_dict()
    assert (e1["weeks"], e1["weeks_due"], e1["weeks_met"]) == (3, 2, 1)
    assert (e1["expected_hours"], e1["attended_hours"]) == (36.0, 15.5)
    assert totals["E2"].met_weeks == 1 and list(totals) == ["E1", "E2"]
    assert period_totals([]) == {}


def test_day_by_day_beyond_31_days() -> None:
    assert (history_step(31), history_step(32)) == ("hour", "day")
    monday = datetime(2026, 11, 23, 9, tzinfo=PARIS).astimezone(UTC)
    segs = [
        (monday, monday.replace(hour=10), 2),  # 09:00-11:00 Paris, 2 people
        (monday.replace(hour=10), monday.replace(hour=22), 0),
        (monday.replace(hour=22), monday.replace(day=24, hour=2), 1),  # 23:00-03:00, 1
    ]
    days = daily_peaks(segs, PARIS)
    assert [(d.start.astimezone(PARIS).isoformat(), d.peak) for d in days] == [
        ("2026-11-23T00:00:00+01:00", 2),
        ("2026-11-24T00:00:00+01:00", 1),
    ]
    # Monday: 2 people for 2 h and 1 for 1 h, over the 15 h the segments cover that day
    assert days[0].average == round(5 / 15, 2)
    assert days[1].average == 1.0  # 00:00-03:00, one person all along
    assert [h.peak for h in hourly_peaks(segs, PARIS)] == [2, 2, 1, 1, 1, 1]
