"""The registry's implementation of the account ports (``server.ports.accounts``): one
SQLAlchemy session per unit of work, records copied in and out of the ORM rows."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from types import TracebackType

from sqlalchemy import delete, func, orm, select
from sqlalchemy.exc import IntegrityError, OperationalError

from server.domain.accounts import Role
from server.ports.accounts import (
    AccountRecord,
    ConcurrentUpdate,
    LoginFailureRecord,
    StudentLink,
    TokenRecord,
    TutorChoice,
)
from server.registry import audit
from server.registry.account_models import Account, ApiToken
from server.registry.models import Campus, Student, Tutor
from server.registry.shared_state_models import LoginFailures
from server.registry.unit_of_work import SessionUnitOfWork

_ACCOUNT_FIELDS = (
    "login",
    "display_name",
    "phone",
    "campus_id",
    "tutor_id",
    "student_pk",
    "password_hash",
    "active",
    "failed_logins",
    "locked_until",
    "session_version",
    "created_at",
    "last_login_at",
)
_TOKEN_FIELDS = (
    "name",
    "digest",
    "prefix",
    "campus_id",
    "created_by",
    "created_at",
    "revoked_at",
    "last_used_at",
)


def _account(row: Account) -> AccountRecord:
    values = {name: getattr(row, name) for name in _ACCOUNT_FIELDS}
    return AccountRecord(id=row.id, role=Role(row.role), **values)


def _token(row: ApiToken) -> TokenRecord:
    values = {name: getattr(row, name) for name in _TOKEN_FIELDS}
    return TokenRecord(id=row.id, role=Role(row.role), **values)


class SqlAccounts:
    def __init__(self, session: orm.Session) -> None:
        self._session = session

    def get(self, account_id: int) -> AccountRecord | None:
        row = self._session.get(Account, account_id)
        return _account(row) if row is not None else None

    def by_login(self, login: str) -> AccountRecord | None:
        row = self._session.scalar(select(Account).where(Account.login == login))
        return _account(row) if row is not None else None

    def listing(self) -> list[AccountRecord]:
        rows = self._session.scalars(select(Account).order_by(Account.role, Account.login))
        return [_account(row) for row in rows]

    def count(self) -> int:
        return self._session.scalar(select(func.count(Account.id))) or 0

    def add(self, record: AccountRecord) -> AccountRecord:
        row = Account(role=record.role.value, **{n: getattr(record, n) for n in _ACCOUNT_FIELDS})
        self._session.add(row)
        self._session.flush()
        record.id = row.id
        return record

    def save(self, record: AccountRecord) -> None:
        assert record.id is not None
        row = self._session.get(Account, record.id)
        assert row is not None
        row.role = record.role.value
        for name in _ACCOUNT_FIELDS:
            setattr(row, name, getattr(record, name))


class SqlTokens:
    def __init__(self, session: orm.Session) -> None:
        self._session = session

    def get(self, token_id: int) -> TokenRecord | None:
        row = self._session.get(ApiToken, token_id)
        return _token(row) if row is not None else None

    def by_digest(self, digest: str) -> TokenRecord | None:
        row = self._session.scalar(select(ApiToken).where(ApiToken.digest == digest))
        return _token(row) if row is not None else None

    def listing(self) -> list[TokenRecord]:
        rows = self._session.scalars(select(ApiToken).order_by(ApiToken.created_at.desc()))
        return [_token(row) for row in rows]

    def add(self, record: TokenRecord) -> TokenRecord:
        row = ApiToken(role=record.role.value, **{n: getattr(record, n) for n in _TOKEN_FIELDS})
        self._session.add(row)
        self._session.flush()
        record.id = row.id
        return record

    def save(self, record: TokenRecord) -> None:
        assert record.id is not None
        row = self._session.get(ApiToken, record.id)
        assert row is not None
        row.role = record.role.value
        for name in _TOKEN_FIELDS:
            setattr(row, name, getattr(record, name))


class SqlPlaces:
    def __init__(self, session: orm.Session) -> None:
        self._session = session

    def campus_exists(self, campus_id: str) -> bool:
        return self._session.get(Campus, campus_id) is not None

    def tutor_exists(self, tutor_id: int) -> bool:
        return self._session.get(Tutor, tutor_id) is not None

    def student_campus(self, student_pk: int) -> str | None:
        student = self._session.get(Student, student_pk)
        return student.campus_id if student is not None else None

    def tutors(self) -> list[TutorChoice]:
        rows = self._session.scalars(select(Tutor).order_by(Tutor.name, Tutor.email))
        return [TutorChoice(row.id, row.email, row.name) for row in rows]

    def student(self, student_id: str) -> StudentLink | None:
        row = self._session.scalar(select(Student).where(Student.student_id == student_id))
        return StudentLink(row.id, row.student_id, row.campus_id) if row is not None else None


class SqlAuditTrail:
    """The audit log of one session: ``record`` is :func:`server.registry.audit.record`
    with the session given."""

    def __init__(self, session: orm.Session) -> None:
        self.record = partial(audit.record, session)


class SqlAccountsUnitOfWork(SessionUnitOfWork):
    """``server.ports.accounts.AccountsUnitOfWork`` on one registry session."""

    def __init__(self, registry: Callable[[], orm.Session]) -> None:
        super().__init__(registry)

    def _bind(self, session: orm.Session) -> None:
        self.accounts = SqlAccounts(session)
        self.tokens = SqlTokens(session)
        self.places = SqlPlaces(session)
        self.audit = SqlAuditTrail(session)


def accounts_unit_of_work(
    registry: Callable[[], orm.Session],
) -> Callable[[], SqlAccountsUnitOfWork]:
    """What :class:`~server.services.accounts.accounts.AccountService` is built with."""
    return lambda: SqlAccountsUnitOfWork(registry)


def _failures(row: LoginFailures) -> LoginFailureRecord:
    return LoginFailureRecord(row.key, row.failures, row.last_failure_at, row.blocked_until)


class SqlLoginFailures:
    def __init__(self, session: orm.Session) -> None:
        self._session = session

    def get(self, key: str) -> LoginFailureRecord | None:
        row = self._session.get(LoginFailures, key)
        return _failures(row) if row is not None else None

    def locked(self, key: str) -> LoginFailureRecord | None:
        row = self._session.get(LoginFailures, key, with_for_update=True)
        return _failures(row) if row is not None else None

    def add(self, record: LoginFailureRecord) -> None:
        self._session.add(
            LoginFailures(
                key=record.key,
                failures=record.failures,
                last_failure_at=record.last_failure_at,
                blocked_until=record.blocked_until,
            )
        )

    def save(self, record: LoginFailureRecord) -> None:
        row = self._session.get(LoginFailures, record.key)  # already loaded: no query
        assert row is not None
        row.failures = record.failures
        row.last_failure_at = record.last_failure_at
        row.blocked_until = record.blocked_until

    def forget(self, key: str) -> None:
        self._session.execute(delete(LoginFailures).where(LoginFailures.key == key))


class SqlLoginThrottleUnitOfWork(SessionUnitOfWork):
    """``server.ports.accounts.LoginThrottleUnitOfWork`` on one registry session: two
    processes inserting or updating one key at once end in :class:`ConcurrentUpdate`."""

    def _bind(self, session: orm.Session) -> None:
        self.failures = SqlLoginFailures(session)
        self.audit = SqlAuditTrail(session)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        super().__exit__(kind, error, trace)
        if isinstance(error, IntegrityError | OperationalError):
            raise ConcurrentUpdate("login_failures") from error


def login_throttle_unit_of_work(
    registry: Callable[[], orm.Session],
) -> Callable[[], SqlLoginThrottleUnitOfWork]:
    """What :class:`~server.services.accounts.login_throttle.LoginThrottle` is built with."""
    return lambda: SqlLoginThrottleUnitOfWork(registry)
