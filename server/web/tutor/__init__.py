"""Pages of the tutor role."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("tutor", __name__, url_prefix="/tutor")

# The views register themselves on the blueprint (imported last: they use it).
from server.web.tutor import (  # noqa: E402, F401
    alerts,
    corrections,
    interviews,
    now,
    students,
    weeks,
)
from server.web.tutor.labels import template_values  # noqa: E402

blueprint.context_processor(template_values)
