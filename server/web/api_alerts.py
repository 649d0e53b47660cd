"""``/api/v1/alerts``: absence and shortfall alerts, the call log, the evidence report.

Views find :class:`~server.services.alerts.alerts.AlertService` under ``alerts`` in
``services()``. Bodies are validated here, at the boundary: a bad
field is answered 400 with the field's name and what it must be. A token of one campus
sees and acts on the alerts of that campus only (an alert's campus is its student's or
its reader's).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Blueprint, Response, jsonify, request

from server.container import built
from server.domain.accounts import Actor, Role
from server.domain.alerts import (
    MAX_REASON_CHARS,
    CallLog,
    CallOutcome,
    ReasonCategory,
)
from server.domain.periods import MAX_YEARS, PeriodError, period
from server.i18n import _
from server.services.alerts.alerts import AlertNotFound, AlertService
from server.services.reporting import coordinator_reports
from server.web import api_params
from server.web.api_params import BadParam
from server.web.context import services
from server.web.errors import error
from server.web.guards import current, roles

blueprint = Blueprint("api_alerts", __name__, url_prefix="/api/v1/alerts")


def _bad_field(field: str, message: str) -> BadParam:
    return BadParam(f"bad_{field}", message)


def _service() -> AlertService:
    return services().alerts


def _now() -> datetime:
    return services().clock()


def _actor(body: dict[str, Any]) -> Actor:
    name = body.get("by", "api")
    if not isinstance(name, str) or not 0 < len(name.strip()) <= 254:
        raise _bad_field(
            "by", _("by must be the name or e-mail of who acts (254 characters at most).")
        )
    return Actor(f"api:{name.strip()}", _now())


def _check_alert(alert_id: str) -> None:
    """Raise :class:`AlertNotFound` for an alert the token may not see: a token of
    another campus learns nothing about it."""
    if not current().sees_campus(_service().get(alert_id)["campus"]):
        raise AlertNotFound()


@blueprint.get("")
@roles(Role.COORDINATOR, Role.ADMIN)
def listing() -> Response:
    """``?status=open|all&since=<RFC 3339>[&campus=id]``"""
    campus = api_params.query_campus()
    status = request.args.get("status", "open")
    if status not in ("open", "all"):
        return error(400, "bad_status", _("status must be open or all."))
    since = api_params.instant("since")
    alerts = _service().listing(open_only=status == "open", since=since, campus=campus)
    return jsonify({"alerts": alerts})


@blueprint.post("/<alert_id>/ack")
@roles(Role.COORDINATOR, Role.ADMIN)
def acknowledge(alert_id: str) -> Response:
    _check_alert(alert_id)  # a refusal is answered by server.web.errors
    body = api_params.json_body(optional=True)
    return jsonify(_service().acknowledge(alert_id, _actor(body)))


@blueprint.post("/<alert_id>/calls")
@roles(Role.COORDINATOR, Role.ADMIN)
def log_call(alert_id: str) -> Response:
    """``{"called_at", "outcome", "reason_category", "reason", "excused", "by"}``"""
    _check_alert(alert_id)  # a refusal is answered by server.web.errors
    body = api_params.json_body()
    answer = _service().log_call(alert_id, _call(body), _actor(body))
    response = jsonify(answer)
    response.status_code = 201
    return response


@blueprint.get("/evidence")
@roles(Role.COORDINATOR, Role.ADMIN)
def evidence() -> Response:
    """``?from=2026-11-01&to=2026-11-30[&campus=id]`` (local days of the campus, both
    included, at most five years): per tutor, in all, and each absence with its calls."""
    campus = api_params.query_campus()
    first = api_params.day("from")
    last = api_params.day("to")
    if last < first:
        return error(400, "bad_to", _("to cannot be before from."))
    if not period_within_bound(first, last):
        raise BadParam(
            "bad_period",
            _("A period is at most {count} years long: ask for a shorter one.", count=MAX_YEARS),
        )
    zone = api_params.campus_zone(campus)
    alerts = _service()
    body = alerts.evidence(first, last, campus=campus, tz=zone)
    registry = built(services().registry)  # the reporting capability's use case reads it
    records = coordinator_reports.absences(registry, campus, first, last, tz=zone)
    body["absences"] = [coordinator_reports.absence_dict(record) for record in records]
    return jsonify(body)


def period_within_bound(first: date, last: date) -> bool:
    try:
        period(first, last)
    except PeriodError:
        return False
    return True


# --------------------------------------------------------------------------- parsing


def _call(body: dict[str, Any]) -> CallLog:
    called_at = body.get("called_at")
    moment = _now() if called_at is None else api_params.instant_of(called_at, "called_at")
    outcome = _choice(body.get("outcome"), CallOutcome, "outcome", required=True)
    category = _choice(body.get("reason_category"), ReasonCategory, "reason_category")
    reason = body.get("reason", "")
    if not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS:
        raise _bad_field("reason", _("reason must be a text of 2000 characters at most."))
    excused = body.get("excused", False)
    if not isinstance(excused, bool):
        raise _bad_field("excused", _("excused must be true or false."))
    if excused and category is None:
        raise _bad_field("reason_category", _("an excused absence needs a reason_category."))
    return CallLog(moment, outcome, category, reason.strip(), excused)  # type: ignore[arg-type]


def _choice(value: Any, kind: type, field: str, *, required: bool = False) -> Any:
    if value is None and not required:
        return None
    try:
        return kind(value)
    except (ValueError, TypeError):
        allowed = ", ".join(item.value for item in kind)  # type: ignore[attr-defined]
        raise _bad_field(
            field, _("{field} must be one of: {allowed}.", field=field, allowed=allowed)
        ) from None
