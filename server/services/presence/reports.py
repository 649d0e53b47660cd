"""Use cases: the weekly presence report (JSON or CSV) and the presence report over a
period (JSON, CSV or XLSX: one row per student-week, totals per student in JSON); the
CLI and the API share them."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from server.adapters import spreadsheets
from server.adapters.spreadsheets import Column, Kind
from server.domain.calendar import IsoWeek
from server.domain.coordinator_reports import period_totals
from server.domain.ledger import WeekLine
from server.domain.periods import Period
from server.services.presence.ledger import LedgerService

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


PERIOD_FORMATS = ("json", "csv", "xlsx")
PERIOD_FIELDS = ("week", *FIELDS)
_KINDS = {
    "expected_hours": Kind.HOURS,
    "attended_hours": Kind.HOURS,
    "unverified_hours": Kind.HOURS,
    "missed_slots": Kind.INTEGER,
    "late_arrivals": Kind.INTEGER,
}


def period_report(
    ledger: LedgerService, span: Period, now: datetime, *, campus: str | None = None
) -> dict[str, Any]:
    """Every student-week of the weeks touching ``span`` (the ledger read once for all
    of them), sorted by week then student, and each student's totals."""
    weeks = span.weeks()
    by_week = ledger.weeks(weeks, now, campus=campus)
    lines = [
        line for week in weeks for line in sorted(by_week[week], key=lambda line: line.student_id)
    ]
    totals = period_totals(lines)
    return {
        "from": span.first.isoformat(),
        "to": span.last.isoformat(),
        "campus": campus,
        "generated_at": now.isoformat(timespec="seconds"),
        "weeks": [str(week) for week in weeks],
        "rows": [{name: line.as_dict()[name] for name in PERIOD_FIELDS} for line in lines],
        "students": [totals[key].as_dict() for key in sorted(totals)],
    }


def render_period(report: dict[str, Any], fmt: str) -> bytes:
    """The report as JSON, or its student-week rows as CSV (``;``, UTF-8 with BOM, as
    every export) or XLSX."""
    if fmt == "json":
        return (json.dumps(report, ensure_ascii=False, indent=2) + "\n").encode()
    columns = [Column(name, _KINDS.get(name, Kind.TEXT)) for name in PERIOD_FIELDS]
    rows = [[row[name] for name in PERIOD_FIELDS] for row in report["rows"]]
    if fmt == "csv":
        return spreadsheets.csv_bytes(columns, rows)
    if fmt == "xlsx":
        return spreadsheets.xlsx_bytes(f"presence {report['from']}", columns, rows)
    raise ValueError(f"unknown format {fmt!r}: use json, csv or xlsx")
