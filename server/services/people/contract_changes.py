"""Use case: a contract's terms change, maybe from a day in the past.

Weeks already frozen were computed with the old terms. Every week from the day the new
terms apply to this week is re-opened, so the next report recomputes it with the new
terms. Weeks whose raw taps are already purged keep their stored record.
"""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from server.domain.accounts import Actor
from server.domain.calendar import IsoWeek
from server.domain.contracts import Contract
from server.domain.ledger import weeks_to_recompute
from server.ports.people import PeopleUnitOfWork


def record_contract(
    uow: PeopleUnitOfWork,
    student_pk: int,
    contract: Contract,
    actor: Actor,
    *,
    timezone: ZoneInfo,
    retention: timedelta,
) -> tuple[IsoWeek, ...] | None:
    """Record ``contract`` (history kept, audited); returns the frozen weeks re-opened,
    or None when the contract was already in force as it is."""
    if not uow.contracts.apply(student_pk, contract, actor):
        return None
    weeks = weeks_to_recompute(contract.valid_from, actor.at, timezone, retention)
    return tuple(uow.weeks.reopen(student_pk, weeks, actor, cause="contract_changed"))
