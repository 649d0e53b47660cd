"""Pages of the admin role."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("admin", __name__, url_prefix="/admin")

# The views register themselves on the blueprint (imported last: they import it).
from server.web.admin import (  # noqa: E402, F401
    accounts,
    badges,
    channels,
    erasure,
    overview,
    places,
    students,
    tokens,
)
