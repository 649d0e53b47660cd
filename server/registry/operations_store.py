"""The registry's implementation of the operations ports (``server.ports.operations``):
the job lease, the processes' counters, the registry's figures for ``/metrics`` and
``/readyz``, and the purge of unknown badges. Each method is one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, orm, select, text, update
from sqlalchemy.exc import IntegrityError

from server.ports.operations import Lease, ProcessRow, RegistryFigures
from server.registry import channel_health
from server.registry.alert_models import ALERT_KINDS, ALERT_STATUSES, Alert
from server.registry.models import UnknownBadge
from server.registry.shared_state_models import JobLease, ProcessReport

Registry = Callable[[], orm.Session]


class SqlJobLeases:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def take(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        expires = now + ttl
        try:
            with self._registry() as session, session.begin():
                taken = session.execute(
                    update(JobLease)
                    .where(
                        JobLease.name == name,
                        or_(
                            JobLease.holder == holder,
                            JobLease.expires_at <= now,
                            # written by a clock far ahead of ours (a simulated clock
                            # restarted earlier): no live, synchronised holder writes that.
                            JobLease.expires_at > now + 2 * ttl,
                        ),
                    )
                    .values(holder=holder, expires_at=expires)
                    .execution_options(synchronize_session=False)
                ).rowcount
                if taken:
                    return True
                if session.get(JobLease, name) is not None:
                    return False  # held by another live process
                session.add(JobLease(name=name, holder=holder, acquired_at=now, expires_at=expires))
            return True
        except IntegrityError:
            return False  # another process created it first

    def release(self, name: str, holder: str) -> None:
        with self._registry() as session, session.begin():
            session.execute(
                delete(JobLease).where(JobLease.name == name, JobLease.holder == holder)
            )

    def get(self, name: str) -> Lease | None:
        with self._registry() as session:
            row = session.get(JobLease, name)
            return Lease(row.name, row.holder, row.expires_at) if row is not None else None


def _process_row(row: ProcessReport) -> ProcessRow:
    return ProcessRow(
        row.process_id,
        row.host,
        row.pid,
        row.started_at,
        row.updated_at,
        row.stopped,
        row.counters,
    )


class SqlProcessRows:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def write(self, row: ProcessRow, *, purge_before: datetime) -> None:
        with self._registry() as session, session.begin():
            stored = session.get(ProcessReport, row.process)
            if stored is None:
                stored = ProcessReport(
                    process_id=row.process,
                    host=row.host,
                    pid=row.pid,
                    started_at=row.started_at,
                )
                session.add(stored)
            stored.updated_at = row.updated_at
            stored.stopped = row.stopped
            stored.counters = row.counters
            session.execute(delete(ProcessReport).where(ProcessReport.updated_at < purge_before))

    def since(self, since: datetime) -> list[ProcessRow]:
        with self._registry() as session:
            rows = session.scalars(
                select(ProcessReport)
                .where(ProcessReport.updated_at >= since)
                .order_by(ProcessReport.started_at, ProcessReport.process_id)
            ).all()
            return [_process_row(row) for row in rows]

    def get(self, process: str) -> ProcessRow | None:
        with self._registry() as session:
            row = session.get(ProcessReport, process)
            return _process_row(row) if row is not None else None


class SqlRegistryWatch:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def ping(self) -> None:
        with self._registry() as session:
            session.execute(text("SELECT 1"))

    def figures(self, lease: str) -> RegistryFigures:
        with self._registry() as session:
            alerts = session.execute(
                select(Alert.kind, Alert.status, func.count()).group_by(Alert.kind, Alert.status)
            ).all()
            deliveries = channel_health.delivery_counts(session)
            failing = [health for health in channel_health.states(session) if health.failing]
            row = session.get(JobLease, lease)
            lease_expiry = row.expires_at if row is not None else None
        counts = {(kind, status): 0 for kind in ALERT_KINDS for status in ALERT_STATUSES}
        counts.update({(kind, status): count for kind, status, count in alerts})
        return RegistryFigures(counts, deliveries, failing, lease_expiry)


class SqlRegistryRetention:
    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def purge_unknown_badges(self, before: datetime) -> int:
        with self._registry() as session, session.begin():
            return session.execute(
                delete(UnknownBadge).where(UnknownBadge.last_seen < before)
            ).rowcount

    def checkpoint(self) -> None:
        """A SQLite registry's write-ahead log still holds the pages as they were before a
        delete: copy the zeroed pages into the file and empty the log (outside any
        transaction, on the driver's own connection)."""
        with self._registry() as session:
            engine = session.get_bind()
        if engine.dialect.name != "sqlite":
            return
        connection = engine.raw_connection()  # type: ignore[union-attr]
        try:
            connection.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            connection.close()
