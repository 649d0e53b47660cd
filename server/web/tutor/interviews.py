"""A tutor's individual interviews with their students over an academic year: the list,
and the forms logging, changing and deleting one (date, student, modality: on site,
phone, video), audited. A tutor sees and changes only their own students' interviews;
coordinators keep the whole campus's log (``coordinator/activities``)."""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from server.domain.academic_year import AcademicYear
from server.domain.accounts import Role
from server.domain.errors import DomainError
from server.i18n import _
from server.services.people import activities
from server.web import outcome_labels
from server.web.context import actor, now, people, services
from server.web.coordinator.activities import render_form, save_from_form
from server.web.forms import FieldError, refused
from server.web.guards import check_student, roles
from server.web.tutor import blueprint
from server.web.tutor.context import scope, students


def _my_students() -> dict[int, tuple[str, str, int | None]]:
    """pk → (name, campus, tutor id) of the tutor's students."""
    return {ref.pk: (ref.name, ref.campus_id, ref.tutor_id) for ref in students().students(scope())}


def _year() -> AcademicYear:
    text = request.args.get("year", "").strip()
    zone = services().settings.presence.zone
    try:
        return AcademicYear.parse(text) if text else AcademicYear.of(now().astimezone(zone).date())
    except ValueError:
        abort(400)


@blueprint.get("/interviews")
@roles(Role.TUTOR)
def interviews() -> str:
    year = _year()
    mine = _my_students()
    found = []
    workshops = []
    for campus in sorted({campus for _name, campus, _tutor in mine.values()}):
        log = activities.activities_for(people(), campus, year.first_day, year.last_day)
        found += [item for item in log.interviews if item.student_pk in mine]
        workshops += log.workshops
    found.sort(key=lambda item: (item.day, item.id))
    return render_template(
        "tutor/interviews.html",
        year=year,
        interviews=found,
        names={pk: name for pk, (name, _campus, _tutor) in mine.items()},
        has_students=bool(mine),
        workshops=workshops,
        **outcome_labels.template_values(),
    )


def _mine(item: Any) -> None:
    mine = _my_students()
    if item.student_pk not in mine:
        abort(403)
    _name, campus, tutor = mine[item.student_pk]
    check_student(campus_id=campus, tutor_id=tutor, student_pk=item.student_pk)


def _handle(item: Any) -> Response | tuple[str, int]:
    mine = _my_students()
    students = [(pk, name) for pk, (name, _campus, _tutor) in mine.items()]
    action = (
        url_for("tutor.new_interview")
        if item is None
        else url_for("tutor.edit_interview", item_id=item.id)
    )
    back = url_for("tutor.interviews")
    campus = "" if item is None else item.campus_id
    if request.method == "GET":
        return render_form(
            "interview", campus, item=item, action=action, back=back, students=students
        )
    try:
        raw = request.form.get("student", "").strip()
        pk = int(raw) if raw.isdigit() else 0
        if pk not in mine:
            raise FieldError("student", "Choose one of the proposed values.")
        campus = mine[pk][1]
        if item is not None and item.campus_id != campus:
            raise FieldError("student", "Choose one of the proposed values.")
        save_from_form(
            "interview",
            campus,
            request.form,
            None if item is None else item.id,
            tutor_id=mine[pk][2],
        )
    except FieldError as failure:
        error = refused(failure, "interview")
    except DomainError as failure:
        error = _(failure.message, **failure.values)
    else:
        flash(_("The interview is recorded."), "success")
        return redirect(back)
    return render_form(
        "interview",
        campus,
        item=item,
        action=action,
        back=back,
        students=students,
        error=error,
        status=400,
    )


@blueprint.route("/interviews/new", methods=["GET", "POST"])
@roles(Role.TUTOR)
def new_interview() -> Response | tuple[str, int]:
    return _handle(None)


def _interview(item_id: int) -> Any:
    item = activities.activity(people(), "interview", item_id)
    if item is None:
        abort(404)
    _mine(item)
    return item


@blueprint.route("/interviews/<int:item_id>", methods=["GET", "POST"])
@roles(Role.TUTOR)
def edit_interview(item_id: int) -> Response | tuple[str, int]:
    return _handle(_interview(item_id))


@blueprint.post("/interviews/<int:item_id>/delete")
@roles(Role.TUTOR)
def delete_interview(item_id: int) -> Response:
    item = _interview(item_id)
    activities.delete_activity(people(), "interview", item.id, item.campus_id, actor=actor())
    flash(_("The interview is deleted."), "success")
    return redirect(url_for("tutor.interviews"))


def _workshop(item_id: int) -> tuple[Any, dict[int, tuple[str, str, int | None]]]:
    """The workshop, if it is on the campus of one of the tutor's students."""
    item = activities.activity(people(), "workshop", item_id)
    if item is None:
        abort(404)
    mine = {pk: student for pk, student in _my_students().items() if student[1] == item.campus_id}
    if not mine:
        abort(403)
    return item, mine


@blueprint.route("/workshops/<int:item_id>", methods=["GET", "POST"])
@roles(Role.TUTOR)
def workshop(item_id: int) -> Response | tuple[str, int]:
    """Tick which of the tutor's students attended a workshop of their campus (the
    other attendees are left as they are; audited)."""
    item, mine = _workshop(item_id)
    error = ""
    if request.method == "POST":
        try:
            ticked = [int(value) for value in request.form.getlist("students")]
            activities.tick_attendees(
                people(),
                item.id,
                item.campus_id,
                among=mine,
                ticked=ticked,
                actor=actor(),
            )
        except ValueError as failure:
            message = getattr(failure, "message", "Choose one of the proposed values.")
            error = _(message, **getattr(failure, "values", {}))
        else:
            flash(_("The activity is recorded."), "success")
            return redirect(url_for("tutor.interviews"))
    body = render_template(
        "tutor/workshop.html",
        item=item,
        students=[(pk, name) for pk, (name, _campus, _tutor) in mine.items()],
        error=error,
    )
    return body, 400 if error else 200
