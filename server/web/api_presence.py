"""``/api/v1/presence``: weekly presence per student, for integrations."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from server.domain.accounts import Role
from server.i18n import _
from server.services import reports
from server.web import api_params
from server.web.errors import error
from server.web.guards import roles

blueprint = Blueprint("api_presence", __name__, url_prefix="/api/v1/presence")


@blueprint.get("/weekly")
@roles(Role.COORDINATOR, Role.ADMIN)
def weekly() -> Response:
    """``?week=2026-W48[&campus=id][&format=json|csv]``; a token of one campus reads
    only that campus (its own when none is asked)."""
    services = current_app.extensions["campus"]
    week = api_params.week()
    campus = api_params.query_campus()
    fmt = request.args.get("format", "json")
    if fmt not in reports.FORMATS:
        return error(400, "bad_format", _("format must be json or csv."))
    report = reports.weekly_report(services["ledger"], week, services["clock"](), campus=campus)
    if fmt == "csv":
        return Response(reports.render(report, "csv"), mimetype="text/csv")
    return jsonify(report)
