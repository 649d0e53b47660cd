"""Students: the list per campus, the CSV import with its row-by-row report, and one
student's page: identity and contact, contract editor (weekly hours, slots, validity)
and tutor. The erasure is in :mod:`server.web.admin.erasure`."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping
from datetime import date
from typing import cast

from flask import abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from server.adapters.spreadsheets import CSV_TYPE
from server.domain.contracts import Contract, Slot, format_slots
from server.domain.errors import DomainError
from server.i18n import _, current_language
from server.services.people import admin_students
from server.services.people.student_import import (
    STUDENT_FIELDS,
    RowError,
    StudentRow,
    check_student_id,
    hash_uid,
    import_summary,
    template_csv,
)
from server.services.people.student_import import import_students as run_import
from server.web.admin import blueprint, fields
from server.web.admin.common import (
    actor,
    admin_only,
    chosen_campus,
    flash_success,
    now,
)
from server.web.context import people, services
from server.web.formatting import day as format_day
from server.web.formatting import local
from server.web.forms import FieldError, day, refused, text
from server.web.guards import check_campus, current

_FRENCH_DAYS = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")


def slots_text(slots: Iterable[Slot]) -> str:
    """Slots as the form shows them, with the day names of the page's language."""
    if current_language() != "fr":
        return format_slots(slots)
    return "; ".join(
        f"{_FRENCH_DAYS[slot.weekday]} {slot.start:%H:%M}-{slot.end:%H:%M}" for slot in slots
    )


@blueprint.get("/students")
@admin_only
def students() -> str:
    campus, campuses = chosen_campus()
    search = request.args.get("q", "").strip()[:100]
    rows = admin_students.list_students(people(), [campus.id], search)
    services().access_log.viewed(
        current(), entity="campus", entity_id=campus.id, what="admin_student_list", at=now()
    )
    return render_template(
        "admin/students.html",
        campus=campus,
        campuses=campuses,
        search=search,
        rows=rows,
        limit=admin_students.MAX_LISTED,
    )


@blueprint.route("/students/import", methods=["GET", "POST"])
@admin_only
def import_students() -> str | tuple[str, int]:
    campus, campuses = chosen_campus()
    page = {
        "campus": campus,
        "campuses": campuses,
        "report": None,
        "error": None,
        "strict": False,
    }
    if request.method == "GET":
        return render_template("admin/import.html", **page, dry_run=True)
    dry_run = fields.checkbox(request.form, "dry_run")
    page["strict"] = fields.checkbox(request.form, "strict")
    settings = services().settings
    try:
        data = fields.csv_file(request.files, "file")
        report = run_import(
            people(),
            data,
            campus_id=campus.id,
            secret=settings.badge_secret.encode(),
            timezone=settings.presence.timezone,
            retention_days=settings.events.retention_days,
            actor=actor(),
            dry_run=dry_run,
            strict=bool(page["strict"]),
        )
    except FieldError as failure:
        page["error"] = refused(failure, "admin_import")
        return render_template("admin/import.html", **page, dry_run=dry_run), 400
    except csv.Error:
        failure = FieldError("file", "The file cannot be read as CSV. Save it as CSV again.")
        page["error"] = refused(failure, "admin_import")
        return render_template("admin/import.html", **page, dry_run=dry_run), 400
    if report.ok and not dry_run:
        flash_success("Import done: {summary}.", summary=import_summary(report))
    page["report"] = report
    return render_template("admin/import.html", **page, dry_run=dry_run)


@blueprint.get("/students/import/modele-etudiants.csv")
@admin_only
def import_template() -> Response:
    """The import file to fill in: the French header and one example row."""
    return Response(
        template_csv(),
        mimetype=CSV_TYPE,
        headers={"Content-Disposition": "attachment; filename=modele-etudiants.csv"},
    )


NEW_FIELDS = (
    "student_id",
    *admin_students.IDENTITY_FIELDS,
    "tutor_id",
    "weekly_hours",
    "slots",
    "valid_from",
    "valid_to",
)


