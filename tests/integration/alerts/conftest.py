"""Alerts against the real registry (SQLite file) and event store, with a fixed clock
and a recording channel (a fake of our own notification port)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import orm, update

from edge.protocol import events_topic
from server.adapters.alert_channels import MqttChannel
from server.adapters.sqlite_events import SqliteEventStore
from server.bootstrap import Alerting, build_alerting
from server.config import Settings
from server.domain.events import ReaderStatusRecord
from server.domain.notices import Channel, Notice
from server.registry.models import Campus, Reader
from server.registry.presence_store import presence_unit_of_work
from server.services.presence.ledger import LedgerService
from tests.e2e.helpers import wait_until
from tests.integration.registry.conftest import (  # noqa: F401 (fixtures)
    CAMPUS,
    ROW_E001,
    TapWriter,
    csv_bytes,
    events,
    registry,
    run_import,
    settings,
    writer,
)
from tests.unit.presence.helpers import at

MONDAY = date(2026, 11, 23)  # E001 has a slot 09:00-12:00 on Mondays
DOORS = ("door-1", "door-in", "door-out")


class RecordingChannel(Channel):
    name = "record"

    def __init__(self) -> None:
        self.sent: list[Notice] = []
        self.failing = False

    def handles(self, notice: Notice) -> bool:
        return True

    def send(self, notice: Notice) -> None:
        from server.domain.notices import DeliveryFailed

        if self.failing:
            raise DeliveryFailed("down for the test")
        self.sent.append(notice)


@pytest.fixture
def channel() -> RecordingChannel:
    return RecordingChannel()


@pytest.fixture
def enrolled(registry: orm.sessionmaker[orm.Session], settings: Settings) -> None:  # noqa: F811
    report = run_import(registry, csv_bytes(ROW_E001))
    assert report.ok, report.errors
    with registry() as session, session.begin():
        session.execute(update(Reader).where(Reader.reader_id == "room-1").values(mode="room"))
        session.execute(update(Campus).values(closes_on_public_holidays=True))


@pytest.fixture
def alerting(
    settings: Settings,  # noqa: F811
    registry: orm.sessionmaker[orm.Session],  # noqa: F811
    events: SqliteEventStore,  # noqa: F811
    channel: RecordingChannel,
    enrolled: None,
) -> Iterator[Alerting]:
    ledger = LedgerService(
        presence_unit_of_work(registry, settings.presence), events, settings.presence
    )
    built = build_alerting(settings, registry, events, ledger, publish=None, environ={})
    built.notifications.channels = lambda campus: {"record": channel}
    built.watcher.catch_up = timedelta(hours=3)  # no statuses before the test's morning
    yield built


def statuses(
    store: SqliteEventStore,
    start: datetime,
    end: datetime,
    *,
    state: str = "online",
    queued: int = 0,
    readers: tuple[str, ...] = DOORS,
) -> None:
    """Heartbeats every 60 s from ``start`` to ``end`` (included) for the readers."""
    records = []
    moment = start
    while moment <= end:
        for reader in readers:
            records.append(ReaderStatusRecord(CAMPUS, reader, state, moment, moment, queued=queued))
        moment += timedelta(seconds=60)
    store.write_statuses(records)


def paris(hour: int, minute: int = 0, second: int = 0, day: date = MONDAY) -> datetime:
    return at(day, hour, minute, second).astimezone(UTC)


def mqtt_event_of(port: int, notice: Notice) -> bytes:
    """Send ``notice`` by the MQTT channel through a real broker; the payload a
    subscriber of ``events/alerts`` receives."""
    received: list[bytes] = []
    subscriber = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    subscriber.on_message = lambda client, userdata, message: received.append(message.payload)
    subscriber.connect("127.0.0.1", port)
    subscriber.subscribe(events_topic(notice.campus, "alerts"), qos=1)
    subscriber.loop_start()
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    publisher.connect("127.0.0.1", port)
    publisher.loop_start()
    try:
        wait_until(lambda: subscriber.is_connected(), what="subscriber")
        time.sleep(0.2)  # let the SUBACK land before publishing
        channel = MqttChannel(lambda topic, payload: publisher.publish(topic, payload, qos=1))
        assert channel.handles(notice)
        channel.send(notice)
        wait_until(lambda: received, what="the alert event")
    finally:
        for client in (subscriber, publisher):
            client.disconnect()
            client.loop_stop()
    return received[0]
