"""The day's first tap leaves an occupancy history sample, even when it is the tap that
builds the day's live state (found by the coordinator's history page)."""

from __future__ import annotations

from datetime import timedelta

from tests.web.conftest import CAMPUS, MONDAY_0920


def test_the_first_tap_of_the_day_is_in_the_history(world) -> None:
    world.tap("E001", MONDAY_0920 - timedelta(minutes=15))
    samples = world.server.ingest.store.occupancy(
        MONDAY_0920 - timedelta(hours=2), MONDAY_0920 + timedelta(minutes=1), campus=CAMPUS
    )
    assert [(sample.room, sample.count) for sample in samples] == [(None, 1)]
