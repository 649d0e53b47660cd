import logging
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import select, text

from server.i18n import _
from server.registry.models import AuditEntry, Badge, Contract, ContractSlot, Student, Tutor
from tests.integration.registry.conftest import (
    HEADER,
    ROW_E001,
    ROW_E002,
    SLOTS_12H,
    UID_E001,
    csv_bytes,
    run_import,
)


def _students(registry) -> dict[str, Student]:
    with registry() as session:
        return {s.student_id: s for s in session.scalars(select(Student))}


def test_a_good_file_creates_students_contracts_tutors_and_badges(registry, tmp_path) -> None:
    report = run_import(registry, b"\xef\xbb\xbf" + csv_bytes(ROW_E001, ROW_E002))
    assert report.ok and report.created == ["E001", "E002"]
    students = _students(registry)
    emilie = students["E001"]
    assert (emilie.first_name, emilie.phone, emilie.institution_type) == (
        "Émilie",
        "06 12 34 56 78",
        "public",
    )
    with registry() as session:
        tutor = session.scalar(select(Tutor))
        contracts = session.scalars(select(Contract).order_by(Contract.id)).all()
        slots = session.scalars(
            select(ContractSlot).where(ContractSlot.contract_id == contracts[0].id)
        ).all()
        badges = session.scalars(select(Badge).order_by(Badge.id)).all()
    assert tutor.email == "tutrice@campus.fr" and emilie.tutor_id == tutor.id
    assert [(c.weekly_minutes, c.valid_from, c.valid_to) for c in contracts] == [
        (720, date(2026, 9, 1), date(2027, 6, 30)),
        (900, date(2026, 9, 1), None),
    ]
    assert [(s.weekday, s.start, s.end) for s in slots] == [
        (0, time(9), time(12)),
        (1, time(14), time(18)),
        (3, time(9), time(13)),
        (4, time(9), time(10)),
    ]
    assert len(badges) == 2 and all(len(b.badge_hash) == 64 for b in badges)
    # Imported before the contract starts: the badge counts from the import.
    assert badges[0].active_from == datetime(2026, 8, 25, 10, tzinfo=UTC)


def test_a_badge_imported_late_counts_from_the_contract_start(registry) -> None:
    run_import(registry, csv_bytes(ROW_E001), now=datetime(2026, 9, 10, 9, tzinfo=UTC))
    with registry() as session:
        badge = session.scalar(select(Badge))
    assert badge.active_from == datetime(2026, 8, 31, 22, tzinfo=UTC)  # 1 September, Paris


def test_the_raw_uid_is_never_stored(registry, settings) -> None:
    run_import(registry, csv_bytes(ROW_E001))
    if settings.registry_database_url.startswith("postgresql"):
        content = _every_value(registry)
    else:
        content = (settings.data_dir / "registry.sqlite3").read_bytes()
        for wal in settings.data_dir.glob("registry.sqlite3-*"):
            content += wal.read_bytes()
    assert UID_E001.encode() not in content and UID_E001.upper().encode() not in content


def _every_value(registry) -> bytes:
    """Every value of every table of a PostgreSQL registry, as text."""
    with registry() as session:
        tables = session.scalars(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ).all()
        rows = [session.execute(text(f'SELECT * FROM "{table}"')).all() for table in tables]
    return repr(rows).encode()


def test_windows_1252_with_commas_and_french_dates(registry) -> None:
    header = HEADER.replace(";", ",")
    row = (
        'E010,Lefèvre,Chloé,,,,,12,"lun 09:00-12:00; mar 09:00-18:00",01/09/2026,30/06/2027,'
        "DAEU,Université,public"
    )
    report = run_import(registry, csv_bytes(row, header=header, encoding="cp1252"))
    assert report.ok, report.errors
    student = _students(registry)["E010"]
    assert (student.last_name, student.first_name) == ("Lefèvre", "Chloé")


def test_reimporting_the_same_file_changes_nothing(registry) -> None:
    run_import(registry, csv_bytes(ROW_E001, ROW_E002))
    again = run_import(registry, csv_bytes(ROW_E001, ROW_E002))
    assert (again.created, again.updated, again.unchanged) == ([], [], ["E001", "E002"])
    with registry() as session:
        assert len(session.scalars(select(Contract)).all()) == 2
        assert len(session.scalars(select(Badge)).all()) == 2


def test_a_changed_row_updates_and_keeps_the_contract_history(registry) -> None:
    run_import(registry, csv_bytes(ROW_E001))
    changed = ROW_E001.replace("emilie@example.org", "emilie.d@example.org").replace(";12;", ";14;")
    later = datetime(2026, 9, 10, 9, tzinfo=UTC)
    report = run_import(registry, csv_bytes(changed), now=later)
    assert report.updated == ["E001"]
    with registry() as session:
        contracts = session.scalars(select(Contract).order_by(Contract.id)).all()
        audit = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(c.weekly_minutes, c.replaced_at) for c in contracts] == [(720, later), (840, None)]
    updated = next(entry for entry in audit if entry.action == "student_updated")
    assert "emilie@example.org" in updated.before and "emilie.d@example.org" in updated.after
    assert all("06 12 34 56 78" not in entry.before + entry.after for entry in audit)


def test_a_renewal_ends_the_previous_contract(registry) -> None:
    run_import(registry, csv_bytes(ROW_E001))
    renewed = ROW_E001.replace("2026-09-01;2027-06-30", "2027-09-01;2028-06-30")
    run_import(registry, csv_bytes(renewed), now=datetime(2027, 8, 20, tzinfo=UTC))
    with registry() as session:
        contracts = session.scalars(select(Contract).order_by(Contract.id)).all()
    assert [(c.valid_from, c.valid_to, c.replaced_at) for c in contracts] == [
        (date(2026, 9, 1), date(2027, 6, 30), None),  # ended before the renewal already
        (date(2027, 9, 1), date(2028, 6, 30), None),
    ]


