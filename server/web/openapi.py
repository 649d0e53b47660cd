"""``/api/v1/openapi.json``: the description of the JSON API (public: an integrator
reads it before having a token)."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from server.web.openapi_spec import spec

blueprint = Blueprint("openapi", __name__, url_prefix="/api/v1")


@blueprint.get("/openapi.json")
def description() -> Response:
    response = jsonify(spec())
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
