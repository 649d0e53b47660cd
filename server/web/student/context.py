"""What the student pages share: the screens the composition root built (their reads
go through ``server.ports.screens``), the clock, and who the student is."""

from __future__ import annotations

from flask import abort

from server.container import built
from server.services.privacy.student_data import StudentData
from server.services.screens.student_space import Me, NotAStudent, StudentSpace
from server.web.context import actor as actor
from server.web.context import now as now
from server.web.context import services as services
from server.web.context import viewed
from server.web.guards import check_student, current


def space() -> StudentSpace:
    return built(services().student_space)


def data() -> StudentData:
    return built(services().student_data)


def retention_days() -> int:
    return int(services().settings.events.retention_days)


def me() -> Me:
    """The logged-in student's own record (403 for an account linked to none)."""
    student_pk = current().student_pk
    if student_pk is None:
        abort(403)
    try:
        found = space().me(student_pk)
    except NotAStudent:
        abort(403)
    check_student(campus_id=found.campus_id, tutor_id=found.tutor_id, student_pk=found.student_pk)
    return found


def downloaded(student_id: str, what: str) -> None:
    """Record the download of a copy of the student's data (GDPR accountability)."""
    viewed("student", student_id, what)
