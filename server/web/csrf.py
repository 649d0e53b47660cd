"""CSRF protection of every form: a random token kept in the signed session, sent back
in a hidden ``csrf_token`` field (or the ``X-CSRF-Token`` header). The JSON API is not
concerned: it authenticates with a bearer header, which a browser never adds by itself."""

from __future__ import annotations

import hmac
import logging
import secrets

from flask import abort, request, session

log = logging.getLogger(__name__)

FIELD = "csrf_token"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
rejected = {"count": 0}


def token() -> str:
    if FIELD not in session:
        session[FIELD] = secrets.token_urlsafe(32)
    return session[FIELD]


def protect() -> None:
    """``before_request``: refuse an unsafe request of a page without the right token."""
    if request.method not in _UNSAFE or request.path.startswith("/api/"):
        return
    expected = session.get(FIELD, "")
    sent = request.form.get(FIELD) or request.headers.get("X-CSRF-Token", "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        rejected["count"] += 1
        log.warning("form refused: missing or wrong CSRF token on %s", request.path)
        abort(400, description="csrf")
