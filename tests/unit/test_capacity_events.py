"""Capacity incidents become ``events/alerts`` messages, one id per incident."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from server.domain.capacity import CapacityChanged, CapacityLevel
from server.services.capacity_events import CapacityEvents

T0 = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def recorder() -> tuple[CapacityEvents, list[tuple[str, dict]]]:
    sent: list[tuple[str, dict]] = []
    return CapacityEvents(lambda topic, payload: sent.append((topic, json.loads(payload)))), sent


def change(
    level: CapacityLevel, previous: CapacityLevel, count: int, minutes: int = 0
) -> CapacityChanged:
    return CapacityChanged(
        "c1", "salle-2", T0 + timedelta(minutes=minutes), level, previous, count, 18
    )


def test_the_hard_limit_raises_then_resolves_one_capacity_alert() -> None:
    events, sent = recorder()
    events.capacity_changed(
        change(CapacityLevel.WARNING, CapacityLevel.NORMAL, 16)
    )  # soft: log only
    events.capacity_changed(change(CapacityLevel.FULL, CapacityLevel.WARNING, 18, 1))
    events.capacity_changed(change(CapacityLevel.WARNING, CapacityLevel.FULL, 15, 9))
    assert [topic for topic, _ in sent] == ["campus/c1/events/alerts"] * 2
    raised, resolved = (body for _, body in sent)
    assert (raised["kind"], raised["state"], raised["room"], raised["count"]) == (
        "capacity",
        "raised",
        "salle-2",
        18,
    )
    assert resolved["state"] == "resolved" and resolved["id"] == raised["id"]


def test_a_new_incident_gets_a_new_id() -> None:
    events, sent = recorder()
    for minutes in (0, 30):
        events.capacity_changed(change(CapacityLevel.FULL, CapacityLevel.WARNING, 18, minutes))
        events.capacity_changed(change(CapacityLevel.NORMAL, CapacityLevel.FULL, 3, minutes + 5))
    ids = [body["id"] for _, body in sent]
    assert ids[0] == ids[1] and ids[2] == ids[3] and ids[0] != ids[2]
