"""What every call of the JSON API reads, read one way at the boundary: the campus, days,
weeks and instants of the query, and the JSON body.

A wrong value raises :class:`BadParam`, answered (by the app) with its status and
``{"error": {"code", "message"}}``: ``bad_<name>`` and what the value must be (400),
``forbidden_campus`` (403), a body that is not JSON (415), too large (413) or nested too
deep (400). Days and weeks are those of the supported years
(:data:`server.domain.calendar.FIRST_YEAR` to ``LAST_YEAR``); a day without a time is
read in the campus's own time zone (its local midnight), never as UTC midnight.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from flask import request

from edge.protocol import is_valid_id
from server.domain.calendar import (
    FIRST_YEAR,
    LAST_YEAR,
    IsoWeek,
    parse_day,
    supported_day,
)
from server.domain.errors import InvalidInput
from server.domain.periods import MAX_YEARS, Period, PeriodError, period, year_period
from server.i18n import _
from server.web.api_auth import campus_scope
from server.web.context import services

MAX_BODY_BYTES = 64 * 1024  # a call log or a correction is a few hundred bytes
MAX_BODY_DEPTH = 8  # the deepest body the API takes is an object of scalars


class BadParam(InvalidInput):
    """A parameter or the body the API refuses: answered ``status`` with ``code``
    (``server.web.errors``); its ``message`` is already translated."""

    translated = True

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


# --------------------------------------------------------------------------- campus


def _bad_campus() -> BadParam:
    return BadParam("bad_campus", _("campus must be a campus id like saint-marcellin."))


def known_campuses() -> list[str]:
    return services().ledger.campus_ids()


def campus(text: Any = None) -> str | None:
    """The campus a call reads: ``text`` (``?campus=`` or a body's ``campus``) when it is
    a campus the token sees (400 ``bad_campus`` if there is no such campus, 403
    ``forbidden_campus`` if the token may not see it), else the token's own campus
    (``None``: every campus)."""
    if text is not None and not (isinstance(text, str) and is_valid_id(text)):
        raise _bad_campus()
    chosen, refused = campus_scope(text)
    if refused is not None:
        raise BadParam(
            "forbidden_campus", _("This token cannot see that campus."), status=refused.status_code
        )
    if text is not None and text not in known_campuses():
        raise _bad_campus()
    return chosen


def query_campus() -> str | None:
    """:func:`campus` of ``?campus=``."""
    return campus(request.args.get("campus"))


def campus_zone(campus_id: str | None) -> ZoneInfo:
    """The time zone a campus's days are read in (the deployment's for every campus)."""
    return services().ledger.campus_timezone(campus_id)


# --------------------------------------------------------------------------- days and times


def _range() -> dict[str, int]:
    return {"first": FIRST_YEAR, "last": LAST_YEAR}


def day(name: str, *, default: date | None = None) -> date:
    """``?name=YYYY-MM-DD``, a day of the supported years (required without ``default``)."""
    text = request.args.get(name)
    if text is None and default is not None:
        return default
    try:
        return parse_day(text or "")
    except ValueError:
        raise BadParam(
            f"bad_{name}",
            _(
                "{field} must be a date like 2026-11-23, between {first} and {last}.",
                field=name,
                **_range(),
            ),
        ) from None


def week(name: str = "week", *, default: IsoWeek | None = None) -> IsoWeek:
    """``?week=2026-W48``, a week of the supported years (required without ``default``)."""
    text = request.args.get(name)
    if not text and default is not None:
        return default
    try:
        return IsoWeek.parse(text or "")
    except ValueError:
        raise BadParam(
            f"bad_{name}",
            _(
                "{field} must be an ISO week like 2026-W48, between {first} and {last}.",
                field=name,
                **_range(),
            ),
        ) from None


def period_of_query() -> Period:
    """``?from=&to=`` (local days, both included) or ``?year=2026`` (ISO year) or
    ``?year=2026-2027`` (academic year): 400 ``bad_year``, ``bad_from``/``bad_to`` or
    ``bad_period`` (neither or both forms, the end before the start, more than
    :data:`~server.domain.periods.MAX_YEARS` years) with the reason."""
    year_text = request.args.get("year")
    given = [name for name in ("from", "to") if name in request.args]
    if (year_text is None) == (not given) or (year_text is None and len(given) < 2):
        raise BadParam(
            "bad_period", _("Give either from and to (two dates) or year (2026 or 2026-2027).")
        )
    try:
        if year_text is not None:
            return year_period(year_text)
        return period(day("from"), day("to"))
    except PeriodError as refused:
        raise BadParam(*_period_refusal(refused)) from None


def _period_refusal(refused: PeriodError) -> tuple[str, str]:
    if refused.code == "bad_year":
        return "bad_year", _(
            "year must be an ISO year like 2026 or an academic year like 2026-2027, "
            "between {first} and {last}.",
            **_range(),
        )
    if refused.code == "reversed":
        return "bad_period", _("The end date cannot be before the start date.")
    return "bad_period", _(
        "A period is at most {count} years long: ask for a shorter one.", count=MAX_YEARS
    )


def instant_of(text: Any, name: str, *, zone: ZoneInfo | None = None) -> datetime:
    """An RFC 3339 time with its offset; with ``zone``, also a day alone (its local
    midnight there) or a time without offset (a wall-clock time there)."""
    moment: datetime | None = None
    local = False  # read in ``zone``: a day alone, or a time without offset
    if isinstance(text, str) and len(text) <= 40:
        try:
            if zone is not None and len(text.strip()) == 10:
                moment, local = datetime.combine(date.fromisoformat(text), time(0)), True
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        except ValueError:
            moment = None
    if moment is not None and moment.tzinfo is None and zone is not None:
        local = True
    # The wall-clock day is checked before any conversion: 0001-01-01 in Paris, or
    # 9999-12-31 at -12:00, is no instant in UTC.
    if moment is None or not supported_day(moment) or (moment.tzinfo is None and not local):
        raise BadParam(
            f"bad_{name}",
            _(
                "{field} must be a date and time with an offset, between {first} and {last}.",
                field=name,
                **_range(),
            ),
        )
    if local:  # its wall-clock time in the campus's zone, as a UTC instant
        return moment.replace(tzinfo=zone).astimezone(UTC)
    return moment


def instant(name: str, *, zone: ZoneInfo | None = None) -> datetime | None:
    """``?name=`` read by :func:`instant_of`; ``None`` when not given."""
    text = request.args.get(name)
    return None if text is None else instant_of(text, name, zone=zone)


# --------------------------------------------------------------------------- body


def _depth(value: Any) -> int:
    """How deep containers nest in a parsed JSON value (a scalar: 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def json_body(*, optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object: 415 when it is not ``application/json``, 413 when over
    :data:`MAX_BODY_BYTES`, 400 when it is not a JSON object or nests deeper than
    :data:`MAX_BODY_DEPTH` (an empty body is ``{}`` when ``optional``)."""
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise too_large()
    data = request.get_data(cache=True)
    if optional and not data.strip():
        return {}
    if not request.is_json:
        raise BadParam(
            "unsupported_media_type",
            _("The body must be JSON (Content-Type: application/json)."),
            status=415,
        )
    not_object = BadParam("bad_body", _("The body must be a JSON object."))
    try:
        body = json.loads(data)
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        raise not_object from None
    if not isinstance(body, dict):
        raise not_object
    if _depth(body) > MAX_BODY_DEPTH:
        raise _too_deep()
    return body


def _too_deep() -> BadParam:
    return BadParam(
        "bad_body",
        _(
            "The body nests objects or lists too deep (at most {depth} levels).",
            depth=MAX_BODY_DEPTH,
        ),
    )


def too_large() -> BadParam:
    return BadParam(
        "request_too_large",
        _("The request body is too large (at most {size} KB).", size=MAX_BODY_BYTES // 1024),
        status=413,
    )


def limit_body() -> None:
    """``before_request`` of ``/api/``: the API takes small bodies only (a 413 before
    anything is read; a body without a length is cut at the same size)."""
    request.max_content_length = MAX_BODY_BYTES
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise too_large()
