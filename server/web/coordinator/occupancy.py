"""Occupancy pages: the counts now (refreshed in place every 10 s) and the history of a
span of days with its chart and hour × weekday heatmap. Counts only: no names here."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from babel.dates import format_date
from flask import render_template

from server.domain.calendar import local_instant
from server.i18n import _, current_language
from server.services import coordinator_occupancy
from server.services.coordinator_occupancy import MAX_DAYS, OccupancyHistory
from server.web import charts, formatting
from server.web.coordinator import blueprint
from server.web.coordinator.common import (
    MANAGERS,
    campus_names,
    chosen_campus,
    day_param,
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
        extensions["occupancy"],
        extensions["reader_health"],
        extensions.get("reader_watch"),
        campus,
        now(),
        known_readers=extensions["settings"].known_readers(),
    )


@blueprint.get("/occupancy")
@roles(*MANAGERS)
def occupancy() -> str:
    campus = chosen_campus()
    return render_template(
        "coordinator/occupancy.html",
        campus=campus,
        campuses=campus_names(),
        live=_now_view(campus),
        refresh=REFRESH_SECONDS,
    )


@blueprint.get("/occupancy/live")
@roles(*MANAGERS)
def occupancy_live() -> str:
    """The fragment ``live.js`` puts in place of the page's live region."""
    return render_template("coordinator/_occupancy_live.html", live=_now_view(chosen_campus()))


@blueprint.get("/occupancy/history")
@roles(*MANAGERS)
def history() -> str | tuple[str, int]:
    campus = chosen_campus()
    try:
        first = day_param("from", today())
        last = day_param("to", first)
        if last < first:
            raise FieldError("to", "The end date cannot be before the start date.")
        if (last - first).days >= MAX_DAYS:
            raise FieldError("to", "At most {count} days at once.", count=MAX_DAYS)
    except FieldError as failure:
        return invalid(_("Occupancy history"), refused(failure, "occupancy_history"))
    result = coordinator_occupancy.campus_history(
        services()["occupancy"], campus, first, last, now()
    )
    return render_template(
        "coordinator/history.html",
        campus=campus,
        campuses=campus_names(),
        result=result,
        chart=_chart(result),
        heatmap=_heatmap(result),
        weekdays=_weekday_names(),
        heat_hours=_heat_hours(result),
        previous=(first - timedelta(days=(last - first).days + 1)),
        following=(last + timedelta(days=1)),
        span=(last - first).days,
    )


def _chart(result: OccupancyHistory) -> str:
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
        every = 1 if days <= 10 else 7
        for offset in range(0, days, every):
            day = result.first + timedelta(days=offset)
            ticks.append((local_instant(day, time(0), tz), _weekday(day)))
    end = local_instant(result.last + timedelta(days=1), time(0), tz)
    label = _(
        "Occupancy of the campus from {first} to {last}: peak {peak}, capacity {capacity}.",
        first=formatting.day(result.first),
        last=formatting.day(result.last),
        peak=result.stats.peak,
        capacity=result.stats.capacity if result.stats.capacity else _("not set"),
    )
    return charts.step_chart(
        result.segments,
        start=result.start,
        end=end,
        ticks=ticks,
        capacity=result.stats.capacity,
        label=label,
        capacity_label=_("capacity"),
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
