"""Use case: import the coordinator's student spreadsheet (CSV).

Header row with these columns in any order (unknown ones are ignored with a warning)::

    student_id, last_name, first_name, email, phone, tutor_email, badge_uid,
    weekly_hours, slots, contract_start, contract_end, programme, institution,
    institution_type

Separator ``;`` or ``,``; UTF-8 (with or without BOM) or Windows-1252 (French Excel);
dates ``2026-09-01`` or ``01/09/2026``; slots like ``lun 09:00-12:00; mar 14:00-18:00``.
Re-importing the same file changes nothing; a changed row updates the student and keeps
the contract history. Each bad row is reported with its line number and reason, and the
good rows are still imported. Badge UIDs are hashed at once and never stored or logged.
"""

from __future__ import annotations

import csv
import io
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from sqlalchemy import orm

from edge.protocol import UID_BYTE_LENGTHS
from server.domain.badges import badge_hash
from server.domain.calendar import local_instant
from server.domain.contracts import (
    MINIMUM_WEEKLY_MINUTES,
    Contract,
    DomainError,
    parse_slots,
)
from server.i18n import _
from server.registry.student_repository import Actor, StudentRepository
from server.services.contract_changes import record_contract

log = logging.getLogger(__name__)

COLUMNS = (
    "student_id",
    "last_name",
    "first_name",
    "email",
    "phone",
    "tutor_email",
    "badge_uid",
    "weekly_hours",
    "slots",
    "contract_start",
    "contract_end",
    "programme",
    "institution",
    "institution_type",
)
STUDENT_FIELDS = (
    "last_name",
    "first_name",
    "email",
    "phone",
    "programme",
    "institution",
    "institution_type",
)
REQUIRED = ("student_id", "last_name", "first_name", "weekly_hours", "slots", "contract_start")
_STUDENT_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_EMAIL = re.compile(r"[^@\s;,]+@[^@\s;,]+\.[^@\s;,]+")
_PHONE = re.compile(r"[0-9+() .-]{4,40}")
_HOURS = re.compile(r"(\d{1,3})(?:[.,](\d{1,2})|\s*[hH]\s*(\d{2})?)?")
_DMY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


class RowError(DomainError):
    """A row that cannot be imported; ``message`` is translated by the caller."""


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    message: str  # translated


@dataclass(frozen=True, slots=True)
class StudentRow:
    """A validated row. The badge is already a keyed hash."""

    line: int
    student_id: str
    values: dict[str, str]  # student fields
    tutor_email: str
    badge: str
    contract: Contract
    warnings: tuple[str, ...]


@dataclass
class ImportReport:
    dry_run: bool
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


# --------------------------------------------------------------------------- reading


