"""One contract for the account ports (``server.ports.accounts``), run against the
registry's adapter (SQLite, or PostgreSQL with CAMPUS_TEST_REGISTRY=postgresql) and
against the in-memory fakes the use cases' unit tests rely on: if the fakes drift from
the real store, this fails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from server.domain.accounts import Role
from server.ports.accounts import (
    AccountRecord,
    AccountsUnitOfWork,
    ConcurrentUpdate,
    LoginFailureRecord,
    LoginThrottleUnitOfWork,
    TokenRecord,
)
from server.registry.account_store import accounts_unit_of_work, login_throttle_unit_of_work
from server.registry.models import Student, Tutor
from tests.integration.registry.conftest import CAMPUS
from tests.unit.accounts.fakes import FakeLoginThrottleUnitOfWork, FakeUnitOfWork, Stored

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["registry", "fake"])
def unit_of_work(request: pytest.FixtureRequest) -> Callable[[], AccountsUnitOfWork]:
    """A tutor (its id in ``unit_of_work.tutor``) and a student of CAMPUS on each side."""
    if request.param == "fake":
        stored = Stored(
            campuses={CAMPUS},
            tutors={1},
            students={1: CAMPUS},
            tutor_names={1: ("tutrice@campus.fr", "Tutrice")},
            student_ids={"E001": 1},
        )
        factory = lambda: FakeUnitOfWork(stored)  # noqa: E731
        factory.tutor, factory.student = 1, 1  # type: ignore[attr-defined]
        return factory
    registry = request.getfixturevalue("registry")
    with registry() as session, session.begin():
        tutor = Tutor(email="tutrice@campus.fr", name="Tutrice")
        session.add(tutor)
        session.flush()
        student = Student(
            student_id="E001",
            campus_id=CAMPUS,
            last_name="Durand",
            first_name="Émilie",
            tutor_id=tutor.id,
            created_at=NOW,
            updated_at=NOW,
        )
        session.add(student)
        session.flush()
        ids = tutor.id, student.id
    factory = accounts_unit_of_work(registry)
    factory.tutor, factory.student = ids  # type: ignore[attr-defined]
    return factory


def _account(login: str, role: Role = Role.COORDINATOR) -> AccountRecord:
    return AccountRecord(login=login, role=role, password_hash="h", created_at=NOW)


def _token(name: str, at: datetime) -> TokenRecord:
    return TokenRecord(
        name=name,
        digest=f"digest-{name}",
        prefix="cp_abcde",
        role=Role.ADMIN,
        campus_id="",
        created_by="admin",
        created_at=at,
    )


def test_what_is_added_and_committed_is_found(unit_of_work) -> None:
    with unit_of_work() as uow:
        added = uow.accounts.add(_account("zoe@example.org"))
        uow.accounts.add(_account("adam@example.org", Role.ADMIN))
        uow.commit()
    assert added.id is not None
    with unit_of_work() as uow:
        found = uow.accounts.get(added.id)
        assert found is not None and found == added
        assert uow.accounts.by_login("zoe@example.org") == added
        assert uow.accounts.by_login("nobody@example.org") is None
        assert uow.accounts.get(added.id + 100) is None
        assert uow.accounts.count() == 2
        assert [a.login for a in uow.accounts.listing()] == ["adam@example.org", "zoe@example.org"]


def test_nothing_is_written_without_a_commit(unit_of_work) -> None:
    with unit_of_work() as uow:
        uow.accounts.add(_account("zoe@example.org"))
        uow.tokens.add(_token("ent", NOW))
    with unit_of_work() as uow:
        assert (uow.accounts.count(), uow.tokens.listing()) == (0, [])
    with pytest.raises(RuntimeError), unit_of_work() as uow:
        uow.accounts.add(_account("zoe@example.org"))
        raise RuntimeError("a use case fails half-way")
    with unit_of_work() as uow:
        assert uow.accounts.count() == 0


def test_a_saved_record_keeps_every_field(unit_of_work) -> None:
    with unit_of_work() as uow:
        record = uow.accounts.add(_account("alice@example.org", Role.TUTOR))
        uow.commit()
    record.display_name, record.phone, record.campus_id = "Alice", "+33476000001", CAMPUS
    record.tutor_id = unit_of_work.tutor
    record.active, record.failed_logins, record.session_version = False, 3, 4
    record.locked_until = NOW + timedelta(minutes=15)
    record.last_login_at = NOW - timedelta(days=1)
    with unit_of_work() as uow:
        uow.accounts.save(record)
        uow.commit()
    with unit_of_work() as uow:
        assert uow.accounts.get(record.id) == record


def test_tokens_are_found_by_digest_newest_first(unit_of_work) -> None:
    with unit_of_work() as uow:
        old = uow.tokens.add(_token("old", NOW - timedelta(days=2)))
        new = uow.tokens.add(_token("new", NOW))
        uow.commit()
    old.revoked_at = old.last_used_at = NOW
    with unit_of_work() as uow:
        uow.tokens.save(old)
        uow.commit()
    with unit_of_work() as uow:
        assert [t.name for t in uow.tokens.listing()] == ["new", "old"]
        assert uow.tokens.by_digest("digest-old") == old
        assert uow.tokens.get(new.id) == new
        assert uow.tokens.by_digest("digest-none") is None


def test_places_an_account_may_be_linked_to(unit_of_work) -> None:
    with unit_of_work() as uow:
        assert uow.places.campus_exists(CAMPUS)
        assert not uow.places.campus_exists("nowhere")
        assert uow.places.tutor_exists(unit_of_work.tutor)
        assert not uow.places.tutor_exists(unit_of_work.tutor + 100)
        assert uow.places.student_campus(unit_of_work.student) == CAMPUS
        assert uow.places.student_campus(unit_of_work.student + 100) is None


def test_an_audit_entry_is_written_with_the_transaction(unit_of_work) -> None:
    with unit_of_work() as uow:
        added = uow.accounts.add(_account("zoe@example.org"))
        uow.audit.record(
            at=NOW, actor="admin", action="account_created", entity="account", entity_id=added.id
        )
        uow.commit()


def test_the_places_an_account_may_be_linked_to(unit_of_work) -> None:
    with unit_of_work() as uow:
        tutors = uow.places.tutors()
        student = uow.places.student("E001")
        assert uow.places.student("E999") is None
    assert [(t.id, t.label) for t in tutors] == [
        (unit_of_work.tutor, "Tutrice (tutrice@campus.fr)")
    ]
    assert student is not None
    assert (student.pk, student.student_id, student.campus_id) == (
        unit_of_work.student,
        "E001",
        CAMPUS,
    )


@pytest.fixture(params=["registry", "fake"])
def throttle_unit_of_work(request: pytest.FixtureRequest) -> Callable[[], LoginThrottleUnitOfWork]:
    if request.param == "fake":
        stored = Stored()
        return lambda: FakeLoginThrottleUnitOfWork(stored)
    return login_throttle_unit_of_work(request.getfixturevalue("registry"))


def test_login_failures_are_kept_on_commit_only(throttle_unit_of_work) -> None:
    with throttle_unit_of_work() as uow:
        uow.failures.add(LoginFailureRecord("login:a", 1, NOW))
    with throttle_unit_of_work() as uow:
        assert uow.failures.get("login:a") is None
        uow.failures.add(LoginFailureRecord("login:a", 1, NOW))
        uow.failures.add(LoginFailureRecord("address:b", 2, NOW, NOW + timedelta(seconds=1)))
        uow.commit()
    with throttle_unit_of_work() as uow:
        found = uow.failures.locked("login:a")
        assert found == LoginFailureRecord("login:a", 1, NOW)
        found.failures, found.blocked_until = 2, NOW + timedelta(seconds=4)
        uow.failures.save(found)
        uow.failures.forget("address:b")
        uow.failures.forget("address:none")
        uow.commit()
    with throttle_unit_of_work() as uow:
        assert uow.failures.get("login:a") == LoginFailureRecord(
            "login:a", 2, NOW, NOW + timedelta(seconds=4)
        )
        assert uow.failures.get("address:b") is None


def test_a_key_inserted_twice_is_a_concurrent_update(throttle_unit_of_work) -> None:
    with throttle_unit_of_work() as uow:
        uow.failures.add(LoginFailureRecord("login:a", 1, NOW))
        uow.commit()
    with pytest.raises(ConcurrentUpdate), throttle_unit_of_work() as uow:
        uow.failures.add(LoginFailureRecord("login:a", 5, NOW))
        uow.commit()
    with throttle_unit_of_work() as uow:
        assert uow.failures.get("login:a") == LoginFailureRecord("login:a", 1, NOW)
