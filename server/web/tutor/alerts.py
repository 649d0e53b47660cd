"""One alert on one screen: who, which slot, since when, the number to call, and the
call-log form (outcome, reason, note, excused); an *acknowledge* button."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from server.domain.alerts import MAX_REASON_CHARS, CallLog, CallOutcome, ReasonCategory
from server.domain.contracts import DomainError
from server.i18n import _
from server.services.alerts import AlertService
from server.services.tutor_board import AlertCard
from server.web import forms
from server.web.forms import FieldError, refused
from server.web.guards import check_student, roles
from server.web.tutor import blueprint
from server.web.tutor.context import STAFF, actor, board, viewed

FORM = "tutor_call"


def _alerts() -> AlertService:
    return current_app.extensions["campus"]["alerts"]


def _visible_alert(public_id: str) -> AlertCard:
    card = board().alert(public_id)
    if card is None:
        abort(404)
    student = card.student
    check_student(campus_id=student.campus_id, tutor_id=student.tutor_id, student_pk=student.pk)
    return card


def _page(card: AlertCard, *, error: str | None = None, status: int = 200) -> tuple[str, int]:
    viewed("student", card.student.student_id, "alert_page")
    page = render_template(
        "tutor/alert.html",
        card=card,
        error=error,
        form=request.form if request.method == "POST" else {},
        max_reason=MAX_REASON_CHARS,
    )
    return page, status


def read_call(form: Mapping[str, str], at: datetime) -> CallLog:
    """The call-log form as a :class:`CallLog` made now; FieldError names a bad field."""
    outcome = CallOutcome(forms.choice(form, "outcome", [item.value for item in CallOutcome]))
    category = None
    if form.get("reason_category", ""):
        category = ReasonCategory(
            forms.choice(form, "reason_category", [item.value for item in ReasonCategory])
        )
    reason = forms.text(form, "reason", required=False, max_chars=MAX_REASON_CHARS)
    excused = form.get("excused") == "yes"
    if excused and category is None:
        raise FieldError("reason_category", "Choose a reason to excuse the absence.")
    return CallLog(at, outcome, category, reason, excused)


@blueprint.route("/alerts/<public_id>", methods=["GET", "POST"])
@roles(*STAFF)
def alert(public_id: str) -> Response | tuple[str, int]:
    card = _visible_alert(public_id)
    if request.method == "GET":
        return _page(card)
    who = actor()
    try:
        _alerts().log_call(public_id, read_call(request.form, who.at), who)
    except FieldError as failure:
        return _page(card, error=refused(failure, FORM), status=400)
    except DomainError as failure:
        return _page(card, error=_(failure.message, **failure.values), status=400)
    flash(_("Call recorded for {name}.", name=card.student.name), "success")
    return redirect(url_for("tutor.now"))


@blueprint.post("/alerts/<public_id>/ack")
@roles(*STAFF)
def acknowledge(public_id: str) -> Response:
    card = _visible_alert(public_id)
    _alerts().acknowledge(public_id, actor())
    flash(_("Alert acknowledged: {name}.", name=card.student.name), "success")
    return redirect(url_for("tutor.alert", public_id=public_id))