_ID = "student_id is missing or has characters other than letters, digits, . _ -"
_MISSING = "{column} is missing or too long"
_EMAIL = "{column} is not a valid e-mail address"
_HOURS = "weekly_hours is not a number of hours"
_HOURS_RANGE = "weekly_hours must be more than 0 and at most 70"
_DATE = "{column} is not a date like 2026-09-01 or 01/09/2026"
_UID = "badge_uid is not a badge UID (4, 7, 8 or 10 bytes in hexadecimal)"
BAD_ROWS = [
    (ROW_E001.replace("E001", ""), _ID, {}),
    (ROW_E001.replace("E001", "E 001"), _ID, {}),
    (ROW_E001.replace("Durand", ""), _MISSING, {"column": "last_name"}),
    (ROW_E001.replace("emilie@example.org", "emilie-at-example"), _EMAIL, {"column": "email"}),
    (ROW_E001.replace("tutrice@campus.fr", "tutrice"), _EMAIL, {"column": "tutor_email"}),
    (ROW_E001.replace("06 12 34 56 78", "call me"), "phone is not a valid phone number", {}),
    (ROW_E001.replace(";12;", ";douze;"), _HOURS, {}),
    (ROW_E001.replace(";12;", ";0;"), _HOURS_RANGE, {}),
    (ROW_E001.replace(";12;", ";120;"), _HOURS_RANGE, {}),
    (
        ROW_E001.replace(SLOTS_12H, "lun 9-8"),
        "the time slot {part!r} ends before it starts",
        {"part": "lun 9-8"},
    ),
    (
        ROW_E001.replace(SLOTS_12H, "jour 09:00-10:00"),
        "unknown day {day!r} in a time slot",
        {"day": "jour"},
    ),
    (ROW_E001.replace(SLOTS_12H, ""), "no time slot given", {}),
    (ROW_E001.replace("2026-09-01", "2026-13-01"), _DATE, {"column": "contract_start"}),
    (ROW_E001.replace("2026-09-01", "1er septembre"), _DATE, {"column": "contract_start"}),
    (ROW_E001.replace("2027-06-30", "2026-06-30"), "contract_end is before contract_start", {}),
    (ROW_E001.replace("04A1B2C3", "04A1B2"), _UID, {}),
    (ROW_E001.replace("04A1B2C3", "ZZA1B2C3"), _UID, {}),
    (ROW_E001 + ";extra", "the row has more values than the header has columns", {}),
]


@pytest.mark.parametrize(("row", "reason", "values"), BAD_ROWS)
def test_each_bad_row_is_reported_with_its_line_and_good_rows_still_go_in(
    registry, row, reason, values
) -> None:
    report = run_import(registry, csv_bytes(ROW_E002, row))
    assert report.created == ["E002"]
    assert [(problem.line, problem.message) for problem in report.errors] == [
        (3, _(reason, **values))
    ]
    assert "04A1B2" not in report.errors[0].message  # a UID is never repeated back


def test_duplicate_student_in_the_file_and_badge_of_someone_else(registry) -> None:
    other = ROW_E002.replace("E002", "E003").replace("04:11:22:33:44:55:66", "04a1b2c3")
    report = run_import(registry, csv_bytes(ROW_E001, ROW_E001, other))
    assert report.created == ["E001"]
    assert [problem.line for problem in report.errors] == [3, 4]


def test_line_numbers_count_physical_lines(registry) -> None:
    multiline = ROW_E002.replace('"mon 09:00-13:00; wed', '"mon 09:00-13:00;\nwed')
    report = run_import(registry, csv_bytes(multiline, ROW_E001.replace("E001", "")))
    assert report.created == ["E002"]
    assert report.errors[0].line == 4


def test_below_twelve_hours_is_imported_with_a_warning(registry) -> None:
    report = run_import(registry, csv_bytes(ROW_E001.replace(";12;", ";10;")))
    assert report.created == ["E001"]
    assert [w.line for w in report.warnings] == [2]
    assert "12" in report.warnings[0].message


def test_a_missing_column_stops_the_import(registry) -> None:
    header = HEADER.replace("weekly_hours;", "")
    report = run_import(registry, csv_bytes(ROW_E001, header=header))
    assert (
        not report.ok and report.errors[0].line == 1 and "weekly_hours" in report.errors[0].message
    )
    assert _students(registry) == {}


def test_dry_run_checks_everything_and_saves_nothing(registry) -> None:
    report = run_import(registry, csv_bytes(ROW_E001, ROW_E002, "E003;;;;;;;;;;;;;"), dry_run=True)
    assert report.dry_run and report.created == ["E001", "E002"] and len(report.errors) == 1
    assert _students(registry) == {}
    with registry() as session:
        assert session.scalars(select(AuditEntry)).all() == []


def test_info_logs_hold_counts_and_ids_but_no_names_or_phones(registry, caplog) -> None:
    caplog.set_level(logging.INFO)
    run_import(registry, csv_bytes(ROW_E001, ROW_E002, ROW_E001.replace("E001", "")))
    text = caplog.text
    assert "E001" in text and "2 created" in text and "line 4" in text
    for secret in (
        "Durand",
        "Émilie",
        "Martin",
        "06 12 34 56 78",
        "0700000000",
        "emilie@",
        "04a1b2c3",
    ):
        assert secret not in text
