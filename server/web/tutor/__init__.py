"""Pages of the tutor role."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("tutor", __name__, url_prefix="/tutor")
