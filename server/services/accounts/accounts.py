"""Use cases of accounts and API tokens: create, log in (with lock-out), change a
password, resolve a session or a bearer token to a :class:`Principal`.

Passwords are hashed with scrypt (Werkzeug's default); API tokens are random 256-bit
secrets shown once and stored as SHA-256 digests (they are not guessable, so a fast
digest is enough and lets a token be found by its digest)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash

from server.domain.accounts import Actor, Principal, Role, password_problems
from server.domain.errors import DomainError
from server.domain.phones import InvalidPhone, e164
from server.ports.accounts import (
    AccountRecord,
    AccountsUnitOfWork,
    Places,
    StudentLink,
    TokenRecord,
    TutorChoice,
)

TOKEN_PREFIX = "cp_"  # noqa: S105 - a marker that tells our tokens apart, not a secret


@cache
def _dummy_hash() -> str:
    """Checked against when the login is unknown, so a wrong login costs as long as a
    wrong password and does not tell which logins exist."""
    return generate_password_hash("not a real password, only for timing")


class LoginOutcome(StrEnum):
    OK = "ok"
    WRONG = "wrong"


@dataclass(frozen=True, slots=True)
class LoginResult:
    outcome: LoginOutcome
    principal: Principal | None = None
    session_version: int = 0
    locked_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccountView:
    id: int
    login: str
    display_name: str
    role: Role
    campus_id: str
    tutor_id: int | None
    student_pk: int | None
    active: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    phone: str = ""  # E.164


@dataclass(frozen=True, slots=True)
class TokenView:
    id: int
    name: str
    prefix: str
    role: Role
    campus_id: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _principal(account: AccountRecord) -> Principal:
    assert account.id is not None
    return Principal(
        name=account.login,
        role=account.role,
        campus_id=account.campus_id,
        tutor_id=account.tutor_id,
        student_pk=account.student_pk,
        account_id=account.id,
    )


def _view(account: AccountRecord) -> AccountView:
    assert account.id is not None
    return AccountView(
        account.id,
        account.login,
        account.display_name,
        account.role,
        account.campus_id,
        account.tutor_id,
        account.student_pk,
        account.active,
        account.locked_until,
        account.last_login_at,
        account.phone,
    )


def _token_view(row: TokenRecord) -> TokenView:
    assert row.id is not None
    return TokenView(
        row.id,
        row.name,
        row.prefix,
        row.role,
        row.campus_id,
        row.created_by,
        row.created_at,
        row.revoked_at,
        row.last_used_at,
    )


class AccountService:
    """The account use cases, on the account ports: ``unit_of_work`` opens one
    transaction (``server.registry.account_store.accounts_unit_of_work`` in the server,
    in-memory fakes in the unit tests)."""

    def __init__(self, unit_of_work: Callable[[], AccountsUnitOfWork]) -> None:
        self.unit_of_work = unit_of_work

    # --- accounts -------------------------------------------------------------------

    def create(
        self,
        *,
        login: str,
        password: str,
        role: Role,
        actor: Actor,
        display_name: str = "",
        campus_id: str = "",
        tutor_id: int | None = None,
        student_pk: int | None = None,
        phone: str = "",
    ) -> AccountView:
        """A new account; raises :class:`DomainError` naming what is wrong."""
        login = login.strip().lower()
        phone = _phone(phone)
        if not 3 <= len(login) <= 254 or any(char.isspace() for char in login):
            raise DomainError("A login has 3 to 254 characters and no spaces.")
        for problem in password_problems(password, login=login):
            raise DomainError(problem)
        with self.unit_of_work() as uow:
            self._check_links(uow.places, role, campus_id, tutor_id, student_pk)
            if uow.accounts.by_login(login) is not None:
                raise DomainError("The login {login} is already taken.", login=login)
            account = uow.accounts.add(
                AccountRecord(
                    login=login,
                    display_name=display_name.strip(),
                    phone=phone,
                    role=role,
                    campus_id=campus_id,
                    tutor_id=tutor_id if role is Role.TUTOR else None,
                    student_pk=student_pk if role is Role.STUDENT else None,
                    password_hash=generate_password_hash(password),
                    created_at=actor.at,
                )
            )
            self._audit(uow, actor, "account_created", account, after=_view(account))
            uow.commit()
            return _view(account)

    @staticmethod
    def _check_links(
        places: Places,
        role: Role,
        campus_id: str,
        tutor_id: int | None,
        student_pk: int | None,
    ) -> None:
        if campus_id and not places.campus_exists(campus_id):
            raise DomainError("There is no campus {campus}.", campus=campus_id)
        if role is Role.TUTOR and (tutor_id is None or not places.tutor_exists(tutor_id)):
            raise DomainError("A tutor account must be linked to a tutor.")
        if role is Role.STUDENT:
            campus = places.student_campus(student_pk) if student_pk is not None else None
            if campus is None:
                raise DomainError("A student account must be linked to a student.")
            if campus_id != campus:
                raise DomainError("A student account belongs to the student's campus.")

    def accounts(self) -> list[AccountView]:
        with self.unit_of_work() as uow:
            return [_view(row) for row in uow.accounts.listing()]

    def tutors(self) -> list[TutorChoice]:
        """The tutors a tutor account may be linked to, by name."""
        with self.unit_of_work() as uow:
            return uow.places.tutors()

    def student(self, student_id: str) -> StudentLink | None:
        """The student a student account would be linked to, if there is one."""
        with self.unit_of_work() as uow:
            return uow.places.student(student_id)

    def count(self) -> int:
        with self.unit_of_work() as uow:
            return uow.accounts.count()

    def authenticate(self, login: str, password: str, now: datetime) -> LoginResult:
        login = login.strip().lower()
        with self.unit_of_work() as uow:
            account = uow.accounts.by_login(login)
            if account is None or not account.active:
                check_password_hash(_dummy_hash(), password)
                return LoginResult(LoginOutcome.WRONG)
            # No lock-out: a locked account would answer differently from an unknown login
            # and let anyone lock a tutor out; the web's login throttle slows guessing.
            if not check_password_hash(account.password_hash, password):
                account.failed_logins += 1
                uow.accounts.save(account)
                uow.commit()
                return LoginResult(LoginOutcome.WRONG)
            account.failed_logins = 0
            account.locked_until = None
            account.last_login_at = now
            uow.accounts.save(account)
            uow.commit()
            return LoginResult(LoginOutcome.OK, _principal(account), account.session_version)

    def principal(self, account_id: int, session_version: int) -> Principal | None:
        """The principal of a logged-in session, or None when the account was disabled
        or its password changed since the session began."""
        with self.unit_of_work() as uow:
            account = uow.accounts.get(account_id)
            if account is None or not account.active:
                return None
            if account.session_version != session_version:
                return None
            return _principal(account)

    def session_version(self, account_id: int) -> int:
        with self.unit_of_work() as uow:
            account = uow.accounts.get(account_id)
            return account.session_version if account is not None else 0

    def change_password(self, account_id: int, current: str, new: str, now: datetime) -> int:
        """Change one's own password; returns the new session version (other sessions of
        the account end)."""
        with self.unit_of_work() as uow:
            account = uow.accounts.get(account_id)
            if account is None or not check_password_hash(account.password_hash, current):
                raise DomainError("The current password is wrong.")
            version = self._set_password(uow, account, new, Actor(account.login, now))
            uow.commit()
            return version

    def reset_password(self, account_id: int, new: str, actor: Actor) -> None:
        """An admin sets someone's password (and unlocks the account)."""
        with self.unit_of_work() as uow:
            account = uow.accounts.get(account_id)
            if account is None:
                raise DomainError("There is no such account.")
            self._set_password(uow, account, new, actor)
            uow.commit()

    def _set_password(
        self, uow: AccountsUnitOfWork, account: AccountRecord, new: str, actor: Actor
    ) -> int:
        for problem in password_problems(new, login=account.login):
            raise DomainError(problem)
        account.password_hash = generate_password_hash(new)
        account.session_version += 1
        account.failed_logins = 0
        account.locked_until = None
        uow.accounts.save(account)
        self._audit(uow, actor, "password_changed", account)
        return account.session_version

    def set_active(self, account_id: int, active: bool, actor: Actor) -> None:
        with self.unit_of_work() as uow:
            account = uow.accounts.get(account_id)
            if account is None:
                raise DomainError("There is no such account.")
            before = _view(account)
            account.active = active
            account.session_version += 1
            uow.accounts.save(account)
            self._audit(uow, actor, "account_updated", account, before, _view(account))
            uow.commit()

    def set_phone(self, account_id: int, phone: str, actor: Actor) -> str:
        """Store the account's phone (E.164; empty removes it); returns it. The audit
        entry says whether a number was set, never the number."""
        number = _phone(phone)
        with self.unit_of_work() as uow:
            account = uow.accounts.get(account_id)
            if account is None:
                raise DomainError("There is no such account.")
            before = bool(account.phone)
            account.phone = number
            uow.accounts.save(account)
            assert account.id is not None
            uow.audit.record(
                at=actor.at,
                actor=actor.name,
                action="account_phone_set",
                entity="account",
                entity_id=account.id,
                before={"phone": before},
                after={"phone": bool(number)},
            )
            uow.commit()
        return number

    # --- API tokens -----------------------------------------------------------------

    def create_token(
        self, *, name: str, role: Role, actor: Actor, campus_id: str = ""
    ) -> tuple[str, TokenView]:
        """A new token: returns its secret (shown once, never stored) and its view."""
        name = name.strip()
        if not 0 < len(name) <= 200:
            raise DomainError("A token needs a name of 1 to 200 characters.")
        if role is Role.STUDENT or role is Role.TUTOR:
            raise DomainError("An API token is for a coordinator or an admin.")
        secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.unit_of_work() as uow:
            if campus_id and not uow.places.campus_exists(campus_id):
                raise DomainError("There is no campus {campus}.", campus=campus_id)
            row = uow.tokens.add(
                TokenRecord(
                    name=name,
                    digest=_digest(secret),
                    prefix=secret[:8],
                    role=role,
                    campus_id=campus_id,
                    created_by=actor.name,
                    created_at=actor.at,
                )
            )
            assert row.id is not None
            uow.audit.record(
                at=actor.at,
                actor=actor.name,
                action="token_created",
                entity="api_token",
                entity_id=row.id,
                after={"name": name, "role": role.value, "campus": campus_id},
            )
            uow.commit()
            return secret, _token_view(row)

    def revoke_token(self, token_id: int, actor: Actor) -> None:
        with self.unit_of_work() as uow:
            row = uow.tokens.get(token_id)
            if row is None:
                raise DomainError("There is no such token.")
            if row.revoked_at is None:
                assert row.id is not None
                row.revoked_at = actor.at
                uow.tokens.save(row)
                uow.audit.record(
                    at=actor.at,
                    actor=actor.name,
                    action="token_revoked",
                    entity="api_token",
                    entity_id=row.id,
                )
                uow.commit()

    def tokens(self) -> list[TokenView]:
        with self.unit_of_work() as uow:
            return [_token_view(row) for row in uow.tokens.listing()]

    def token_principal(self, token: str, now: datetime) -> Principal | None:
        if not token.startswith(TOKEN_PREFIX):
            return None
        with self.unit_of_work() as uow:
            row = uow.tokens.by_digest(_digest(token))
            if row is None or row.revoked_at is not None:
                return None
            row.last_used_at = now
            uow.tokens.save(row)
            uow.commit()
            return Principal(name=f"token:{row.name}", role=row.role, campus_id=row.campus_id)

    # --- audit ----------------------------------------------------------------------

    @staticmethod
    def _audit(
        uow: AccountsUnitOfWork,
        actor: Actor,
        action: str,
        account: AccountRecord,
        before: AccountView | None = None,
        after: AccountView | None = None,
    ) -> None:
        def summary(view: AccountView | None) -> dict[str, object] | None:
            if view is None:
                return None
            return {
                "login": view.login,
                "role": view.role.value,
                "campus": view.campus_id,
                "active": view.active,
            }

        assert account.id is not None
        uow.audit.record(
            at=actor.at,
            actor=actor.name,
            action=action,
            entity="account",
            entity_id=account.id,
            before=summary(before),
            after=summary(after),
        )


def _phone(typed: str) -> str:
    """A typed phone number as E.164 (``""`` stays empty); DomainError otherwise."""
    if not typed.strip():
        return ""
    try:
        return e164(typed)
    except InvalidPhone:
        raise DomainError(
            "This phone number is not valid: write it like 04 76 00 00 01 or +33 4 76 00 00 01."
        ) from None
