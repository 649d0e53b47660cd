"""Wiring of the alerts feature (issue 5), for the composition root to call: it builds
the notification channels, services, watchers, periodic jobs and the taps listener.
No I/O happens here until the jobs start."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, timedelta

from sqlalchemy import orm

from server.adapters.alert_channels import CampusChannelConfig, build_channels
from server.adapters.event_store import EventStore
from server.config import Settings
from server.domain.events import StoredTap
from server.domain.notices import Channel
from server.registry.alert_repository import AlertRepository
from server.registry.presence_store import presence_unit_of_work
from server.services.alerts.absence_schedule import AbsenceSchedule
from server.services.alerts.absence_watcher import AbsenceWatcher
from server.services.alerts.alerts import AlertService, arrival_listener
from server.services.alerts.delivery_workers import DeliveryWorkers
from server.services.alerts.notifications import NotificationService
from server.services.alerts.shortfalls import ShortfallWatcher
from server.services.occupancy.reader_health import ReaderHealthService
from server.services.operations.periodic import PeriodicJob
from server.services.presence.corrections import CorrectionService
from server.services.presence.ledger import LedgerService

Clock = Callable[[], datetime]
_CONFIG_FIELDS = [item.name for item in fields(CampusChannelConfig)]


def campus_channels(
    registry: Callable[[], orm.Session],
    *,
    publish: Callable[[str, bytes], None] | None,
    environ: Mapping[str, str],
) -> Callable[[str], dict[str, Channel]]:
    """Channels of a campus from its settings in the registry (read on each use, so an
    admin's change applies at once); secrets from ``environ``."""

    def channels(campus: str) -> dict[str, Channel]:
        with registry() as session:
            row = AlertRepository(session).channel_settings(campus)
            config = (
                CampusChannelConfig(**{name: getattr(row, name) for name in _CONFIG_FIELDS})
                if row is not None
                else CampusChannelConfig()
            )
        return build_channels(config, publish=publish, environ=environ)

    return channels


@dataclass
class Alerting:
    notifications: NotificationService
    alerts: AlertService
    watcher: AbsenceWatcher
    shortfalls: ShortfallWatcher
    channels: Callable[[str], dict[str, Channel]] = field(repr=False, default=lambda _c: {})
    deliveries: DeliveryWorkers | None = None

    def delivery_workers(self, clock: Clock) -> DeliveryWorkers:
        """The lanes that send the deliveries (made once; started with the jobs)."""
        if self.deliveries is None:
            self.deliveries = DeliveryWorkers(self.notifications, clock=clock)
        return self.deliveries

    def jobs(self, clock: Clock) -> list[PeriodicJob]:
        return [
            AbsenceSchedule(self.watcher, clock=clock),
            self.delivery_workers(clock),
            PeriodicJob(
                "alert-escalation",
                self.alerts.escalate_due,
                clock=clock,
                every=timedelta(minutes=1),
            ),
            PeriodicJob("shortfalls", self.shortfalls.run, clock=clock, every=timedelta(hours=1)),
        ]

    def taps_listener(self, clock: Clock) -> Callable[[list[StoredTap]], None]:
        return arrival_listener(self.alerts, clock)  # type: ignore[return-value]


def build_alerting(
    settings: Settings,
    registry: Callable[[], orm.Session],
    events: EventStore,
    ledger: LedgerService,
    *,
    publish: Callable[[str, bytes], None] | None,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] | None = None,
) -> Alerting:
    channels = campus_channels(
        registry, publish=publish, environ=os.environ if environ is None else environ
    )

    def load_notice(session, alert_pk, notice):  # type: ignore[no-untyped-def]
        return AlertRepository(session, timezone=settings.presence.timezone).notice(
            alert_pk, notice
        )

    def load_notices(session, steps):  # type: ignore[no-untyped-def]
        return AlertRepository(session, timezone=settings.presence.timezone).notices(steps)

    notifications = NotificationService(registry, channels, load_notice, load_notices=load_notices)
    corrections = CorrectionService(
        presence_unit_of_work(registry, settings.presence),
        settings.presence,
        retention_days=settings.events.retention_days,
    )
    alerts = AlertService(registry, notifications, corrections, settings.presence, clock=clock)
    watcher = AbsenceWatcher(
        registry, events, ReaderHealthService(events), alerts, settings.presence
    )
    return Alerting(
        notifications, alerts, watcher, ShortfallWatcher(registry, ledger, alerts), channels
    )
