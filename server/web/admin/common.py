"""What every admin view needs: the services, the actor of a change, the campuses the
admin may pick from, and French flash messages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import abort, current_app, flash, request

from server.domain.accounts import Role
from server.i18n import _
from server.registry.student_repository import Actor
from server.services.admin_students import CampusRef, campuses
from server.web.guards import current, roles

admin_only = roles(Role.ADMIN)


def service(name: str) -> Any:
    return current_app.extensions["campus"][name]


def now() -> datetime:
    return service("clock")()


def actor() -> Actor:
    return Actor(current().name, now())


def visible_campuses() -> list[CampusRef]:
    """The campuses this admin runs (every campus for an admin without one)."""
    who = current()
    return [campus for campus in campuses(service("registry")) if who.sees_campus(campus.id)]


def chosen_campus(source: str | None = None) -> tuple[CampusRef, list[CampusRef]]:
    """The campus picked in ``?campus=`` (or the form), else the first one; 403 for a
    campus this admin does not run, 404 when there is none."""
    choices = visible_campuses()
    wanted = source if source is not None else request.values.get("campus", "")
    if not choices:
        abort(404)
    if not wanted:
        return choices[0], choices
    for campus in choices:
        if campus.id == wanted:
            return campus, choices
    abort(403)


def flash_success(message: str, **values: object) -> None:
    flash(_(message, **values), "success")


def flash_error(message: str, **values: object) -> None:
    flash(_(message, **values), "error")
