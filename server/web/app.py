"""Flask application factory. Every route requires ``Authorization: Bearer <api_token>``
(compared in constant time); with no token configured, every request is refused."""

from __future__ import annotations

import hmac
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, Flask, Response, current_app, request

from server.config import Settings
from server.i18n import _
from server.services.ledger import LedgerService
from server.web import api_presence
from server.web.errors import error

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings,
    *,
    ledger: LedgerService,
    clock: Clock = _utc_now,
    test_config: Mapping[str, Any] | None = None,
    services: Mapping[str, object] | None = None,
    blueprints: Sequence[Blueprint] = (),
) -> Flask:
    """The app, wired to services built by the composition root. Views find them in
    ``current_app.extensions["campus"]`` under their name (``ledger``, plus ``services``);
    each feature brings its own blueprint."""
    app = Flask(__name__)
    app.config.update(JSON_SORT_KEYS=False)
    if test_config:
        app.config.update(test_config)
    app.extensions["campus"] = {
        "settings": settings,
        "ledger": ledger,
        "clock": clock,
        **(services or {}),
    }
    app.before_request(_require_token)
    app.register_blueprint(api_presence.blueprint)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    return app


def _require_token() -> Response | None:
    expected = current_app.extensions["campus"]["settings"].api_token
    if not expected:
        return error(403, "api_disabled", _("The API is disabled: no API token is configured."))
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        response = error(401, "unauthorised", _("A bearer token is required."))
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    if not hmac.compare_digest(token.strip().encode(), expected.encode()):
        return error(403, "forbidden", _("This token is not allowed."))
    return None
