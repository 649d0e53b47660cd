"""The composition root: the one place where adapters are built, wired and closed."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from flask import Blueprint, Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from server.adapters.alert_channels import (
    CampusChannelConfig,
    WebhookSecretError,
    build_channels,
    check_webhook_secrets,
)
from server.adapters.event_store import EventStore
from server.adapters.mqtt_consumer import MqttConsumer
from server.adapters.web_server import WebServer
from server.config import ConfigError, Settings
from server.container import RequestReads, Services
from server.domain.badges import badge_hasher
from server.domain.events import StoredTap
from server.domain.intake import Intake, TimeWindow
from server.domain.notices import Channel
from server.ports.alerts import AlertsUnitOfWork
from server.private_files import private_folder
from server.registry.absence_store import absence_unit_of_work
from server.registry.account_store import accounts_unit_of_work, login_throttle_unit_of_work
from server.registry.alert_repository import AlertRepository, alerts_unit_of_work
from server.registry.database import defer_reads, end_deferred_reads, open_registry
from server.registry.occupancy_store import SqlReaderOutages, occupancy_unit_of_work
from server.registry.operations_store import (
    SqlJobLeases,
    SqlProcessRows,
    SqlRegistryRetention,
    SqlRegistryWatch,
)
from server.registry.people_store import people_unit_of_work
from server.registry.presence_store import presence_unit_of_work
from server.registry.privacy_store import privacy_unit_of_work
from server.registry.reporting_store import reporting_unit_of_work
from server.registry.screen_reads import screen_reads
from server.services.accounts.accounts import AccountService
from server.services.accounts.login_throttle import LoginThrottle, ThrottlePolicy
from server.services.alerts.absence_schedule import AbsenceSchedule
from server.services.alerts.absence_watcher import AbsenceWatcher
from server.services.alerts.admin_channels import AlertChannelsAdmin
from server.services.alerts.alert_board import AlertBoard
from server.services.alerts.alerts import AlertService, arrival_listener
from server.services.alerts.capacity_alerts import CapacityAlerts
from server.services.alerts.delivery_health import DeliveryHealth
from server.services.alerts.delivery_workers import DeliveryWorkers
from server.services.alerts.notifications import NotificationService
from server.services.alerts.reader_alerts import ReaderDownAlerts
from server.services.alerts.shortfalls import ShortfallWatcher
from server.services.occupancy.admin_places import PlacesAdmin
from server.services.occupancy.occupancy import (
    CapacityNotifier,
    OccupancyService,
    occupancy_listener,
)
from server.services.occupancy.occupancy_feedback import with_capacity
from server.services.occupancy.reader_health import ReaderHealthService
from server.services.occupancy.reader_watch import ReaderNotifier, ReaderWatch
from server.services.operations.ingest import IngestService
from server.services.operations.leadership import Leadership
from server.services.operations.metrics import Metrics, process_meta
from server.services.operations.periodic import PeriodicJob, purge_expired
from server.services.operations.process_reports import ProcessReporter
from server.services.operations.readiness import Readiness
from server.services.people.activities import activities_for
from server.services.people.campuses import sync_campuses
from server.services.people.outcomes import outcomes_for
from server.services.presence.corrections import CorrectionService
from server.services.presence.ledger import LedgerService
from server.services.presence.presence import PresenceService, feedback_listener
from server.services.presence.tutor_sessions import SessionReader
from server.services.presence.week_story import WeekStories
from server.services.privacy.access_log import AccessLog
from server.services.privacy.erasure import Erasure
from server.services.privacy.student_data import StudentData
from server.services.reporting.coordinator_reports import Reports
from server.services.screens.student_space import StudentSpace
from server.services.screens.tutor_board import TutorBoard
from server.services.screens.tutor_corrections import TutorCorrections
from server.services.screens.tutor_students import TutorStudents
from server.web import api_alerts, api_occupancy, auth, health, watch
from server.web.app import create_app

if TYPE_CHECKING:
    from server.services.presence.ledger_workers import CampusWorkers

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

    private_folder(settings.events_sqlite_path.parent)  # 0700: it holds personal data
    return SqliteEventStore(settings.events_sqlite_path)


def build_intake(settings: Settings) -> Intake:
    known = settings.known_readers()
    return Intake(
        hash_badge=badge_hasher(settings.badge_secret.encode()),
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
    retention: PeriodicJob
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


def build_ingest(
    settings: Settings, *, clock: Clock = utc_now, registry: sessionmaker[Session] | None = None
) -> IngestApp:
    """The ingest; with the ``registry``, its retention job also purges the unknown-badge
    records last seen before the retention period (they follow the taps)."""
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
    service.publish_with(consumer.publish)  # confirmations to the doors
    keep = timedelta(days=settings.events.retention_days)
    retention = PeriodicJob(
        "retention",
        partial(
            purge_expired,
            store,
            retention=keep,
            registry=SqlRegistryRetention(registry) if registry is not None else None,
        ),
        clock=clock,
        every=timedelta(hours=1),
    )
    return IngestApp(store, service, consumer, retention)


@dataclass
class ServerApp:
    """``campus-presence serve``: ingest, presence engine, periodic jobs and the web app
    in one process (right for one campus; see docs/scaling.md beyond)."""

    settings: Settings
    ingest: IngestApp
    engine: Engine
    registry: sessionmaker[Session]
    presence: PresenceService
    ledger: LedgerService
    web: Flask
    jobs: list[PeriodicJob]
    leadership: Leadership | None = None  # which serve process runs the jobs
    reporter: ProcessReporter | None = None  # this process's counters, to the registry
    _http: WebServer | None = field(default=None, repr=False)

    def start(self) -> None:
        self.ingest.start()
        for job in self.jobs:
            job.start()
        if self.reporter is not None:
            self.reporter.start()
        self._http = WebServer(self.web, self.settings.web)
        self._http.start()

    def start_web(self) -> None:
        """``campus-presence web``: the web application only — no MQTT connection, no
        ingest, no periodic jobs (the ``serve`` process runs them) — listening with
        ``SO_REUSEPORT`` beside the other web processes of the same address and port."""
        self.ingest.store.setup()
        if self.reporter is not None:
            self.reporter.start()  # its logins and requests in /metrics, from any process
        self._http = WebServer(self.web, self.settings.web, reuse_port=True)
        self._http.start()

    @property
    def web_url(self) -> str:
        assert self._http is not None
        return self._http.url

    def close(self) -> None:
        if self._http is not None:
            self._http.stop()
        for job in self.jobs:
            job.stop()
        if self.leadership is not None:
            self.leadership.release()
        self.ingest.close()
        if self.reporter is not None:
            self.reporter.stop()  # the last counters, after the ingest's last batch
        if self.ledger.workers is not None:
            self.ledger.workers.close()
        self.engine.dispose()

    def __enter__(self) -> ServerApp:
        try:
            self.start()
        except BaseException:
            self.close()  # what started stops: no thread left behind a failed start
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class Features:
    """What each feature adds to the web app's services and blueprints, and the
    periodic jobs."""

    services: Services
    blueprints: list[Blueprint] = field(default_factory=list)
    jobs: list[PeriodicJob] = field(default_factory=list)


def refuse_weak_webhook_secrets(
    registry: Callable[[], Session], environ: Mapping[str, str]
) -> None:
    """The server does not start while a campus's webhook channel is on without a
    secret of at least 16 characters in its variable (``ConfigError``)."""
    with registry() as session:
        webhooks = AlertRepository(session).enabled_webhooks()
    try:
        check_webhook_secrets(webhooks, environ)
    except WebhookSecretError as error:
        raise ConfigError(str(error)) from None


def build_server(
    settings: Settings, *, clock: Clock = utc_now, web_only: bool = False
) -> ServerApp:
    """The server; ``web_only`` for a process started with :meth:`ServerApp.start_web`:
    it never connects to the broker, so nothing it does publishes (an occupancy
    correction made on its pages is stored in the registry and published by the
    ``serve`` process at its next minute tick; an MQTT alert channel's test says it has
    no broker)."""
    engine, registry = open_registry(settings.registry_database_url)
    sync_campuses(people_unit_of_work(registry), settings)
    try:
        refuse_weak_webhook_secrets(registry, os.environ)
    except ConfigError:
        engine.dispose()
        raise
    ingest = build_ingest(settings, clock=clock, registry=registry)
    found = build_services(settings, registry, ingest.store, clock=clock)
    ledger, presence = found.ledger, found.presence
    assert presence is not None
    ingest.service.before_ack(lambda taps: ledger.reopen_for_taps(taps, clock()))
    freeze = PeriodicJob("freeze-weeks", ledger.freeze_due, clock=clock, every=timedelta(hours=6))
    features = Features(found, jobs=[freeze])
    publish = None if web_only else ingest.consumer.publish
    alerting = build_alerting(
        settings, registry, ingest.store, ledger, publish=publish, clock=clock
    )
    readers_down = ReaderDownAlerts(alerting.unit_of_work, alerting.alerts)
    capacity = CapacityAlerts(alerting.unit_of_work, alerting.alerts)
    _add_occupancy(
        features, settings, registry, ingest, presence, capacity, readers_down, clock, publish
    )
    _add_alerts(features, alerting, ingest, clock)
    # Several serve processes may share the registry: the one holding the lease runs the jobs.
    leadership = Leadership(SqlJobLeases(registry))
    reporter = _add_watching(
        features, settings, registry, ingest, leadership, clock, web_only=web_only
    )
    web = create_app(features.services, blueprints=features.blueprints)
    for job in [ingest.retention, *features.jobs]:
        job.lease = leadership.leads
    return ServerApp(
        settings,
        ingest,
        engine,
        registry,
        presence,
        ledger,
        web,
        features.jobs,
        leadership,
        reporter,
    )


def build_ledger(
    settings: Settings,
    registry: Callable[[], Session],
    store: EventStore,
    *,
    workers: CampusWorkers | None = None,
) -> LedgerService:
    """The ledger as every process builds it (the configured retention)."""
    return LedgerService(
        presence_unit_of_work(registry, settings.presence),
        store,
        settings.presence,
        retention_days=settings.events.retention_days,
        workers=workers,
    )


def worker_ledger(settings: Settings) -> LedgerService:
    """The ledger of a national report's worker process (``CampusWorkers``): its own
    registry sessions and event store, no workers of its own."""
    from server.registry.database import make_engine, session_factory

    engine = make_engine(settings.registry_database_url)
    return build_ledger(settings, session_factory(engine), build_event_store(settings))


def build_services(
    settings: Settings, registry: sessionmaker[Session], store: EventStore, *, clock: Clock
) -> Services:
    """The services every process composes the same way on one registry and event store:
    the ledger (with its worker processes for national reports, ``[presence]
    report_processes``: close them with ``ledger.workers``), the doors' feedback,
    accounts, the access log and what the pages show.
    ``serve`` and ``web`` add the live parts (occupancy, alerts, watching); the commands
    use these as they are."""
    workers = None
    if settings.presence.report_processes > 1:
        from server.services.presence.ledger_workers import CampusWorkers

        processes = settings.presence.report_processes
        workers = CampusWorkers(settings, worker_ledger, processes=processes, clock=clock)
    ledger = build_ledger(settings, registry, store, workers=workers)
    found = Services(
        settings=settings,
        clock=clock,
        ledger=ledger,
        registry=registry,
        store=store,
        presence=PresenceService(
            presence_unit_of_work(registry, settings.presence), store, settings.presence
        ),
        accounts=AccountService(accounts_unit_of_work(registry)),
        login_throttle=login_throttle(settings, registry, clock),
        request_reads=RequestReads(defer_reads, end_deferred_reads),
        access_log=AccessLog(privacy_unit_of_work(registry, settings.presence)),
        places_admin=PlacesAdmin(occupancy_unit_of_work(registry, settings.presence)),
        erasure=Erasure(
            privacy_unit_of_work(registry, settings.presence),
            secret=settings.badge_secret.encode(),
            zone=settings.presence.zone,
        ),
        people=people_unit_of_work(registry, settings.presence),
        delivery_health=DeliveryHealth(
            alerts_unit_of_work(registry, timezone=settings.presence.timezone)
        ),
    )
    _add_screens(found, settings, registry, store, ledger)
    found.reports = build_reports(settings, registry, ledger)
    return found


def build_reports(
    settings: Settings, registry: Callable[[], Session], ledger: LedgerService
) -> Reports:
    """What the coordinator's reports and the annual grid are computed from."""
    people = people_unit_of_work(registry, settings.presence)
    return Reports(
        ledger=ledger,
        units=reporting_unit_of_work(registry, settings.presence.timezone),
        settings=settings.presence,
        outcomes=partial(outcomes_for, people),
        activities=partial(activities_for, people),
    )


