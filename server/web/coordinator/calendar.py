"""Closures and holidays of a campus for the coming months, and the form adding a
closure (``calendar_admin.add_closure``, audited). A closed day is not due: expected
hours drop and no absence is noticed on it."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from flask import Response, flash, redirect, render_template, request, url_for

from server.domain.accounts import Actor
from server.domain.errors import DomainError
from server.i18n import _
from server.services.people import coordinator_calendar
from server.services.people.calendar_admin import add_closure as save_closure
from server.services.people.coordinator_calendar import MAX_CLOSURE_DAYS
from server.web import forms
from server.web.context import people
from server.web.coordinator import blueprint
from server.web.coordinator.common import (
    MANAGERS,
    campus_names,
    chosen_campus,
    now,
    today,
)
from server.web.forms import FieldError, refused
from server.web.guards import current, roles


def _page(campus: str, *, error: str = "", values: dict[str, str] | None = None) -> str:
    upcoming = coordinator_calendar.upcoming(people(), campus, today())
    return render_template(
        "coordinator/calendar.html",
        campus=campus,
        campuses=campus_names(),
        calendar=upcoming,
        error=error,
        values=values or {},
    )


@blueprint.get("/calendar")
@roles(*MANAGERS)
def calendar() -> str:
    return _page(chosen_campus())


def _closure_form(form: Mapping[str, str]) -> tuple[date, date, str]:
    start = forms.day(form, "start")
    end = forms.day(form, "end")
    label = forms.text(form, "label", max_chars=200)
    assert start is not None and end is not None
    if end < start:
        raise FieldError("end", "The end date cannot be before the start date.")
    if (end - start).days >= MAX_CLOSURE_DAYS:
        raise FieldError("end", "At most {count} days at once.", count=MAX_CLOSURE_DAYS)
    return start, end, label


@blueprint.post("/calendar/closures")
@roles(*MANAGERS)
def add_closure() -> Response | tuple[str, int]:
    campus = chosen_campus(request.form)
    try:
        start, end, label = _closure_form(request.form)
    except FieldError as failure:
        message = refused(failure, "add_closure")
        return _page(campus, error=message, values=request.form.to_dict()), 400
    try:
        save_closure(
            people(),
            campus,
            start,
            end,
            label=label,
            actor=Actor(current().name, now()),
        )
    except DomainError as failure:
        message = _(failure.message, **failure.values)
        return _page(campus, error=message, values=request.form.to_dict()), 400
    flash(_("Closure added: the campus is closed on those days."), "success")
    return redirect(url_for("coordinator.calendar", campus=campus))
