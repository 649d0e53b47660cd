"""The weekly presence report of every student (filters by tutor and programme) and the
call-on-absence evidence, each as a printable page and as CSV/XLSX downloads.

The weekly report names students: showing or downloading it is recorded in the access
log (``weekly_report``, ``weekly_report.xlsx``)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import Response, render_template, request

from server.adapters.spreadsheets import Cell, Column, Kind
from server.container import built
from server.domain.alerts import Resolution
from server.domain.coordinator_reports import ReportLine
from server.domain.ledger import WeekStatus
from server.domain.periods import MAX_YEARS, PeriodError, period
from server.i18n import _
from server.services.reporting import coordinator_reports
from server.services.reporting.coordinator_reports import (
    AbsenceRecord,
    EvidenceReport,
    EvidenceRow,
    WeeklyReport,
)
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
    timezone,
    today,
    week_param,
)
from server.web.forms import FieldError, refused, text
from server.web.guards import roles
from server.web.tutor import labels


def _weekly(campus: str) -> tuple[WeeklyReport, dict[str, str]]:
    """The report asked by the query string, and the filters to keep in links."""
    week = week_param()
    raw_tutor = request.args.get("tutor", "").strip()
    if raw_tutor and not raw_tutor.isdigit():
        raise FieldError("tutor", "Choose one of the proposed values.")
    programme = text(request.args, "programme", required=False)
    report = coordinator_reports.weekly_report(
        built(services().reports),
        campus,
        week,
        now(),
        tutor_id=int(raw_tutor) if raw_tutor else None,
        programme=programme,
    )
    filters = {"week": str(week), "tutor": raw_tutor, "programme": programme}
    return report, filters


@blueprint.get("/presence")
@roles(*MANAGERS)
def weekly() -> str | tuple[str, int]:
    campus = chosen_campus()
    try:
        report, filters = _weekly(campus)
    except FieldError as failure:
        return invalid(_("Weekly presence report"), refused(failure, "weekly_report"))
    viewed("campus", campus, "weekly_report")
    return render_template(
        "coordinator/weekly.html",
        campus=campus,
        campuses=campus_names(),
        report=report,
        filters=filters,
        previous=str(report.week.shifted(-1)),
        following=str(report.week.shifted(1)),
        sunday=report.week.monday + timedelta(days=6),
    )


@blueprint.get("/presence/export")
@roles(*MANAGERS)
def weekly_export() -> Response | tuple[str, int]:
    campus = chosen_campus()
    try:
        fmt = format_param()
        report, _filters = _weekly(campus)
    except FieldError as failure:
        return invalid(_("Weekly presence report"), refused(failure, "weekly_export"))
    viewed("campus", campus, f"weekly_report.{fmt}")
    rows = [_weekly_row(report, line) for line in report.lines]
    name = f"presence-{campus}-{report.week}"
    return download(fmt, name, _("Presence {week}", week=str(report.week)), _weekly_columns(), rows)


def _weekly_columns() -> list[Column]:
    """The header row, in the language of the request."""
    return [
        Column(_("Week"), Kind.TEXT),
        Column(_("Monday"), Kind.DATE),
        Column(_("Student number"), Kind.TEXT),
        Column(_("Last name"), Kind.TEXT),
        Column(_("First name"), Kind.TEXT),
        Column(_("Programme"), Kind.TEXT),
        Column(_("Tutor"), Kind.TEXT),
        Column(_("Expected hours"), Kind.HOURS),
        Column(_("Attended hours"), Kind.HOURS),
        Column(_("of which unverified"), Kind.HOURS),
        Column(_("Remaining hours"), Kind.HOURS),
        Column(_("Shortfall (hours)"), Kind.HOURS),
        Column(_("Missed slots"), Kind.INTEGER),
        Column(_("Late arrivals"), Kind.INTEGER),
        Column(_("Status"), Kind.TEXT),
        Column(_("At risk"), Kind.TEXT),
    ]


def _weekly_row(report: WeeklyReport, line: ReportLine) -> list[Cell]:
    student = line.student
    return [
        str(report.week),
        report.week.monday,
        student.student_id,
        student.last_name,
        student.first_name,
        student.programme,
        student.tutor,
        line.expected,
        line.attended,
        line.unverified,
        line.remaining,
        line.shortfall,
        line.missed_slots,
        line.late_arrivals,
        status_text(line.status),
        _("yes") if line.at_risk else _("no"),
    ]


def status_text(status: WeekStatus) -> str:
    return {
        WeekStatus.MET: _("Met"),
        WeekStatus.SHORT: _("Short"),
        WeekStatus.AT_RISK: _("At risk"),
        WeekStatus.EXCUSED: _("Excused"),
        WeekStatus.ON_TRACK: _("On track"),
    }[status]


def _evidence(campus: str) -> EvidenceReport:
    last = day_param("to", today())
    first = day_param("from", last - timedelta(days=last.weekday()))
    try:
        period(first, last)
    except PeriodError as failure:
        if failure.code == "reversed":
            raise FieldError("to", "The end date cannot be before the start date.") from None
        if failure.code == "unsupported_day":
            raise FieldError("from", "A date is expected (day/month/year).") from None
        raise FieldError(
            "to", "A period is at most {count} years long: ask for a shorter one.", count=MAX_YEARS
        ) from None
    return coordinator_reports.evidence(
        built(services().reports), campus, first, last, tz=timezone()
    )


@blueprint.get("/alerts")
@roles(*MANAGERS)
def evidence() -> str | tuple[str, int]:
    campus = chosen_campus()
    try:
        report = _evidence(campus)
    except FieldError as failure:
        return invalid(_("Absences and calls"), refused(failure, "evidence_report"))
    return render_template(
        "coordinator/evidence.html",
        campus=campus,
        campuses=campus_names(),
        report=report,
        failing=built(services().delivery_health).failing_channels([campus]),
    )


@blueprint.get("/alerts/export")
@roles(*MANAGERS)
def evidence_export() -> Response | tuple[str, int]:
    campus = chosen_campus()
    try:
        fmt = format_param()
        report = _evidence(campus)
    except FieldError as failure:
        return invalid(_("Absences and calls"), refused(failure, "evidence_export"))
    span = f"{report.first.isoformat()}-{report.last.isoformat()}"
    if request.args.get("part") == "absences":
        viewed("campus", campus, f"evidence_absences.{fmt}")
        records = coordinator_reports.absences(
            built(services().reports), campus, report.first, report.last, tz=timezone()
        )
        calls = max([1, *(len(record.calls) for record in records)])
        rows = [_absence_row(record, calls) for record in records]
        columns = _absence_columns(calls)
        return download(fmt, f"absences-{campus}-{span}", _("Absences"), columns, rows)
    viewed("campus", campus, f"evidence_report.{fmt}")
    rows = [_evidence_row(report, row) for row in [*report.tutors, report.total]]
    return download(
        fmt, f"appels-{campus}-{span}", _("Absences and calls"), _evidence_columns(), rows
    )


def _absence_columns(calls: int) -> list[Column]:
    """One row per absence: who, which slot, acknowledged, closed how, then each call."""
    columns = [
        Column(_("Noticed"), Kind.MOMENT),
        Column(_("Student number"), Kind.TEXT),
        Column(_("Last name"), Kind.TEXT),
        Column(_("First name"), Kind.TEXT),
        Column(_("Tutor"), Kind.TEXT),
        Column(_("Slot start"), Kind.MOMENT),
        Column(_("Slot end"), Kind.MOMENT),
        Column(_("Acknowledged"), Kind.MOMENT),
        Column(_("Acknowledged by"), Kind.TEXT),
        Column(_("Closed how"), Kind.TEXT),
        Column(_("Closed"), Kind.MOMENT),
        Column(_("Calls"), Kind.INTEGER),
    ]
    for number in range(1, calls + 1):
        columns += [
            Column(_("Call {number}: time", number=number), Kind.MOMENT),
            Column(_("Call {number}: outcome", number=number), Kind.TEXT),
            Column(_("Call {number}: by", number=number), Kind.TEXT),
        ]
    return columns


def _absence_row(record: AbsenceRecord, calls: int) -> list[Cell]:
    tz = timezone()

    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(tz) if moment is not None else None

    outcomes = dict(labels.outcomes())
    row: list[Cell] = [
        local(record.noticed_at),
        record.student_id,
        record.last_name,
        record.first_name,
        record.tutor,
        local(record.slot_start),
        local(record.slot_end),
        local(record.acknowledged_at),
        record.acknowledged_by,
        _closed_how(record),
        local(record.closed_at),
        len(record.calls),
    ]
    for index in range(calls):
        if index < len(record.calls):
            call = record.calls[index]
            row += [local(call.called_at), outcomes.get(call.outcome, call.outcome), call.author]
        else:
            row += [None, "", ""]
    return row


def _closed_how(record: AbsenceRecord) -> str:
    if record.resolution == Resolution.CALLED.value:
        return _("by a call")
    if record.resolution == Resolution.ARRIVED.value:
        return _("the student arrived")
    return _("still open") if record.closed_at is None else record.resolution or ""


def _evidence_columns() -> list[Column]:
    return [
        Column(_("From"), Kind.DATE),
        Column(_("To"), Kind.DATE),
        Column(_("Tutor"), Kind.TEXT),
        Column(_("Absences noticed"), Kind.INTEGER),
        Column(_("Needing a call"), Kind.INTEGER),
        Column(_("Acknowledged"), Kind.INTEGER),
        Column(_("Called"), Kind.INTEGER),
        Column(_("Called the same day"), Kind.INTEGER),
        Column(_("Share called the same day"), Kind.SHARE),
        Column(_("Arrived before a call was needed"), Kind.INTEGER),
        Column(_("Excused absences"), Kind.INTEGER),
        Column(_("Median time to call (minutes)"), Kind.DECIMAL),
    ]


def _evidence_row(report: EvidenceReport, row: EvidenceRow) -> list[Cell]:
    line = row.line
    share = line.called_same_day / line.needing_call if line.needing_call else None
    return [
        report.first,
        report.last,
        line.tutor or _("All tutors"),
        line.noticed,
        line.needing_call,
        line.acknowledged,
        line.called,
        line.called_same_day,
        round(share, 3) if share is not None else None,
        line.arrived_before_call,
        row.excused,
        line.median_minutes_to_call,
    ]
