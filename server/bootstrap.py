"""The composition root: the one place where adapters are built, wired and closed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial

from server.adapters.event_store import EventStore
from server.adapters.mqtt_consumer import MqttConsumer
from server.config import Settings
from server.domain.badges import badge_hash
from server.domain.intake import Intake, TimeWindow
from server.services.ingest import IngestService
from server.services.retention import RetentionJob

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def build_event_store(settings: Settings) -> EventStore:
    retention = timedelta(days=settings.events.retention_days)
    if settings.events.backend == "influxdb":
        from server.adapters.influx_events import InfluxEventStore

        return InfluxEventStore(settings.influxdb, retention=retention)
    from server.adapters.sqlite_events import SqliteEventStore

    settings.events_sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteEventStore(settings.events_sqlite_path)


def build_intake(settings: Settings) -> Intake:
    known = settings.known_readers()
    return Intake(
        hash_badge=partial(badge_hash, settings.badge_secret.encode()),
        is_known_reader=lambda campus, reader: (campus, reader) in known,
        window=TimeWindow(
            max_future=timedelta(seconds=settings.ingest.max_future_s),
            retention=timedelta(days=settings.events.retention_days),
        ),
    )


@dataclass
class IngestApp:
    """The running ingest: event store, use case and MQTT consumer, closed together."""

    store: EventStore
    service: IngestService
    consumer: MqttConsumer
    retention: RetentionJob
    _closed: bool = field(default=False, repr=False)

    def start(self) -> None:
        self.store.setup()
        self.retention.start()
        self.consumer.start()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self.consumer.stop()
        self.retention.stop()
        self.store.close()

    def __enter__(self) -> IngestApp:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def build_ingest(settings: Settings, *, clock: Clock = utc_now) -> IngestApp:
    if not settings.campuses:
        log.warning("no [[campus]] with readers configured: every tap will be rejected")
    store = build_event_store(settings)
    service = IngestService(store, build_intake(settings))
    consumer = MqttConsumer(
        settings.mqtt,
        service.handle_batch,
        clock=clock,
        batch_max=settings.ingest.batch_max,
        batch_wait_s=settings.ingest.batch_wait_ms / 1000,
    )
    retention = RetentionJob(store, timedelta(days=settings.events.retention_days), clock=clock)
    return IngestApp(store, service, consumer, retention)
