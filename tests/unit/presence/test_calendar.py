import itertools
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.calendar import (
    FIRST_YEAR,
    LAST_YEAR,
    CampusCalendar,
    ClosureKind,
    Hours,
    IsoWeek,
    Period,
    intersect,
    merge,
    parse_day,
    seconds,
    subtract,
)
from tests.unit.presence.helpers import PARIS, at, calendar


def test_iso_week_parses_and_prints() -> None:
    week = IsoWeek.parse("2026-W48")
    assert (week.year, week.week) == (2026, 48)
    assert str(week) == "2026-W48"
    assert week.monday == date(2026, 11, 23)
    assert week.days()[-1] == date(2026, 11, 29)
    assert IsoWeek.of(date(2026, 11, 29)) == week
    assert week.shifted(6) == IsoWeek(2027, 1)


@pytest.mark.parametrize("text", ["2026-48", "W48", "2026-W54", "2026-W00", "", "2026-W5x"])
def test_iso_week_refuses_what_is_not_a_week(text: str) -> None:
    with pytest.raises(ValueError):
        IsoWeek.parse(text)


def test_a_week_with_the_october_change_has_169_hours() -> None:
    start, end = IsoWeek.parse("2026-W43").bounds(PARIS)  # Sunday 25 October 2026
    assert end - start == timedelta(hours=169)


def test_a_week_with_the_march_change_has_167_hours() -> None:
    start, end = IsoWeek.parse("2026-W13").bounds(PARIS)  # Sunday 29 March 2026
    assert end - start == timedelta(hours=167)


def test_an_ordinary_week_has_168_hours() -> None:
    start, end = IsoWeek.parse("2026-W48").bounds(PARIS)
    assert end - start == timedelta(hours=168)


def test_public_holidays_close_the_campus_unless_told_otherwise() -> None:
    christmas = date(2026, 12, 25)
    assert calendar().closure(christmas) == (ClosureKind.PUBLIC_HOLIDAY, "Noël")
    assert calendar(closes_on_public_holidays=False).closure(christmas) is None


def test_moselle_has_its_own_holidays() -> None:
    saint_stephen = date(2026, 12, 26)
    assert calendar().closure(saint_stephen) is None
    assert calendar(holiday_subdivision="57").closure(saint_stephen) is not None


def test_school_holidays_close_the_campus_only_if_it_closes_then() -> None:
    autumn = (Period(date(2026, 10, 17), date(2026, 11, 1), "Toussaint"),)
    open_cal = calendar(school_holidays=autumn)
    closed_cal = calendar(school_holidays=autumn, closes_on_school_holidays=True)
    assert open_cal.closure(date(2026, 10, 20)) is None
    assert closed_cal.closure(date(2026, 10, 20)) == (ClosureKind.SCHOOL_HOLIDAY, "Toussaint")
    assert closed_cal.closure(date(2026, 11, 2)) is None


def test_exceptions_change_one_day_and_an_empty_one_closes_it() -> None:
    short_day = date(2026, 12, 24)
    closed_day = date(2026, 12, 31)
    cal = calendar(exceptions={short_day: (Hours(time(8), time(12)),), closed_day: ()})
    assert cal.hours_on(short_day) == (Hours(time(8), time(12)),)
    assert cal.closure(closed_day) == (ClosureKind.CLOSURE, "")
    assert cal.hours_on(date(2026, 12, 26)) == ()  # a Saturday: closed every week
    assert CampusCalendar().hours_on(date(2026, 12, 26)) is None  # no hours: always open


def test_schedule_knows_closing_and_opening_times() -> None:
    cal = calendar()
    schedule = cal.schedule(date(2026, 11, 23), date(2026, 11, 29))
    monday = date(2026, 11, 23)
    assert schedule.closing_after(at(monday, 9)) == at(monday, 19)
    assert schedule.closing_after(at(monday, 20)) is None
    assert schedule.opening_after(at(monday, 20)) == at(monday + timedelta(1), 8)
    assert schedule.opening_after(at(date(2026, 11, 27), 20)) is None  # beyond the span


def test_opening_hours_may_cross_midnight() -> None:
    late = {day: (Hours(time(18), time(2)),) for day in range(7)}
    schedule = CampusCalendar(weekly=late).schedule(date(2026, 11, 23), date(2026, 11, 24))
    monday = date(2026, 11, 23)
    assert schedule.closing_after(at(monday, 23)) == at(monday + timedelta(1), 2)


intervals = st.lists(
    st.tuples(st.integers(0, 500), st.integers(1, 60)).map(
        lambda pair: (
            at(date(2026, 1, 5), 0) + timedelta(minutes=pair[0]),
            at(date(2026, 1, 5), 0) + timedelta(minutes=pair[0] + pair[1]),
        )
    ),
    max_size=8,
)


@given(intervals, intervals)
def test_interval_algebra_adds_up(first: list, second: list) -> None:
    union_first = seconds(merge(first))
    both = seconds(intersect(first, second))
    only_first = seconds(subtract(first, second))
    assert both + only_first == union_first
    assert seconds(merge(first + second)) == union_first + seconds(subtract(second, first))
    merged = merge(first)
    assert all(a[1] < b[0] for a, b in itertools.pairwise(merged))


@pytest.mark.parametrize("text", ["9999-W52", "1999-W52", "0001-W01", "2101-W01"])
def test_iso_week_refuses_a_week_outside_the_supported_years(text: str) -> None:
    with pytest.raises(ValueError):
        IsoWeek.parse(text)


def test_the_supported_years_are_whole_and_their_ends_are_safe_in_any_zone() -> None:
    assert IsoWeek.parse(f"{FIRST_YEAR}-W01").monday == date(2000, 1, 3)
    assert IsoWeek.parse(f"{LAST_YEAR}-W52").bounds(ZoneInfo("Pacific/Kiritimati"))
    assert parse_day(f"{FIRST_YEAR}-01-01") == date(2000, 1, 1)
    assert parse_day(f"{LAST_YEAR}-12-31") == date(2100, 12, 31)
    for text in ("1999-12-31", "2101-01-01", "9999-12-31", "0001-01-01", "2026-02-30", ""):
        with pytest.raises(ValueError):
            parse_day(text)
