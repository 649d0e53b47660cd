"""What the account use cases need from storage, as ports: a unit of work holding the
accounts, the API tokens, the places an account may be linked to, and the audit log.

The registry's adapter is ``server.registry.account_store`` (SQLite and PostgreSQL);
the unit tests of :mod:`server.services.accounts.accounts` use in-memory fakes of these
ports, and one contract suite runs against both. Records are plain values: a use case
changes a record and ``save``s it; nothing is written until the unit of work commits."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Protocol

from server.domain.accounts import Role
from server.domain.errors import ServerError


@dataclass(slots=True)
class AccountRecord:
    login: str
    role: Role
    password_hash: str
    created_at: datetime
    display_name: str = ""
    phone: str = ""  # E.164
    campus_id: str = ""  # empty: every campus
    tutor_id: int | None = None
    student_pk: int | None = None
    active: bool = True
    failed_logins: int = 0
    locked_until: datetime | None = None
    session_version: int = 1
    last_login_at: datetime | None = None
    id: int | None = None  # given by ``Accounts.add``


@dataclass(slots=True)
class TokenRecord:
    name: str
    digest: str
    prefix: str
    role: Role
    campus_id: str
    created_by: str
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None
    id: int | None = None  # given by ``Tokens.add``


@dataclass(frozen=True, slots=True)
class TutorChoice:
    """A tutor a tutor account may be linked to."""

    id: int
    email: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.email})" if self.name else self.email


@dataclass(frozen=True, slots=True)
class StudentLink:
    """A student a student account may be linked to."""

    pk: int
    student_id: str
    campus_id: str


class Accounts(Protocol):
    def get(self, account_id: int) -> AccountRecord | None: ...

    def by_login(self, login: str) -> AccountRecord | None: ...

    def listing(self) -> list[AccountRecord]:
        """Every account, by role then login."""
        ...

    def count(self) -> int: ...

    def add(self, record: AccountRecord) -> AccountRecord:
        """Stored with its new ``id``."""
        ...

    def save(self, record: AccountRecord) -> None: ...


class Tokens(Protocol):
    def get(self, token_id: int) -> TokenRecord | None: ...

    def by_digest(self, digest: str) -> TokenRecord | None: ...

    def listing(self) -> list[TokenRecord]:
        """Every token, newest first."""
        ...

    def add(self, record: TokenRecord) -> TokenRecord: ...

    def save(self, record: TokenRecord) -> None: ...


class Places(Protocol):
    """What an account may be linked to."""

    def campus_exists(self, campus_id: str) -> bool: ...

    def tutor_exists(self, tutor_id: int) -> bool: ...

    def student_campus(self, student_pk: int) -> str | None:
        """The student's campus, None when there is no such student."""
        ...

    def tutors(self) -> list[TutorChoice]:
        """Every tutor, by name then e-mail."""
        ...

    def student(self, student_id: str) -> StudentLink | None: ...


class AuditTrail(Protocol):
    def record(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        entity: str,
        entity_id: str | int,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None: ...


class AccountsUnitOfWork(Protocol):
    """One transaction: ``with uow: ...; uow.commit()``; leaving without ``commit``
    discards every change."""

    accounts: Accounts
    tokens: Tokens
    places: Places
    audit: AuditTrail

    def __enter__(self) -> AccountsUnitOfWork: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...


@dataclass(slots=True)
class LoginFailureRecord:
    """Failed logins of one key (``address:…`` or ``login:…``, the login hashed)."""

    key: str
    failures: int
    last_failure_at: datetime
    blocked_until: datetime | None = None


class ConcurrentUpdate(ServerError):
    """Another process changed the same record in the meantime: the unit of work was
    discarded, try it again."""

    code = "conflict"


class LoginFailures(Protocol):
    def get(self, key: str) -> LoginFailureRecord | None: ...

    def locked(self, key: str) -> LoginFailureRecord | None:
        """``get``, the record locked until the unit of work ends (where the store can)."""
        ...

    def add(self, record: LoginFailureRecord) -> None: ...

    def save(self, record: LoginFailureRecord) -> None: ...

    def forget(self, key: str) -> None: ...


class LoginThrottleUnitOfWork(Protocol):
    """One transaction of the login throttle; leaving it by :class:`ConcurrentUpdate`
    means another process wrote the same key at once (nothing was kept)."""

    failures: LoginFailures
    audit: AuditTrail

    def __enter__(self) -> LoginThrottleUnitOfWork: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...
