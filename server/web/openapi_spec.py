"""The OpenAPI 3.1 description of the JSON API (``/api/v1``), written by hand next to
the routes it describes; ``tests/web/test_openapi.py`` checks that both list the same
routes and that each documented answer has the documented keys."""

from __future__ import annotations

from typing import Any

from server.domain.calendar import FIRST_YEAR, LAST_YEAR
from server.web import openapi_annual
from server.web.api_params import MAX_BODY_BYTES, MAX_BODY_DEPTH
from server.web.openapi_schemas import CAMPUS_ID, SCHEMAS

JSON = "application/json"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_FILES = ("json", "csv", "xlsx")
YEARS = f"Years {FIRST_YEAR} to {LAST_YEAR} only (400 otherwise)."
WEEK = {"type": "string", "pattern": r"^\d{4}-W\d{2}$", "minLength": 8, "maxLength": 8}
DAY = {"type": "string", "format": "date"}
INSTANT = {"type": "string", "format": "date-time"}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _param(name: str, description: str, *, required: bool = False, **schema: Any) -> dict:
    """A query parameter: every one is a string (``type`` first), narrowed by ``schema``."""
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "string", **schema},
    }


CAMPUS = _param(
    "campus",
    "Campus id (400 bad_campus if there is no such campus). A token of one campus may only "
    "give its own (403 otherwise) and reads its own when none is given.",
    **CAMPUS_ID,
)
ROOM = _param(
    "room", "Room id of the campus; the whole campus when left out.", minLength=1, maxLength=64
)
ALERT_ID = {
    "name": "alert_id",
    "in": "path",
    "required": True,
    "description": "The alert's public id (alert-…).",
    "schema": {"type": "string", "minLength": 1, "maxLength": 64},
}


def _ok(schema: str, description: str, *, status: str = "200") -> dict[str, Any]:
    return {status: {"description": description, "content": {JSON: {"schema": ref(schema)}}}}


_ERRORS = {
    400: "A parameter or the body is wrong; ``error.code`` names it (bad_<name>), the "
    "message says what it must be.",
    401: "No bearer token (with a `WWW-Authenticate: Bearer` header).",
    403: "The token is not allowed, or not for this campus (forbidden_campus).",
    404: "No such alert or student (or not one of the token's campus), or no such week.",
    413: f"The body is larger than {MAX_BODY_BYTES // 1024} KB (request_too_large).",
    415: "The body is not `application/json` (unsupported_media_type).",
    409: "The alert is closed: no new call or acknowledgement (alert_closed).",
}


def _errors(*statuses: int) -> dict[str, Any]:
    return {
        str(status): {
            "description": _ERRORS[status],
            "content": {JSON: {"schema": ref("Error")}},
        }
        for status in (400, 401, 403, *statuses)
    }


def _post(
    summary: str, params: list[dict], body: dict[str, Any], answer: dict[str, Any], *errors: int
) -> dict:
    """A POST: its body can also be too large (413) or not JSON (415)."""
    return {
        "post": {
            "summary": summary,
            "parameters": params,
            "requestBody": body,
            "responses": {**answer, **_errors(*errors, 413, 415)},
        }
    }


def _get(summary: str, params: list[dict], answer: dict[str, Any], *errors: int) -> dict:
    return {
        "get": {
            "summary": summary,
            "parameters": params,
            "responses": {**answer, **_errors(*errors)},
        }
    }


def _body(schema: str, *, required: bool = True) -> dict[str, Any]:
    return {"required": required, "content": {JSON: {"schema": ref(schema)}}}


