"""The annual report: a coordinator's page for one campus (and its print-ready version
and XLSX/JSON export), the region or nation side by side (admins and coordinators of
every campus), and ``/api/v1/reports/annual``. Every one renders
``services.annual_report``'s grid; figures are counts, no student is named."""

from __future__ import annotations

import json

from flask import Blueprint, Response, abort, render_template, request

from server.container import built
from server.domain.accounts import Role
from server.domain.annual_report import Grid, PeriodError, ReportPeriod, report_period
from server.i18n import _
from server.services.reporting import annual_report
from server.services.reporting.annual_workbook import workbook_bytes
from server.texts import annual_texts
from server.web import api_params
from server.web.charts import bar_chart
from server.web.context import viewed
from server.web.coordinator.common import (
    MANAGERS,
    campus_names,
    chosen_campus,
    invalid,
    now,
    services,
    today,
)
from server.web.errors import error
from server.web.guards import current, roles

pages = Blueprint("annual", __name__, url_prefix="/coordinator/annual")
api = Blueprint("api_annual", __name__, url_prefix="/api/v1/reports")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _period() -> ReportPeriod:
    """``?year=2026-2027`` or ``?from=…&to=…``; the current academic year by default."""
    year, first, last = (request.args.get(name) or None for name in ("year", "from", "to"))
    if year is None and first is None and last is None:
        day = today()
        start = day.year if day.month >= 9 else day.year - 1
        year = f"{start}-{start + 1}"
    return report_period(year, first, last)


def _charts(grid: Grid) -> dict[str, object]:
    hours = grid.breakdowns.get("hours_distribution", {})
    return {
        "trend": bar_chart(grid.trend, _("Headcount by academic year")),
        "hours": bar_chart(
            [(annual_texts.value_label(band), count) for band, count in hours.items()],
            _("Students by hours attended ÷ committed"),
        ),
    }


def _page(template_flag: bool) -> str | tuple[str, int]:
    campus = chosen_campus()
    try:
        period = _period()
    except PeriodError as refused:
        return invalid(_("Annual report"), _(str(refused)))
    grid = annual_report.annual_grid(built(services().reports), campus, period, now())
    viewed("campus", campus, "annual_report")
    return render_template(
        "coordinator/annual.html",
        grids=[grid],
        grid=grid,
        campus=campus,
        campuses=campus_names(),
        texts=annual_texts,
        charts=_charts(grid),
        printing=template_flag,
        query=_query(campus, period),
        region_query=_query(None, period),
    )


def _query(campus: str | None, period: ReportPeriod) -> dict[str, str]:
    query = {"campus": campus or ""}
    if period.label.count("-") == 1 and ".." not in period.label:
        query["year"] = period.label
    else:
        query["from"], query["to"] = period.first.isoformat(), period.last.isoformat()
    return {key: value for key, value in query.items() if value}


@pages.get("/")
@roles(*MANAGERS)
def page() -> str | tuple[str, int]:
    return _page(False)


@pages.get("/print")
@roles(*MANAGERS)
def printable() -> str | tuple[str, int]:
    return _page(True)


@pages.get("/export")
@roles(*MANAGERS)
def export() -> Response | tuple[str, int]:
    campus = chosen_campus()
    fmt = request.args.get("format", "xlsx")
    if fmt not in ("xlsx", "json"):
        return invalid(_("Annual report"), _("Choose one of the proposed values."))
    try:
        period = _period()
    except PeriodError as refused:
        return invalid(_("Annual report"), _(str(refused)))
    grid = annual_report.annual_grid(built(services().reports), campus, period, now())
    viewed("campus", campus, f"annual_report.{fmt}")
    return _download([grid], fmt, f"rapport-annuel-{campus}-{period.label}")


def _download(grids: list[Grid], fmt: str, name: str) -> Response:
    if fmt == "xlsx":
        response = Response(workbook_bytes(grids), mimetype=XLSX_TYPE)
    else:
        document = grids[0].as_dict() if len(grids) == 1 else [g.as_dict() for g in grids]
        response = Response(json.dumps(document, ensure_ascii=False), mimetype="application/json")
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response


@pages.get("/region")
@roles(*MANAGERS)
def region() -> Response | str | tuple[str, int]:
    """Every campus of this server side by side: admins, and coordinators of every
    campus (a coordinator of one campus sees only theirs: 403)."""
    who = current()
    if who.role is not Role.ADMIN and who.campus_id:
        abort(403)
    try:
        period = _period()
    except PeriodError as refused:
        return invalid(_("Annual report"), _(str(refused)))
    names = campus_names()
    grids = annual_report.campus_grids(built(services().reports), list(names), period, now())
    viewed("campus", "*", "annual_region")
    fmt = request.args.get("format", "html")
    if fmt in ("xlsx", "json"):
        return _download(grids, fmt, f"rapport-annuel-{period.label}")
    return render_template(
        "coordinator/annual_region.html",
        grids=grids,
        period=period,
        texts=annual_texts,
        query=_query(None, period),
    )


@api.get("/annual")
@roles(Role.COORDINATOR, Role.ADMIN)
def api_annual() -> Response:
    """``?year=2026-2027`` (or ``from``/``to``; the current academic year by default)
    ``[&campus=id]``: the grid as JSON; a token of one campus reads only that campus
    (its own when none is asked)."""
    ledger = services().ledger
    try:
        period = _period()
    except PeriodError as refused:
        return error(400, "bad_period", _(str(refused)))
    campus = api_params.query_campus() or _only(ledger.campus_ids())
    if campus is None:
        return error(400, "bad_campus", _("Several campuses: say which one with campus."))
    clock = services().clock
    return Response(
        json.dumps(
            annual_report.annual_grid(built(services().reports), campus, period, clock()).as_dict()
        ),
        mimetype="application/json",
    )


def _only(campuses: list[str]) -> str | None:
    return campuses[0] if len(campuses) == 1 else None
