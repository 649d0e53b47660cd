"""Use case: import the coordinator's student spreadsheet (CSV).

Header row with these columns in any order, in French or English (see
:data:`FRENCH_COLUMNS`; unknown ones are ignored with a warning)::

    student_id, last_name, first_name, email, phone, tutor_email, badge_uid,
    weekly_hours, slots, contract_start, contract_end, programme, institution,
    institution_type

and, optionally, a student's academic year (``services.outcome_import``):
``academic_year``, ``programme_type``, ``enrolment_date``, ``departure_date``,
``age_band``, ``profile_status``, ``result``, ``result_date``, ``result_reason``.

Separator ``;`` or ``,``; UTF-8 (with or without BOM) or Windows-1252 (French Excel);
dates ``2026-09-01`` or ``01/09/2026``; slots like ``lun 09:00-12:00 | mar 14:00-18:00``
(``|`` or ``/`` between slots; ``;`` only inside a quoted cell). A row whose unquoted
``;`` slots spill over the next columns is refused with a hint saying what to do;
overlapping slots are refused. Re-importing the same file changes nothing; a changed row
updates the student and keeps the contract history. Each bad row is reported with its
line number and reason, and the good rows are still imported, unless the import is
``strict`` (all rows or none). Badge UIDs are hashed at once and never stored or logged.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from edge.protocol import UID_BYTE_LENGTHS
from server.adapters.spreadsheets import Column, csv_bytes
from server.domain.accounts import Actor
from server.domain.badges import badge_hash
from server.domain.calendar import local_instant
from server.domain.contracts import MINIMUM_WEEKLY_MINUTES, Contract, looks_like_slot, parse_slots
from server.domain.errors import DomainError
from server.domain.outcomes import StudentYear
from server.i18n import _, ngettext
from server.ports.people import PeopleUnitOfWork, SaveOutcome
from server.services.people import outcome_import
from server.services.people.contract_changes import record_contract
from server.services.people.outcomes import store_student_year

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
    *outcome_import.COLUMNS,  # optional: the academic year (docs/outcomes-and-activities.md)
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
# French headers (lower case, accents dropped, spaces as ``_``) -> the column.
FRENCH_COLUMNS = {
    "identifiant": "student_id",
    "numero_etudiant": "student_id",
    "nom": "last_name",
    "prenom": "first_name",
    "courriel": "email",
    "e_mail": "email",
    "telephone": "phone",
    "courriel_tuteur": "tutor_email",
    "tuteur": "tutor_email",
    "badge": "badge_uid",
    "uid_badge": "badge_uid",
    "heures_hebdomadaires": "weekly_hours",
    "heures_par_semaine": "weekly_hours",
    "creneaux": "slots",
    "debut_contrat": "contract_start",
    "debut_du_contrat": "contract_start",
    "fin_contrat": "contract_end",
    "fin_du_contrat": "contract_end",
    "formation": "programme",
    "etablissement": "institution",
    "type_etablissement": "institution_type",
    "type_d_etablissement": "institution_type",
    **outcome_import.FRENCH_COLUMNS,
}
# The downloadable template's header, in French, in the order of COLUMNS.
TEMPLATE_HEADER = (
    "identifiant",
    "nom",
    "prénom",
    "courriel",
    "téléphone",
    "courriel_tuteur",
    "badge",
    "heures_hebdomadaires",
    "créneaux",
    "début_contrat",
    "fin_contrat",
    "formation",
    "établissement",
    "type_établissement",
)
TEMPLATE_EXAMPLE = (
    "E001",
    "Durand",
    "Émilie",
    "emilie.durand@example.org",
    "06 12 34 56 78",
    "tutrice@example.org",
    "",
    "12",
    "lun 09:00-12:00 | mar 14:00-18:00 | jeu 09:00-13:00 | ven 09:00-10:00",
    "01/09/2026",
    "30/06/2027",
    "Licence de psychologie",
    "Université Grenoble Alpes",
    "public",
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
    outcome: StudentYear | None = None  # the optional academic-year columns


@dataclass
class ImportReport:
    dry_run: bool
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[RowProblem] = field(default_factory=list)
    warnings: list[RowProblem] = field(default_factory=list)
    strict: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def saved(self) -> bool:
        """Whether the good rows were saved: not in a dry run, nor in a strict import
        with a bad row (all rows or none)."""
        return not self.dry_run and not (self.strict and self.errors)


# --------------------------------------------------------------------------- reading


def decode(data: bytes) -> str:
    """UTF-8 (a BOM is dropped), else Windows-1252 as French Excel writes it."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def read_rows(text: str) -> tuple[list[str], Iterator[tuple[int, dict[str, str], list[str]]]]:
    """Header (normalised names, French ones translated) and rows as (line number,
    values by column, the row's raw values: more than the header's when cells spill)."""
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") >= first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header = [_column(name) for name in next(reader, [])]

    def rows() -> Iterator[tuple[int, dict[str, str], list[str]]]:
        line = 1
        for values in reader:
            start, line = line + 1, reader.line_num
            if not any(value.strip() for value in values):
                continue
            yield start, dict(zip(header, (v.strip() for v in values), strict=False)), values

    return header, rows()


