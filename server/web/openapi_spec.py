"""The OpenAPI 3.1 description of the JSON API (``/api/v1``), written by hand next to
the routes it describes; ``tests/web/test_openapi.py`` checks that both list the same
routes and that each documented answer has the documented keys."""

from __future__ import annotations

from typing import Any

from server.web.openapi_schemas import SCHEMAS

JSON = "application/json"


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _param(name: str, description: str, *, required: bool = False, **schema: Any) -> dict:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": schema or {"type": "string"},
    }


CAMPUS = _param(
    "campus",
    "Campus id. A token of one campus may only give its own (403 otherwise) and reads its "
    "own when none is given.",
    pattern="^[a-z0-9][a-z0-9-]*$",
)
ROOM = _param("room", "Room id of the campus; the whole campus when left out.")
ALERT_ID = {
    "name": "alert_id",
    "in": "path",
    "required": True,
    "description": "The alert's public id (alert-…).",
    "schema": {"type": "string"},
}


def _ok(schema: str, description: str, *, status: str = "200") -> dict[str, Any]:
    return {status: {"description": description, "content": {JSON: {"schema": ref(schema)}}}}


def _errors(*statuses: int) -> dict[str, Any]:
    texts = {
        400: "A parameter or the body is wrong; ``error.code`` names it (bad_<field>).",
        401: "No bearer token.",
        403: "The token is not allowed, or not for this campus (forbidden_campus).",
        404: "No such campus or alert.",
        409: "The alert is closed: no new call or acknowledgement (alert_closed).",
    }
    return {
        str(status): {"description": texts[status], "content": {JSON: {"schema": ref("Error")}}}
        for status in (401, 403, *statuses)
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
            _param("week", "ISO week, e.g. 2026-W48.", required=True, pattern=r"^\d{4}-W\d{2}$"),
            CAMPUS,
            _param("format", "json (default) or csv.", enum=["json", "csv"]),
        ],
        _ok("WeeklyReport", "The report (text/csv with format=csv)."),
        400,
        404,
    )
    weekly["get"]["responses"]["200"]["content"]["text/csv"] = {"schema": {"type": "string"}}
    story = _get(
        "Why one student's week adds up as it does: each slot's outcome and reason, the "
        "sessions with their taps and corrections, excuses, closures, and the figures. Any "
        "week that has begun, frozen ones included; 404 for a week that does not exist or "
        "has not begun (bad_week, future_week) or an unknown student, 403 for a student of "
        "another campus.",
        [
            _path("student_id", "The student's id, e.g. E001."),
            _path("week", "ISO week, e.g. 2026-W46."),
        ],
        _ok("WeekStory", "The week explained."),
        404,
    )
    return {
        "/api/v1/presence/weekly": weekly,
        "/api/v1/presence/students/{student_id}/weeks/{week}": story,
    }


def _path(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def _occupancy() -> dict[str, Any]:
    instant = "A date or an RFC 3339 time."
    return {
        "/api/v1/occupancy": _get(
            "How many people are in each campus and room now, against capacity.",
            [CAMPUS],
            _ok("OccupancyNow", "Counts now (counts only, never who)."),
            400,
        ),
        "/api/v1/occupancy/history": _get(
            "Counts over a span (default: the last 24 hours).",
            [
                CAMPUS,
                ROOM,
                _param("from", instant, format="date-time"),
                _param("to", instant, format="date-time"),
                _param("step", "Sampling step: 300, 5m, 1h…"),
            ],
            _ok("OccupancyHistory", "Samples in time order."),
            400,
        ),
        "/api/v1/occupancy/stats": _get(
            "Peak, average, use of capacity and the weekday × hour heatmap of a period.",
            [
                _param("period", "day (default), week or month.", enum=["day", "week", "month"]),
                _param(
                    "date", "A day of the period (YYYY-MM-DD), today by default.", format="date"
                ),
                CAMPUS,
                ROOM,
            ],
            _ok("OccupancyStats", "Statistics of the period."),
            400,
        ),
        "/api/v1/occupancy/forecast": _get(
            "Expected people hour by hour from the students' slots (default: next week).",
            [_param("week", "ISO week, e.g. 2026-W49.", pattern=r"^\d{4}-W\d{2}$"), CAMPUS],
            _ok("OccupancyForecast", "Hours of the week, those over capacity flagged."),
            400,
        ),
        "/api/v1/occupancy/corrections": {
            "post": {
                "summary": "Set a count by hand (a reader missed people), with a reason.",
                "requestBody": _body("OccupancyCorrection"),
                "responses": {
                    **_ok("OccupancyCorrected", "The count now, and what the taps said."),
                    **_errors(400),
                },
            }
        },
        "/api/v1/readers": _get(
            "Each badge reader's health: online, offline, degraded or unknown.",
            [CAMPUS],
            _ok("Readers", "Readers of the campus (or of every campus)."),
            400,
        ),
    }


def _alerts() -> dict[str, Any]:
    return {
        "/api/v1/alerts": _get(
            "Alerts, newest first: absences, weekly shortfalls, readers down, capacity.",
            [
                _param("status", "open (default: not closed) or all.", enum=["open", "all"]),
                _param("since", "Only alerts noticed since (RFC 3339).", format="date-time"),
                CAMPUS,
            ],
            _ok("AlertList", "The alerts, with the student's phone number to call."),
            400,
        ),
        "/api/v1/alerts/{alert_id}/ack": {
            "post": {
                "summary": "Acknowledge an alert (the tutor has seen it).",
                "parameters": [ALERT_ID],
                "requestBody": _body("Actor", required=False),
                "responses": {**_ok("Alert", "The alert."), **_errors(400, 404, 409)},
            }
        },
        "/api/v1/alerts/{alert_id}/calls": {
            "post": {
                "summary": (
                    "Log a call about an alert: it closes the alert, except no_answer and "
                    "wrong_number (the alert stays open; next_call_at says when to call again)."
                ),
                "parameters": [ALERT_ID],
                "requestBody": _body("CallLog"),
                "responses": {
                    **_ok("Alert", "The alert with its call.", status="201"),
                    **_errors(400, 404, 409),
                },
            }
        },
        "/api/v1/alerts/evidence": _get(
            "The call-on-absence evidence per tutor between two local days (included).",
            [
                _param("from", "First day (YYYY-MM-DD).", required=True, format="date"),
                _param("to", "Last day (YYYY-MM-DD).", required=True, format="date"),
                CAMPUS,
            ],
            _ok("Evidence", "Absences noticed, acknowledged and called, per tutor and in all."),
            400,
        ),
    }


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
                "deployment's configured token. Times are RFC 3339; errors are "
                '`{"error": {"code", "message"}}`.'
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": {**_presence(), **_occupancy(), **_alerts(), **_itself()},
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "An API token (created by an admin) or the configured one.",
                }
            },
            "schemas": SCHEMAS,
        },
    }
