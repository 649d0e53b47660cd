"""Occupancy pages: the counts now (refreshed in place every 10 s) and the history of a
span of days with its chart and hour × weekday heatmap. Counts only: no names here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, time, timedelta

from babel.dates import format_date
from flask import Response, render_template, request

from server.adapters.spreadsheets import Cell, Column, Kind
from server.container import built
from server.domain.calendar import local_instant
from server.domain.periods import MAX_YEARS, PeriodError, period
from server.i18n import _, current_language
from server.services.occupancy import coordinator_corrections, coordinator_occupancy
from server.services.occupancy.coordinator_corrections import MAX_COUNT, REASON_CHARS
from server.services.occupancy.coordinator_occupancy import OccupancyHistory
from server.web import charts, formatting
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
)
from server.web.forms import FieldError, refused
from server.web.guards import roles

REFRESH_SECONDS = 10


def _now_view(campus: str) -> coordinator_occupancy.OccupancyNow:
    extensions = services()
    return coordinator_occupancy.campus_now(
        extensions.occupancy,
        extensions.reader_health,
        extensions.reader_watch,
        campus,
        now(),
        known_readers=extensions.settings.known_readers(),
    )


def occupancy_page(campus: str, *, error: str = "", values: Mapping[str, str] | None = None) -> str:
    """The live page with its correction form (``error`` and ``values``: a refused one)."""
    extensions = services()
    return render_template(
        "coordinator/occupancy.html",
        campus=campus,
        campuses=campus_names(),
        live=_now_view(campus),
        refresh=REFRESH_SECONDS,
        rooms=coordinator_occupancy.room_names(extensions.occupancy, campus, now()),
        corrections=coordinator_corrections.corrections_today(
            extensions.occupancy, campus, now(), timezone()
        ),
        limits=(MAX_COUNT, *REASON_CHARS),
        failing=built(extensions.delivery_health).failing_channels([campus]),
        error=error,
        values=values or {},
    )


@blueprint.get("/occupancy")
@roles(*MANAGERS)
def occupancy() -> str:
    return occupancy_page(chosen_campus())


@blueprint.get("/occupancy/live")
@roles(*MANAGERS)
def occupancy_live() -> str:
    """The fragment ``live.js`` puts in place of the page's live region."""
    return render_template("coordinator/_occupancy_live.html", live=_now_view(chosen_campus()))


def _history_params(rooms: Mapping[str, str]) -> tuple[date, date, str | None]:
    """``?from=&to=&room=`` (default: today, the whole campus)."""
    first = day_param("from", today())
    last = day_param("to", first)
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
    room = request.args.get("room", "").strip() or None
    if room is not None and room not in rooms:
        raise FieldError("room", "This room is not one of the campus's rooms.")
    return first, last, room


@blueprint.get("/occupancy/history")
@roles(*MANAGERS)
def history() -> str | tuple[str, int]:
    campus = chosen_campus()
    service = services().occupancy
    rooms = coordinator_occupancy.room_names(service, campus, now())
    try:
        first, last, room = _history_params(rooms)
    except FieldError as failure:
        return invalid(_("Occupancy history"), refused(failure, "occupancy_history"))
    result = coordinator_occupancy.campus_history(service, campus, first, last, now(), room=room)
    zone_name = rooms[room] if room is not None else ""
    return render_template(
        "coordinator/history.html",
        campus=campus,
        campuses=campus_names(),
        rooms=rooms,
        room=room,
        zone_name=zone_name,
        result=result,
        chart=_chart(result, zone_name),
        heatmap=_heatmap(result),
        weekdays=_weekday_names(),
        heat_hours=_heat_hours(result),
        previous=(first - timedelta(days=(last - first).days + 1)),
        following=(last + timedelta(days=1)),
        span=(last - first).days,
    )


