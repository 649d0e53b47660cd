"""The demo's simulated clock stands still until started, then runs ``speed`` times
faster than the wall clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from server.simulation.clock import SimulatedClock

ORIGIN = datetime(2026, 11, 23, 7, 30, tzinfo=UTC)


def test_it_stands_at_its_origin_until_started() -> None:
    clock = SimulatedClock(ORIGIN, speed=100)
    time.sleep(0.02)
    assert clock() == ORIGIN


def test_it_runs_speed_times_faster_once_started() -> None:
    clock = SimulatedClock(ORIGIN, speed=600)
    clock.start()
    wall = time.monotonic()
    time.sleep(0.05)
    elapsed = time.monotonic() - wall
    simulated = (clock() - ORIGIN).total_seconds()
    assert simulated >= 600 * 0.05
    assert simulated <= 600 * (elapsed + 0.05)
    assert clock().tzinfo is UTC


def test_a_naive_origin_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        SimulatedClock(datetime(2026, 11, 23, 8, 30), speed=2)


def test_starting_twice_keeps_the_first_anchor() -> None:
    clock = SimulatedClock(ORIGIN, speed=1000)
    clock.start()
    time.sleep(0.02)
    before = clock()
    clock.start()
    assert clock() - before < timedelta(seconds=60)
    assert clock() >= before
