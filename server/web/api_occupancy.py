"""``/api/v1/occupancy`` and ``/api/v1/readers``: counts now, history, statistics,
forecast, manual corrections, and reader health. Counts only, never who.

Services (``services()``): ``occupancy`` (OccupancyService),
``reader_health`` (ReaderHealthService), optionally ``reader_watch`` (ReaderWatch).
A token of one campus reads and corrects only that campus.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, request

from edge.protocol import format_timestamp
from server.adapters import spreadsheets
from server.adapters.spreadsheets import Cell, Column, Kind
from server.domain.accounts import Role
from server.domain.calendar import IsoWeek
from server.domain.coordinator_reports import HOURLY_UP_TO_DAYS, HourPeak
from server.domain.occupancy_stats import Period
from server.i18n import _
from server.services.occupancy import occupancy_reports as reports
from server.services.occupancy.occupancy import OccupancyService, ZoneReading
from server.web import api_params
from server.web.api_params import BadParam
from server.web.context import services
from server.web.guards import roles

blueprint = Blueprint("api_occupancy", __name__, url_prefix="/api/v1")

_STEP = re.compile(r"(\d{1,6})([smhd]?)")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def _services() -> tuple[OccupancyService, datetime]:
    extensions = services()
    return extensions.occupancy, extensions.clock()


def _campus(service: OccupancyService, now: datetime, *, required: bool = True) -> str | None:
    """``?campus=`` (see :func:`api_params.campus`); when left out, the only campus
    there is (required: 400 when there are several)."""
    campus = api_params.query_campus()
    known = sorted(service.places(now))
    if campus is None:
        if len(known) == 1 or not required:
            return known[0] if len(known) == 1 else None
        raise BadParam("bad_campus", _("campus must be a campus id like saint-marcellin."))
    if campus not in known:
        raise BadParam("bad_campus", _("campus must be a campus id like saint-marcellin."))
    return campus


def _room(service: OccupancyService, campus: str, now: datetime) -> str | None:
    room = request.args.get("room")
    if room is None:
        return None
    if service.places(now)[campus].room(room) is None:
        raise BadParam("bad_room", _("room must be the id of a room of this campus."))
    return room


def _step() -> timedelta | None:
    text = request.args.get("step")
    if text is None:
        return None
    match = _STEP.fullmatch(text)
    if match is None or int(match.group(1)) == 0:
        raise BadParam("bad_step", _("step must be a duration like 300, 5m or 1h."))
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def _reading(item: ZoneReading, names: dict[str | None, tuple[str, str]]) -> dict[str, Any]:
    name, kind = names.get(item.room, ("", ""))
    body: dict[str, Any] = {"room": item.room} if item.room is not None else {}
    if item.room is not None:
        body.update(name=name, kind=kind)
    body.update(
        count=item.count.count,
        capacity=item.limits.capacity,
        soft_limit=item.limits.soft_limit,
        hard_limit=item.limits.hard_limit,
        ratio=item.ratio,
        level=item.level.value,
        adjustment=item.count.adjustment,
    )
    return body


@blueprint.get("/occupancy")
@roles(Role.COORDINATOR, Role.ADMIN)
def now() -> Response:
    service, moment = _services()
    campus = _campus(service, moment, required=False)
    result = []
    places = service.places(moment)
    readings = service.current(moment, campus=campus)
    for campus_id in sorted({item.campus for item in readings}):
        names = {room.code: (room.name, room.kind) for room in places[campus_id].rooms}
        mine = [item for item in readings if item.campus == campus_id]
        (whole,) = [item for item in mine if item.room is None]
        entry = {"campus": campus_id, **_reading(whole, names)}
        entry["rooms"] = [_reading(item, names) for item in mine if item.room is not None]
        result.append(entry)
    return jsonify({"at": format_timestamp(moment), "campuses": result})


@blueprint.get("/occupancy/history")
@roles(Role.COORDINATOR, Role.ADMIN)
def history() -> Response:
    """``?campus=&room=&from=&to=&step=[&format=json|csv|xlsx]`` (default: the last 24
    hours, every sample; beyond 31 days, one sample a day unless ``step`` is given), at
    most five years; the peak and mean per hour (per day beyond 31 days) besides, which
    the CSV and XLSX exports hold."""
    service, moment = _services()
    campus = _campus(service, moment)
    assert campus is not None
    room = _room(service, campus, moment)
    zone = api_params.campus_zone(campus)
    end = api_params.instant("to", zone=zone) or moment
    start = api_params.instant("from", zone=zone) or end - timedelta(days=1)
    if not start < end or end - start > reports.MAX_HISTORY:
        raise BadParam("bad_range", _("from must be before to, at most 5 years apart."))
    fmt = request.args.get("format", "json")
    if fmt not in _FORMATS:
        raise BadParam("bad_format", _("format must be json, csv or xlsx."))
    where = reports.Zone(campus, room)
    step, peaks = reports.peaks(service, where, start, end, zone)
    if fmt != "json":
        return _peaks_file(fmt, campus, room, step, peaks, zone)
    sampling = _step() or (timedelta(days=1) if end - start > _HOURLY_UP_TO else None)
    samples = reports.history(service, where, start, end, step=sampling)
    points = [
        {"at": format_timestamp(s.at), "count": s.count, "capacity": s.capacity} for s in samples
    ]
    return jsonify(
        {
            "campus": campus,
            "room": room,
            "points": points,
            "step": step,
            "peaks": [
                {"start": format_timestamp(p.start), "peak": p.peak, "average": p.average}
                for p in peaks
            ],
        }
    )


_FORMATS = ("json", "csv", "xlsx")
_HOURLY_UP_TO = timedelta(days=HOURLY_UP_TO_DAYS)


def _peaks_file(
    fmt: str, campus: str, room: str | None, step: str, peaks: list[HourPeak], zone: ZoneInfo
) -> Response:
    columns = [
        Column(step, Kind.MOMENT),
        Column("peak", Kind.INTEGER),
        Column("average", Kind.DECIMAL),
    ]
    rows: list[list[Cell]] = [[p.start.astimezone(zone), p.peak, p.average] for p in peaks]
    if fmt == "csv":
        data, mimetype = spreadsheets.csv_bytes(columns, rows), "text/csv"
    else:
        data, mimetype = spreadsheets.xlsx_bytes(campus, columns, rows), spreadsheets.XLSX_TYPE
    answer = Response(data, mimetype=mimetype)
    name = f"occupancy-{campus}{'-' + room if room else ''}.{fmt}"
    answer.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return answer


@blueprint.get("/occupancy/stats")
@roles(Role.COORDINATOR, Role.ADMIN)
def statistics() -> Response:
    """``?period=day|week|month[&date=YYYY-MM-DD][&campus=][&room=]``"""
    service, moment = _services()
    try:
        period = Period(request.args.get("period", "day"))
    except ValueError:
        raise BadParam("bad_period", _("period must be day, week or month.")) from None
    campus = _campus(service, moment)
    assert campus is not None
    today = moment.astimezone(api_params.campus_zone(campus)).date()
    day = api_params.day("date", default=today)
    room = _room(service, campus, moment)
    result = reports.period_stats(service, reports.Zone(campus, room), period, day, moment)
    heatmap = [
        {"weekday": weekday, "hour": hour, "average": value}
        for (weekday, hour), value in result.heatmap.items()
    ]
    return jsonify(
        {
            "campus": campus,
            "room": room,
            "period": period.value,
            "start": format_timestamp(result.start),
            "end": format_timestamp(result.end),
            "peak": result.peak,
            "peak_at": format_timestamp(result.peak_at) if result.peak_at else None,
            "average": result.average,
            "open_hours": result.open_hours,
            "occupied_share": result.occupied_share,
            "capacity": result.capacity,
            "utilisation": result.utilisation,
            "peak_utilisation": result.peak_utilisation,
            "band": result.band.value if result.band else None,
            "m2_per_person_at_peak": result.m2_per_person_at_peak,
            "heatmap": heatmap,
        }
    )


@blueprint.get("/occupancy/forecast")
@roles(Role.COORDINATOR, Role.ADMIN)
def forecast() -> Response:
    """``?week=2026-W48[&campus=]`` (default: next week)."""
    service, moment = _services()
    campus = _campus(service, moment)
    assert campus is not None
    today = moment.astimezone(api_params.campus_zone(campus)).date()
    week = api_params.week(default=IsoWeek.of(today).shifted(1))
    hours = reports.forecast(service, campus, week, moment)
    return jsonify(
        {
            "campus": campus,
            "week": str(week),
            "hours": [
                {
                    "start": format_timestamp(item.start),
                    "expected": item.expected,
                    "capacity": item.capacity,
                    "over": item.over,
                }
                for item in hours
            ],
            "over_capacity": [format_timestamp(item.start) for item in hours if item.over],
        }
    )


@blueprint.post("/occupancy/corrections")
@roles(Role.COORDINATOR, Role.ADMIN)
def correct() -> Response:
    """``{"campus": …, "room": null|id, "count": n, "reason": "…"}``: set a count by hand."""
    service, moment = _services()
    body = api_params.json_body()
    campus, room, count = body.get("campus"), body.get("room"), body.get("count")
    reason = body.get("reason")
    if campus is None or api_params.campus(campus) not in service.places(moment):
        raise BadParam("bad_campus", _("campus must be a campus id like saint-marcellin."))
    if room is not None and not isinstance(room, str):
        raise BadParam("bad_room", _("room must be the id of a room of this campus."))
    if type(count) is not int or count < 0:
        raise BadParam("bad_count", _("count must be a whole number, zero or more."))
    if not isinstance(reason, str) or not reason.strip():
        raise BadParam("bad_reason", _("A correction needs a reason."))
    try:
        result = service.correct(
            campus, room, count, reason=reason.strip(), actor="api", now=moment
        )
    except LookupError:
        raise BadParam("bad_room", _("room must be the id of a room of this campus.")) from None
    return jsonify(
        {"campus": campus, "room": room, "count": result.count, "computed": result.computed}
    )


@blueprint.get("/readers")
@roles(Role.COORDINATOR, Role.ADMIN)
def readers() -> Response:
    """Each reader's health now: online/offline/degraded/unknown, last status, queue."""
    extensions = services()
    moment = extensions.clock()
    campus = api_params.query_campus()
    known = extensions.settings.known_readers()
    watch = extensions.reader_watch
    down = watch.current(moment) if watch is not None else {}
    items = extensions.reader_health.current(moment, known=known, campus=campus)
    return jsonify(
        {
            "at": format_timestamp(moment),
            "readers": [
                {
                    "campus": item.campus,
                    "reader": item.reader,
                    "state": item.health.value,
                    "last_seen": format_timestamp(item.last_seen) if item.last_seen else None,
                    "queued": item.queued,
                    "detail": item.detail,
                    "clock_synced": item.clock_synced,
                    "alerted": (item.campus, item.reader) in down,
                }
                for item in items
            ],
        }
    )
