"""The freezing rule (domain.ledger): which weeks the job may freeze at ``now``."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from server.domain.calendar import IsoWeek
from server.domain.ledger import (
    freeze_candidates,
    late_tap_week,
    oldest_unconfirmed,
    weeks_to_freeze,
)

PARIS = ZoneInfo("Europe/Paris")
WINDOW = timedelta(days=14)
W47, W48, W49 = (IsoWeek.parse(f"2026-W{n}") for n in (47, 48, 49))
# W48 ends Sunday 29 November 24:00 in Paris = 23:00 UTC; its window closes 13 Dec 23:00 UTC.
W48_CLOSES = datetime(2026, 12, 13, 23, tzinfo=UTC)


def freezable(now, *, unconfirmed_since=None, weeks=(W47, W48, W49)):
    return weeks_to_freeze(
        weeks, tz=PARIS, now=now, window=WINDOW, unconfirmed_since=unconfirmed_since
    )


def test_a_week_is_frozen_once_its_correction_window_closed_in_the_campus_zone() -> None:
    assert freezable(W48_CLOSES - timedelta(seconds=1)) == [W47]
    assert freezable(W48_CLOSES) == [W47, W48]


def test_an_unconfirmed_tap_older_than_a_weeks_end_holds_that_week_and_the_later_ones() -> None:
    late = W48_CLOSES + timedelta(days=7)  # W47, W48, W49 all past their window
    assert freezable(late) == [W47, W48, W49]
    thursday_w48 = datetime(2026, 11, 26, 9, tzinfo=UTC)
    assert freezable(late, unconfirmed_since=thursday_w48) == [W47]
    # A tap of the very first instant after W48's end holds W49 only.
    assert freezable(late, unconfirmed_since=datetime(2026, 11, 29, 23, tzinfo=UTC)) == [W47, W48]


def test_only_taps_awaiting_confirmation_with_an_age_hold() -> None:
    old = datetime(2026, 11, 26, tzinfo=UTC)
    older = datetime(2026, 11, 20, tzinfo=UTC)
    assert oldest_unconfirmed([]) is None
    assert oldest_unconfirmed([(0, None), (0, old)]) is None  # nothing queued
    assert oldest_unconfirmed([(3, None)]) is None  # an old agent: age unknown
    assert oldest_unconfirmed([(2, old), (5, older), (0, None)]) == older


def test_candidates_reach_back_to_the_first_week_whose_taps_are_all_kept() -> None:
    now = W48_CLOSES + timedelta(hours=1)
    weeks = freeze_candidates(now, PARIS, WINDOW, retention=timedelta(days=40))
    # 40 days before 14 Dec 00:00 UTC is 4 Nov: W45 (from 2 Nov) is partly purged.
    assert weeks == [IsoWeek.parse("2026-W46"), W47, W48]
    assert (
        freeze_candidates(W48_CLOSES - timedelta(hours=1), PARIS, WINDOW, timedelta(40))[-1] == W47
    )


def test_a_late_tap_looks_for_a_frozen_week_only_past_the_window() -> None:
    now = W48_CLOSES + timedelta(hours=1)
    assert late_tap_week(datetime(2026, 11, 25, 10, tzinfo=UTC), PARIS, now, WINDOW) == W48
    assert late_tap_week(datetime(2026, 12, 1, 10, tzinfo=UTC), PARIS, now, WINDOW) is None
    # Monday 30 Nov 00:30 in Paris is Sunday 23:30 UTC: the campus's week (W49) is open.
    assert late_tap_week(datetime(2026, 11, 29, 23, 30, tzinfo=UTC), PARIS, now, WINDOW) is None


def test_a_reader_gone_for_good_does_not_hold_a_week_until_its_taps_are_purged() -> None:
    late = W48_CLOSES + timedelta(days=7)
    stuck = datetime(2026, 11, 1, tzinfo=UTC)  # a reader left holding a tap since then
    held = weeks_to_freeze(
        (W47, W48, W49), tz=PARIS, now=late, window=WINDOW, unconfirmed_since=stuck
    )
    assert held == []
    # 40 days kept: W47 (from 16 Nov) loses its first taps on 26 Dec: frozen from 19 Dec.
    near = weeks_to_freeze(
        (W47, W48, W49),
        tz=PARIS,
        now=late,
        window=WINDOW,
        unconfirmed_since=stuck,
        retention=timedelta(days=40),
    )
    assert near == [W47]
