"""In-memory fakes of the alert ports (``server.ports.alerts``), for the unit tests of
the alert use cases. The same contract suite runs against them and against the
registry's adapter (tests/integration/registry/test_alerts_store_contract.py)."""

from __future__ import annotations

import copy
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any

from server.domain.deliveries import ChannelHealth, after_failure, after_success
from server.ports.alerts import ChannelSettings, DeliveryCounts
from tests.unit.accounts.fakes import FakeAuditTrail


@dataclass
class Delivery:
    """What the counters read of one delivery."""

    channel: str
    status: str  # sent, pending, failed
    next_attempt_at: datetime | None


@dataclass
class Stored:
    """What the fake registry holds (committed state)."""

    channel_settings: dict[str, ChannelSettings] = field(default_factory=dict)
    channel_health: dict[tuple[str, str], ChannelHealth] = field(default_factory=dict)
    deliveries: list[Delivery] = field(default_factory=list)
    audit: list[dict[str, Any]] = field(default_factory=list)
    commits: int = 0


class FakeChannelSettings:
    def __init__(self, rows: dict[str, ChannelSettings]) -> None:
        self._rows = rows

    def get(self, campus: str) -> ChannelSettings | None:
        return self._rows.get(campus)

    def save(self, campus: str, settings: ChannelSettings) -> None:
        self._rows[campus] = settings


class FakeChannelHealth:
    def __init__(self, rows: dict[tuple[str, str], ChannelHealth], stored: Stored) -> None:
        self._rows = rows
        self._stored = stored

    def states(self, campuses: Collection[str] | None = None) -> list[ChannelHealth]:
        return [
            self._rows[key] for key in sorted(self._rows) if campuses is None or key[0] in campuses
        ]

    def record_outcome(self, campus: str, channel: str, error: str, now: datetime) -> ChannelHealth:
        before = self._rows.get((campus, channel), ChannelHealth(campus, channel))
        after = after_success(before, now) if not error else after_failure(before, error, now)
        self._rows[(campus, channel)] = after
        return after

    def delivery_counts(self) -> DeliveryCounts:
        counts: DeliveryCounts = {}
        for item in self._stored.deliveries:
            if item.status != "failed":
                name = item.status
            else:
                name = "given_up" if item.next_attempt_at is None else "retrying"
            entry = counts.setdefault(
                item.channel, {"sent": 0, "pending": 0, "retrying": 0, "given_up": 0}
            )
            entry[name] += 1
        return counts


class FakeUnitOfWork:
    """A transaction on copies of the stored state: ``commit`` puts them back."""

    def __init__(self, stored: Stored) -> None:
        self._stored = stored

    def __enter__(self) -> FakeUnitOfWork:
        self._settings = dict(self._stored.channel_settings)
        self._health = dict(self._stored.channel_health)
        self._audit: list[dict[str, Any]] = list(self._stored.audit)
        self.channel_settings = FakeChannelSettings(self._settings)
        self.channel_health = FakeChannelHealth(self._health, self._stored)
        self.audit = FakeAuditTrail(self._audit)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        del self.channel_settings, self.channel_health, self.audit  # no use after it

    def commit(self) -> None:
        self._stored.channel_settings = copy.copy(self._settings)
        self._stored.channel_health = copy.copy(self._health)
        self._stored.audit = list(self._audit)
        self._stored.commits += 1
