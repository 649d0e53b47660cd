"""The campus's activity log over an academic year, and the forms adding, changing and
deleting a workshop (with its attendees, ticked from the campus's students), an
individual interview, an exam held on site or a steering-committee (COPIL) meeting.
Coordinators of the campus and admins; every change is audited
(``services.activities``). Tutors log their students' interviews on their own page
(``tutor/interviews``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from server.domain.activities import Modality
from server.domain.errors import DomainError
from server.i18n import _, ngettext
from server.services.people import activities
from server.web import forms, outcome_labels
from server.web.context import actor, people
from server.web.coordinator import blueprint
from server.web.coordinator.common import (
    MANAGERS,
    campus_names,
    chosen_campus,
    invalid,
    services,
    today,
)
from server.web.coordinator.outcomes import year_param
from server.web.forms import FieldError, refused
from server.web.guards import check_campus, current, roles


def campus_students(campus_id: str, tutor_id: int | None = None) -> list[tuple[int, str]]:
    """(pk, "Last First") of the campus's students (a tutor's only, with ``tutor_id``)."""
    return activities.campus_students(people(), campus_id, tutor_id)


@blueprint.get("/activities")
@roles(*MANAGERS)
def activities_page() -> str | tuple[str, int]:
    campus = chosen_campus()
    try:
        year = year_param()
    except FieldError as failure:
        return invalid(_("Activity log"), refused(failure, "activities"))
    log = activities.activities_for(people(), campus, year.first_day, year.last_day)
    return render_template(
        "coordinator/activities.html",
        campus=campus,
        campuses=campus_names(),
        year=year,
        log=log,
        names=dict(campus_students(campus)),
        **outcome_labels.template_values(),
    )


def _kind(kind: str) -> str:
    if kind not in activities.KINDS:
        abort(404)
    return kind


def _pks(form: Any, name: str) -> list[int]:
    try:
        return [int(value) for value in form.getlist(name)]
    except ValueError:
        raise FieldError(name, "Choose one of the proposed values.") from None


def save_from_form(
    kind: str, campus: str, form: Any, item_id: int | None, *, tutor_id: int | None
) -> int:
    """Read the kind's fields and save (FieldError / DomainError on bad input)."""
    unit_of_work = people()
    day = forms.day(form, "day")
    assert day is not None
    note = forms.text(form, "note", required=False, max_chars=1000)
    common = {"day": day, "note": note, "actor": actor(), "item_id": item_id}
    if kind == "workshop":
        theme = forms.text(form, "theme", max_chars=200)
        students = _pks(form, "students")
        return activities.save_workshop(
            unit_of_work, campus, theme=theme, attendee_pks=students, **common
        )
    if kind == "interview":
        student = forms.integer(form, "student", minimum=1, maximum=2**31)
        modality = Modality(forms.choice(form, "modality", [m.value for m in Modality]))
        return activities.save_interview(
            unit_of_work, campus, student_pk=student, modality=modality, tutor_id=tutor_id, **common
        )
    if kind == "exam":
        institution = forms.text(form, "institution", max_chars=200)
        raw = form.get("candidates", "").strip()
        count = forms.integer(form, "candidates", minimum=0, maximum=500) if raw else 0
        return activities.save_exam(
            unit_of_work,
            campus,
            institution=institution,
            student_pks=_pks(form, "students"),
            candidates=count,
            **common,
        )
    return activities.save_meeting(unit_of_work, campus, **common)


def _values(item: Any) -> dict[str, Any]:
    """The form's values of an existing entry."""
    if item is None:
        return {}
    values: dict[str, Any] = {"day": item.day.isoformat(), "note": item.note}
    for name in ("theme", "modality", "institution"):
        if hasattr(item, name):
            values[name] = str(getattr(item, name))
    if hasattr(item, "attendee_pks"):
        values["students"] = [str(pk) for pk in item.attendee_pks]
    if hasattr(item, "student_pks"):
        values["students"] = [str(pk) for pk in item.student_pks]
        values["candidates"] = str(item.candidates) if item.candidates else ""
    if hasattr(item, "student_pk"):
        values["student"] = str(item.student_pk)
    return values