def _new_student_row(
    form: Mapping[str, str], tutors: list[admin_students.TutorRef], secret: bytes
) -> StudentRow:
    """The form's student as a checked row, by the import's rules; :class:`FieldError`
    names the first bad field. The badge UID is hashed at once and never shown again."""
    student_id = text(form, "student_id", max_chars=64)
    try:
        check_student_id(student_id)
    except RowError:
        raise FieldError(
            "student_id", "Letters, digits, dots, dashes and underscores only (64 at most)."
        ) from None
    values = {name: "" for name in STUDENT_FIELDS} | fields.identity(form)
    chosen = form.get("tutor_id", "")
    emails = {str(tutor.id): tutor.email for tutor in tutors}
    if chosen and chosen not in emails:
        raise FieldError("tutor_id", "Choose one of the proposed values.")
    weekly = fields.hours(form, "weekly_hours")
    slots = fields.slots(form, "slots")
    valid_from = cast(date, day(form, "valid_from"))
    valid_to = day(form, "valid_to", required=False)
    if valid_to is not None and valid_to < valid_from:
        raise FieldError("valid_to", "The end date is before the start date.")
    try:
        badge = hash_uid(form.get("badge_uid", ""), secret)
    except RowError:
        raise FieldError(
            "badge_uid", "A badge number is expected: 4, 7, 8 or 10 bytes in hexadecimal."
        ) from None
    contract = Contract(weekly, slots, valid_from, valid_to)
    return StudentRow(0, student_id, values, emails.get(chosen, ""), badge, contract, ())


@blueprint.route("/students/new", methods=["GET", "POST"])
@admin_only
def new_student() -> Response | str | tuple[str, int]:
    """Add one student by hand: identity, contact, tutor, contract and, optionally, a
    badge. Saved and audited as an imported row is."""
    campus, campuses = chosen_campus()
    tutors = admin_students.tutors(people())
    page = {"campus": campus, "campuses": campuses, "tutors": tutors, "form": {}}
    if request.method == "GET":
        page["form"] = {"weekly_hours": "12"}
        return render_template("admin/student_new.html", **page, error=None, error_field=None)
    form, settings = request.form, services().settings
    page["form"] = {name: form.get(name, "") for name in NEW_FIELDS}  # never the badge
    try:
        row = _new_student_row(form, tutors, settings.badge_secret.encode())
        admin_students.create_student(
            people(),
            row,
            campus_id=campus.id,
            actor=actor(),
            timezone=settings.presence.timezone,
            retention_days=settings.events.retention_days,
        )
    except FieldError as failure:
        message = refused(failure, "admin_new_student")
        html = render_template(
            "admin/student_new.html", **page, error=message, error_field=failure.field
        )
        return html, 400
    except DomainError as failure:
        message = _(failure.message, **failure.values)
        taken = failure.message.startswith("A student with the id")
        html = render_template(
            "admin/student_new.html",
            **page,
            error=message,
            error_field="student_id" if taken else None,
        )
        return html, 400
    flash_success("Student {student_id} added.", student_id=row.student_id)
    return redirect(url_for("admin.student", student_id=row.student_id))


def _student_or_404(student_id: str) -> admin_students.StudentFile:
    found = admin_students.student_file(people(), student_id, local(now()).date())
    if found is None:
        abort(404)
    check_campus(found.campus_id)
    return found


def _contract_form(found: admin_students.StudentFile) -> dict[str, str]:
    contract = found.contract
    if contract is None:
        return {"weekly_hours": "12", "slots": "", "valid_from": "", "valid_to": ""}
    hours = f"{contract.weekly_minutes / 60:g}"
    return {
        "weekly_hours": hours.replace(".", ",") if current_language() == "fr" else hours,
        "slots": slots_text(contract.slots),
        "valid_from": contract.valid_from.isoformat(),
        "valid_to": contract.valid_to.isoformat() if contract.valid_to else "",
    }


def _identity_form(found: admin_students.StudentFile) -> dict[str, str]:
    """The identity fields as the form shows them (never the phone number)."""
    names = [name for name in admin_students.IDENTITY_FIELDS if name != "phone"]
    return {name: getattr(found, name) for name in names}


def _student_page(found: admin_students.StudentFile, **extra: object) -> str:
    services().access_log.viewed(
        current(), entity="student", entity_id=found.student_id, what="admin_student", at=now()
    )
    values = {
        "student": found,
        "form": _contract_form(found),
        "identity": _identity_form(found),
        "tutors": admin_students.tutors(people()),
        "slots_text": slots_text,
        "error": None,
        "error_field": None,
        **extra,
    }
    return render_template("admin/student.html", **values)


@blueprint.get("/students/<student_id>")
@admin_only
def student(student_id: str) -> str:
    return _student_page(_student_or_404(student_id))