def _presence() -> dict[str, Any]:
    weekly = _get(
        "Weekly presence of every student: hours expected and attended, status.",
        [
            _param("week", f"ISO week, e.g. 2026-W48. {YEARS}", required=True, **WEEK),
            CAMPUS,
            _param("format", "json (default) or csv.", enum=["json", "csv"]),
        ],
        _ok("WeeklyReport", "The report (text/csv with format=csv)."),
    )
    weekly["get"]["responses"]["200"]["content"]["text/csv"] = {"schema": {"type": "string"}}
    story = _get(
        "Why one student's week adds up as it does: each slot's outcome and reason, the "
        "sessions with their taps and corrections, excuses, closures, and the figures. Any "
        "week that has begun, frozen ones included; 404 for a week that does not exist or "
        "has not begun (bad_week, future_week) or an unknown student, 403 for a student of "
        "another campus.",
        [
            _path("student_id", "The student's id, e.g. E001.", minLength=1, maxLength=64),
            _path("week", "ISO week, e.g. 2026-W46.", pattern=r"^[0-9]{4}-W[0-9]{2}$"),
        ],
        _ok("WeekStory", "The week explained."),
        404,
    )
    period = _get(
        "Presence over a period: one row per student-week (every ISO week with a day in "
        "the period), totals per student (weeks, weeks due, weeks met, hours). Give from "
        "and to, or year; days are the campus's local days; at most 5 years (400 "
        "bad_period with the reason).",
        [
            _param("from", f"First day, e.g. 2026-09-01 (with to). {YEARS}", **DAY),
            _param("to", f"Last day, included, e.g. 2027-06-30 (with from). {YEARS}", **DAY),
            _param(
                "year",
                "Instead of from/to: an ISO year (2026) or an academic year (2026-2027, "
                "1 September to 31 August).",
                pattern=r"^[0-9]{4}(-[0-9]{4})?$",
                minLength=4,
                maxLength=9,
            ),
            CAMPUS,
            _param(
                "format",
                "json (default), csv or xlsx (student-week rows).",
                enum=list(("json", "csv", "xlsx")),
            ),
        ],
        _ok("PeriodReport", "The report (the rows as text/csv or XLSX with format)."),
    )
    period["get"]["responses"]["200"]["content"].update(_files())
    return {
        "/api/v1/presence/weekly": weekly,
        "/api/v1/presence/period": period,
        "/api/v1/presence/students/{student_id}/weeks/{week}": story,
    }


def _path(name: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string", **schema},
    }


def _occupancy() -> dict[str, Any]:
    instant = (
        "An RFC 3339 time, or a day alone (YYYY-MM-DD: its midnight in the campus's time "
        f"zone). {YEARS}"
    )
    moment = {"anyOf": [DAY, INSTANT]}
    paths = {
        "/api/v1/occupancy": _get(
            "How many people are in each campus and room now, against capacity.",
            [CAMPUS],
            _ok("OccupancyNow", "Counts now (counts only, never who)."),
        ),
        "/api/v1/occupancy/history": _get(
            "Counts over a span (default: the last 24 hours; at most 5 years, 400 "
            "bad_range beyond), and the peak and mean per hour (up to 31 days) or per day "
            "(beyond); beyond 31 days the samples are one a day unless step is given. "
            "format=csv or xlsx gives the peaks as a file.",
            [
                CAMPUS,
                ROOM,
                _param("from", f"{instant} Default: 24 hours before to.", **moment),
                _param("to", f"{instant} Default: now.", **moment),
                _param(
                    "step",
                    "Sampling step in seconds, or with a unit: 300, 5m, 1h, 1d.",
                    pattern=r"^\d{1,6}[smhd]?$",
                ),
                _param("format", "json (default), csv or xlsx (the peaks).", enum=list(_FILES)),
            ],
            _ok("OccupancyHistory", "Samples in time order."),
        ),
        "/api/v1/occupancy/stats": _get(
            "Peak, average, use of capacity and the weekday × hour heatmap of a period.",
            [
                _param("period", "day (default), week or month.", enum=["day", "week", "month"]),
                _param(
                    "date",
                    f"A day of the period (YYYY-MM-DD, in the campus's time zone), today by "
                    f"default. {YEARS}",
                    **DAY,
                ),
                CAMPUS,
                ROOM,
            ],
            _ok("OccupancyStats", "Statistics of the period."),
        ),
        "/api/v1/occupancy/forecast": _get(
            "Expected people hour by hour from the students' slots (default: next week).",
            [_param("week", f"ISO week, e.g. 2026-W49. {YEARS}", **WEEK), CAMPUS],
            _ok("OccupancyForecast", "Hours of the week, those over capacity flagged."),
        ),
        "/api/v1/occupancy/corrections": _post(
            "Set a count by hand (a reader missed people), with a reason.",
            [],
            _body("OccupancyCorrection"),
            _ok("OccupancyCorrected", "The count now, and what the taps said."),
        ),
        "/api/v1/readers": _get(
            "Each badge reader's health: online, offline, degraded or unknown.",
            [CAMPUS],
            _ok("Readers", "Readers of the campus (or of every campus)."),
        ),
    }
    paths["/api/v1/occupancy/history"]["get"]["responses"]["200"]["content"].update(_files())
    return paths


