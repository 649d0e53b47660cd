"""JSON Schemas (OpenAPI 3.1, JSON Schema 2020-12) of the API's bodies and answers.
Every key an answer always has is ``required``; ``null`` is allowed where the API may
give it."""

from __future__ import annotations

from typing import Any

from server.domain.alerts import AlertKind, CallOutcome, ReasonCategory
from server.domain.ledger import WeekStatus
from server.domain.slots import NotDue, SlotState


def _obj(properties: dict[str, Any], *, optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object whose every property is required, but ``optional``."""
    required = [name for name in properties if name not in optional]
    return {"type": "object", "properties": properties, "required": required}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _list(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


STR = {"type": "string"}
INT = {"type": "integer"}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
DAY = {"type": "string", "format": "date"}
N_STR = {"type": ["string", "null"]}
N_INT = {"type": ["integer", "null"]}
N_NUM = {"type": ["number", "null"]}
N_TIME = {"type": ["string", "null"], "format": "date-time"}
CAMPUS_ID = {"pattern": "^[a-z0-9-]{1,64}$", "minLength": 1, "maxLength": 64}
# Who acts: a name or an e-mail, not blank.
BY = {"type": "string", "minLength": 1, "maxLength": 254, "pattern": r"\S"}

_LIMITS = {
    "count": INT,
    "capacity": N_INT,
    "soft_limit": N_INT,
    "hard_limit": N_INT,
    "ratio": N_NUM,
    "level": STR,
    "adjustment": INT,
}

_EVIDENCE_LINE = _obj(
    {
        "tutor": {**N_STR, "description": "The tutor's name; null on the total line."},
        "absences_noticed": INT,
        "needing_call": {
            **INT,
            "description": "Absences that still needed a call (the shares are of these).",
        },
        "acknowledged": INT,
        "acknowledged_share": N_NUM,
        "called": INT,
        "called_share": N_NUM,
        "called_same_day_share": N_NUM,
        "arrived_before_call": {
            **INT,
            "description": "Absences the student ended by coming in before a call was due.",
        },
        "median_minutes_to_call": N_NUM,
        "excused": {**INT, "description": "Absences a call excused (illness, exam…)."},
    }
)

_ALERT = _obj(
    {
        "id": STR,
        "kind": {"type": "string", "enum": [kind.value for kind in AlertKind]},
        "campus": STR,
        "status": {"type": "string", "enum": ["open", "acknowledged", "closed"]},
        "resolution": N_STR,
        "student_id": N_STR,
        "student_name": N_STR,
        "student_phone": {**N_STR, "description": "To call the student (staff only)."},
        "tutor": N_STR,
        "tutor_name": N_STR,
        "stage": {
            "type": "string",
            "enum": ["new", "seen", "no_answer", "call_due", "escalated", "closed"],
        },
        "attempts": {**INT, "description": "Calls that did not reach the student."},
        "next_call_at": {**N_TIME, "description": "When the next call is due, if any."},
        "slot_start": N_TIME,
        "slot_end": N_TIME,
        "week": N_STR,
        "reader": N_STR,
        "room": N_STR,
        "count": N_INT,
        "capacity": N_INT,
        "noticed_at": TIME,
        "acknowledged_at": N_TIME,
        "called_at": N_TIME,
        "arrived_at": N_TIME,
        "escalated_at": N_TIME,
        "closed_at": N_TIME,
        "url": N_STR,
        "calls": _list(
            _obj(
                {
                    "called_at": TIME,
                    "outcome": STR,
                    "reason_category": N_STR,
                    "reason": STR,
                    "excused": BOOL,
                    "by": STR,
                }
            )
        ),
        "deliveries": _list(
            _obj(
                {
                    "notice": STR,
                    "channel": STR,
                    "status": STR,
                    "attempts": INT,
                    "error": N_STR,
                    "sent_at": N_TIME,
                }
            )
        ),
    }
)

SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": _obj({"code": STR, "message": STR})}),
    "WeeklyReport": _obj(
        {
            "week": STR,
            "campus": N_STR,
            "generated_at": TIME,
            "students": _list(
                _obj(
                    {
                        "student_id": STR,
                        "expected_hours": NUM,
                        "attended_hours": NUM,
                        "unverified_hours": NUM,
                        "missed_slots": INT,
                        "late_arrivals": INT,
                        "status": {"type": "string", "enum": [s.value for s in WeekStatus]},
                    }
                )
            ),
        }
    ),
    "PeriodReport": _obj(
        {
            "from": DAY,
            "to": DAY,
            "campus": N_STR,
            "generated_at": TIME,
            "weeks": _list(STR),
            "rows": _list(
                _obj(
                    {
                        "week": STR,
                        "student_id": STR,
                        "expected_hours": NUM,
                        "attended_hours": NUM,
                        "unverified_hours": NUM,
                        "missed_slots": INT,
                        "late_arrivals": INT,
                        "status": {"type": "string", "enum": [s.value for s in WeekStatus]},
                    }
                )
            ),
            "students": _list(
                _obj(
                    {
                        "student_id": STR,
                        "weeks": INT,
                        "weeks_due": INT,
                        "weeks_met": INT,
                        "expected_hours": NUM,
                        "attended_hours": NUM,
                        "unverified_hours": NUM,
                    }
                )
            ),
        }
    ),
    "OccupancyNow": _obj(
        {
            "at": TIME,
            "campuses": _list(
                _obj(
                    {
                        "campus": STR,
                        **_LIMITS,
                        "rooms": _list(_obj({"room": STR, "name": STR, "kind": STR, **_LIMITS})),
                    }
                )
            ),
        }
    ),
    "OccupancyHistory": _obj(
        {
            "campus": STR,
            "room": N_STR,
            "points": _list(_obj({"at": TIME, "count": INT, "capacity": N_INT})),
            "step": {"type": "string", "enum": ["hour", "day"]},
            "peaks": _list(_obj({"start": TIME, "peak": INT, "average": NUM})),
        }
    ),
    "OccupancyStats": _obj(
        {
            "campus": STR,
            "room": N_STR,
            "period": {"type": "string", "enum": ["day", "week", "month"]},
            "start": TIME,
            "end": TIME,
            "peak": N_NUM,
            "peak_at": N_TIME,
            "average": N_NUM,
            "open_hours": N_NUM,
            "occupied_share": N_NUM,
            "capacity": N_INT,
            "utilisation": N_NUM,
            "peak_utilisation": N_NUM,
            "band": N_STR,
            "m2_per_person_at_peak": N_NUM,
            "heatmap": _list(_obj({"weekday": INT, "hour": INT, "average": NUM})),
        }
    ),
    "OccupancyForecast": _obj(
        {
            "campus": STR,
            "week": STR,
            "hours": _list(_obj({"start": TIME, "expected": NUM, "capacity": N_INT, "over": BOOL})),
            "over_capacity": _list(TIME),
        }
    ),
    "OccupancyCorrection": _obj(
        {
            "campus": {"type": "string", **CAMPUS_ID},
            "room": {**N_STR, "minLength": 1, "description": "null: the whole campus."},
            "count": {"type": "integer", "minimum": 0},
            "reason": {"type": "string", "minLength": 1, "pattern": r"\S"},
        },
        optional=("room",),
    ),
    "OccupancyCorrected": _obj({"campus": STR, "room": N_STR, "count": INT, "computed": INT}),
    "Readers": _obj(
        {
            "at": TIME,
            "readers": _list(
                _obj(
                    {
                        "campus": STR,
                        "reader": STR,
                        "state": {
                            "type": "string",
                            "enum": ["online", "offline", "degraded", "unknown"],
                        },
                        "last_seen": N_TIME,
                        "queued": N_INT,
                        "detail": N_STR,
                        "clock_synced": {"type": ["boolean", "null"]},
                        "alerted": BOOL,
                    }
                )
            ),
        }
    ),
    "Alert": _ALERT,
    "AlertList": _obj({"alerts": _list(_ref("Alert"))}),
    "Actor": _obj(
        {"by": {**BY, "description": "Who acts (default api)."}},
        optional=("by",),
    ),
    "CallLog": _obj(
        {
            "called_at": {**TIME, "description": "Default: now."},
            "outcome": {"type": "string", "enum": [item.value for item in CallOutcome]},
            "reason_category": {"type": "string", "enum": [item.value for item in ReasonCategory]},
            "reason": {"type": "string", "maxLength": 2000},
            "excused": {"type": "boolean", "description": "Needs a reason_category."},
            "by": BY,
        },
        optional=("called_at", "reason_category", "reason", "excused", "by"),
    ),
    "Evidence": _obj(
        {
            "from": DAY,
            "to": DAY,
            "tutors": _list(_EVIDENCE_LINE),
            "total": _EVIDENCE_LINE,
            "absences": _list(
                _obj(
                    {
                        "alert_id": STR,
                        "noticed_at": TIME,
                        "student_id": STR,
                        "tutor": STR,
                        "slot_start": N_TIME,
                        "slot_end": N_TIME,
                        "acknowledged_at": N_TIME,
                        "acknowledged_by": STR,
                        "status": STR,
                        "resolution": N_STR,
                        "closed_at": N_TIME,
                        "calls": _list(
                            _obj({"called_at": TIME, "outcome": STR, "by": STR, "excused": BOOL})
                        ),
                    }
                )
            ),
        }
    ),
}


_TAP = _obj({"ts": TIME, "effect": STR})
_CORRECTION = _obj(
    {
        "kind": STR,
        "session_start": N_TIME,
        "start": N_TIME,
        "end": N_TIME,
        "reason": STR,
        "by": STR,
        "at": TIME,
    }
)
# Why one student's week adds up as it does (services.week_story).
SCHEMAS["WeekStory"] = _obj(
    {
        "student_id": STR,
        "week": STR,
        "source": {
            "type": "string",
            "enum": ["live", "frozen", "frozen_recomputed", "frozen_unexplained"],
        },
        "frozen_at": N_TIME,
        "taps_purged": BOOL,
        "figures": _obj(
            {
                "student_id": STR,
                "week": STR,
                "expected_hours": NUM,
                "attended_hours": NUM,
                "unverified_hours": NUM,
                "missed_slots": INT,
                "late_arrivals": INT,
                "status": {"type": "string", "enum": [s.value for s in WeekStatus]},
            }
        ),
        "totals": _obj(
            {
                "weekly_minutes": INT,
                "slot_minutes": INT,
                "due_minutes": INT,
                "not_due_minutes": INT,
                "attended_in_slots_minutes": INT,
            }
        ),
        "slots": _list(
            _obj(
                {
                    "day": DAY,
                    "slot": STR,
                    "start": TIME,
                    "end": TIME,
                    "state": {"type": "string", "enum": [s.value for s in SlotState]},
                    "reason": {
                        "type": ["string", "null"],
                        "enum": [*(r.value for r in NotDue), None],
                    },
                    "detail": STR,
                    "expected_from": N_TIME,
                    "expected_minutes": INT,
                    "attended_minutes": INT,
                    "excused_minutes": INT,
                    "arrived_at": N_TIME,
                    "late_minutes": INT,
                }
            )
        ),
        "sessions": _list(
            _obj(
                {
                    "start": TIME,
                    "end": TIME,
                    "state": STR,
                    "taps": _list(_TAP),
                    "corrections": _list(_CORRECTION),
                }
            )
        ),
        "other_taps": _list(_TAP),
        "other_corrections": _list(_CORRECTION),
        "excuses": _list(
            _obj({"start": TIME, "end": TIME, "category": STR, "note": STR, "by": STR})
        ),
        "days": _list(_obj({"day": DAY, "kind": STR, "label": STR})),
    }
)
