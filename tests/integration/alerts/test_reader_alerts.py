"""The reader watch's incidents become stored reader_down alerts sent to the campus's
channels, once per outage, whoever noticed the reader first."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import orm

from server.alerting import Alerting
from server.config import Settings
from server.services.notifications import NoticeKind
from server.services.reader_alerts import ReaderDownAlerts
from server.services.reader_watch import ReaderDown
from tests.integration.alerts.conftest import CAMPUS, RecordingChannel, paris


def test_a_reader_outage_is_one_alert_raised_then_resolved(
    alerting: Alerting,
    channel: RecordingChannel,
    registry: orm.sessionmaker[orm.Session],
    settings: Settings,
) -> None:
    bridge = ReaderDownAlerts(registry, alerting.alerts, timezone=settings.presence.timezone)
    down = paris(10, 5)
    for minutes in (0, 1, 2):  # the watch reports once, but a repeat must change nothing
        bridge.reader_down(
            ReaderDown(CAMPUS, "door-1", down + timedelta(minutes=minutes), down, "silent")
        )

    alerting.notifications.retry_due(down + timedelta(minutes=2))  # the delivery lanes
    open_alerts = alerting.alerts.listing(open_only=True, since=None)
    assert [(item["kind"], item["status"]) for item in open_alerts] == [("reader_down", "open")]
    assert [(notice.kind.value, notice.notice) for notice in channel.sent] == [
        ("reader_down", NoticeKind.RAISED)
    ]

    bridge.reader_down(
        ReaderDown(CAMPUS, "door-1", paris(10, 40), paris(10, 39), "online", resolved=True)
    )
    bridge.reader_down(
        ReaderDown(CAMPUS, "door-1", paris(10, 41), paris(10, 40), "online", resolved=True)
    )
    alerting.notifications.retry_due(paris(10, 41))
    assert alerting.alerts.listing(open_only=True, since=None) == []
    assert [notice.notice for notice in channel.sent] == [NoticeKind.RAISED, NoticeKind.RESOLVED]
    assert {notice.alert_id for notice in channel.sent} == {open_alerts[0]["id"]}
