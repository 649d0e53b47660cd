"""``admin.index``: what needs doing, with links to each admin page."""

from __future__ import annotations

from flask import render_template

from server.container import built
from server.services.screens.admin_overview import overview
from server.web.admin import blueprint
from server.web.admin.common import admin_only, now, visible_campuses
from server.web.context import services


@blueprint.get("/")
@admin_only
def index() -> str:
    campuses = visible_campuses()
    counts = overview(
        built(services().screen_reads),
        accounts=services().accounts,
        reader_health=services().reader_health,
        known_readers=services().settings.known_readers(),
        campus_ids=[campus.id for campus in campuses],
        now=now(),
    )
    failing = built(services().delivery_health).failing_channels([campus.id for campus in campuses])
    return render_template(
        "admin/index.html",
        counts=counts,
        campuses=campuses,
        failing=failing,
        campus_names={campus.id: campus.name for campus in campuses},
    )
