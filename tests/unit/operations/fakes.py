"""In-memory fakes of the operations ports (``server.ports.operations``), for the unit
tests of the operations use cases. The same contract suite runs against them and against
the registry's adapter (tests/integration/registry/test_operations_store_contract.py)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from server.domain.deliveries import ChannelHealth
from server.ports.operations import Lease, ProcessRow, RegistryFigures


@dataclass
class FakeJobLeases:
    leases: dict[str, Lease] = field(default_factory=dict)

    def take(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        lease = self.leases.get(name)
        if lease is not None and not (
            lease.holder == holder or lease.expires_at <= now or lease.expires_at > now + 2 * ttl
        ):
            return False
        self.leases[name] = Lease(name, holder, now + ttl)
        return True

    def release(self, name: str, holder: str) -> None:
        lease = self.leases.get(name)
        if lease is not None and lease.holder == holder:
            del self.leases[name]

    def get(self, name: str) -> Lease | None:
        return self.leases.get(name)


@dataclass
class FakeProcessRows:
    rows: dict[str, ProcessRow] = field(default_factory=dict)

    def write(self, row: ProcessRow, *, purge_before: datetime) -> None:
        known = self.rows.get(row.process)
        if known is not None:  # who the process is stays as first written
            row = replace(row, host=known.host, pid=known.pid, started_at=known.started_at)
        self.rows[row.process] = row
        for process, kept in list(self.rows.items()):
            if kept.updated_at < purge_before:
                del self.rows[process]

    def since(self, since: datetime) -> list[ProcessRow]:
        found = [row for row in self.rows.values() if row.updated_at >= since]
        return sorted(found, key=lambda row: (row.started_at, row.process))

    def get(self, process: str) -> ProcessRow | None:
        return self.rows.get(process)


@dataclass
class FakeRegistryWatch:
    leases: FakeJobLeases
    alerts: dict[tuple[str, str], int] = field(default_factory=dict)
    deliveries: dict[str, dict[str, int]] = field(default_factory=dict)
    channels: list[ChannelHealth] = field(default_factory=list)
    reachable: bool = True

    def ping(self) -> None:
        if not self.reachable:
            raise ConnectionError("registry down")

    def figures(self, lease: str) -> RegistryFigures:
        held = self.leases.get(lease)
        return RegistryFigures(
            dict(self.alerts),
            {channel: dict(states) for channel, states in self.deliveries.items()},
            [health for health in self.channels if health.failing],
            held.expires_at if held is not None else None,
        )


@dataclass
class FakeRegistryRetention:
    last_seen: dict[str, datetime] = field(default_factory=dict)  # badge hash -> last seen
    checkpoints: int = 0

    def purge_unknown_badges(self, before: datetime) -> int:
        old = [badge for badge, seen in self.last_seen.items() if seen < before]
        for badge in old:
            del self.last_seen[badge]
        return len(old)

    def checkpoint(self) -> None:
        self.checkpoints += 1
