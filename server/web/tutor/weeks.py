"""``/tutor/students/<id>/weeks/<week>``: why a student's week adds up as it does, for
their tutor, their campus's coordinator and admins."""

from __future__ import annotations

from flask import url_for

from server.domain.calendar import IsoWeek
from server.web.guards import roles
from server.web.tutor import blueprint
from server.web.tutor.context import STAFF, viewed, visible_student
from server.web.week_story_view import render


@blueprint.get("/students/<student_id>/weeks/<week>")
@roles(*STAFF)
def student_week(student_id: str, week: str) -> tuple[str, int]:
    ref = visible_student(student_id)  # 404 unknown, 403 not theirs
    viewed("student", ref.student_id, "week_story")

    def link(other: IsoWeek) -> str:
        return url_for("tutor.student_week", student_id=ref.student_id, week=str(other))

    return render(
        ref.student_id,
        week,
        may_see=lambda found: found.pk == ref.pk,
        link=link,
        back=url_for("tutor.student", student_id=ref.student_id),
        own=False,
    )
