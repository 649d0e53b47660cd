"""Occupancy statistics and the contracts' forecast (pure)."""

from datetime import date, time, timedelta

from server.domain.calendar import IsoWeek
from server.domain.contracts import Contract, Slot
from server.domain.events import OccupancySample
from server.domain.occupancy_forecast import forecast_week
from server.domain.occupancy_stats import Band, Period, band, period_bounds, segments, stats
from tests.unit.presence.helpers import PARIS, at, calendar

MONDAY = date(2026, 11, 23)


def sample(hour: int, count: int, minute: int = 0) -> OccupancySample:
    return OccupancySample("c1", None, at(MONDAY, hour, minute), count, 10)


def test_bands() -> None:
    assert [band(x) for x in (0.0, 0.59, 0.6, 1.0, 1.01)] == [
        Band.UNDER,
        Band.UNDER,
        Band.WELL,
        Band.WELL,
        Band.OVER,
    ]


def test_day_stats_weighted_by_time_over_opening_hours() -> None:
    start, end = period_bounds(Period.DAY, MONDAY, PARIS)
    schedule = calendar().schedule(MONDAY, MONDAY)  # 8:00-19:00
    samples = [sample(9, 4), sample(10, 8), sample(12, 2), sample(14, 0), sample(20, 1)]
    result = stats(
        samples, start, end, open_intervals=schedule.intervals, tz=PARIS, capacity=10, area_m2=60
    )
    # 8-9: 0, 9-10: 4, 10-12: 8, 12-14: 2, 14-19: 0 → (4 + 16 + 4) / 11 h
    assert result.open_hours == 11
    assert result.average == round(24 / 11, 3)
    assert (result.peak, result.peak_at) == (8, at(MONDAY, 10))
    assert result.occupied_share == round(5 / 11, 3)
    assert result.utilisation == round(24 / 11 / 10, 3)
    assert result.band is Band.UNDER
    assert result.m2_per_person_at_peak == 7.5
    assert result.heatmap[(0, 10)] == 8 and result.heatmap[(0, 8)] == 0
    assert (0, 20) not in result.heatmap  # outside opening hours


def test_segments_start_from_the_count_known_before() -> None:
    start, end = at(MONDAY, 9), at(MONDAY, 11)
    assert segments([sample(10, 3)], start, end, initial=2) == [
        (start, at(MONDAY, 10), 2),
        (at(MONDAY, 10), end, 3),
    ]


def test_week_and_month_bounds_follow_local_time() -> None:
    assert period_bounds(Period.WEEK, date(2026, 11, 25), PARIS) == (
        at(MONDAY, 0),
        at(MONDAY + timedelta(7), 0),
    )
    first, last = period_bounds(Period.MONTH, date(2026, 3, 15), PARIS)
    assert (last - first) == timedelta(days=31) - timedelta(hours=1)  # DST change in March


def test_forecast_flags_hours_where_contracts_exceed_capacity() -> None:
    contract = Contract(720, (Slot(0, time(9), time(12)),), date(2026, 9, 1))
    late = Contract(720, (Slot(0, time(11, 30), time(13)),), date(2026, 9, 1))
    week = IsoWeek.of(MONDAY)
    schedule = calendar().schedule(MONDAY, MONDAY + timedelta(6))
    hours = forecast_week(
        week, [[contract], [contract], [late]], tz=PARIS, schedule=schedule, capacity=2
    )
    assert len(hours) == 168
    by_start = {item.start: item for item in hours}
    assert by_start[at(MONDAY, 9)].expected == 2 and not by_start[at(MONDAY, 9)].over
    assert by_start[at(MONDAY, 11)].expected == 3 and by_start[at(MONDAY, 11)].over
    assert by_start[at(MONDAY, 12)].expected == 1
    assert [item.start for item in hours if item.over] == [at(MONDAY, 11)]


def test_forecast_skips_closed_days() -> None:
    contract = Contract(720, (Slot(0, time(9), time(12)),), date(2026, 9, 1))
    closed = calendar(exceptions={MONDAY: ()})
    schedule = closed.schedule(MONDAY, MONDAY + timedelta(6))
    hours = forecast_week(IsoWeek.of(MONDAY), [[contract]], tz=PARIS, schedule=schedule, capacity=1)
    assert sum(item.expected for item in hours) == 0
