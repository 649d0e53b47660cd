"""Pages of the student role: my week, my history, my data (and its download). A
student sees only themself: every view reads the principal's own ``student_pk``."""

from __future__ import annotations

from flask import Blueprint

blueprint = Blueprint("student", __name__, url_prefix="/me")

from server.web.student import my_data, pages, weeks  # noqa: E402,F401  (registers the views)
