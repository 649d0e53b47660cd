"""Students' academic years: the campus's roster for a year (programme, institution,
profile, result) and the form recording one student's year (``services.outcomes``,
checked by ``domain.outcomes``, audited). Coordinators of the campus and admins."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from server.domain.academic_year import AcademicYear
from server.domain.errors import DomainError
from server.domain.outcomes import AgeBand, ProfileStatus, ProgrammeType, Result, StudentYear
from server.i18n import _
from server.ports.people import StudentRecord
from server.services.people import outcomes
from server.web import forms, outcome_labels
from server.web.context import actor, people
from server.web.coordinator import blueprint
from server.web.coordinator.common import (
    MANAGERS,
    campus_names,
    chosen_campus,
    invalid,
    today,
)
from server.web.forms import FieldError, refused
from server.web.guards import check_campus, roles


def year_param(source: Mapping[str, str] | None = None) -> AcademicYear:
    text = (request.args if source is None else source).get("year", "").strip()
    if not text:
        return AcademicYear.of(today())
    try:
        return AcademicYear.parse(text)
    except ValueError:
        raise FieldError("year", "An academic year is expected, like 2026-2027.") from None


@blueprint.get("/outcomes")
@roles(*MANAGERS)
def outcomes_page() -> str | tuple[str, int]:
    campus = chosen_campus()
    try:
        year = year_param()
    except FieldError as failure:
        return invalid(_("Students' years"), refused(failure, "outcomes"))
    roster = outcomes.year_roster(people(), campus, year)
    return render_template(
        "coordinator/outcomes.html",
        campus=campus,
        campuses=campus_names(),
        roster=roster,
        year=year,
        **outcome_labels.template_values(),
    )


def _student(student_pk: int) -> StudentRecord:
    student = outcomes.student_by_pk(people(), student_pk)
    if student is None:
        abort(404)
    check_campus(student.campus_id)
    return student


def _read(form: Mapping[str, str], blank: StudentYear) -> StudentYear:
    public = forms.choice(form, "institution_public", ("", "public", "private"))
    return replace(
        blank,
        programme=forms.text(form, "programme", required=False, max_chars=200),
        programme_type=ProgrammeType(
            forms.choice(form, "programme_type", [kind.value for kind in ProgrammeType])
        ),
        institution=forms.text(form, "institution", required=False, max_chars=200),
        institution_public={"": None, "public": True, "private": False}[public],
        enrolled_on=forms.day(form, "enrolled_on", required=False),
        left_on=forms.day(form, "left_on", required=False),
        age_band=AgeBand(forms.choice(form, "age_band", [band.value for band in AgeBand])),
        status=ProfileStatus(forms.choice(form, "status", [s.value for s in ProfileStatus])),
        result=Result(forms.choice(form, "result", [result.value for result in Result])),
        result_on=forms.day(form, "result_on", required=False),
        result_reason=forms.text(form, "result_reason", required=False, max_chars=500),
    )


def _form_page(
    record: StudentYear, exists: bool, *, error: str = "", status: int = 200
) -> tuple[str, int]:
    body = render_template(
        "coordinator/outcome_form.html",
        record=record,
        exists=exists,
        error=error,
        form=request.form if request.method == "POST" else None,
        **outcome_labels.template_values(),
    )
    return body, status


@blueprint.route("/outcomes/<int:student_rowid>", methods=["GET", "POST"])
@roles(*MANAGERS)
def outcome(student_rowid: int) -> Response | tuple[str, int]:
    """``student_rowid``: the student's registry key (``Student.id``)."""
    student = _student(student_rowid)
    source = request.form if request.method == "POST" else request.args
    try:
        year = year_param(source)
    except FieldError as failure:
        return invalid(_("Students' years"), refused(failure, "outcome"))
    record, exists = outcomes.student_year(people(), student.pk, year)
    if request.method == "GET":
        return _form_page(record, exists)
    try:
        changed = _read(request.form, record)
        outcomes.save_student_year(people(), changed, actor=actor())
    except FieldError as failure:
        return _form_page(record, exists, error=refused(failure, "outcome"), status=400)
    except DomainError as failure:
        return _form_page(record, exists, error=_(failure.message, **failure.values), status=400)
    flash(_("The student's year is recorded."), "success")
    return redirect(url_for("coordinator.outcomes_page", campus=student.campus_id, year=str(year)))
