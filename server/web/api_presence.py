"""``/api/v1/presence``: weekly presence per student, and why one student's week adds
up as it does, for integrations."""

from __future__ import annotations

from flask import Blueprint, Response, g, jsonify, request

from server.adapters.spreadsheets import XLSX_TYPE
from server.domain.accounts import Role
from server.domain.week_story import WeekStoryError
from server.i18n import _
from server.services.presence import reports
from server.texts.week_texts import problem_text
from server.web import api_params
from server.web.context import services
from server.web.errors import error
from server.web.guards import roles
from server.web.week_story_view import stories

blueprint = Blueprint("api_presence", __name__, url_prefix="/api/v1/presence")


@blueprint.get("/weekly")
@roles(Role.COORDINATOR, Role.ADMIN)
def weekly() -> Response:
    """``?week=2026-W48[&campus=id][&format=json|csv]``; a token of one campus reads
    only that campus (its own when none is asked)."""
    found = services()
    week = api_params.week()
    campus = api_params.query_campus()
    fmt = request.args.get("format", "json")
    if fmt not in reports.FORMATS:
        return error(400, "bad_format", _("format must be json or csv."))
    report = reports.weekly_report(found.ledger, week, found.clock(), campus=campus)
    if fmt == "csv":
        return Response(reports.render(report, "csv"), mimetype="text/csv")
    return jsonify(report)


_PERIOD_TYPES = {"json": "application/json", "csv": "text/csv", "xlsx": XLSX_TYPE}


@blueprint.get("/period")
@roles(Role.COORDINATOR, Role.ADMIN)
def period() -> Response:
    """``?from=2026-09-01&to=2027-06-30`` or ``?year=2026-2027`` (or ``2026``),
    ``[&campus=id][&format=json|csv|xlsx]``: one row per student-week, totals per
    student (JSON); at most five years (400 ``bad_period``)."""
    found = services()
    span = api_params.period_of_query()
    campus = api_params.query_campus()
    fmt = request.args.get("format", "json")
    if fmt not in reports.PERIOD_FORMATS:
        return error(400, "bad_format", _("format must be json, csv or xlsx."))
    report = reports.period_report(found.ledger, span, found.clock(), campus=campus)
    answer = Response(reports.render_period(report, fmt), mimetype=_PERIOD_TYPES[fmt])
    if fmt != "json":
        name = f"presence-{span.first.isoformat()}-{span.last.isoformat()}.{fmt}"
        answer.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return answer


_STORY_STATUS = {"bad_week": 404, "unknown_student": 404, "forbidden": 403, "future_week": 404}


@blueprint.get("/students/<student_id>/weeks/<week>")
@roles(Role.COORDINATOR, Role.ADMIN)
def student_week(student_id: str, week: str) -> Response:
    """Why one student's week adds up as it does (``services.week_story``); a token of
    one campus sees only that campus's students."""
    who = g.principal
    try:
        story = stories().story(
            student_id,
            week,
            services().clock(),
            may_see=lambda ref: who.sees_campus(ref.campus_id),
        )
    except WeekStoryError as refused:
        code = refused.problem.value
        return error(_STORY_STATUS[code], code, problem_text(refused.problem))
    return jsonify(story.as_dict())
