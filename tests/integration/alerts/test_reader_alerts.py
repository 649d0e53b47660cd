"""The reader watch's incidents become stored reader_down alerts sent to the campus's
channels, once per outage, whoever noticed the reader first."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import orm

from server.bootstrap import Alerting
from server.config import Settings
from server.domain.notices import NoticeKind
from server.registry.database import open_registry
from server.registry.occupancy_store import SqlReaderOutages
from server.services.alerts.reader_alerts import ReaderDownAlerts
from server.services.occupancy.reader_watch import ReaderDown, ReaderWatch
from tests.integration.alerts.conftest import CAMPUS, RecordingChannel, paris, statuses


def test_a_reader_outage_is_one_alert_raised_then_resolved(
    alerting: Alerting,
    channel: RecordingChannel,
    registry: orm.sessionmaker[orm.Session],
    settings: Settings,
) -> None:
    bridge = ReaderDownAlerts(alerting.unit_of_work, alerting.alerts)
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


class _Heard:
    def __init__(self) -> None:
        self.events: list[ReaderDown] = []

    def reader_down(self, event: ReaderDown) -> None:
        self.events.append(event)


def test_two_watch_processes_share_the_outages_in_the_registry(
    registry: orm.sessionmaker[orm.Session], events, settings: Settings
) -> None:
    """The outage noticed by one process is known to another one (a worker taking the
    job over, or any web worker's readers page): never raised twice, resolved once."""
    statuses(events, paris(8), paris(9), readers=("door-1",))
    engine, other_registry = open_registry(settings.registry_database_url)
    try:
        heard_a, heard_b = _Heard(), _Heard()
        watch_a = ReaderWatch(
            SqlReaderOutages(registry, settings.presence), events, notifier=heard_a
        )
        watch_b = ReaderWatch(
            SqlReaderOutages(other_registry, settings.presence), events, notifier=heard_b
        )
        # door-1 went silent after 09:00: down at 09:05 (two missed heartbeats).
        assert [(e.reader, e.resolved) for e in watch_a.check(paris(9, 5))] == [("door-1", False)]
        assert list(watch_b.current(paris(9, 6))) == [(CAMPUS, "door-1")]
        assert watch_b.check(paris(9, 6)) == []  # already alerted by the other process
        statuses(events, paris(9, 30), paris(9, 30), readers=("door-1",))
        assert [(e.reader, e.resolved) for e in watch_b.check(paris(9, 31))] == [("door-1", True)]
        assert watch_a.check(paris(9, 32)) == [] and watch_a.current(paris(9, 32)) == {}
        assert len(heard_a.events) == 1 and len(heard_b.events) == 1
    finally:
        engine.dispose()
