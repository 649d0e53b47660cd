"""What every admin view needs: the services, the actor of a change, the campuses the
admin may pick from, and French flash messages."""

from __future__ import annotations

from flask import flash, request

from server.domain.accounts import Role
from server.i18n import _
from server.services.people.campuses import CampusRef
from server.web import campus_choice
from server.web.campus_choice import visible_campuses
from server.web.context import actor as actor
from server.web.context import now as now
from server.web.context import services as services
from server.web.guards import roles

admin_only = roles(Role.ADMIN)


def chosen_campus(source: str | None = None) -> tuple[CampusRef, list[CampusRef]]:
    """The campus picked in ``?campus=`` (or the form) and the admin's choices."""
    wanted = source if source is not None else request.values.get("campus", "")
    return campus_choice.chosen_campus(wanted), visible_campuses()


def flash_success(message: str, **values: object) -> None:
    flash(_(message, **values), "success")


def flash_error(message: str, **values: object) -> None:
    flash(_(message, **values), "error")