def _files() -> dict[str, Any]:
    """The other contents of an answer that ``format=csv|xlsx`` asks for."""
    return {
        "text/csv": {"schema": {"type": "string"}},
        XLSX: {"schema": {"type": "string", "contentMediaType": XLSX}},
    }


def _alerts() -> dict[str, Any]:
    return {
        "/api/v1/alerts": _get(
            "Alerts, newest first: absences, weekly shortfalls, readers down, capacity.",
            [
                _param("status", "open (default: not closed) or all.", enum=["open", "all"]),
                _param(
                    "since",
                    f"Only alerts noticed since (RFC 3339, with its offset). {YEARS}",
                    **INSTANT,
                ),
                CAMPUS,
            ],
            _ok("AlertList", "The alerts, with the student's phone number to call."),
        ),
        "/api/v1/alerts/{alert_id}/ack": _post(
            "Acknowledge an alert (the tutor has seen it); 409 when it is closed.",
            [ALERT_ID],
            _body("Actor", required=False),
            _ok("Alert", "The alert."),
            404,
            409,
        ),
        "/api/v1/alerts/{alert_id}/calls": _post(
            "Log a call about an alert: it closes the alert, except no_answer and "
            "wrong_number (the alert stays open; next_call_at says when to call again); "
            "409 when the alert is closed.",
            [ALERT_ID],
            _body("CallLog"),
            _ok("Alert", "The alert with its call.", status="201"),
            404,
            409,
        ),
        "/api/v1/alerts/evidence": _get(
            "The call-on-absence evidence per tutor between two local days (included), "
            "read in the campus's time zone, at most 5 years (400 bad_period beyond), and "
            "each absence with its calls (time, outcome, who), acknowledgement and closure.",
            [
                _param("from", f"First day (YYYY-MM-DD). {YEARS}", required=True, **DAY),
                _param("to", f"Last day (YYYY-MM-DD). {YEARS}", required=True, **DAY),
                CAMPUS,
            ],
            _ok("Evidence", "Absences noticed, acknowledged and called, per tutor and in all."),
        ),
    }


def _reports() -> dict[str, Any]:
    return openapi_annual.paths(_get, _param, _ok, CAMPUS, DAY)


def _itself() -> dict[str, Any]:
    return {
        "/api/v1/openapi.json": {
            "get": {
                "summary": "This description (public, no token).",
                "security": [],
                "responses": {
                    "200": {
                        "description": "OpenAPI 3.1 document.",
                        "content": {JSON: {"schema": {"type": "object"}}},
                    }
                },
            }
        }
    }


def spec(version: str = "1") -> dict[str, Any]:
    """The whole OpenAPI document."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Campus connecté: presence and occupancy API",
            "version": version,
            "description": (
                "Weekly presence, occupancy, readers and alerts of the campuses, for "
                "integrations. Every call but this description needs "
                "`Authorization: Bearer <token>`: an API token made by an admin (a "
                "coordinator's or an admin's, for one campus or for all) or the "
                "deployment's configured token. Times are RFC 3339; a day alone is read "
                "in the campus's time zone; days and weeks are those of the years "
                f"{FIRST_YEAR} to {LAST_YEAR}. Errors are "
                '`{"error": {"code", "message"}}` with a 4xx status: 400 for a wrong '
                "parameter or body (its `code` names it), 401 without a token, 403 for a "
                "token not allowed, 404 for a path or alert that does not exist, 405 (with "
                "an `Allow` header) for a method a path does not take, 413 for a body over "
                f"{MAX_BODY_BYTES // 1024} KB, 415 for a body that is not JSON; a body "
                f"nesting deeper than {MAX_BODY_DEPTH} levels is a 400."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {**_presence(), **_occupancy(), **_alerts(), **_reports(), **_itself()},
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (created by an admin) or the configured one.",
                }
            },
            "schemas": {**SCHEMAS, **openapi_annual.schemas()},
        },
    }