def login_throttle(
    settings: Settings, registry: sessionmaker[Session], clock: Clock
) -> LoginThrottle:
    """Failed logins counted in the registry, shared by every web process."""
    return LoginThrottle(
        login_throttle_unit_of_work(registry),
        by_address=ThrottlePolicy(
            free=settings.web.login_attempts_per_ip, cap=timedelta(minutes=5)
        ),
        by_login=ThrottlePolicy(free=3, cap=timedelta(seconds=60)),
        clock=clock,
    )


def _add_screens(
    found: Services,
    settings: Settings,
    registry: sessionmaker[Session],
    store: EventStore,
    ledger: LedgerService,
) -> None:
    """What the pages show, composed once (they hold no state between requests)."""
    presence, retention = settings.presence, int(settings.events.retention_days)
    reads = screen_reads(registry, presence)
    sessions = SessionReader(store, presence)
    corrections = CorrectionService(
        presence_unit_of_work(registry, presence), presence, retention_days=retention
    )
    found.screen_reads = reads
    found.tutor_board = TutorBoard(reads, sessions, presence)
    found.tutor_students = TutorStudents(reads, ledger, sessions, presence)
    found.tutor_corrections = TutorCorrections(reads, sessions, corrections)
    found.student_space = StudentSpace(reads, store, ledger, presence)
    found.student_data = StudentData(
        privacy_unit_of_work(registry, presence), found.student_space, retention_days=retention
    )
    found.week_stories = WeekStories(
        presence_unit_of_work(registry, presence), store, ledger, presence, retention_days=retention
    )


