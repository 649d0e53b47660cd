"""``admin.index``: what needs doing, with links to each admin page."""

from __future__ import annotations

from flask import render_template

from server.services.admin_overview import overview
from server.services.delivery_health import failing_channels
from server.web.admin import blueprint
from server.web.admin.common import admin_only, now, service, visible_campuses


@blueprint.get("/")
@admin_only
def index() -> str:
    campuses = visible_campuses()
    counts = overview(
        service("registry"),
        accounts=service("accounts"),
        reader_health=service("reader_health"),
        known_readers=service("settings").known_readers(),
        campus_ids=[campus.id for campus in campuses],
        now=now(),
    )
    failing = failing_channels(service("registry"), [campus.id for campus in campuses])
    return render_template(
        "admin/index.html",
        counts=counts,
        campuses=campuses,
        failing=failing,
        campus_names={campus.id: campus.name for campus in campuses},
    )
