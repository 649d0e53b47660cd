"""The "why this week" page, shared by the tutor's and coordinator's view of a student
(``/tutor/students/<id>/weeks/<week>``) and the student's own (``/me/weeks/<week>``)."""

from __future__ import annotations

from collections.abc import Callable

from flask import render_template

from server.container import built
from server.domain.calendar import IsoWeek
from server.domain.week_story import Problem, WeekStoryError
from server.services.accounts.tutor_scope import StudentRef
from server.services.presence.week_story import WeekStories
from server.texts import week_texts
from server.web.context import now, services

_STATUS = {
    Problem.BAD_WEEK: 404,
    Problem.UNKNOWN_STUDENT: 404,
    Problem.FORBIDDEN: 403,
    Problem.FUTURE_WEEK: 404,
}


def stories() -> WeekStories:
    return built(services().week_stories)


def render(
    student_id: str,
    week: str,
    *,
    may_see: Callable[[StudentRef], bool],
    link: Callable[[IsoWeek], str],
    back: str,
    own: bool,
) -> tuple[str, int]:
    """The page, or an error page saying what is wrong (404 / 403), never a trace."""
    try:
        story = stories().story(student_id, week, now(), may_see=may_see)
    except WeekStoryError as refused:
        message = week_texts.problem_text(refused.problem)
        status = _STATUS[refused.problem]
        return render_template("error.html", status=status, message=message), status
    return (
        render_template(
            "weeks/story.html",
            story=story,
            link=link,
            back=back,
            own=own,
            texts=week_texts,
        ),
        200,
    )
