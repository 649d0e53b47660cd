"""The *Now* page: open alerts first (call with one tap), then the current slots."""

from __future__ import annotations

from flask import render_template

from server.web.guards import current, roles
from server.web.tutor import blueprint, context
from server.web.tutor.context import STAFF, board, scope, viewed


def _scope_label() -> str:
    who = current()
    return f"tutor:{who.tutor_id}" if who.tutor_id is not None else who.campus_id or "*"


@blueprint.get("/now")
@roles(*STAFF)
def now() -> str:
    found = board().board(scope(), context.now())
    viewed("roster", _scope_label(), "now_page")
    return render_template("tutor/now.html", board=found)


@blueprint.get("/now/live")
@roles(*STAFF)
def now_live() -> str:
    """The fragment refreshed in place every 15 s (no access entry: the page has one)."""
    return render_template("tutor/_board.html", board=board().board(scope(), context.now()))
