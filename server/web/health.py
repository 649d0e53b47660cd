"""``GET /healthz``: unauthenticated, for a load balancer or a monitoring probe. JSON
without personal data: ``ok`` or ``degraded`` (an alert channel keeps failing), which
channel kinds fail since when, and delivery counters."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from server.services.alerts.delivery_health import health_report
from server.web.context import services

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def status() -> Response:
    answer = jsonify(health_report(services().registry))
    answer.headers["Cache-Control"] = "no-store"
    return answer
