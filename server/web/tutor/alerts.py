"""One alert on one screen: who, which slot, since when, the number to call, where it
stands (``domain.alerts.life``: next call due, escalated…), and the call-log form (time
of the call, outcome, reason, note, excused); an *acknowledge* button. A closed alert
takes no new call: a logged call is fixed with *Correct this call* (audited).

The time of the call is a local time of today (a tutor who called from the corridor logs
it later), or of yesterday for an alert older than today when that time has not come yet
today (a call at 23:50 logged at 00:10); the alert rules refuse a call in the future or
before the alert."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from server.domain.alerts import (
    MAX_REASON_CHARS,
    AlertClosed,
    CallLog,
    CallOutcome,
    ReasonCategory,
)
from server.domain.errors import DomainError
from server.i18n import _
from server.services.alerts.alerts import AlertService
from server.services.screens.tutor_board import AlertCard
from server.web import forms
from server.web.context import services
from server.web.errors import message_of, status_of
from server.web.formatting import local
from server.web.forms import FieldError, refused
from server.web.guards import check_student, roles
from server.web.tutor import blueprint
from server.web.tutor.context import STAFF, actor, board, now, viewed

FORM = "tutor_call"


def _alerts() -> AlertService:
    return services().alerts


def _visible_alert(public_id: str) -> AlertCard:
    card = board().alert(public_id, now())
    if card is None:
        abort(404)
    student = card.student
    check_student(campus_id=student.campus_id, tutor_id=student.tutor_id, student_pk=student.pk)
    return card


def _zone() -> ZoneInfo:
    return services().settings.presence.zone


def _page(card: AlertCard, *, error: str | None = None, status: int = 200) -> tuple[str, int]:
    viewed("student", card.student.student_id, "alert_page")
    page = render_template(
        "tutor/alert.html",
        card=card,
        error=error,
        form=request.form if request.method == "POST" else {},
        max_reason=MAX_REASON_CHARS,
        call_time=local(actor().at).strftime("%H:%M"),
    )
    return page, status


def called_at(
    form: Mapping[str, str], now: datetime, zone: ZoneInfo, noticed_at: datetime
) -> datetime:
    """The ``called_at`` field (``HH:MM``, a ``time`` input) as a local time of today, or
    of yesterday when it has not come yet today and the alert was noticed before today;
    empty: ``now``."""
    raw = form.get("called_at", "").strip()
    if not raw:
        return now
    try:
        clock = time.fromisoformat(raw)
    except ValueError:
        raise FieldError("called_at", "A time is expected (hours:minutes).") from None
    if clock.tzinfo is not None:
        raise FieldError("called_at", "A time is expected (hours:minutes).")
    today = now.astimezone(zone).date()
    moment = datetime.combine(today, clock, tzinfo=zone)
    if moment > now and noticed_at.astimezone(zone).date() < today:
        moment = datetime.combine(today - timedelta(days=1), clock, tzinfo=zone)
    return moment


def read_call(
    form: Mapping[str, str], now: datetime, zone: ZoneInfo, noticed_at: datetime
) -> CallLog:
    """The call-log form as a :class:`CallLog`; FieldError names a bad field."""
    at = called_at(form, now, zone, noticed_at)
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
        call = read_call(request.form, who.at, _zone(), card.noticed_at)
        _alerts().log_call(public_id, call, who)
    except FieldError as failure:
        return _page(card, error=refused(failure, FORM), status=400)
    except DomainError as failure:
        return _page(card, error=message_of(failure), status=status_of(failure))
    flash(_("Call recorded for {name}.", name=card.student.name), "success")
    return redirect(url_for("tutor.now"))


@blueprint.post("/alerts/<public_id>/ack")
@roles(*STAFF)
def acknowledge(public_id: str) -> Response | tuple[str, int]:
    card = _visible_alert(public_id)
    try:
        _alerts().acknowledge(public_id, actor())
    except AlertClosed as failure:
        return _page(card, error=message_of(failure), status=status_of(failure))
    flash(_("Alert acknowledged: {name}.", name=card.student.name), "success")
    return redirect(url_for("tutor.alert", public_id=public_id))


@blueprint.post("/alerts/<public_id>/calls/<int:index>")
@roles(*STAFF)
def correct_call(public_id: str, index: int) -> Response | tuple[str, int]:
    """*Correct this call*: its time, outcome and reason, with why (audited)."""
    card = _visible_alert(public_id)
    if not 0 <= index < len(card.calls):
        abort(404)
    who = actor()
    zone = _zone()
    try:
        note = forms.text(request.form, "note", max_chars=MAX_REASON_CHARS)
        # The time is of the corrected call's own day.
        day = card.calls[index].called_at.astimezone(zone)
        day_end = datetime.combine(day.date(), time(23, 59), tzinfo=zone)
        call = read_call(request.form, min(day_end, who.at), zone, day)
        _alerts().correct_call(public_id, index, call, note, who)
    except FieldError as failure:
        return _page(card, error=refused(failure, "tutor_call_correction"), status=400)
    except DomainError as failure:
        return _page(card, error=_(failure.message, **failure.values), status=400)
    flash(_("Call corrected for {name}.", name=card.student.name), "success")
    return redirect(url_for("tutor.alert", public_id=public_id))
