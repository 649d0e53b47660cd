"""Manual corrections from the student page: add or fix a session, record an excused
absence (``action`` = ``session`` or ``excuse``), confirm an unverified session."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask import flash, redirect, request, url_for
from werkzeug.wrappers import Response

from server.domain.contracts import ExcuseCategory
from server.domain.errors import DomainError
from server.i18n import _
from server.services.accounts.tutor_scope import StudentRef
from server.web import forms
from server.web.context import services
from server.web.forms import FieldError, refused
from server.web.guards import roles
from server.web.tutor import blueprint
from server.web.tutor.context import STAFF, actor, corrections, visible_student
from server.web.tutor.students import render_student

MAX_REASON = 500


def _zone() -> str:
    return services().settings.presence.timezone


def instant(form: Mapping[str, str], name: str, *, required: bool = True) -> datetime | None:
    """A hidden field naming a session by its start (ISO 8601 with an offset)."""
    raw = form.get(name, "").strip()
    if not raw and not required:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise FieldError(name, "Choose one of the proposed values.") from None
    if moment.tzinfo is None:
        raise FieldError(name, "Choose one of the proposed values.")
    return moment


def _fix_session(ref: StudentRef, form: Mapping[str, str]) -> str:
    session_start = instant(form, "session_start", required=False)
    start = forms.moment(form, "start", timezone=_zone())
    end = forms.moment(form, "end", timezone=_zone())
    reason = forms.text(form, "reason", max_chars=MAX_REASON)
    corrections().fix(
        ref, session_start=session_start, start=start, end=end, reason=reason, actor=actor()
    )
    return _("Session saved.") if session_start is None else _("Session corrected.")


def _excuse(ref: StudentRef, form: Mapping[str, str]) -> str:
    start = forms.moment(form, "excuse_start", timezone=_zone())
    end = forms.moment(form, "excuse_end", timezone=_zone())
    category = ExcuseCategory(
        forms.choice(form, "category", [item.value for item in ExcuseCategory])
    )
    note = forms.text(form, "note", required=False, max_chars=MAX_REASON)
    corrections().excuse(ref, start=start, end=end, category=category, note=note, actor=actor())
    return _("Excused absence recorded.")


@blueprint.post("/students/<student_id>/corrections")
@roles(*STAFF)
def correct(student_id: str) -> Response | tuple[str, int]:
    ref = visible_student(student_id)
    action = request.form.get("action", "")
    handler = {"session": _fix_session, "excuse": _excuse}.get(action)
    if handler is None:
        return render_student(ref, error=_("The request could not be understood."), status=400)
    try:
        message = handler(ref, request.form)
    except FieldError as failure:
        error = refused(failure, f"tutor_{action}")
        return render_student(ref, error=error, form_name=action, status=400)
    except DomainError as failure:
        error = _(failure.message, **failure.values)
        return render_student(ref, error=error, form_name=action, status=400)
    flash(message, "success")
    return redirect(url_for("tutor.student", student_id=student_id))


@blueprint.post("/students/<student_id>/confirm")
@roles(*STAFF)
def confirm(student_id: str) -> Response | tuple[str, int]:
    ref = visible_student(student_id)
    try:
        session_start = instant(request.form, "session_start")
        assert session_start is not None
        corrections().confirm(ref, session_start, actor())
    except FieldError as failure:
        error = refused(failure, "tutor_confirm")
        return render_student(ref, error=error, form_name="sessions", status=400)
    except DomainError as failure:
        error = _(failure.message, **failure.values)
        return render_student(ref, error=error, form_name="sessions", status=400)
    flash(_("Session confirmed."), "success")
    return redirect(url_for("tutor.student", student_id=student_id))
