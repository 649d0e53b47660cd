"""``GET /readyz`` and ``GET /metrics``, for a load balancer and a monitoring system
(docs/operations.md, "Watching the server").

``/readyz``: no login; 200 when every check of what this process runs passes, else 503;
JSON listing each check. ``/metrics``: the Prometheus text format (0.0.4). Metrics carry
no personal data, but they are answered only to a client on this machine (a loopback
address, and no proxy header: a reverse proxy on the same machine forwards strangers) or
to one sending ``Authorization: Bearer <[web] metrics_token>``."""

from __future__ import annotations

import hmac
import ipaddress

from flask import Blueprint, Response, jsonify, request

from server.container import built
from server.prometheus_text import CONTENT_TYPE, render
from server.services.operations.metrics import Metrics
from server.services.operations.readiness import Readiness
from server.web.context import services

blueprint = Blueprint("watch", __name__)
_PROXY_HEADERS = ("X-Forwarded-For", "X-Real-IP", "Forwarded")


def readiness() -> Readiness:
    """The composition root's (``server.bootstrap.watching``)."""
    return built(services().readiness)


def metrics() -> Metrics:
    return built(services().metrics)


@blueprint.get("/readyz")
def ready() -> tuple[Response, int]:
    ok, body = readiness().report()
    answer = jsonify(body)
    answer.headers["Cache-Control"] = "no-store"
    return answer, 200 if ok else 503


@blueprint.get("/metrics")
def exposition() -> Response:
    refused = _refusal()
    if refused is not None:
        return refused
    answer = Response(render(metrics().families()), mimetype=None, content_type=CONTENT_TYPE)
    answer.headers["Cache-Control"] = "no-store"
    return answer


def _refusal() -> Response | None:
    token = services().settings.web.metrics_token
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return None
    if _local():
        return None
    if token:
        answer = Response("a bearer token is required\n", 401, content_type="text/plain")
        answer.headers["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return answer
    return Response(
        "metrics are answered on this machine only (or set [web] metrics_token)\n",
        403,
        content_type="text/plain",
    )


def _local() -> bool:
    if any(name in request.headers for name in _PROXY_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback
