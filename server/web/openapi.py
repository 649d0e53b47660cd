"""``/api/v1/openapi.json``: the description of the JSON API."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("openapi", __name__, url_prefix="/api/v1")