def _column(name: str) -> str:
    """``Prénom`` -> ``first_name``, ``Début du contrat`` -> ``contract_start``,
    ``student_id`` stays."""
    name = re.sub(r"[\s'’-]+", "_", name.strip().lower())
    plain = "".join(
        char for char in unicodedata.normalize("NFD", name) if not unicodedata.combining(char)
    )
    return FRENCH_COLUMNS.get(plain, name)


def spilled_slots(header: list[str], values: list[str]) -> bool:
    """Whether a row has too many values because its slots were separated by the file's
    own separator without quotes: the slots cell and the extra values all read as slots."""
    extra = len(values) - len(header)
    if extra <= 0 or "slots" not in header:
        return False
    start = header.index("slots")
    return all(looks_like_slot(value) for value in values[start : start + extra + 1])


def template_csv() -> bytes:
    """The file a coordinator fills in: French header, one example row, ``;``-separated
    UTF-8 with a BOM as French Excel opens it."""
    columns = [Column(name) for name in TEMPLATE_HEADER]
    return csv_bytes(columns, [TEMPLATE_EXAMPLE])


# --------------------------------------------------------------------------- checking


def check_row(line: int, values: dict[str, str], secret: bytes) -> StudentRow:
    """A validated row, or :class:`RowError` with the first reason found."""
    student_id = values.get("student_id", "")
    check_student_id(student_id)
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
        outcome_import.parse_outcome(values),
    )


def check_student_id(value: str) -> None:
    """Letters, digits, ``.``, ``_``, ``-``; at most 64 (import and admin form alike)."""
    if not _STUDENT_ID.fullmatch(value):
        raise RowError("student_id is missing or has characters other than letters, digits, . _ -")


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
    unit_of_work: Callable[[], PeopleUnitOfWork],
    data: bytes,
    *,
    campus_id: str,
    secret: bytes,
    timezone: str,
    retention_days: int,
    actor: Actor,
    dry_run: bool = False,
    strict: bool = False,
) -> ImportReport:
    """Check and import every row; bad rows are reported, good ones imported (or, in a
    dry run, everything is checked against the registry and then rolled back). A
    ``strict`` import saves all rows or none: one bad row and nothing is saved."""
    report = ImportReport(dry_run=dry_run, strict=strict)
    header, rows = read_rows(decode(data))
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        names = ", ".join(missing)
        report.errors.append(
            RowProblem(
                1,
                ngettext(
                    "missing column: {names}",
                    "missing columns: {names}",
                    len(missing),
                    names=names,
                ),
            )
        )
        return report
    unknown = [name for name in header if name and name not in COLUMNS]
    if unknown:
        names = ", ".join(unknown)
        report.warnings.append(
            RowProblem(
                1,
                ngettext(
                    "column ignored: {names}",
                    "columns ignored: {names}",
                    len(unknown),
                    names=names,
                ),
            )
        )
    with unit_of_work() as uow:
        importer = _Importer(
            uow,
            report,
            campus_id,
            secret,
            ZoneInfo(timezone),
            timedelta(days=retention_days),
            actor,
            header,
        )
        if not uow.students.campus_exists(campus_id):
            report.errors.append(RowProblem(1, _("unknown campus {campus}", campus=campus_id)))
            return report
        for line, values, raw in rows:
            importer.row(line, values, raw)
        if report.saved:
            uow.commit()  # else leaving the unit of work discards it all
    _log(report)
    return report


