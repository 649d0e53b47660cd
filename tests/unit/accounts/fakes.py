"""In-memory fakes of the account ports (``server.ports.accounts``), for the unit tests
of the account use cases. The same contract suite runs against them and against the
registry's adapter (tests/integration/registry/test_account_store_contract.py)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any

from server.ports.accounts import (
    AccountRecord,
    ConcurrentUpdate,
    LoginFailureRecord,
    StudentLink,
    TokenRecord,
    TutorChoice,
)


@dataclass
class Stored:
    """What the fake registry holds (committed state)."""

    accounts: dict[int, AccountRecord] = field(default_factory=dict)
    tokens: dict[int, TokenRecord] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)
    campuses: set[str] = field(default_factory=set)
    tutors: set[int] = field(default_factory=set)
    students: dict[int, str] = field(default_factory=dict)  # student pk -> campus
    tutor_names: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (email, name)
    student_ids: dict[str, int] = field(default_factory=dict)  # student id -> pk
    login_failures: dict[str, LoginFailureRecord] = field(default_factory=dict)
    collisions: int = 0  # the next commits of the login throttle that another process beats
    commits: int = 0


class FakeAccounts:
    def __init__(self, rows: dict[int, AccountRecord]) -> None:
        self._rows = rows

    def get(self, account_id: int) -> AccountRecord | None:
        row = self._rows.get(account_id)
        return copy.copy(row) if row is not None else None

    def by_login(self, login: str) -> AccountRecord | None:
        found = [row for row in self._rows.values() if row.login == login]
        return copy.copy(found[0]) if found else None

    def listing(self) -> list[AccountRecord]:
        rows = sorted(self._rows.values(), key=lambda row: (row.role.value, row.login))
        return [copy.copy(row) for row in rows]

    def count(self) -> int:
        return len(self._rows)

    def add(self, record: AccountRecord) -> AccountRecord:
        if any(row.login == record.login for row in self._rows.values()):
            raise ValueError(f"unique login {record.login}")  # the registry's constraint
        record.id = max(self._rows, default=0) + 1
        self._rows[record.id] = copy.copy(record)
        return record

    def save(self, record: AccountRecord) -> None:
        assert record.id in self._rows
        self._rows[record.id] = copy.copy(record)


class FakeTokens:
    def __init__(self, rows: dict[int, TokenRecord]) -> None:
        self._rows = rows

    def get(self, token_id: int) -> TokenRecord | None:
        row = self._rows.get(token_id)
        return copy.copy(row) if row is not None else None

    def by_digest(self, digest: str) -> TokenRecord | None:
        found = [row for row in self._rows.values() if row.digest == digest]
        return copy.copy(found[0]) if found else None

    def listing(self) -> list[TokenRecord]:
        rows = sorted(self._rows.values(), key=lambda row: row.created_at, reverse=True)
        return [copy.copy(row) for row in rows]

    def add(self, record: TokenRecord) -> TokenRecord:
        record.id = max(self._rows, default=0) + 1
        self._rows[record.id] = copy.copy(record)
        return record

    def save(self, record: TokenRecord) -> None:
        assert record.id in self._rows
        self._rows[record.id] = copy.copy(record)


class FakePlaces:
    def __init__(self, stored: Stored) -> None:
        self._stored = stored

    def campus_exists(self, campus_id: str) -> bool:
        return campus_id in self._stored.campuses

    def tutor_exists(self, tutor_id: int) -> bool:
        return tutor_id in self._stored.tutors

    def student_campus(self, student_pk: int) -> str | None:
        return self._stored.students.get(student_pk)

    def tutors(self) -> list[TutorChoice]:
        found = [
            TutorChoice(pk, *self._stored.tutor_names.get(pk, ("", "")))
            for pk in self._stored.tutors
        ]
        return sorted(found, key=lambda tutor: (tutor.name, tutor.email))

    def student(self, student_id: str) -> StudentLink | None:
        pk = self._stored.student_ids.get(student_id)
        return StudentLink(pk, student_id, self._stored.students[pk]) if pk is not None else None


class FakeAuditTrail:
    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self._entries = entries

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
    ) -> None:
        self._entries.append(
            {
                "at": at,
                "actor": actor,
                "action": action,
                "entity": entity,
                "entity_id": str(entity_id),
                "before": dict(before) if before is not None else None,
                "after": dict(after) if after is not None else None,
            }
        )


class FakeUnitOfWork:
    """A transaction on copies of the stored state: ``commit`` puts them back."""

    def __init__(self, stored: Stored) -> None:
        self._stored = stored

    def __enter__(self) -> FakeUnitOfWork:
        self._accounts = copy.deepcopy(self._stored.accounts)
        self._tokens = copy.deepcopy(self._stored.tokens)
        self._audit: list[dict[str, Any]] = list(self._stored.audit)
        self.accounts = FakeAccounts(self._accounts)
        self.tokens = FakeTokens(self._tokens)
        self.places = FakePlaces(self._stored)
        self.audit = FakeAuditTrail(self._audit)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        del self.accounts, self.tokens, self.audit  # no use after the transaction

    def commit(self) -> None:
        self._stored.accounts = copy.deepcopy(self._accounts)
        self._stored.tokens = copy.deepcopy(self._tokens)
        self._stored.audit = list(self._audit)
        self._stored.commits += 1


class FakeLoginFailures:
    def __init__(self, rows: dict[str, LoginFailureRecord]) -> None:
        self._rows = rows

    def get(self, key: str) -> LoginFailureRecord | None:
        row = self._rows.get(key)
        return copy.copy(row) if row is not None else None

    def locked(self, key: str) -> LoginFailureRecord | None:
        return self.get(key)

    def add(self, record: LoginFailureRecord) -> None:
        if record.key in self._rows:
            raise ConcurrentUpdate("login_failures")  # the registry's primary key
        self._rows[record.key] = copy.copy(record)

    def save(self, record: LoginFailureRecord) -> None:
        assert record.key in self._rows
        self._rows[record.key] = copy.copy(record)

    def forget(self, key: str) -> None:
        self._rows.pop(key, None)


class FakeLoginThrottleUnitOfWork:
    """A transaction of the login throttle on copies; ``Stored.collisions`` makes the
    next commits fail as when another process wrote the same key first."""

    def __init__(self, stored: Stored) -> None:
        self._stored = stored

    def __enter__(self) -> FakeLoginThrottleUnitOfWork:
        self._rows = copy.deepcopy(self._stored.login_failures)
        self._audit: list[dict[str, Any]] = list(self._stored.audit)
        self.failures = FakeLoginFailures(self._rows)
        self.audit = FakeAuditTrail(self._audit)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        del self.failures, self.audit

    def commit(self) -> None:
        if self._stored.collisions:
            self._stored.collisions -= 1
            raise ConcurrentUpdate("login_failures")
        self._stored.login_failures = copy.deepcopy(self._rows)
        self._stored.audit = list(self._audit)
        self._stored.commits += 1
