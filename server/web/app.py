"""Flask application factory: the pages of each role (session login, CSRF-protected
forms) and the JSON API under ``/api/`` (bearer tokens). Services are built by the
composition root (a typed ``server.container.Services``) and found by views with
``server.web.context.services()``."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, current_app, g, render_template, request
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from server.config import Settings
from server.container import EXTENSION, Services, services_of
from server.domain.errors import ServerError
from server.i18n import _
from server.web import (
    annual,
    api_auth,
    api_params,
    api_presence,
    auth,
    csrf,
    errors,
    formatting,
    navigation,
)
from server.web.admin import blueprint as admin_pages
from server.web.coordinator import blueprint as coordinator_pages
from server.web.errors import error
from server.web.guards import principal
from server.web.openapi import blueprint as openapi
from server.web.student import blueprint as student_pages
from server.web.tutor import blueprint as tutor_pages

PAGES = (auth.blueprint, tutor_pages, coordinator_pages, admin_pages, student_pages)

_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
)


def create_app(
    services: Services,
    *,
    test_config: Mapping[str, Any] | None = None,
    blueprints: Sequence[Blueprint] = (),
) -> Flask:
    """The app, wired to the services the composition root built (``server.container``);
    each API feature brings its own blueprint."""
    settings = services.settings
    app = Flask(__name__)
    app.config.update(
        JSON_SORT_KEYS=False,
        SECRET_KEY=_secret_key(settings),
        SESSION_COOKIE_NAME="campus_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.web.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=settings.web.session_hours),
        MAX_CONTENT_LENGTH=8 * 1024 * 1024,  # a CSV import of a few thousand rows
    )
    if test_config:
        app.config.update(test_config)
    if settings.web.proxy_hops:
        hops = settings.web.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]
    app.extensions[EXTENSION] = services
    app.before_request(_defer_reads)
    app.teardown_request(_end_deferred_reads)
    app.before_request(_limit_api_body)
    app.before_request(_authenticate)
    app.before_request(csrf.protect)
    formatting.install(app)
    app.jinja_env.globals.update(csrf_token=csrf.token, menu=navigation.menu, principal=principal)
    app.after_request(_security_headers)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(ServerError, errors.answer)
    for page in PAGES:
        app.register_blueprint(page)
    app.register_blueprint(openapi)
    app.register_blueprint(api_presence.blueprint)
    app.register_blueprint(annual.pages)
    app.register_blueprint(annual.api)
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    return app


def _secret_key(settings: Settings) -> str:
    """``web.secret_key``, else a random key kept in the data folder (0600). Several web
    processes starting together on one data folder must sign with the same key: the
    file appears whole, once (written aside, then hard-linked into place, which fails
    if another process linked its key first); every process reads the one in place."""
    if settings.web.secret_key:
        return settings.web.secret_key
    path = Path(settings.data_dir) / "web-secret-key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        aside = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
        descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(secrets.token_hex(32))
        try:
            os.link(aside, path)
        except FileExistsError:
            pass  # another process's key is in place: use it
        finally:
            aside.unlink()
    return path.read_text().strip()


def _defer_reads() -> None:
    """A GET reads the registry without its write lock (SQLite): several web processes
    answer pages at the same time; its writes (the access log) still take it. The hooks
    are the composition root's (``Services.request_reads``)."""
    reads = services_of(current_app).request_reads
    if reads is not None and request.method in ("GET", "HEAD"):
        g.campus_reads = (reads.end, reads.begin())


def _end_deferred_reads(_error: BaseException | None) -> None:
    held = g.pop("campus_reads", None)
    if held is not None:
        end, token = held
        end(token)


def _limit_api_body() -> None:
    if request.path.startswith("/api/"):
        api_params.limit_body()


def _authenticate() -> Response | None:
    if request.path.startswith("/api/"):
        return api_auth.authenticate()
    if request.endpoint != "static":
        auth.load_principal()
    return None


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", _CSP)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if request.endpoint != "static":
        # Pages hold personal data: never kept by a shared computer's cache.
        response.headers.setdefault("Cache-Control", "no-store")
    return response


_MESSAGES = {
    400: "The request could not be understood.",
    401: "Please log in.",
    403: "You are not allowed to see this page.",
    404: "This page does not exist.",
    405: "This action is not allowed here.",
    413: "The file is too large.",
    429: "Too many requests. Try again in a moment.",
}
_API_MESSAGES = {
    **_MESSAGES,
    401: "A bearer token is required.",
    403: "This token is not allowed.",
    404: "There is no such resource in the API.",
    405: "This method is not allowed here; the Allow header lists those that are.",
    413: "The request body is too large.",
}


def _http_error(failure: HTTPException) -> Response:
    status = failure.code or 500
    if request.path.startswith("/api/"):
        message = _API_MESSAGES.get(status, "The request failed.")
        code = "request_too_large" if status == 413 else failure.name or "error"
        response = error(status, code.lower().replace(" ", "_"), _(message))
        _keep_headers(failure, response)
        return response
    if failure.description == "csrf":
        message = _("This form has expired. Reload the page and try again.")
    else:
        message = _(_MESSAGES.get(status, "The request failed."))
    response = Response(render_template("error.html", status=status, message=message), status)
    _keep_headers(failure, response)
    return response


def _keep_headers(failure: HTTPException, response: Response) -> None:
    """The headers the error itself carries (``Allow`` of a 405, ``Retry-After``…)."""
    for name, value in failure.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
