"""What every coordinator page shares: the services, the clock, the campus shown (a
coordinator's own; a selector ``?campus=`` for admins and all-campus coordinators),
query parameters read at the boundary, and the download of an export."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from zoneinfo import ZoneInfo

from flask import Response, render_template, request

from server.adapters import spreadsheets
from server.adapters.spreadsheets import Cell, Column
from server.domain.accounts import Role
from server.domain.calendar import IsoWeek
from server.web import campus_choice, forms
from server.web.campus_choice import visible_campuses
from server.web.context import actor as actor
from server.web.context import now as now
from server.web.context import services as services
from server.web.forms import FieldError

MANAGERS = (Role.COORDINATOR, Role.ADMIN)
FORMATS = ("csv", "xlsx")


def timezone() -> ZoneInfo:
    return services().settings.presence.zone


def today() -> date:
    return now().astimezone(timezone()).date()


def campus_names() -> dict[str, str]:
    """The campuses the principal sees, id → name, sorted by id."""
    return {campus.id: campus.name for campus in visible_campuses()}


def chosen_campus(source: Mapping[str, str] | None = None) -> str:
    """``?campus=`` (or the ``campus`` field of ``source``), see ``campus_choice``."""
    return campus_choice.chosen_campus(
        (request.args if source is None else source).get("campus", "")
    ).id


def week_param(name: str = "week") -> IsoWeek:
    text = request.args.get(name, "").strip()
    if not text:
        return IsoWeek.of(today())
    try:
        return IsoWeek.parse(text)
    except ValueError:
        raise FieldError(name, "A week is expected, like 2026-W48.") from None


def day_param(name: str, default: date) -> date:
    value = forms.day(request.args, name, required=False)
    return default if value is None else value


def format_param() -> str:
    return forms.choice(request.args, "format", FORMATS)


def invalid(title: str, message: str) -> tuple[str, int]:
    """A report asked with a wrong parameter: the message, status 400."""
    return render_template("coordinator/invalid.html", title=title, message=message), 400


def download(
    fmt: str, name: str, sheet: str, columns: list[Column], rows: list[list[Cell]]
) -> Response:
    if fmt == "xlsx":
        data = spreadsheets.xlsx_bytes(sheet, columns, rows)
        mimetype = spreadsheets.XLSX_TYPE
    else:
        data = spreadsheets.csv_bytes(columns, rows)
        mimetype = spreadsheets.CSV_TYPE
    response = Response(data, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return response