@blueprint.get("/occupancy/history/export")
@roles(*MANAGERS)
def history_export() -> Response | tuple[str, int]:
    """The peak and mean per hour (per day beyond 31 days) of the history shown, as
    CSV or XLSX: counts only, no names."""
    campus = chosen_campus()
    service = services().occupancy
    rooms = coordinator_occupancy.room_names(service, campus, now())
    try:
        fmt = format_param()
        first, last, room = _history_params(rooms)
    except FieldError as failure:
        return invalid(_("Occupancy history"), refused(failure, "occupancy_history_export"))
    result = coordinator_occupancy.campus_history(service, campus, first, last, now(), room=room)
    tz = timezone()
    columns = [
        Column(_("Hour") if result.step == "hour" else _("Day"), Kind.MOMENT),
        Column(_("Zone"), Kind.TEXT),
        Column(_("Peak"), Kind.INTEGER),
        Column(_("Mean"), Kind.DECIMAL),
        Column(_("Capacity"), Kind.INTEGER),
    ]
    zone = rooms[room] if room is not None else _("Whole campus")
    rows: list[list[Cell]] = [
        [item.start.astimezone(tz), zone, item.peak, item.average, result.stats.capacity]
        for item in result.hours
    ]
    name = f"occupation-{campus}{'-' + room if room else ''}-{first.isoformat()}-{last.isoformat()}"
    return download(fmt, name, _("Occupancy history"), columns, rows)


def _chart(result: OccupancyHistory, zone_name: str) -> str:
    days = (result.last - result.first).days + 1
    tz = timezone()
    ticks: list[tuple[datetime, str]] = []
    if days <= 2:
        for offset in range(days):
            day = result.first + timedelta(days=offset)
            for hour in range(0, 24, 3):
                moment = local_instant(day, time(hour), tz)
                text = f"{hour}h" if days == 1 or hour else _weekday(day)
                ticks.append((moment, text))
    else:
        every = 1 if days <= 10 else 7 if days <= 92 else 30
        for offset in range(0, days, every):
            day = result.first + timedelta(days=offset)
            ticks.append((local_instant(day, time(0), tz), _weekday(day)))
    end = local_instant(result.last + timedelta(days=1), time(0), tz)
    return charts.step_chart(
        result.segments,
        start=result.start,
        end=end,
        ticks=ticks,
        capacity=result.stats.capacity,
        label=_chart_label(result, zone_name),
        capacity_label=_("capacity"),
    )


def _chart_label(result: OccupancyHistory, zone_name: str) -> str:
    values = {
        "first": formatting.day(result.first),
        "last": formatting.day(result.last),
        "peak": result.stats.peak,
        "capacity": result.stats.capacity if result.stats.capacity else _("not set"),
    }
    if result.room is not None:
        return _(
            "Occupancy of the room {name} from {first} to {last}: peak {peak}, "
            "capacity {capacity}.",
            name=zone_name,
            **values,
        )
    return _(
        "Occupancy of the campus from {first} to {last}: peak {peak}, capacity {capacity}.",
        **values,
    )


def _weekday(day: date) -> str:
    return format_date(day, "EEE d", locale=current_language())


def _weekday_names() -> list[str]:
    monday = date(2026, 11, 23)  # any Monday
    return [
        format_date(monday + timedelta(days=offset), "EEE", locale=current_language())
        for offset in range(7)
    ]


def _heat_hours(result: OccupancyHistory) -> list[int]:
    hours = sorted({hour for _, hour in result.stats.heatmap})
    return list(range(hours[0], hours[-1] + 1)) if hours else []


def _heatmap(result: OccupancyHistory) -> str:
    if not result.stats.heatmap:
        return ""
    return charts.heatmap(
        result.stats.heatmap,
        rows=_weekday_names(),
        hours=_heat_hours(result),
        label=_(
            "Mean occupancy per hour and weekday, during opening hours, from {first} to {last}.",
            first=formatting.day(result.first),
            last=formatting.day(result.last),
        ),
        value_text=lambda value: formatting.number(value),
        maximum=float(result.stats.capacity) if result.stats.capacity else None,
    )
