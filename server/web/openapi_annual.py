"""The OpenAPI description of ``/api/v1/reports/annual`` (``server.web.annual``): its
path and the ``AnnualGrid`` schema, merged into the document by ``openapi_spec``."""

from __future__ import annotations

from typing import Any

from server.domain.annual_report import FORMAT_ID, FORMAT_VERSION
from server.texts.annual_texts import SECTIONS

FIGURE = {"type": ["number", "null"]}  # None: not recorded
COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}


def schemas() -> dict[str, Any]:
    keys = [key for _section, names in SECTIONS for key in names]
    return {
        "AnnualGrid": {
            "type": "object",
            "description": (
                "The annual grid of one campus (docs/annual-report.md); a figure nobody "
                "recorded is null. The same document as the page's JSON export, which "
                "`campus-presence report merge` reads."
            ),
            "required": [
                "format",
                "version",
                "campus",
                "campus_name",
                "period",
                "indicators",
                "breakdowns",
                "criteria",
                "trend",
            ],
            "properties": {
                "format": {"type": "string", "enum": [FORMAT_ID]},
                "version": {"type": "integer", "enum": [FORMAT_VERSION]},
                "campus": {"type": "string"},
                "campus_name": {"type": "string"},
                "period": {
                    "type": "object",
                    "required": ["first", "last", "label"],
                    "properties": {
                        "first": {"type": "string", "format": "date"},
                        "last": {"type": "string", "format": "date"},
                        "label": {"type": "string"},
                    },
                },
                "indicators": {
                    "type": "object",
                    "required": keys,
                    "properties": dict.fromkeys(keys, FIGURE),
                },
                "breakdowns": {"type": "object", "additionalProperties": COUNTS},
                "criteria": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["key", "figure", "threshold", "met"],
                        "properties": {
                            "key": {
                                "type": "string",
                                "enum": ["min_students", "public_share", "students_per_tutor"],
                            },
                            "figure": FIGURE,
                            "threshold": {"type": "number"},
                            "met": {"type": ["boolean", "null"]},
                        },
                    },
                },
                "trend": {
                    "type": "array",
                    "description": "[academic year, headcount], oldest first, this one last.",
                    "items": {"type": "array"},
                },
            },
        }
    }


def paths(
    get: Any, param: Any, ok: Any, campus: dict[str, Any], day: dict[str, Any]
) -> dict[str, Any]:
    """Built with ``openapi_spec``'s helpers (passed in: it imports this module)."""
    return {
        "/api/v1/reports/annual": get(
            "The annual report's grid of one campus: headcount and its trend, public "
            "share, students per tutor, outcome rates, hours, calls, occupancy, opening "
            "hours, reader availability, campus life, and each eligibility criterion met "
            "or not. Give year, or from and to (at most 5 years: 400 bad_period with the "
            "reason); the current academic year by default.",
            [
                param(
                    "year",
                    "Academic year, 1 September to 31 August, e.g. 2026-2027.",
                    pattern=r"^[0-9]{4}-[0-9]{4}$",
                ),
                param("from", "Instead of year: first day (YYYY-MM-DD), with to.", **day),
                param("to", "Last day (YYYY-MM-DD, included), with from.", **day),
                campus,
            ],
            ok("AnnualGrid", "The grid, with its format id and version."),
        )
    }
