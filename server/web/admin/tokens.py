"""API tokens for integrations: create one (its secret shown once, never again), revoke
one. Through :class:`AccountService`."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from server.domain.accounts import Role
from server.domain.errors import DomainError
from server.i18n import _
from server.services.accounts.accounts import AccountService
from server.web.admin import blueprint
from server.web.admin.common import actor, admin_only, flash_success, visible_campuses
from server.web.context import services
from server.web.forms import FieldError, choice, integer, refused, text
from server.web.guards import current

_ROLES = (Role.COORDINATOR.value, Role.ADMIN.value)


def _accounts() -> AccountService:
    return services().accounts


def _page(status: int = 200, **extra: object) -> tuple[str, int]:
    values = {"error": None, "error_field": None, "secret": None, "form": {}}
    page = render_template(
        "admin/tokens.html",
        tokens=_accounts().tokens(),
        campuses=visible_campuses(),
        roles=_ROLES,
        **(values | extra),
    )
    return page, status


@blueprint.get("/tokens")
@admin_only
def tokens() -> tuple[str, int]:
    return _page()


@blueprint.post("/tokens")
@admin_only
def create_token() -> tuple[str, int]:
    form = request.form
    try:
        name = text(form, "name", max_chars=200)
        role = Role(choice(form, "role", _ROLES))
        campus = choice(form, "campus", ["", *(c.id for c in visible_campuses())])
        if not campus and current().campus_id:
            raise FieldError("campus", "Choose one of the proposed values.")
        secret, token = _accounts().create_token(
            name=name, role=role, actor=actor(), campus_id=campus
        )
    except FieldError as failure:
        message = refused(failure, "admin_token")
        return _page(400, error=message, error_field=failure.field, form=dict(form))
    except DomainError as failure:
        return _page(400, error=_(failure.message, **failure.values), form=dict(form))
    return _page(secret={"name": token.name, "value": secret})


@blueprint.post("/tokens/revoke")
@admin_only
def revoke_token() -> Response | tuple[str, int]:
    try:
        token_id = integer(request.form, "token_id", minimum=1, maximum=2**31)
    except FieldError as failure:
        return _page(400, error=refused(failure, "admin_revoke_token"))
    if not any(token.id == token_id for token in _accounts().tokens()):
        abort(404)
    _accounts().revoke_token(token_id, actor())
    flash_success("The token is revoked: it no longer opens the API.")
    return redirect(url_for("admin.tokens"))