@blueprint.post("/students/<student_id>/contract")
@admin_only
def change_contract(student_id: str) -> Response | tuple[str, int]:
    found = _student_or_404(student_id)
    form, settings = request.form, services().settings
    try:
        weekly = fields.hours(form, "weekly_hours")
        slots = fields.slots(form, "slots")
        valid_from = cast(date, day(form, "valid_from"))
        valid_to = day(form, "valid_to", required=False)
        if valid_to is not None and valid_to < valid_from:
            raise FieldError("valid_to", "The end date is before the start date.")
        reopened = admin_students.change_contract(
            people(),
            student_id,
            weekly_minutes=weekly,
            slots=slots,
            valid_from=valid_from,
            valid_to=valid_to,
            actor=actor(),
            timezone=settings.presence.timezone,
            retention_days=settings.events.retention_days,
        )
    except FieldError as failure:
        message = refused(failure, "admin_contract")
        page = _student_page(found, form=dict(form), error=message, error_field=failure.field)
        return page, 400
    except DomainError as failure:
        message = _(failure.message, **failure.values)
        return _student_page(found, form=dict(form), error=message), 400
    if reopened is None:
        flash_success("The contract of {student_id} was already so.", student_id=student_id)
    elif len(reopened) == 1:
        flash_success(
            "The contract of {student_id} is saved. The closed week of {first} will be"
            " recomputed with it.",
            student_id=student_id,
            first=format_day(reopened[0].monday, "long"),
        )
    elif reopened:
        flash_success(
            "The contract of {student_id} is saved. The closed weeks from the one of {first}"
            " to the one of {last} will be recomputed with it.",
            student_id=student_id,
            first=format_day(reopened[0].monday, "long"),
            last=format_day(reopened[-1].monday, "long"),
        )
    else:
        flash_success("The contract of {student_id} is saved.", student_id=student_id)
    return redirect(url_for("admin.student", student_id=student_id))


@blueprint.post("/students/<student_id>/tutor")
@admin_only
def assign_tutor(student_id: str) -> Response | tuple[str, int]:
    found = _student_or_404(student_id)
    tutors = admin_students.tutors(people())
    try:
        chosen = request.form.get("tutor_id", "")
        if chosen and chosen not in {str(tutor.id) for tutor in tutors}:
            raise FieldError("tutor_id", "Choose one of the proposed values.")
        admin_students.assign_tutor(people(), student_id, int(chosen) if chosen else None, actor())
    except FieldError as failure:
        message = refused(failure, "admin_tutor")
        return _student_page(found, error=message, error_field=failure.field), 400
    flash_success("The tutor of {student_id} is saved.", student_id=student_id)
    return redirect(url_for("admin.student", student_id=student_id))


@blueprint.post("/students/<student_id>/badge")
@admin_only
def give_badge(student_id: str) -> Response | tuple[str, int]:
    """Give the student a badge typed by its number (hashed at once, never shown)."""
    found = _student_or_404(student_id)
    try:
        try:
            badge = hash_uid(
                request.form.get("badge_uid", ""), services().settings.badge_secret.encode()
            )
        except RowError:
            badge = ""
        if not badge:
            raise FieldError(
                "badge_uid", "A badge number is expected: 4, 7, 8 or 10 bytes in hexadecimal."
            )
        given = admin_students.give_badge(people(), student_id, badge, actor())
    except FieldError as failure:
        message = refused(failure, "admin_give_badge")
        return _student_page(found, error=message, error_field=failure.field), 400
    except DomainError as failure:
        return _student_page(found, error=_(failure.message, **failure.values)), 400
    if given:
        flash_success("The badge is given to {student_id}.", student_id=student_id)
    else:
        flash_success("{student_id} already holds this badge.", student_id=student_id)
    return redirect(url_for("admin.student", student_id=student_id))


@blueprint.post("/students/<student_id>/identity")
@admin_only
def edit_student(student_id: str) -> Response | tuple[str, int]:
    found = _student_or_404(student_id)
    form = request.form
    try:
        values = fields.identity(form)
        changed = admin_students.change_identity(people(), student_id, values, actor())
    except FieldError as failure:
        message = refused(failure, "admin_identity")
        identity = {name: form.get(name, "") for name in admin_students.IDENTITY_FIELDS}
        page = _student_page(found, identity=identity, error=message, error_field=failure.field)
        return page, 400
    except DomainError as failure:
        return _student_page(found, error=_(failure.message, **failure.values)), 400
    if changed:
        flash_success("The identity of {student_id} is saved.", student_id=student_id)
    else:
        flash_success("The identity of {student_id} was already so.", student_id=student_id)
    return redirect(url_for("admin.student", student_id=student_id))
