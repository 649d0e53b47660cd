"""What every view reaches for: the services built by the composition root, the clock,
and who acts now (for the audit log)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from flask import current_app

from server.container import Services, built, services_of
from server.domain.accounts import Actor
from server.ports.people import PeopleUnitOfWork
from server.web.guards import current


def services() -> Services:
    """The container the composition root built (``server.container``)."""
    return services_of(current_app)


def people() -> Callable[[], PeopleUnitOfWork]:
    """What the people use cases (``server.services.people``) are given."""
    return built(services().people)


def now() -> datetime:
    return services().clock()


def actor() -> Actor:
    return Actor(current().name, now())


def viewed(entity: str, entity_id: str, what: str) -> None:
    """Record that the principal saw or downloaded personal data (access log)."""
    services().access_log.viewed(current(), entity=entity, entity_id=entity_id, what=what, at=now())
