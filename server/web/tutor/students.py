"""My students (this week's ledger), one student's page, and notes on a student."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from server.domain.errors import DomainError
from server.i18n import _
from server.services.accounts.tutor_scope import StudentRef
from server.services.screens.tutor_students import MAX_NOTE_CHARS
from server.web import forms
from server.web.forms import FieldError, refused
from server.web.guards import current, roles
from server.web.tutor import blueprint, context
from server.web.tutor.charts import history_chart
from server.web.tutor.context import STAFF, actor, scope, students, viewed, visible_student


@blueprint.get("/students", endpoint="students")
@roles(*STAFF)
def students_list() -> str:
    service = students()
    moment = context.now()
    week = service.week_of(moment)
    rows = service.listing(scope(), week, moment)
    viewed("roster", current().campus_id or "*", "students_page")
    return render_template("tutor/students.html", rows=rows, week=week)


def render_student(
    ref: StudentRef, *, error: str | None = None, form_name: str = "", status: int = 200
) -> tuple[str, int]:
    """The student page; after a refused form, with its message next to that form."""
    page = students().page(ref, context.now())
    viewed("student", ref.student_id, "student_page")
    body = render_template(
        "tutor/student.html",
        page=page,
        chart=history_chart(page.history) if page.history else "",
        error=error,
        error_form=form_name,
        form=request.form if request.method == "POST" else {},
        max_note=MAX_NOTE_CHARS,
    )
    return body, status


@blueprint.get("/students/<student_id>")
@roles(*STAFF)
def student(student_id: str) -> tuple[str, int]:
    return render_student(visible_student(student_id))


@blueprint.post("/students/<student_id>/notes")
@roles(*STAFF)
def add_note(student_id: str) -> Response | tuple[str, int]:
    ref = visible_student(student_id)
    try:
        body = forms.text(request.form, "body", max_chars=MAX_NOTE_CHARS)
        students().add_note(ref, body, actor())
    except FieldError as failure:
        return render_student(
            ref, error=refused(failure, "tutor_note"), form_name="note", status=400
        )
    except DomainError as failure:
        message = _(failure.message, **failure.values)
        return render_student(ref, error=message, form_name="note", status=400)
    flash(_("Note added."), "success")
    return redirect(url_for("tutor.student", student_id=student_id) + "#notes")