def decode(data: bytes) -> str:
    """UTF-8 (a BOM is dropped), else Windows-1252 as French Excel writes it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_rows(text: str) -> tuple[list[str], Iterator[tuple[int, dict[str, str], bool]]]:
    """Header (normalised names) and rows as (line number, values, too many values)."""
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [_column(name) for name in next(reader, [])]

    def rows() -> Iterator[tuple[int, dict[str, str], bool]]:
        line = 1
        for values in reader:
            start, line = line + 1, reader.line_num
            if not any(value.strip() for value in values):
                continue
            extra = len(values) > len(header)
            yield start, dict(zip(header, (v.strip() for v in values), strict=False)), extra

    return header, rows()


def _column(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lower())


# --------------------------------------------------------------------------- checking


def check_row(line: int, values: dict[str, str], secret: bytes) -> StudentRow:
    """A validated row, or :class:`RowError` with the first reason found."""
    student_id = values.get("student_id", "")
    if not _STUDENT_ID.fullmatch(student_id):
        raise RowError("student_id is missing or has characters other than letters, digits, . _ -")
    for name in ("last_name", "first_name"):
        check_name(values.get(name, ""), name)
    for name in ("email", "tutor_email"):
        check_email(values.get(name, ""), name)
    check_phone(values.get("phone", ""))
    minutes = weekly_minutes(values.get("weekly_hours", ""))
    start = parse_date(values.get("contract_start", ""), "contract_start")
    end = parse_date(values["contract_end"], "contract_end") if values.get("contract_end") else None
    if end is not None and end < start:
        raise RowError("contract_end is before contract_start")
    contract = Contract(minutes, parse_slots(values.get("slots", "")), start, end)
    return StudentRow(
        line,
        student_id,
        {name: values.get(name, "")[:200] for name in STUDENT_FIELDS},
        values.get("tutor_email", "").lower(),
        hash_uid(values.get("badge_uid", ""), secret),
        contract,
        _warnings(contract),
    )


def check_name(value: str, column: str) -> None:
    """A name is required and at most 200 characters (import and admin form alike)."""
    if not value or len(value) > 200:
        raise RowError("{column} is missing or too long", column=column)


def check_email(value: str, column: str) -> None:
    """An e-mail address, or nothing."""
    if value and not _EMAIL.fullmatch(value):
        raise RowError("{column} is not a valid e-mail address", column=column)


def check_phone(value: str) -> None:
    """A phone number (digits, spaces, + ( ) . -), or nothing."""
    if value and not _PHONE.fullmatch(value):
        raise RowError("phone is not a valid phone number")


def _warnings(contract: Contract) -> tuple[str, ...]:
    """What is accepted but worth a look: below the national minimum, or more hours
    than the slots hold."""
    warnings = []
    if contract.weekly_minutes < MINIMUM_WEEKLY_MINUTES:
        warnings.append(_("weekly_hours is below the national minimum of 12 h a week"))
    if contract.slot_minutes < contract.weekly_minutes:
        hours = f"{contract.slot_minutes / 60:g}"
        warnings.append(_("the slots cover {slots} h a week, less than weekly_hours", slots=hours))
    return tuple(warnings)


def weekly_minutes(text: str) -> int:
    """``12``, ``12.5``, ``12,5``, ``12h30`` -> minutes."""
    match = _HOURS.fullmatch(text.strip())
    if match is None:
        raise RowError("weekly_hours is not a number of hours")
    whole, decimals, minutes = match.groups()
    try:
        hours = Decimal(f"{whole}.{decimals or 0}")
    except InvalidOperation:  # pragma: no cover - the pattern only lets digits through
        raise RowError("weekly_hours is not a number of hours") from None
    total = int(hours * 60) + int(minutes or 0)
    if not 0 < total <= 70 * 60:
        raise RowError("weekly_hours must be more than 0 and at most 70")
    return total


def parse_date(text: str, column: str) -> date:
    text = text.strip()
    try:
        match = _DMY.fullmatch(text)
        if match:
            day, month, year = (int(part) for part in match.groups())
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        raise RowError(
            "{column} is not a date like 2026-09-01 or 01/09/2026", column=column
        ) from None


def hash_uid(text: str, secret: bytes) -> str:
    """The keyed hash of a badge UID typed in the sheet ('' if none). The UID itself is
    never repeated back, not even in an error message."""
    uid = re.sub(r"[\s:-]", "", text)
    if not uid:
        return ""
    if (
        not re.fullmatch(r"[0-9A-Fa-f]+", uid)
        or len(uid) % 2
        or len(uid) // 2 not in UID_BYTE_LENGTHS
    ):
        raise RowError("badge_uid is not a badge UID (4, 7, 8 or 10 bytes in hexadecimal)")
    return badge_hash(secret, uid)


# --------------------------------------------------------------------------- importing


def import_students(
    registry: Callable[[], orm.Session],
    data: bytes,
    *,
    campus_id: str,
    secret: bytes,
    timezone: str,
    retention_days: int,
    actor: Actor,
    dry_run: bool = False,
) -> ImportReport:
    """Check and import every row; bad rows are reported, good ones imported (or, in a
    dry run, everything is checked against the registry and then rolled back)."""
    report = ImportReport(dry_run=dry_run)
    header, rows = read_rows(decode(data))
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        names = ", ".join(missing)
        report.errors.append(RowProblem(1, _("missing column(s): {names}", names=names)))
        return report
    unknown = [name for name in header if name and name not in COLUMNS]
    if unknown:
        names = ", ".join(unknown)
        report.warnings.append(RowProblem(1, _("column(s) ignored: {names}", names=names)))
    with registry() as session:
        importer = _Importer(
            StudentRepository(session),
            report,
            campus_id,
            secret,
            ZoneInfo(timezone),
            timedelta(days=retention_days),
            actor,
        )
        if not importer.students.campus_exists(campus_id):
            report.errors.append(RowProblem(1, _("unknown campus {campus}", campus=campus_id)))
            return report
        for line, values, extra in rows:
            importer.row(line, values, extra)
        if dry_run:
            session.rollback()
        else:
            session.commit()
    _log(report)
    return report


def _log(report: ImportReport) -> None:
    """Counts and student ids only: no names, no phone numbers."""
    log.info(
        "student import%s: %d created, %d updated, %d unchanged, %d rejected",
        " (dry run)" if report.dry_run else "",
        len(report.created),
        len(report.updated),
        len(report.unchanged),
        len(report.errors),
    )
    if report.created or report.updated:
        log.info(
            "student import: created %s; updated %s",
            ",".join(report.created) or "-",
            ",".join(report.updated) or "-",
        )


@dataclass
class _Importer:
    students: StudentRepository
    report: ImportReport
    campus_id: str
    secret: bytes
    timezone: ZoneInfo
    retention: timedelta
    actor: Actor
    seen: set[str] = field(default_factory=set)

    def row(self, line: int, values: dict[str, str], extra: bool) -> None:
        try:
            if extra:
                raise RowError("the row has more values than the header has columns")
            row = check_row(line, values, self.secret)
            if row.student_id in self.seen:
                raise RowError(
                    "student_id {student_id} appears twice in the file", student_id=row.student_id
                )
            self.seen.add(row.student_id)
            with self.students.session.begin_nested():
                outcome = self._save(row)
        except DomainError as error:
            self.report.errors.append(RowProblem(line, _(error.message, **error.values)))
            log.info("student import: line %d rejected", line)
            return
        self.report.warnings.extend(RowProblem(line, warning) for warning in row.warnings)
        getattr(self.report, outcome).append(row.student_id)

    def _save(self, row: StudentRow) -> str:
        """Save one checked row: ``created``, ``updated`` or ``unchanged``."""
        students, actor = self.students, self.actor
        values: dict[str, object] = {**row.values, "campus_id": self.campus_id}
        if row.tutor_email:
            values["tutor_id"] = students.tutor(row.tutor_email, actor).id
        student, outcome = students.save_student(row.student_id, values, actor)
        recorded = record_contract(
            students,
            student,
            row.contract,
            actor,
            timezone=self.timezone,
            retention=self.retention,
        )
        changed = recorded is not None
        if row.badge:
            since = local_instant(row.contract.valid_from, time(0), self.timezone)
            changed = (
                students.give_badge(student, row.badge, min(since, actor.at), actor) or changed
            )
        return "updated" if outcome == "unchanged" and changed else outcome
