"""What the tutor pages share: the services (built from the composition root's
registry, event store and settings), the clock, who acts, and the access checks."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, current_app

from server.domain.accounts import Role
from server.registry.student_repository import Actor
from server.services.tutor_board import TutorBoard
from server.services.tutor_corrections import TutorCorrections
from server.services.tutor_scope import Scope, StudentRef
from server.services.tutor_students import TutorStudents
from server.web.guards import check_student, current

STAFF = (Role.TUTOR, Role.COORDINATOR, Role.ADMIN)


def _campus() -> dict[str, Any]:
    return current_app.extensions["campus"]


def now() -> datetime:
    return _campus()["clock"]()


def board() -> TutorBoard:
    services = _campus()
    return TutorBoard(services["registry"], services["store"], services["settings"].presence)


def students() -> TutorStudents:
    services = _campus()
    return TutorStudents(
        services["registry"], services["ledger"], services["store"], services["settings"].presence
    )


def corrections() -> TutorCorrections:
    services = _campus()
    settings = services["settings"]
    return TutorCorrections(
        services["registry"],
        services["store"],
        settings.presence,
        retention_days=settings.events.retention_days,
    )


def scope() -> Scope:
    return Scope.of(current())


def actor() -> Actor:
    return Actor(current().name, now())


def visible_student(student_id: str) -> StudentRef:
    """The student, if the principal may see them (404 unknown, 403 not theirs)."""
    ref = students().ref(student_id)
    if ref is None:
        abort(404)
    check_student(campus_id=ref.campus_id, tutor_id=ref.tutor_id, student_pk=ref.pk)
    return ref


def viewed(entity: str, entity_id: str, what: str) -> None:
    """Record that the principal saw a named student's personal data."""
    _campus()["access_log"].viewed(
        current(), entity=entity, entity_id=entity_id, what=what, at=now()
    )
