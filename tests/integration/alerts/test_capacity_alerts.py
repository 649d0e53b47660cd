"""Occupancy's capacity incidents become stored capacity alerts sent to the coordinators
by the campus's channels: once when the hard limit is reached, once when the count is
back under it; the soft limit sends nothing."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import orm

from server.adapters.alert_channels import webhook_payload
from server.bootstrap import Alerting
from server.config import Settings
from server.domain.alerts import AlertKind
from server.domain.capacity import CapacityChanged, CapacityLevel
from server.domain.notices import Notice, NoticeKind
from server.services.alerts.capacity_alerts import CapacityAlerts
from tests.integration.alerts.conftest import CAMPUS, RecordingChannel, mqtt_event_of, paris
from tests.services import Mosquitto

NORMAL, WARNING, FULL = CapacityLevel.NORMAL, CapacityLevel.WARNING, CapacityLevel.FULL


def change(
    level: CapacityLevel, previous: CapacityLevel, count: int, at: datetime, room: str | None
) -> CapacityChanged:
    limit = 18 if FULL in (level, previous) and level is not WARNING else 16
    return CapacityChanged(CAMPUS, room, at, level, previous, count, limit)


def test_the_hard_limit_is_one_alert_raised_then_resolved(
    alerting: Alerting,
    channel: RecordingChannel,
    registry: orm.sessionmaker[orm.Session],
    settings: Settings,
) -> None:
    bridge = CapacityAlerts(alerting.unit_of_work, alerting.alerts)

    def deliver(at: datetime) -> None:
        alerting.notifications.retry_due(at)  # the delivery job of the server

    bridge.capacity_changed(change(WARNING, NORMAL, 16, paris(14, 0), "salle-2"))
    deliver(paris(14, 0))
    assert channel.sent == []
    assert alerting.alerts.listing(open_only=False, since=None) == []

    bridge.capacity_changed(change(FULL, WARNING, 18, paris(14, 5), "salle-2"))
    bridge.capacity_changed(change(FULL, WARNING, 19, paris(14, 6), "salle-2"))  # a repeat
    deliver(paris(14, 6))
    open_alerts = alerting.alerts.listing(open_only=True, since=None)
    assert [
        (a["kind"], a["status"], a["room"], a["count"], a["capacity"]) for a in open_alerts
    ] == [("capacity", "open", "salle-2", 18, 18)]
    assert [(notice.kind, notice.notice) for notice in channel.sent] == [
        (AlertKind.CAPACITY, NoticeKind.RAISED)
    ]
    raised = channel.sent[0]
    assert (raised.room, raised.count, raised.capacity) == ("salle-2", 18, 18)
    assert raised.student is None and raised.tutor is None

    bridge.capacity_changed(change(WARNING, FULL, 16, paris(14, 30), "salle-2"))
    bridge.capacity_changed(change(NORMAL, WARNING, 10, paris(14, 40), "salle-2"))
    bridge.capacity_changed(change(NORMAL, FULL, 10, paris(14, 41), "salle-2"))  # a repeat
    deliver(paris(14, 41))
    assert alerting.alerts.listing(open_only=True, since=None) == []
    [closed] = alerting.alerts.listing(open_only=False, since=None)
    assert (closed["status"], closed["resolution"]) == ("closed", "under_limit")
    assert [notice.notice for notice in channel.sent] == [NoticeKind.RAISED, NoticeKind.RESOLVED]
    assert {notice.alert_id for notice in channel.sent} == {open_alerts[0]["id"]}

    bridge.capacity_changed(change(FULL, NORMAL, 18, paris(16, 0), "salle-2"))  # again
    bridge.capacity_changed(change(FULL, NORMAL, 40, paris(16, 1), None))  # the campus
    deliver(paris(16, 1))
    second = alerting.alerts.listing(open_only=True, since=None)
    assert sorted((a["room"] or "", a["count"]) for a in second) == [("", 40), ("salle-2", 18)]
    assert open_alerts[0]["id"] not in {a["id"] for a in second}
    assert [notice.notice for notice in channel.sent] == [
        NoticeKind.RAISED,
        NoticeKind.RESOLVED,
    ] + [NoticeKind.RAISED] * 2


CAPACITY_NOTICE = Notice(
    alert_id="alert-0123456789abcdef",
    kind=AlertKind.CAPACITY,
    notice=NoticeKind.RAISED,
    campus="campus-a",
    ts=datetime(2026, 11, 23, 13, 5, 12, tzinfo=UTC),
    timezone="Europe/Paris",
    url="https://presence.example.org/coordinator/occupancy?campus=campus-a",
    coordinators=("coord@campus.fr",),
    coordinator_phones=("+33476000001", "04 76 00 00 02"),
    room="salle-2",
    count=19,
    capacity=18,
)


def test_capacity_notices_go_to_the_coordinators_in_french() -> None:
    from server.texts import alert_texts

    assert CAPACITY_NOTICE.emails == ("coord@campus.fr",)
    payload = webhook_payload(CAPACITY_NOTICE, at=CAPACITY_NOTICE.ts)
    assert payload["to"] == ["+33476000001", "+33476000002"]
    assert "@" not in json.dumps(payload)
    assert alert_texts.subject(CAPACITY_NOTICE) == "Capacité atteinte : salle salle-2 (19/18)"
    assert "19 personnes présentes pour un maximum de 18" in alert_texts.body(CAPACITY_NOTICE)
    campus_wide = replace(CAPACITY_NOTICE, room=None)
    assert "tout le campus" in alert_texts.subject(campus_wide)


@pytest.mark.broker
def test_mqtt_capacity_event_has_the_documented_fields(mosquitto: Mosquitto) -> None:
    received = mqtt_event_of(mosquitto.port, CAPACITY_NOTICE)
    assert json.loads(received) == {
        "v": 1,
        "kind": "capacity",
        "id": "alert-0123456789abcdef",
        "ts": "2026-11-23T14:05:12.000+01:00",
        "campus": "campus-a",
        "state": "raised",
        "room": "salle-2",
        "count": 19,
        "capacity": 18,
        "url": CAPACITY_NOTICE.url,
    }