def _add_watching(
    features: Features,
    settings: Settings,
    registry: sessionmaker[Session],
    ingest: IngestApp,
    leadership: Leadership,
    clock: Clock,
    *,
    web_only: bool = False,
) -> ProcessReporter:
    if web_only:  # no broker, no ingest, no jobs: /readyz checks the registry and jobs
        reporter, readiness, metrics = watching(
            settings, registry, process=leadership.holder, clock=clock, store=ingest.store
        )
    else:
        reporter, readiness, metrics = watching(
            settings,
            registry,
            process=leadership.holder,
            clock=clock,
            ingest=ingest,
            jobs=[ingest.retention, *features.jobs],
        )
    features.services.readiness, features.services.metrics = readiness, metrics
    features.blueprints.append(watch.blueprint)
    return reporter


def watching(
    settings: Settings,
    registry: sessionmaker[Session],
    *,
    process: str,
    clock: Clock,
    ingest: IngestApp | None = None,
    jobs: Sequence[PeriodicJob] = (),
    store: EventStore | None = None,
) -> tuple[ProcessReporter, Readiness, Metrics]:
    """``/readyz`` and ``/metrics`` of a process running ``ingest`` (or none: a web-only
    process) and ``jobs``: its reporter, which writes its counters to the registry under
    ``process`` (the name it holds the job lease with, so any process finds the lease
    holder's job runs), and the ``readiness`` and ``metrics`` services of the web app
    (with ``server.web.watch.blueprint``). Start and stop the reporter with the process.
    A web-only process passes the event ``store`` it reads (readers' unconfirmed taps in
    the metrics); its writes are checked by the processes that ingest."""
    parts: dict[str, Callable[[], object]] = {
        "process": process_meta,
        "logins": lambda: dict(auth.counters),
        "jobs": lambda: {job.name: job.last_run.as_dict() for job in jobs},
    }
    if ingest is not None:
        consumer = ingest.consumer
        parts["ingest"] = ingest.service.counters.snapshot
        parts["broker"] = lambda: {
            "connected": consumer.connected,
            "subscribed": consumer.subscribed,
            "malformed_packets": consumer.malformed_packets,
        }
    rows = SqlProcessRows(registry)
    reporter = ProcessReporter(rows, process=process, parts=parts)
    broker = ingest.consumer if ingest is not None else None
    written = ingest.store if ingest is not None else None
    readiness = Readiness(
        SqlRegistryWatch(registry),
        SqlJobLeases(registry),
        rows,
        clock=clock,
        broker=broker,
        store=written,
        reporter=reporter,
    )
    metrics = Metrics(
        SqlRegistryWatch(registry),
        rows,
        clock=clock,
        wall=reporter.wall,
        store=written or store,
        reporter=reporter,
        known_readers=settings.known_readers(),
    )
    return reporter, readiness, metrics


