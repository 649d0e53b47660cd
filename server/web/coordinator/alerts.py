"""The coordinator's alerts page: the open, escalated and recently closed alerts of
their campus, filterable by tutor and kind, refreshed in place every 15 s like the
tutor's *Now* page. Coordinators see their own campus; admins (and all-campus
coordinators) choose one."""

from __future__ import annotations

from flask import render_template, request

from server.container import built
from server.domain.alerts import AlertKind
from server.i18n import _
from server.services.alerts.alert_board import CampusAlerts
from server.web import forms
from server.web.coordinator import blueprint
from server.web.coordinator.common import (
    MANAGERS,
    campus_names,
    chosen_campus,
    invalid,
    now,
    services,
)
from server.web.forms import FieldError, refused
from server.web.guards import roles
from server.web.tutor.labels import template_values

MAX_TUTOR_ID = 2**31 - 1


def _alerts(campus: str) -> CampusAlerts:
    """The campus's alerts, with ``?tutor=`` and ``?kind=`` read at the boundary."""
    tutor_id = None
    if request.args.get("tutor", "").strip():
        tutor_id = forms.integer(request.args, "tutor", minimum=1, maximum=MAX_TUTOR_ID)
    kind = None
    if request.args.get("kind", ""):
        kind = AlertKind(forms.choice(request.args, "kind", [item.value for item in AlertKind]))
    board = built(services().alert_board)
    return board.campus(campus, now(), tutor_id=tutor_id, kind=kind)


@blueprint.get("/alerts/board")
@roles(*MANAGERS)
def alert_board() -> str | tuple[str, int]:
    campus = chosen_campus()
    try:
        found = _alerts(campus)
    except FieldError as failure:
        return invalid(_("Open alerts"), refused(failure, "alert_board"))
    return render_template(
        "coordinator/alert_board.html",
        board=found,
        campus=campus,
        campuses=campus_names(),
        **template_values(),
    )


@blueprint.get("/alerts/board/live")
@roles(*MANAGERS)
def alert_board_live() -> str | tuple[str, int]:
    """The fragment refreshed in place every 15 s."""
    campus = chosen_campus()
    try:
        found = _alerts(campus)
    except FieldError as failure:
        return refused(failure, "alert_board"), 400
    return render_template("coordinator/_alert_board.html", board=found, **template_values())
