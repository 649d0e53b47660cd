"""Pages of the coordinator role."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("coordinator", __name__, url_prefix="/coordinator")

from server.web.coordinator import (  # noqa: E402, F401  (routes)
    activities,
    alerts,
    calendar,
    corrections,
    occupancy,
    outcomes,
    period_reports,
    reports,
)