def _form_values(form: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {key: form.get(key, "") for key in form}
    values["students"] = request.form.getlist("students")
    return values


def render_form(
    kind: str,
    campus: str,
    *,
    item: Any,
    action: str,
    back: str,
    students: list[tuple[int, str]],
    error: str = "",
    status: int = 200,
    posted: bool = True,
) -> tuple[str, int]:
    """The form of one activity; after a refused post, with what was posted (unless
    ``posted`` is False: the badges form posts other fields)."""
    from_post = request.method == "POST" and posted
    values = _form_values(request.form) if from_post else _values(item)
    if not values.get("day"):
        values.setdefault("day", today().isoformat())
    body = render_template(
        "coordinator/activity_form.html",
        kind=kind,
        campus=campus,
        item=item,
        action=action,
        back=back,
        students=students,
        values=values,
        error=error,
        readers=(
            activities.campus_readers(people(), campus)
            if kind == "workshop" and item is not None and action.startswith("/coordinator/")
            else []
        ),
        **outcome_labels.template_values(),
    )
    return body, status


def _handle(kind: str, campus: str, item: Any) -> Response | tuple[str, int]:
    item_id = None if item is None else item.id
    action = (
        url_for("coordinator.new_activity", kind=kind, campus=campus)
        if item is None
        else url_for("coordinator.edit_activity", kind=kind, item_id=item.id)
    )
    back = url_for("coordinator.activities_page", campus=campus)
    students = campus_students(campus)
    if request.method == "GET":
        return render_form(kind, campus, item=item, action=action, back=back, students=students)
    try:
        tutor_id = current().tutor_id if item is None else getattr(item, "tutor_id", None)
        save_from_form(kind, campus, request.form, item_id, tutor_id=tutor_id)
    except FieldError as failure:
        error = refused(failure, f"activity_{kind}")
    except DomainError as failure:
        error = _(failure.message, **failure.values)
    else:
        flash(_("The activity is recorded."), "success")
        return redirect(back)
    return render_form(
        kind,
        campus,
        item=item,
        action=action,
        back=back,
        students=students,
        error=error,
        status=400,
    )


@blueprint.route("/activities/<kind>/new", methods=["GET", "POST"])
@roles(*MANAGERS)
def new_activity(kind: str) -> Response | tuple[str, int]:
    kind = _kind(kind)
    return _handle(kind, chosen_campus(), None)


def _existing(kind: str, item_id: int) -> Any:
    item = activities.activity(people(), kind, item_id)
    if item is None:
        abort(404)
    check_campus(item.campus_id)
    return item


@blueprint.route("/activities/<kind>/<int:item_id>", methods=["GET", "POST"])
@roles(*MANAGERS)
def edit_activity(kind: str, item_id: int) -> Response | tuple[str, int]:
    item = _existing(_kind(kind), item_id)
    return _handle(kind, item.campus_id, item)


@blueprint.post("/activities/<kind>/<int:item_id>/delete")
@roles(*MANAGERS)
def delete_activity(kind: str, item_id: int) -> Response:
    item = _existing(_kind(kind), item_id)
    try:
        activities.delete_activity(people(), kind, item_id, item.campus_id, actor=actor())
    except DomainError as failure:
        flash(_(failure.message, **failure.values), "error")
    else:
        flash(_("The activity is deleted."), "success")
    return redirect(url_for("coordinator.activities_page", campus=item.campus_id))


@blueprint.post("/activities/workshop/<int:item_id>/badges")
@roles(*MANAGERS)
def workshop_badges(item_id: int) -> Response | tuple[str, int]:
    """Take a workshop's attendance from the badges tapped at a room reader during it
    (``services.activities.attendance_from_badges``)."""
    item = _existing("workshop", item_id)
    zone = services().settings.presence.timezone
    try:
        start = forms.moment(request.form, "start", timezone=zone)
        end = forms.moment(request.form, "end", timezone=zone)
        reader = forms.text(request.form, "reader", max_chars=64)
        count = activities.attendance_from_badges(
            people(),
            services().store,
            item.id,
            item.campus_id,
            reader=reader,
            start=start,
            end=end,
            actor=actor(),
        )
    except FieldError as failure:
        error = refused(failure, "workshop_badges")
    except DomainError as failure:
        error = _(failure.message, **failure.values)
    else:
        flash(
            ngettext(
                "Attendance taken from the badges: {count} student.",
                "Attendance taken from the badges: {count} students.",
                count,
            ),
            "success",
        )
        return redirect(url_for("coordinator.edit_activity", kind="workshop", item_id=item.id))
    return render_form(
        "workshop",
        item.campus_id,
        item=item,
        action=url_for("coordinator.edit_activity", kind="workshop", item_id=item.id),
        back=url_for("coordinator.activities_page", campus=item.campus_id),
        students=campus_students(item.campus_id),
        error=error,
        status=400,
        posted=False,
    )
