"""``/me/weeks/<week>``: why my week adds up as it does (my own weeks only)."""

from __future__ import annotations

from flask import url_for

from server.domain.accounts import Role
from server.domain.calendar import IsoWeek
from server.web.guards import roles
from server.web.student import blueprint
from server.web.student.context import me
from server.web.week_story_view import render


@blueprint.get("/weeks/<week>")
@roles(Role.STUDENT)
def my_week(week: str) -> tuple[str, int]:
    mine = me()

    def link(other: IsoWeek) -> str:
        return url_for("student.my_week", week=str(other))

    return render(
        mine.student_id,
        week,
        may_see=lambda found: found.pk == mine.student_pk,
        link=link,
        back=url_for("student.week"),
        own=True,
    )
