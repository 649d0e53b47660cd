"""``GET /healthz``: unauthenticated, for a load balancer or a monitoring probe. JSON
without personal data: ``ok`` or ``degraded`` (an alert channel keeps failing), which
channel kinds fail since when, and delivery counters."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from server.container import built
from server.web.context import services

blueprint = Blueprint("health", __name__)


@blueprint.get("/healthz")
def status() -> Response:
    answer = jsonify(built(services().delivery_health).health_report())
    answer.headers["Cache-Control"] = "no-store"
    return answer
