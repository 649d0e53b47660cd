"""Use case: the weekly presence report, as JSON or CSV (CLI and API share it)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from server.domain.calendar import IsoWeek
from server.domain.ledger import WeekLine
from server.services.ledger import LedgerService

FIELDS = (
    "student_id",
    "expected_hours",
    "attended_hours",
    "unverified_hours",
    "missed_slots",
    "late_arrivals",
    "status",
)
FORMATS = ("json", "csv")


def weekly_report(
    ledger: LedgerService, week: IsoWeek, now: datetime, *, campus: str | None = None
) -> dict[str, Any]:
    lines = ledger.weekly(week, now, campus=campus)
    return {
        "week": str(week),
        "campus": campus,
        "generated_at": now.isoformat(timespec="seconds"),
        "students": rows(lines),
    }


def rows(lines: Sequence[WeekLine]) -> list[dict[str, Any]]:
    return [{name: line.as_dict()[name] for name in FIELDS} for line in lines]


def render(report: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(report["students"])
        return buffer.getvalue()
    raise ValueError(f"unknown format {fmt!r}: use json or csv")
