"""Reader health from status messages: said offline, silent too long, degraded."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from server.domain.events import ReaderStatusRecord
from server.domain.reader_health import Health, health_at, reliable_throughout, stamped_at

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def status(minutes: float, state: str = "online", heartbeat: int = 60) -> ReaderStatusRecord:
    at = T0 + timedelta(minutes=minutes)
    return ReaderStatusRecord("c1", "door-1", state, at, at, heartbeat=heartbeat)


@pytest.mark.parametrize(
    ("last", "minutes_later", "expected"),
    [
        (status(0), 1.9, Health.ONLINE),
        (status(0), 2.0, Health.ONLINE),
        (status(0), 2.01, Health.OFFLINE),  # two heartbeats missed
        (status(0, heartbeat=300), 9.5, Health.ONLINE),
        (status(0, "offline"), 0.1, Health.OFFLINE),  # the last will
        (status(0, "degraded"), 0.5, Health.DEGRADED),
    ],
)
def test_health_at(last: ReaderStatusRecord, minutes_later: float, expected: Health) -> None:
    judged = health_at("c1", "door-1", last, last.received_at + timedelta(minutes=minutes_later))
    assert judged.health is expected
    assert judged.reliable is (expected is Health.ONLINE)


def test_a_reader_never_heard_of_is_unknown_and_not_reliable() -> None:
    judged = health_at("c1", "door-1", None, T0)
    assert judged.health is Health.UNKNOWN and not judged.reliable


def test_reliable_when_heartbeats_cover_the_whole_period() -> None:
    beats = [status(minute) for minute in range(0, 30)]
    assert reliable_throughout(beats, T0 + timedelta(minutes=5), T0 + timedelta(minutes=20))


@pytest.mark.parametrize(
    "beats",
    [
        [status(m) for m in range(0, 30) if not 8 <= m <= 11],  # silent 4 minutes mid-period
        [
            *(status(m) for m in range(0, 10)),
            status(10, "offline"),
            *(status(m) for m in range(11, 30)),
        ],
        [
            *(status(m) for m in range(0, 10)),
            status(10, "degraded"),
            *(status(m) for m in range(11, 30)),
        ],
        [status(m) for m in range(6, 30)],  # nothing known before the period starts
        [status(m) for m in range(0, 17)],  # silent at the end
    ],
    ids=["silence", "offline", "degraded", "no-status-before", "silent-at-end"],
)
def test_not_reliable_when_the_door_was_down_at_some_point(beats: list[ReaderStatusRecord]) -> None:
    assert not reliable_throughout(beats, T0 + timedelta(minutes=5), T0 + timedelta(minutes=20))


def test_the_stored_history_is_judged_on_the_readers_stamps() -> None:
    """Heartbeats stamped every minute but all received an hour later (held by the broker
    while the server was away): unreliable on reception, reliable on the readers' word."""
    late = T0 + timedelta(hours=1)
    beats = [replace(status(n), received_at=late + timedelta(seconds=n)) for n in range(0, 31)]
    start, end = T0 + timedelta(minutes=10), T0 + timedelta(minutes=25)
    assert not reliable_throughout(beats, start, end)
    assert reliable_throughout(beats, start, end, stamped=True)
    health = health_at("c1", "door-1", beats[25], end, stamped=True)
    assert (health.health, health.last_seen) == (Health.ONLINE, T0 + timedelta(minutes=25))
    # received after the instant judged (a clock set back): seen at that instant, no error
    future = health_at("c1", "door-1", beats[25], end)
    assert (future.health, future.last_seen) == (Health.ONLINE, end)


def test_an_unsynchronised_clock_is_judged_on_the_reception() -> None:
    wrong = replace(status(0), ts=T0 - timedelta(days=3), clock_synced=False)
    assert stamped_at(wrong) == wrong.received_at
    assert stamped_at(status(0)) == status(0).ts
