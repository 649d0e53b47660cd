"""Log in, log out, change one's password; who the session belongs to.

A wrong password counts against the login typed and the client's address in the
registry's login throttle (:mod:`server.services.accounts.login_throttle`): a growing
wait, never a lock, answered alike whether the login exists or not, so a visitor can
neither list the logins nor lock a tutor out."""

from __future__ import annotations

import logging
import math
from datetime import datetime
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Response,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from server.domain.accounts import Principal, Role
from server.domain.errors import DomainError
from server.i18n import _, ngettext
from server.privacy_notice import privacy_notice
from server.services.accounts.accounts import AccountService, LoginOutcome
from server.web.context import services
from server.web.guards import current, principal, roles
from server.web.navigation import home_endpoint

log = logging.getLogger(__name__)

blueprint = Blueprint("auth", __name__)
ALL_ROLES = tuple(Role)
counters = {"login_ok": 0, "login_failed": 0, "login_throttled": 0}


def _accounts() -> AccountService:
    return services().accounts


def _now():
    return services().clock()


def load_principal() -> None:
    """``before_request`` of pages: the principal of the session, if still valid."""
    g.principal = None
    account_id, version = session.get("account"), session.get("version")
    if isinstance(account_id, int) and isinstance(version, int):
        g.principal = _accounts().principal(account_id, version)
        if g.principal is None:
            session.clear()


def _safe_next(target: str | None) -> str | None:
    """Where to go after logging in: only a path of this site, as an alert's link leads
    to the login page with ``?next=/tutor/alerts/…``. Refused (``None``): anything with a
    scheme or a host, ``//`` or ``/\\`` (browsers read both as another host), control
    characters, spaces or tabs (browsers drop a tab, so ``/<tab>/evil`` becomes ``//evil``),
    and anything longer than a path of ours."""
    if not target or len(target) > 2048 or not target.startswith("/"):
        return None
    if any(ord(char) < 0x21 or ord(char) == 0x7F or char == "\\" for char in target):
        return None
    if target.startswith("//"):
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None


@blueprint.get("/")
def home() -> Response:
    who = principal()
    if who is None:
        return redirect(url_for("auth.login"))
    return redirect(url_for(home_endpoint(who.role)))


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        target = _safe_next(request.args.get("next"))
        if principal() is not None:
            return redirect(target or url_for("auth.home"))
        return render_template("login.html", next=target)
    throttle = services().login_throttle
    address = request.remote_addr or "?"
    login_name = request.form.get("login", "").strip()[:254]
    password = request.form.get("password", "")[:1024]
    target = _safe_next(request.form.get("next"))
    blocked = throttle.blocked_until(address, login_name)
    if blocked is not None:
        counters["login_throttled"] += 1
        log.warning("login throttled: too many failures from this address or for this login")
        return _throttled(blocked, target)
    result = _accounts().authenticate(login_name, password, _now())
    if result.outcome is LoginOutcome.OK and result.principal is not None:
        throttle.succeeded(login_name)
        return _start_session(result.principal, result.session_version, target)
    throttle.failed(address, login_name)
    counters["login_failed"] += 1
    log.info("login failed")
    message = _("Wrong login or password.")
    return render_template("login.html", error=message, next=target), 401


def _throttled(blocked: datetime, target: str | None) -> Response:
    """429 with ``Retry-After``: the same for every login, known or not."""
    seconds = max(1, math.ceil((blocked - _now()).total_seconds()))
    message = ngettext(
        "Too many attempts. Try again in {count} second.",
        "Too many attempts. Try again in {count} seconds.",
        seconds,
    )
    answer = Response(render_template("login.html", error=message, next=target), status=429)
    answer.headers["Retry-After"] = str(seconds)
    return answer


def _start_session(who: Principal, version: int, target: str | None) -> Response:
    counters["login_ok"] += 1
    session.clear()  # a new session id: no fixation
    session.permanent = True
    session["account"] = who.account_id
    session["version"] = version
    log.info("login of account %s (%s)", who.account_id, who.role.value)
    return redirect(target or url_for(home_endpoint(who.role)))


@blueprint.get("/confidentialite")
def privacy() -> str:
    """The privacy notice (RGPD art. 13), for everyone: no login."""
    settings = services().settings
    return render_template("privacy.html", sections=privacy_notice(settings))


@blueprint.post("/logout")
def logout() -> Response:
    session.clear()
    return redirect(url_for("auth.login"))


@blueprint.route("/account/password", methods=["GET", "POST"])
@roles(*ALL_ROLES)
def password() -> Response | str | tuple[str, int]:
    if request.method == "GET":
        return render_template("password.html")
    new, again = request.form.get("new", ""), request.form.get("again", "")
    if new != again:
        return render_template("password.html", error=_("The two new passwords differ.")), 400
    who = current()
    assert who.account_id is not None
    try:
        version = _accounts().change_password(
            who.account_id, request.form.get("current", ""), new, _now()
        )
    except DomainError as failure:
        return render_template("password.html", error=_(failure.message, **failure.values)), 400
    session["version"] = version
    return render_template("password.html", done=True)