def _add_occupancy(
    features: Features,
    settings: Settings,
    registry: sessionmaker[Session],
    ingest: IngestApp,
    presence: PresenceService,
    capacity: CapacityNotifier,
    readers_down: ReaderNotifier,
    clock: Clock,
    publish: Callable[..., None] | None,
) -> None:
    """Live counts first (the readers' feedback line says when capacity is reached),
    then the feedback; reader health and the watch for readers gone silent (stored
    ``reader_down`` alerts). Capacity incidents are stored ``capacity`` alerts (and
    logged), sent to the coordinators by the alert channels."""
    occupancy = OccupancyService(
        occupancy_unit_of_work(registry, settings.presence),
        ingest.store,
        settings.presence,
        publish=None
        if publish is None
        else lambda topic, payload: publish(topic, payload, retain=True),
        notifier=capacity,
    )
    ingest.service.on_taps_stored(occupancy_listener(occupancy, clock))
    ingest.service.on_taps_stored(
        feedback_listener(
            presence,
            ingest.consumer.publish,
            clock,
            refine=partial(with_capacity, occupancy=occupancy),
        )
    )
    outages = SqlReaderOutages(registry, settings.presence)
    watch = ReaderWatch(outages, ingest.store, notifier=readers_down)
    minute = timedelta(minutes=1)
    features.jobs += [
        PeriodicJob("occupancy", occupancy.tick, clock=clock, every=minute),
        PeriodicJob("reader-watch", watch.check, clock=clock, every=minute),
    ]
    found = features.services
    found.occupancy, found.reader_health = occupancy, ReaderHealthService(ingest.store)
    found.reader_watch = watch
    features.blueprints.append(api_occupancy.blueprint)