def import_summary(report: ImportReport) -> str:
    """``2 créés, 0 mis à jour, 1 inchangé, 0 refusé`` in the current language."""
    return ", ".join(
        [
            ngettext("{count} student created", "{count} students created", len(report.created)),
            ngettext("{count} updated", "{count} updated", len(report.updated)),
            ngettext("{count} unchanged", "{count} unchanged", len(report.unchanged)),
            ngettext("{count} rejected", "{count} rejected", len(report.errors)),
        ]
    )


def _log(report: ImportReport) -> None:
    """Counts and student ids only: no names, no phone numbers."""
    log.info(
        "student import%s: %d created, %d updated, %d unchanged, %d rejected",
        " (dry run)" if report.dry_run else "" if report.saved else " (strict, nothing saved)",
        len(report.created),
        len(report.updated),
        len(report.unchanged),
        len(report.errors),
    )
    if report.saved and (report.created or report.updated):
        log.info(
            "student import: created %s; updated %s",
            ",".join(report.created) or "-",
            ",".join(report.updated) or "-",
        )


@dataclass
class _Importer:
    uow: PeopleUnitOfWork
    report: ImportReport
    campus_id: str
    secret: bytes
    timezone: ZoneInfo
    retention: timedelta
    actor: Actor
    header: list[str]
    seen: set[str] = field(default_factory=set)

    def row(self, line: int, values: dict[str, str], raw: list[str]) -> None:
        try:
            if spilled_slots(self.header, raw):
                raise RowError(
                    "the time slots are separated by the file's separator, so they spill"
                    " over the next columns: separate them with | (lun 09:00-12:00 |"
                    " mar 14:00-18:00) or put the slots cell in double quotes"
                )
            if len(raw) > len(self.header):
                raise RowError("the row has more values than the header has columns")
            row = check_row(line, values, self.secret)
            if row.student_id in self.seen:
                raise RowError(
                    "student_id {student_id} appears twice in the file", student_id=row.student_id
                )
            self.seen.add(row.student_id)
            with self.uow.savepoint():
                outcome = save_row(
                    self.uow,
                    row,
                    campus_id=self.campus_id,
                    timezone=self.timezone,
                    retention=self.retention,
                    actor=self.actor,
                )
        except DomainError as error:
            self.report.errors.append(RowProblem(line, _(error.message, **error.values)))
            log.info("student import: line %d rejected", line)
            return
        self.report.warnings.extend(RowProblem(line, warning) for warning in row.warnings)
        getattr(self.report, outcome).append(row.student_id)


def save_row(
    uow: PeopleUnitOfWork,
    row: StudentRow,
    *,
    campus_id: str,
    timezone: ZoneInfo,
    retention: timedelta,
    actor: Actor,
) -> SaveOutcome:
    """Save one checked row (import or admin form): ``created``, ``updated`` or
    ``unchanged``. Every change is audited by the repository."""
    values: dict[str, object] = {**row.values, "campus_id": campus_id}
    if row.tutor_email:
        values["tutor_id"] = uow.tutors.by_email(row.tutor_email, actor).id
    student, outcome = uow.students.save(row.student_id, values, actor)
    recorded = record_contract(
        uow, student.pk, row.contract, actor, timezone=timezone, retention=retention
    )
    changed = recorded is not None
    if row.outcome is not None:
        year = replace(row.outcome, student_pk=student.pk)
        changed = store_student_year(uow, year, actor=actor) or changed
    if row.badge:
        since = local_instant(row.contract.valid_from, time(0), timezone)
        changed = uow.badges.give(student.pk, row.badge, min(since, actor.at), actor) or changed
    return "updated" if outcome == "unchanged" and changed else outcome
