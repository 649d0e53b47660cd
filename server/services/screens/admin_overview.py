"""Use case: the admin's overview, a few counts that say what needs doing (students,
unknown badges waiting for a holder, accounts, readers offline)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from server.domain.reader_health import Health, ReaderHealth
from server.ports.screens import ScreenReads
from server.services.accounts.accounts import AccountView


class AccountListing(Protocol):
    """``server.services.accounts.accounts.AccountService``"""

    def accounts(self) -> list[AccountView]: ...


class ReaderHealths(Protocol):
    """``server.services.occupancy.reader_health.ReaderHealthService``"""

    def current(
        self, now: datetime, *, known: Iterable[tuple[str, str]] = (), campus: str | None = None
    ) -> list[ReaderHealth]: ...


@dataclass(frozen=True, slots=True)
class Overview:
    students: int
    unknown_badges: int
    accounts: int
    active_accounts: int
    readers: int
    readers_offline: tuple[str, ...]  # "campus/reader"


def overview(
    reads: Callable[[], ScreenReads],
    *,
    accounts: AccountListing,
    reader_health: ReaderHealths,
    known_readers: Iterable[tuple[str, str]],
    campus_ids: list[str],
    now: datetime,
) -> Overview:
    """Counts over ``campus_ids`` (accounts: all of them)."""
    with reads() as view:
        students = view.student_count(campus_ids)
        waiting = view.unknown_badges_waiting(campus_ids)
    health = [
        item
        for item in reader_health.current(now, known=known_readers)
        if item.campus in campus_ids
    ]
    listed = accounts.accounts()
    return Overview(
        students=students,
        unknown_badges=waiting,
        accounts=len(listed),
        active_accounts=sum(1 for account in listed if account.active),
        readers=len(health),
        readers_offline=tuple(
            f"{item.campus}/{item.reader}" for item in health if item.health is Health.OFFLINE
        ),
    )
