"""The account use cases on in-memory fakes of their ports: no database, no web."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.domain.accounts import Actor, Role
from server.domain.errors import DomainError
from server.services.accounts.accounts import AccountService, LoginOutcome
from tests.unit.accounts.fakes import FakeUnitOfWork, Stored

NOW = datetime(2026, 12, 7, 9, 15, tzinfo=UTC)
ADMIN = Actor("admin@example.org", NOW)
PASSWORD = "correct horse battery staple"


@pytest.fixture
def stored() -> Stored:
    return Stored(campuses={"saint-marcellin"}, tutors={7}, students={42: "saint-marcellin"})


@pytest.fixture
def service(stored: Stored) -> AccountService:
    return AccountService(lambda: FakeUnitOfWork(stored))


def _tutor(service: AccountService, login: str = "Alice@Example.org ") -> int:
    view = service.create(
        login=login,
        password=PASSWORD,
        role=Role.TUTOR,
        actor=ADMIN,
        campus_id="saint-marcellin",
        tutor_id=7,
    )
    return view.id


def test_a_new_account_is_stored_with_a_normalised_login_and_audited(
    service: AccountService, stored: Stored
) -> None:
    account_id = _tutor(service)
    (view,) = service.accounts()
    assert (view.id, view.login, view.role, view.active) == (
        account_id,
        "alice@example.org",
        Role.TUTOR,
        True,
    )
    assert stored.accounts[account_id].password_hash != PASSWORD  # hashed
    (entry,) = stored.audit
    assert (entry["action"], entry["actor"], entry["after"]["login"]) == (
        "account_created",
        ADMIN.name,
        "alice@example.org",
    )


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"login": "a b"}, "A login has 3 to 254 characters and no spaces."),
        ({"password": "short"}, "A password needs at least 12 characters."),
        ({"campus_id": "nowhere"}, "There is no campus {campus}."),
        ({"tutor_id": 8}, "A tutor account must be linked to a tutor."),
        (
            {"role": Role.STUDENT, "student_pk": 41},
            "A student account must be linked to a student.",
        ),
        (
            {"role": Role.STUDENT, "student_pk": 42, "campus_id": ""},
            "A student account belongs to the student's campus.",
        ),
    ],
)
def test_what_is_wrong_is_refused_and_nothing_is_stored(
    service: AccountService, stored: Stored, changes: dict, message: str
) -> None:
    values = {
        "login": "alice@example.org",
        "password": PASSWORD,
        "role": Role.TUTOR,
        "actor": ADMIN,
        "campus_id": "saint-marcellin",
        "tutor_id": 7,
        **changes,
    }
    with pytest.raises(DomainError) as refused:
        service.create(**values)
    assert refused.value.message == message
    assert (stored.accounts, stored.audit, stored.commits) == ({}, [], 0)


def test_a_login_is_taken_once(service: AccountService) -> None:
    _tutor(service)
    with pytest.raises(DomainError, match="already taken"):
        _tutor(service, login="alice@example.org")
    assert service.count() == 1


def test_a_wrong_password_is_counted_and_a_right_one_resets_the_count(
    service: AccountService, stored: Stored
) -> None:
    account_id = _tutor(service)
    for _attempt in range(2):
        assert service.authenticate("alice@example.org", "wrong", NOW).outcome is LoginOutcome.WRONG
    assert stored.accounts[account_id].failed_logins == 2
    result = service.authenticate(" ALICE@example.org", PASSWORD, NOW)
    assert result.outcome is LoginOutcome.OK
    assert result.principal is not None and result.principal.role is Role.TUTOR
    assert (
        stored.accounts[account_id].failed_logins,
        stored.accounts[account_id].last_login_at,
    ) == (
        0,
        NOW,
    )


def test_an_unknown_login_and_a_disabled_account_get_the_same_answer(
    service: AccountService,
) -> None:
    account_id = _tutor(service)
    service.set_active(account_id, False, ADMIN)
    assert service.authenticate("alice@example.org", PASSWORD, NOW).outcome is LoginOutcome.WRONG
    assert service.authenticate("nobody@example.org", PASSWORD, NOW).outcome is LoginOutcome.WRONG


def test_a_password_change_ends_the_other_sessions(service: AccountService) -> None:
    account_id = _tutor(service)
    first = service.authenticate("alice@example.org", PASSWORD, NOW)
    assert service.principal(account_id, first.session_version) is not None
    later = NOW + timedelta(minutes=5)
    with pytest.raises(DomainError, match="current password is wrong"):
        service.change_password(account_id, "not it", "another long passphrase", later)
    version = service.change_password(account_id, PASSWORD, "another long passphrase", later)
    assert version == first.session_version + 1
    assert service.principal(account_id, first.session_version) is None
    assert service.principal(account_id, version) is not None


def test_disabling_an_account_ends_its_sessions_and_is_audited(
    service: AccountService, stored: Stored
) -> None:
    account_id = _tutor(service)
    version = service.session_version(account_id)
    service.set_active(account_id, False, ADMIN)
    assert service.principal(account_id, version) is None
    entry = stored.audit[-1]
    assert (entry["action"], entry["before"]["active"], entry["after"]["active"]) == (
        "account_updated",
        True,
        False,
    )


def test_a_phone_is_stored_in_e164_and_the_audit_never_holds_the_number(
    service: AccountService, stored: Stored
) -> None:
    account_id = _tutor(service)
    assert service.set_phone(account_id, "04 76 00 00 01", ADMIN) == "+33476000001"
    assert stored.accounts[account_id].phone == "+33476000001"
    assert stored.audit[-1]["after"] == {"phone": True}
    assert "476" not in repr(stored.audit)
    with pytest.raises(DomainError, match="not valid"):
        service.set_phone(account_id, "12", ADMIN)


def test_a_token_is_shown_once_resolves_to_its_principal_and_stops_when_revoked(
    service: AccountService, stored: Stored
) -> None:
    secret, view = service.create_token(
        name="ENT", role=Role.COORDINATOR, actor=ADMIN, campus_id="saint-marcellin"
    )
    assert secret.startswith("cp_") and secret not in repr(stored.tokens)  # only its digest
    principal = service.token_principal(secret, NOW)
    assert principal is not None and principal.campus_id == "saint-marcellin"
    assert stored.tokens[view.id].last_used_at == NOW
    assert service.token_principal("cp_guess", NOW) is None
    service.revoke_token(view.id, ADMIN)
    assert service.token_principal(secret, NOW) is None
    assert [entry["action"] for entry in stored.audit] == ["token_created", "token_revoked"]


def test_a_token_is_for_staff_who_manage(service: AccountService, stored: Stored) -> None:
    with pytest.raises(DomainError, match="coordinator or an admin"):
        service.create_token(name="x", role=Role.TUTOR, actor=ADMIN)
    assert stored.tokens == {}


def test_the_tutors_and_the_student_a_new_account_may_be_linked_to(stored: Stored) -> None:
    stored.tutors |= {8}
    stored.tutor_names.update({7: ("zoe@campus.fr", "Zoé"), 8: ("adam@campus.fr", "")})
    stored.student_ids["E042"] = 42
    service = AccountService(lambda: FakeUnitOfWork(stored))
    assert [tutor.label for tutor in service.tutors()] == ["adam@campus.fr", "Zoé (zoe@campus.fr)"]
    found = service.student("E042")
    assert found is not None and (found.pk, found.campus_id) == (42, "saint-marcellin")
    assert service.student("E043") is None
