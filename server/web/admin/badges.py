"""Badges: unknown badges seen at the readers, attached to a student; a student's
badges revoked (lost card, end of contract). Attaching a badge that already has taps
lists them and asks whether they count for the student (``credit_past`` yes/no)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from server.domain.errors import DomainError
from server.i18n import _, ngettext
from server.services.people import admin_badges
from server.services.people.enrolment import PastTapsChoice, unknown_badges
from server.services.people.enrolment import revoke_badges as revoke_all
from server.web.admin import blueprint
from server.web.admin.common import actor, admin_only, chosen_campus, flash_success
from server.web.context import people, services
from server.web.forms import FieldError, choice, integer, refused, text
from server.web.guards import check_campus


def _page(status: int = 200, **extra: object) -> tuple[str, int]:
    campus, campuses = chosen_campus()
    sightings = unknown_badges(people(), campus=campus.id)
    values = {"error": None, "error_field": None, "form": {}, "question": None, **extra}
    page = render_template(
        "admin/badges.html", campus=campus, campuses=campuses, sightings=sightings, **values
    )
    return page, status


@blueprint.get("/badges")
@admin_only
def badges() -> tuple[str, int]:
    return _page()


def _student_of_this_campus(student_id: str) -> admin_badges.StudentRef:
    student = admin_badges.student_ref(people(), student_id)
    if student is None:
        raise FieldError("student_id", "There is no student {student_id}.", student_id=student_id)
    check_campus(student.campus_id)
    return student


@blueprint.post("/badges/attach")
@admin_only
def attach_badge() -> Response | tuple[str, int]:
    form = request.form
    try:
        sighting = integer(form, "sighting", minimum=1, maximum=2**31)
        student_id = text(form, "student_id", max_chars=64)
        campus = admin_badges.sighting_campus(people(), sighting)
        if campus is None:
            abort(404)
        check_campus(campus)
        _student_of_this_campus(student_id)
        credit = None
        if form.get("credit_past", ""):
            credit = choice(form, "credit_past", ["yes", "no"]) == "yes"
        admin_badges.attach(
            people(),
            services().store,
            sighting,
            student_id,
            actor=actor(),
            zone=services().settings.presence.zone,
            credit_past=credit,
        )
    except FieldError as failure:
        message = refused(failure, "admin_attach_badge")
        return _page(400, error=message, error_field=failure.field, form=dict(form))
    except PastTapsChoice as question:
        return _page(200, question=question, form=dict(form))
    except DomainError as failure:
        return _page(400, error=_(failure.message, **failure.values), form=dict(form))
    if credit is False:
        flash_success(
            "The badge now belongs to {student_id}; its earlier taps do not count.",
            student_id=student_id,
        )
    else:
        flash_success("The badge now belongs to {student_id}.", student_id=student_id)
    return redirect(url_for("admin.badges", campus=campus))


@blueprint.post("/badges/revoke")
@admin_only
def revoke_badges() -> Response | tuple[str, int]:
    form = request.form
    try:
        student_id = text(form, "student_id", max_chars=64)
        reason = text(form, "reason", max_chars=200)
        student = _student_of_this_campus(student_id)
        count = revoke_all(people(), student_id, reason=reason, actor=actor())
    except FieldError as failure:
        message = refused(failure, "admin_revoke_badges")
        return _page(400, error=message, error_field=failure.field, form=dict(form))
    revoked = ngettext(
        "{count} badge of {student_id} revoked.",
        "{count} badges of {student_id} revoked.",
        count,
        student_id=student_id,
    )
    flash(revoked, "success")
    return redirect(url_for("admin.badges", campus=student.campus_id))
