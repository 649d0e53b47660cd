"""JSON error answers of the API: ``{"error": {"code": …, "message": …}}``."""

from __future__ import annotations

from flask import Response, jsonify


def error(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response
