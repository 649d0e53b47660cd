"""One contract for the privacy ports (``server.ports.privacy``), run against the
registry's adapter (SQLite, or PostgreSQL with CAMPUS_TEST_REGISTRY=postgresql) and
against the in-memory fakes the use cases' unit tests rely on: if the fakes drift from
the real store, this fails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from server.ports.privacy import (
    AccountLine,
    BadgeLine,
    ContractSpan,
    ExcuseLine,
    NoteLine,
    PrivacyUnitOfWork,
    StudentRecord,
)
from server.registry.account_models import Account, StudentNote
from server.registry.models import ExcusedAbsence, Student
from server.registry.privacy_store import privacy_unit_of_work
from tests.integration.registry.conftest import CAMPUS, ROW_E001, csv_bytes, run_import
from tests.unit.privacy.fakes import FakeUnitOfWork as FakePrivacy
from tests.unit.privacy.fakes import Stored, StudentFile

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
EARLIER = NOW - timedelta(days=3)
LAST_DAY = date(2026, 12, 6)
LOGIN = "emilie@example.org"


@pytest.fixture(params=["registry", "fake"])
def unit_of_work(request: pytest.FixtureRequest) -> Callable[[], PrivacyUnitOfWork]:
    """E001 of CAMPUS, with a contract from 2026-09-01 to 2027-06-30, a badge, an
    account, a tutor's note and an excuse with its note, on each side; its row's key in
    ``unit_of_work.pk``."""
    if request.param == "fake":
        student = StudentRecord(
            1,
            "E001",
            CAMPUS,
            "Émilie",
            "Durand",
            "emilie@example.org",
            "+33612345678",
            "Licence psychologie",
            "Université Grenoble Alpes",
            "public",
            1,
            EARLIER,
            EARLIER,
        )
        stored = Stored(
            files={
                1: StudentFile(
                    student,
                    campus_name="Campus A",
                    tutor=("", "tutrice@campus.fr"),
                    accounts={1: AccountLine(LOGIN, True, EARLIER, None)},
                    notes=[NoteLine(EARLIER, "tutrice", "va mieux")],
                    badges=[BadgeLine("f" * 64, EARLIER, None, "")],
                    excuses=[ExcuseLine(EARLIER, NOW, "health", "grippe", "tutrice", EARLIER)],
                    contracts={1: ContractSpan(1, date(2026, 9, 1), date(2027, 6, 30))},
                )
            }
        )
        factory = lambda: FakePrivacy(stored)  # noqa: E731
        factory.pk = 1  # type: ignore[attr-defined]
        return factory
    registry = request.getfixturevalue("registry")
    settings = request.getfixturevalue("settings")
    report = run_import(registry, csv_bytes(ROW_E001))
    assert len(report.created) == 1, report.errors
    with registry() as session, session.begin():
        pk = session.scalar(select(Student.id).where(Student.student_id == "E001"))
        session.add(
            Account(
                login=LOGIN,
                role="student",
                password_hash="h",
                created_at=EARLIER,
                campus_id=CAMPUS,
                student_pk=pk,
            )
        )
        session.add(
            StudentNote(student_pk=pk, author="tutrice", body="va mieux", created_at=EARLIER)
        )
        session.add(
            ExcusedAbsence(
                student_pk=pk,
                start=EARLIER,
                end=NOW,
                category="health",
                note="grippe",
                created_by="tutrice",
                created_at=EARLIER,
            )
        )
    factory = privacy_unit_of_work(registry, settings.presence)
    factory.pk = pk  # type: ignore[attr-defined]
    return factory


def test_what_is_kept_about_a_student_is_found(unit_of_work) -> None:
    pk = unit_of_work.pk
    with unit_of_work() as uow:
        identity = uow.files.identity(pk)
        assert identity is not None and uow.files.identity(pk + 100) is None
        student = identity.student
        assert (student.student_id, student.first_name, student.email) == (
            "E001",
            "Émilie",
            "emilie@example.org",
        )
        assert (identity.campus_name, identity.tutor_email) == ("Campus A", "tutrice@campus.fr")
        assert [a.login for a in uow.files.accounts(pk)] == [LOGIN]
        assert [n.body for n in uow.files.notes(pk)] == ["va mieux"]
        assert [e.note for e in uow.files.excuses(pk)] == ["grippe"]
        assert len(uow.files.badges(pk)) == 1
        ((valid_from, valid_to),) = [(c.valid_from, c.valid_to) for c in uow.files.contracts(pk)]
        assert (valid_from, valid_to) == (date(2026, 9, 1), date(2027, 6, 30))
        assert (uow.files.alerts(pk), uow.files.weekly_records(pk)) == ([], [])
        assert uow.erasure.student("E001") == student
        assert uow.erasure.student("E999") is None
        counts = uow.erasure.counts(pk, LAST_DAY)
        assert (counts.notes, counts.excuse_texts, counts.accounts, counts.badges) == (1, 1, 1, 1)
        assert (counts.contracts, counts.alerts, counts.open_alerts, counts.calls) == (1, 0, 0, 0)


def test_an_erasure_deletes_clears_and_rewrites_in_one_transaction(unit_of_work) -> None:
    pk = unit_of_work.pk
    with unit_of_work() as uow:
        records = uow.erasure
        deleted = records.delete_personal_rows(pk)
        assert deleted.logins == [LOGIN] and len(deleted.account_ids) == 1
        records.clear_free_texts(pk)
        (span,) = records.contracts_in_force(pk)
        span.valid_to = LAST_DAY
        records.save_contract(span)
        records.close_open_alerts(pk, NOW)
        student = records.student("E001")
        assert student is not None
        student.student_id, student.email, student.tutor_id = "erased-1234", "", None
        records.save_student(student)
        uow.commit()
    with unit_of_work() as uow:
        assert uow.files.accounts(pk) == [] and uow.files.notes(pk) == []
        assert uow.files.badges(pk) == []
        assert [e.note for e in uow.files.excuses(pk)] == [""]
        assert [c.valid_to for c in uow.files.contracts(pk)] == [LAST_DAY]
        assert uow.erasure.student("E001") is None
        found = uow.erasure.student("erased-1234")
        assert found is not None and (found.pk, found.email, found.tutor_id) == (pk, "", None)


def test_nothing_is_written_without_a_commit(unit_of_work) -> None:
    pk = unit_of_work.pk
    with unit_of_work() as uow:
        before = uow.files.audit(pk, "E001", [])  # the import's entries, in the registry
        uow.erasure.delete_personal_rows(pk)
        uow.audit.record(at=NOW, actor="a", action="x", entity="student", entity_id="E001")
    with unit_of_work() as uow:
        assert [a.login for a in uow.files.accounts(pk)] == [LOGIN]
        assert uow.files.audit(pk, "E001", []) == before


def test_audit_entries_about_a_student_are_found_and_rewritten(unit_of_work) -> None:
    pk = unit_of_work.pk
    with unit_of_work() as uow:  # the import's entries, in the registry
        earlier = {entry.id for entry in uow.erasure.audit_about("E001", [LOGIN], [])}
        record = uow.audit.record
        record(
            at=EARLIER,
            actor="admin",
            action="student_updated",
            entity="student",
            entity_id="E001",
            after={"first_name": "Émilie", "phone": "+33600000000"},
        )
        record(at=NOW, actor=LOGIN, action="password_changed", entity="account", entity_id=99)
        record(
            at=NOW,
            actor="admin",
            action="weekly_frozen",
            entity="weekly_record",
            entity_id="E001/2026-W49",
        )
        record(
            at=NOW,
            actor="admin",
            action="linked",
            entity="badge",
            entity_id="5",
            after={"student_id": "E001"},
        )
        record(at=NOW, actor="admin", action="campus_renamed", entity="campus", entity_id=CAMPUS)
        uow.commit()
    with unit_of_work() as uow:
        about = [e for e in uow.erasure.audit_about("E001", [LOGIN], []) if e.id not in earlier]
        assert sorted(entry.entity for entry in about) == [
            "account",
            "badge",
            "student",
            "weekly_record",
        ]
        (student,) = [entry for entry in about if entry.entity == "student"]
        assert "phone" not in student.after  # never written to the log
        student.entity_id, student.after = "erased-1234", ""
        uow.erasure.save_audit(student)
        uow.commit()
    with unit_of_work() as uow:
        seen = [(e.action, e.entity) for e in uow.files.audit(pk, "E001", []) if e.at >= NOW]
        assert seen == [("weekly_frozen", "weekly_record")]
        renamed = uow.files.audit(pk, "erased-1234", [])
        assert [e.action for e in renamed if e.entity == "student"] == ["student_updated"]
