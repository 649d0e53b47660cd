"""The privacy use cases (the erasure, the access log) on in-memory fakes of their
ports: no database."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.domain.accounts import Actor, Principal, Role
from server.ports.privacy import (
    AccountLine,
    AlertLine,
    BadgeLine,
    CallLine,
    ContractSpan,
    ExcuseLine,
    NoteLine,
    StudentRecord,
)
from server.services.privacy.access_log import AccessLog
from server.services.privacy.erasure import (
    ERASED_NAME,
    Erasure,
    erase_student,
    is_erased,
    pseudonym,
)
from tests.unit.privacy.fakes import AuditEntry, FakeUnitOfWork, Stored, StudentFile

NOW = datetime(2026, 12, 7, 9, 15, tzinfo=UTC)  # 10:15 in Paris: the last day is the 6th
PARIS = ZoneInfo("Europe/Paris")
SECRET = b"a-test-secret"
ADMIN = Actor("admin@example.org", NOW)


def _student() -> StudentRecord:
    return StudentRecord(
        7,
        "E001",
        "campus-a",
        "Émilie",
        "Durand",
        "emilie@example.org",
        "+33612345678",
        "Licence psychologie",
        "UGA",
        "public",
        3,
        NOW - timedelta(days=90),
        NOW - timedelta(days=90),
    )


@pytest.fixture
def stored() -> Stored:
    earlier = NOW - timedelta(days=10)
    call = CallLine(earlier, "reached", "health", "malade", True, "tutrice")
    file = StudentFile(
        _student(),
        campus_name="Campus A",
        tutor=("Tutrice", "tutrice@campus.fr"),
        accounts={11: AccountLine("emilie@example.org", True, earlier, None)},
        notes=[NoteLine(earlier, "tutrice", "parle de sa santé")],
        badges=[BadgeLine("ab" * 32, earlier, None, "")],
        sightings=1,
        excuses=[
            ExcuseLine(earlier, earlier + timedelta(hours=2), "health", "grippe", "t", earlier)
        ],
        alerts=[
            AlertLine("al-1", "absence", "open", None, earlier, None, "2026-W49", earlier, None),
            AlertLine(
                "al-2", "absence", "closed", "ok", earlier, None, None, earlier, earlier, (call,)
            ),
        ],
        contracts={
            1: ContractSpan(1, date(2026, 9, 1), date(2026, 11, 30)),  # ended: kept
            2: ContractSpan(2, date(2026, 12, 1), None),  # running: ends on the 6th
            3: ContractSpan(3, date(2027, 1, 4), date(2027, 6, 30)),  # not started: withdrawn
        },
    )
    audit = [
        AuditEntry(
            1,
            earlier,
            "admin",
            "student_created",
            "student",
            "E001",
            "",
            json.dumps({"first_name": "Émilie", "student_id": "E001", "programme": "Licence"}),
        ),
        AuditEntry(2, earlier, "emilie@example.org", "password_changed", "account", "11", "", ""),
        AuditEntry(3, earlier, "admin", "weekly_frozen", "weekly_record", "E001/2026-W48", "", ""),
        AuditEntry(4, earlier, "admin", "campus_renamed", "campus", "campus-a", "", ""),
    ]
    return Stored(files={7: file}, audit=audit)


def _uow(stored: Stored):
    return lambda: FakeUnitOfWork(stored)


def test_an_unknown_student_is_not_erased(stored: Stored) -> None:
    assert erase_student(_uow(stored), "E999", ADMIN, secret=SECRET, zone=PARIS) is None
    assert stored.commits == 0


def test_the_preview_says_what_will_be_erased_and_changes_nothing(stored: Stored) -> None:
    found = Erasure(_uow(stored), secret=SECRET, zone=PARIS).preview("E001", NOW)
    assert found is not None
    assert (found.student_id, found.has_email, found.has_phone, found.already_erased) == (
        "E001",
        True,
        True,
        False,
    )
    counts = found.counts
    assert (counts.notes, counts.accounts, counts.badges, counts.contracts) == (1, 1, 1, 2)
    assert (counts.open_alerts, counts.alerts, counts.calls, counts.call_texts) == (1, 2, 1, 1)
    assert stored.commits == 0


def test_an_erased_student_says_nobody_and_keeps_anonymous_counts(stored: Stored) -> None:
    report = erase_student(_uow(stored), "E001", ADMIN, secret=SECRET, zone=PARIS)
    assert report is not None and not report.already_erased
    new_id = pseudonym("E001", SECRET)
    assert report.student_id == new_id and report.audit_entries == 3
    file = stored.files[7]
    student = file.student
    assert is_erased(student)
    assert (student.first_name, student.last_name) == (ERASED_NAME, new_id.removeprefix("erased-"))
    assert (student.email, student.phone, student.programme, student.institution) == ("",) * 4
    assert (student.tutor_id, student.updated_at) == (None, NOW)
    assert (file.accounts, file.notes, file.badges, file.sightings) == ({}, [], [], 0)
    assert [excuse.note for excuse in file.excuses] == [""]
    assert [alert.status for alert in file.alerts] == ["closed", "closed"]
    assert file.alerts[1].calls[0].reason == ""
    last_day = date(2026, 12, 6)
    assert file.contracts[1].valid_to == date(2026, 11, 30)
    assert (file.contracts[2].valid_to, file.contracts[2].replaced_at) == (last_day, None)
    assert file.contracts[3].replaced_at == NOW


def test_the_audit_log_keeps_who_what_when_without_personal_values(stored: Stored) -> None:
    erase_student(_uow(stored), "E001", ADMIN, secret=SECRET, zone=PARIS)
    new_id = pseudonym("E001", SECRET)
    created, password, frozen, untouched, erased = stored.audit
    assert (created.entity_id, json.loads(created.after)) == (
        new_id,
        {"first_name": "", "student_id": new_id, "programme": ""},
    )
    assert password.actor == new_id
    assert frozen.entity_id == f"{new_id}/2026-W48"
    assert untouched.entity_id == "campus-a"
    assert (erased.action, erased.entity_id) == ("student_erased", new_id)
    assert json.loads(erased.after)["audit_entries"] == 3


def test_a_second_erasure_finds_the_erased_row_and_changes_nothing(stored: Stored) -> None:
    first = erase_student(_uow(stored), "E001", ADMIN, secret=SECRET, zone=PARIS)
    commits, audit = stored.commits, len(stored.audit)
    again = erase_student(_uow(stored), "E001", ADMIN, secret=SECRET, zone=PARIS)
    assert first is not None and again is not None
    assert (again.student_id, again.already_erased) == (first.student_id, True)
    assert (stored.commits, len(stored.audit)) == (commits, audit)
    assert erase_student(_uow(stored), "E001", ADMIN, secret=b"other", zone=PARIS) is None


def test_a_taken_pseudonym_is_made_unique_with_the_row_s_key(stored: Stored) -> None:
    erase_student(_uow(stored), "E001", ADMIN, secret=SECRET, zone=PARIS)
    stored.files[8] = StudentFile(_again())
    report = erase_student(_uow(stored), "E001", ADMIN, secret=SECRET, zone=PARIS)
    assert report is not None and report.student_id == f"{pseudonym('E001', SECRET)}-8"


def _again() -> StudentRecord:
    """The same student imported again after their erasure."""
    record = _student()
    record.pk = 8
    return record


def test_a_view_of_personal_data_is_audited() -> None:
    stored = Stored()
    log = AccessLog(_uow(stored))
    who = Principal("tutrice@campus.fr", Role.TUTOR, "campus-a")
    log.viewed(who, entity="student", entity_id="E001", what="student_page", at=NOW)
    (entry,) = stored.audit
    assert (entry.actor, entry.action, entry.entity, entry.entity_id, entry.at) == (
        "tutrice@campus.fr",
        "viewed",
        "student",
        "E001",
        NOW,
    )
    assert json.loads(entry.after) == {"role": "tutor", "what": "student_page"}
    assert stored.commits == 1
