"""The presence report over a period (``from``/``to`` days, or ``year``: an ISO year
``2026`` or an academic year ``2026-2027``): one row per student-week and the totals per
student, as a page and as CSV/XLSX downloads (``part=weeks`` or ``part=students``).

It names students: showing or downloading it is recorded in the access log
(``period_report``, ``period_report.weeks.xlsx``…)."""

from __future__ import annotations

from flask import Response, render_template, request

from server.adapters.spreadsheets import Cell, Column, Kind
from server.container import built
from server.domain.periods import MAX_YEARS, Period, PeriodError, period, year_period
from server.domain.student_progress import academic_year_start
from server.i18n import _
from server.services.reporting import coordinator_reports
from server.services.reporting.coordinator_reports import PeriodReport
from server.web import forms
from server.web.context import viewed
from server.web.coordinator import blueprint
from server.web.coordinator.common import (
    MANAGERS,
    campus_names,
    chosen_campus,
    day_param,
    download,
    format_param,
    invalid,
    now,
    services,
    today,
)
from server.web.coordinator.reports import status_text
from server.web.forms import FieldError, refused
from server.web.guards import roles

PARTS = ("weeks", "students")
_REFUSALS = {
    "bad_year": ("year", "A year is expected, like 2026 or 2026-2027."),
    "reversed": ("to", "The end date cannot be before the start date."),
    "unsupported_day": ("from", "A date is expected (day/month/year)."),
    "too_long": ("to", "A period is at most {count} years long: ask for a shorter one."),
}


def period_param() -> Period:
    """``?year=`` if given, else ``?from=`` (default: 1 September of this academic
    year) to ``?to=`` (default: today), read as the campus's local days."""
    try:
        year = request.args.get("year", "").strip()
        if year:
            return year_period(year)
        last = day_param("to", today())
        return period(day_param("from", academic_year_start(last)), last)
    except PeriodError as failure:
        field, message = _REFUSALS[failure.code]
        raise FieldError(field, message, count=MAX_YEARS) from None


def _report(campus: str) -> PeriodReport:
    return coordinator_reports.period_report(
        built(services().reports), campus, period_param(), now()
    )


@blueprint.get("/presence/period")
@roles(*MANAGERS)
def period_report() -> str | tuple[str, int]:
    campus = chosen_campus()
    try:
        report = _report(campus)
    except FieldError as failure:
        return invalid(_("Presence over a period"), refused(failure, "period_report"))
    viewed("campus", campus, "period_report")
    return render_template(
        "coordinator/period.html",
        campus=campus,
        campuses=campus_names(),
        report=report,
        keep={"from": report.span.first.isoformat(), "to": report.span.last.isoformat()},
    )


@blueprint.get("/presence/period/export")
@roles(*MANAGERS)
def period_export() -> Response | tuple[str, int]:
    campus = chosen_campus()
    try:
        fmt = format_param()
        part = forms.choice(request.args, "part", PARTS) if "part" in request.args else "weeks"
        report = _report(campus)
    except FieldError as failure:
        return invalid(_("Presence over a period"), refused(failure, "period_export"))
    viewed("campus", campus, f"period_report.{part}.{fmt}")
    span = f"{report.span.first.isoformat()}-{report.span.last.isoformat()}"
    if part == "students":
        rows = [_student_row(report, item) for item in report.students]
        name, sheet, columns = f"presence-etudiants-{campus}-{span}", _("Totals"), _totals()
    else:
        rows = [_week_row(row) for row in report.rows]
        name, sheet, columns = f"presence-semaines-{campus}-{span}", _("Weeks"), _weeks()
    return download(fmt, name, sheet, columns, rows)


def _who() -> list[Column]:
    return [
        Column(_("Student number"), Kind.TEXT),
        Column(_("Last name"), Kind.TEXT),
        Column(_("First name"), Kind.TEXT),
        Column(_("Programme"), Kind.TEXT),
        Column(_("Tutor"), Kind.TEXT),
    ]


def _weeks() -> list[Column]:
    return [
        Column(_("Week"), Kind.TEXT),
        Column(_("Monday"), Kind.DATE),
        *_who(),
        Column(_("Expected hours"), Kind.HOURS),
        Column(_("Attended hours"), Kind.HOURS),
        Column(_("of which unverified"), Kind.HOURS),
        Column(_("Shortfall (hours)"), Kind.HOURS),
        Column(_("Missed slots"), Kind.INTEGER),
        Column(_("Late arrivals"), Kind.INTEGER),
        Column(_("Status"), Kind.TEXT),
    ]


def _week_row(row: coordinator_reports.PeriodRow) -> list[Cell]:
    line, student = row.line, row.line.student
    return [
        str(row.week),
        row.week.monday,
        student.student_id,
        student.last_name,
        student.first_name,
        student.programme,
        student.tutor,
        line.expected,
        line.attended,
        line.unverified,
        line.shortfall,
        line.missed_slots,
        line.late_arrivals,
        status_text(line.status),
    ]


def _totals() -> list[Column]:
    return [
        Column(_("From"), Kind.DATE),
        Column(_("To"), Kind.DATE),
        *_who(),
        Column(_("Weeks with a contract"), Kind.INTEGER),
        Column(_("Weeks with hours due"), Kind.INTEGER),
        Column(_("Weeks meeting the commitment"), Kind.INTEGER),
        Column(_("Expected hours"), Kind.HOURS),
        Column(_("Attended hours"), Kind.HOURS),
        Column(_("of which unverified"), Kind.HOURS),
    ]


def _student_row(report: PeriodReport, item: coordinator_reports.StudentPeriod) -> list[Cell]:
    student, total = item.student, item.total
    return [
        report.span.first,
        report.span.last,
        student.student_id,
        student.last_name,
        student.first_name,
        student.programme,
        student.tutor,
        total.weeks,
        total.due_weeks,
        total.met_weeks,
        item.expected,
        item.attended,
        item.unverified,
    ]
