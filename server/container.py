"""The typed container the composition root (:mod:`server.bootstrap`) fills: every
service a view, a command or a job reaches for, by attribute — never by a string key.

The web app keeps one (``create_app(services=...)``); views read it with
:func:`server.web.context.services`, anything holding the app with :func:`services_of`.
``settings``, ``clock`` and ``ledger`` are always there; the rest is ``None`` in an app
composed for a test with only the parts it needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from flask import Flask
    from sqlalchemy.orm import Session, sessionmaker

    from server.adapters.event_store import EventStore
    from server.config import Settings
    from server.domain.notices import Channel
    from server.ports.people import PeopleUnitOfWork
    from server.ports.screens import ScreenReads
    from server.services.accounts.accounts import AccountService
    from server.services.accounts.login_throttle import LoginThrottle
    from server.services.alerts.admin_channels import AlertChannelsAdmin
    from server.services.alerts.alert_board import AlertBoard
    from server.services.alerts.alerts import AlertService
    from server.services.alerts.delivery_health import DeliveryHealth
    from server.services.occupancy.admin_places import PlacesAdmin
    from server.services.occupancy.occupancy import OccupancyService
    from server.services.occupancy.reader_health import ReaderHealthService
    from server.services.occupancy.reader_watch import ReaderWatch
    from server.services.operations.metrics import Metrics
    from server.services.operations.readiness import Readiness
    from server.services.presence.ledger import LedgerService
    from server.services.presence.presence import PresenceService
    from server.services.presence.week_story import WeekStories
    from server.services.privacy.access_log import AccessLog
    from server.services.privacy.erasure import Erasure
    from server.services.privacy.student_data import StudentData
    from server.services.reporting.coordinator_reports import Reports
    from server.services.screens.student_space import StudentSpace
    from server.services.screens.tutor_board import TutorBoard
    from server.services.screens.tutor_corrections import TutorCorrections
    from server.services.screens.tutor_students import TutorStudents

Clock = Callable[[], datetime]

T = TypeVar("T")

EXTENSION = "campus"  # the one key of ``Flask.extensions`` the container lives under


@dataclass(frozen=True, slots=True)
class RequestReads:
    """What a web request's registry reads run under (``begin`` before a GET, ``end``
    with its token after it): on SQLite, reads without the write lock, so that several
    web processes answer pages at the same time (``server.registry.database``)."""

    begin: Callable[[], object]
    end: Callable[[object], None]


@dataclass(kw_only=True, eq=False)
class Services:
    settings: Settings
    clock: Clock
    ledger: LedgerService
    registry: sessionmaker[Session] | None = None
    store: EventStore | None = None
    presence: PresenceService | None = None
    accounts: AccountService | None = None
    people: Callable[[], PeopleUnitOfWork] | None = None  # server.services.people's use cases
    access_log: AccessLog | None = None
    alerts: AlertService | None = None
    alert_channels: Callable[[str], dict[str, Channel]] | None = None  # the admin's test
    alert_channels_admin: AlertChannelsAdmin | None = None
    delivery_health: DeliveryHealth | None = None
    occupancy: OccupancyService | None = None
    places_admin: PlacesAdmin | None = None
    erasure: Erasure | None = None
    reader_health: ReaderHealthService | None = None
    reader_watch: ReaderWatch | None = None
    readiness: Readiness | None = None
    metrics: Metrics | None = None
    login_throttle: LoginThrottle | None = None
    request_reads: RequestReads | None = None  # the web requests' hooks (the registry's)
    # what the pages show, composed once from the services above
    screen_reads: Callable[[], ScreenReads] | None = None  # the screens' unit of work
    tutor_board: TutorBoard | None = None
    tutor_students: TutorStudents | None = None
    tutor_corrections: TutorCorrections | None = None
    student_space: StudentSpace | None = None
    student_data: StudentData | None = None
    week_stories: WeekStories | None = None
    alert_board: AlertBoard | None = None
    reports: Reports | None = None  # the coordinator's reports and the annual grid


def services_of(app: Flask) -> Services:
    """The container of a web app made by :func:`server.web.app.create_app`."""
    found = app.extensions[EXTENSION]
    assert isinstance(found, Services)
    return found


def built(service: T | None) -> T:
    """A service the composition root built; an app composed for a test with only some
    parts has ``None`` for the others."""
    assert service is not None, "this app was composed without that service"
    return service
