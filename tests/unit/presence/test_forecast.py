"""The at-risk rule (domain.forecast): at risk only when the time still reachable this
week (slots and opening hours left) cannot cover what is missing."""

from __future__ import annotations

import pytest

from server.domain.forecast import at_risk, forecast, reachable_time

H = 3600


def test_one_late_minute_is_no_risk_when_opening_hours_can_make_it_up() -> None:
    """The issue's case: slots add up to exactly 12 h; the student arrived at 10:01 for
    a 10:00 slot, so the slots left can no longer cover the week; the campus is still
    open for 40 h this week: no risk."""
    slots_left = 9 * H  # the rest of the slots
    attended = 3 * H - 60  # 10:01-13:00
    assert not at_risk(attended, 12 * H, reachable_time(slots_left, 40 * H))
    assert at_risk(attended, 12 * H, slots_left)  # what the old rule said


@pytest.mark.parametrize(
    ("attended", "reachable", "risk"),
    [
        (8 * H, 4 * H, False),  # exactly coverable
        (8 * H, 4 * H - 1, True),
        (12 * H, 0, False),  # met
        (14 * H, 0, False),  # more than met: nothing missing
        (0, 0, True),
    ],
)
def test_at_risk_only_when_the_reachable_time_cannot_cover_the_missing_time(
    attended: int, reachable: int, risk: bool
) -> None:
    assert at_risk(attended, 12 * H, reachable) is risk


def test_the_forecast_shows_what_is_missing_and_reachable() -> None:
    found = forecast(8 * H, 12 * H, 6 * H)
    assert (found.missing_s, found.reachable_s, found.at_risk) == (4 * H, 6 * H, False)
    assert forecast(13 * H, 12 * H, 0).missing_s == 0


def test_reachable_time_is_the_opening_time_left_never_less_than_the_slots() -> None:
    assert reachable_time(3 * H, 10 * H) == 10 * H
    assert reachable_time(3 * H, 2 * H) == 3 * H


def test_negative_times_are_refused() -> None:
    with pytest.raises(ValueError):
        forecast(-1, 12 * H, 0)
