"""``admin.index``: what needs doing, with links to each admin page."""

from __future__ import annotations

from flask import render_template

from server.services.admin_overview import overview
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
    return render_template("admin/index.html", counts=counts, campuses=campuses)
