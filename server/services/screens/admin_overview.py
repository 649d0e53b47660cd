"""Use case: the admin's overview, a few counts that say what needs doing (students,
unknown badges waiting for a holder, accounts, readers offline)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import orm

from server.domain.reader_health import Health
from server.registry.people_store import people_unit_of_work
from server.services.accounts.accounts import AccountService
from server.services.occupancy.reader_health import ReaderHealthService
from server.services.people.admin_students import student_count
from server.services.people.enrolment import unknown_badges

Registry = Callable[[], orm.Session]


@dataclass(frozen=True, slots=True)
class Overview:
    students: int
    unknown_badges: int
    accounts: int
    active_accounts: int
    readers: int
    readers_offline: tuple[str, ...]  # "campus/reader"


def overview(
    registry: Registry,
    *,
    accounts: AccountService,
    reader_health: ReaderHealthService,
    known_readers: Iterable[tuple[str, str]],
    campus_ids: list[str],
    now: datetime,
) -> Overview:
    """Counts over ``campus_ids`` (accounts: all of them)."""
    people = people_unit_of_work(registry)
    waiting = [item for item in unknown_badges(people) if item.campus_id in campus_ids]
    health = [
        item
        for item in reader_health.current(now, known=known_readers)
        if item.campus in campus_ids
    ]
    listed = accounts.accounts()
    return Overview(
        students=student_count(people, campus_ids),
        unknown_badges=len(waiting),
        accounts=len(listed),
        active_accounts=sum(1 for account in listed if account.active),
        readers=len(health),
        readers_offline=tuple(
            f"{item.campus}/{item.reader}" for item in health if item.health is Health.OFFLINE
        ),
    )
