"""What the tutor pages share: the screens the composition root built (their reads go
through ``server.ports.screens``), the clock, who acts, and the access checks."""

from __future__ import annotations

from flask import abort

from server.container import built
from server.domain.accounts import Role
from server.services.accounts.tutor_scope import Scope, StudentRef
from server.services.screens.tutor_board import TutorBoard
from server.services.screens.tutor_corrections import TutorCorrections
from server.services.screens.tutor_students import TutorStudents
from server.web.context import actor as actor
from server.web.context import now as now
from server.web.context import services as services
from server.web.context import viewed as viewed
from server.web.guards import check_student, current

STAFF = (Role.TUTOR, Role.COORDINATOR, Role.ADMIN)


def board() -> TutorBoard:
    return built(services().tutor_board)


def students() -> TutorStudents:
    return built(services().tutor_students)


def corrections() -> TutorCorrections:
    return built(services().tutor_corrections)


def scope() -> Scope:
    return Scope.of(current())


def visible_student(student_id: str) -> StudentRef:
    """The student, if the principal may see them (404 unknown, 403 not theirs)."""
    ref = students().ref(student_id)
    if ref is None:
        abort(404)
    check_student(campus_id=ref.campus_id, tutor_id=ref.tutor_id, student_pk=ref.pk)
    return ref
