"""What the operations use cases need from the registry, as ports: the job lease (which
process runs the periodic jobs), each process's counters (``process_reports``), the
registry's own figures for ``/metrics`` and ``/readyz``, and the retention of the
registry's own records.

The registry's adapter is ``server.registry.operations_store`` (SQLite and PostgreSQL);
the unit tests of :mod:`server.services.operations` use in-memory fakes of these ports,
and one contract suite runs against both. Each method is one transaction: what the
lease and the reports need is atomic on its own, no unit of work spans two calls."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from server.domain.deliveries import ChannelHealth


@dataclass(frozen=True, slots=True)
class Lease:
    """The process (``holder``) that runs the jobs named ``name`` until ``expires_at``."""

    name: str
    holder: str
    expires_at: datetime


class JobLeases(Protocol):
    def take(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        """Atomically take or extend the lease ``name`` for ``holder`` until ``now + ttl``:
        done when nobody holds it, when ``holder`` holds it, when it expired at ``now``,
        or when it expires later than ``now + 2 * ttl`` (written by a clock far ahead of
        ours). False when another live holder keeps it (or created it at the same
        moment)."""
        ...

    def release(self, name: str, holder: str) -> None:
        """Delete the lease if ``holder`` holds it."""
        ...

    def get(self, name: str) -> Lease | None: ...


@dataclass(frozen=True, slots=True)
class ProcessRow:
    """One process's stored counters (``counters``: JSON text, no personal data)."""

    process: str
    host: str
    pid: int
    started_at: datetime
    updated_at: datetime
    stopped: bool
    counters: str


class ProcessRows(Protocol):
    def write(self, row: ProcessRow, *, purge_before: datetime) -> None:
        """Upsert ``row`` (its ``host``, ``pid`` and ``started_at`` are kept from the
        first write) and delete the rows last updated before ``purge_before``."""
        ...

    def since(self, since: datetime) -> list[ProcessRow]:
        """Rows updated at or after ``since``, oldest start first (then by process)."""
        ...

    def get(self, process: str) -> ProcessRow | None: ...


@dataclass(frozen=True, slots=True)
class RegistryFigures:
    """What ``/metrics`` shows of the registry, read in one transaction."""

    alerts: dict[tuple[str, str], int]  # (kind, status) -> count; every known pair, 0 too
    deliveries: dict[str, dict[str, int]]  # channel -> state -> count
    failing: list[ChannelHealth] = field(default_factory=list)  # failing channels
    lease_expiry: datetime | None = None  # of the lease asked for


class RegistryWatch(Protocol):
    def ping(self) -> None:
        """Raises when the registry cannot be reached."""
        ...

    def figures(self, lease: str) -> RegistryFigures: ...


class RegistryRetention(Protocol):
    def purge_unknown_badges(self, before: datetime) -> int:
        """Delete the unknown-badge records last seen before ``before``; how many."""
        ...

    def checkpoint(self) -> None:
        """Give the space of deleted rows back where the database keeps old pages
        (a SQLite write-ahead log); nothing elsewhere."""
        ...
