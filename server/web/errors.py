"""How the web answers the server's errors (``server.domain.errors``), in one place: the
HTTP status of each kind, and the JSON answer of the API,
``{"error": {"code": …, "message": …}}``. Views that re-show a form with the message
use :func:`status_of` and :func:`message_of`; what a view does not catch is answered by
the app's handler (:func:`answer`, a page or the API's JSON)."""

from __future__ import annotations

from flask import Response, jsonify, render_template, request

from server.domain.errors import Conflict, NotFound, ServerError
from server.i18n import _


def error(status: int, code: str, message: str) -> Response:
    response = jsonify({"error": {"code": code, "message": message}})
    response.status_code = status
    return response


def status_of(failure: ServerError) -> int:
    """404 not found, 409 refused by the current state, else 400 (a rule or an input);
    an error that carries its own ``status`` (the API's ``BadParam``) keeps it."""
    own = getattr(failure, "status", None)
    if isinstance(own, int):
        return own
    if isinstance(failure, NotFound):
        return 404
    if isinstance(failure, Conflict):
        return 409
    return 400


def message_of(failure: ServerError) -> str:
    """The error's text in the reader's language (``translated`` errors already are)."""
    if getattr(failure, "translated", False):
        return failure.message
    return _(failure.message, **failure.values)


def answer(failure: ServerError) -> Response:
    """The app's handler of every :class:`ServerError` a view lets through."""
    status = status_of(failure)
    if request.path.startswith("/api/"):
        return error(status, failure.code, message_of(failure))
    page = render_template("error.html", status=status, message=message_of(failure))
    return Response(page, status)