# ---------------------------------------------------------------- the alerts feature

_CONFIG_FIELDS = [item.name for item in fields(CampusChannelConfig)]


def campus_channels(
    registry: Callable[[], Session],
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
    unit_of_work: Callable[[], AlertsUnitOfWork] = field(repr=False)
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
    registry: Callable[[], Session],
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
    unit_of_work = alerts_unit_of_work(registry, timezone=settings.presence.timezone)
    notifications = NotificationService(unit_of_work, channels)
    corrections = CorrectionService(
        presence_unit_of_work(registry, settings.presence),
        settings.presence,
        retention_days=settings.events.retention_days,
    )
    alerts = AlertService(unit_of_work, notifications, corrections, settings.presence, clock=clock)
    watcher = AbsenceWatcher(
        absence_unit_of_work(registry, settings.presence),
        events,
        ReaderHealthService(events),
        alerts,
        settings.presence,
    )
    shortfalls = ShortfallWatcher(unit_of_work, ledger, alerts)
    return Alerting(notifications, alerts, watcher, shortfalls, unit_of_work, channels)


def _add_alerts(features: Features, alerting: Alerting, ingest: IngestApp, clock: Clock) -> None:
    """Absence watcher, shortfalls, escalation and deliveries; a late arrival closes its
    alert (listener after the readers' feedback)."""
    ingest.service.on_taps_stored(alerting.taps_listener(clock))
    features.jobs += alerting.jobs(clock)
    features.services.alerts = alerting.alerts
    features.services.alert_channels = alerting.channels  # the admin's test button
    features.services.alert_board = AlertBoard(alerting.alerts)
    features.services.alert_channels_admin = AlertChannelsAdmin(
        alerting.unit_of_work, alerting.channels
    )
    features.blueprints += [api_alerts.blueprint, health.blueprint]
