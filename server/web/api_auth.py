"""Who calls the JSON API: ``Authorization: Bearer <token>``, either an API token made
by an admin (with its role and campus) or the deployment's ``server.api_token`` (an
admin over every campus, for integrations configured by file). Compared in constant
time; the API is for coordinators and admins only."""

from __future__ import annotations

import hmac

from flask import Response, g, request

from server.domain.accounts import MANAGERS, Principal, Role
from server.i18n import _
from server.web.context import services
from server.web.errors import error

PUBLIC = frozenset({"/api/v1/openapi.json"})


def authenticate() -> Response | None:
    """``before_request`` of ``/api/``: sets ``g.principal`` or answers 401/403."""
    if request.path in PUBLIC:
        return None
    scheme, _sep, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        response = error(401, "unauthorised", _("A bearer token is required."))
        response.headers["WWW-Authenticate"] = "Bearer"
        return response
    found = services()
    configured = found.settings.api_token
    who: Principal | None = None
    if configured and hmac.compare_digest(token.encode(), configured.encode()):
        who = Principal(name="api", role=Role.ADMIN)
    elif found.accounts is not None:
        who = found.accounts.token_principal(token, found.clock())
    if who is None:
        return error(403, "forbidden", _("This token is not allowed."))
    if who.role not in MANAGERS:
        return error(403, "forbidden", _("This token is not allowed."))
    g.principal = who
    return None


def campus_scope(requested: str | None) -> tuple[str | None, Response | None]:
    """The campus a call may read: the requested one if the token sees it, else the
    token's own campus (``None``: every campus)."""
    who: Principal = g.principal
    if requested is None:
        return (who.campus_id or None), None
    if not who.sees_campus(requested):
        return None, error(403, "forbidden_campus", _("This token cannot see that campus."))
    return requested, None
