"""Job leadership (issue 12): two server processes on one registry file; the lease row
is taken atomically and only its holder runs the periodic jobs."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import orm, select

from server.registry.database import open_registry
from server.registry.operations_store import SqlJobLeases
from server.registry.shared_state_models import JobLease
from server.services.operations.leadership import Leadership
from server.services.operations.periodic import PeriodicJob

T0 = datetime(2026, 12, 7, 9, tzinfo=UTC)
TTL = timedelta(seconds=30)


def _two_processes(settings):
    """Two engines on the same registry file, as two ``serve`` processes would have."""
    first = open_registry(settings.registry_database_url)
    second = open_registry(settings.registry_database_url)
    return first, second


def test_one_holder_at_a_time_and_a_takeover_once_expired(settings, registry) -> None:
    (engine_a, registry_a), (engine_b, registry_b) = _two_processes(settings)
    try:
        a = Leadership(SqlJobLeases(registry_a), holder="worker-a", ttl=TTL)
        b = Leadership(SqlJobLeases(registry_b), holder="worker-b", ttl=TTL)
        assert a.renew(T0) and not b.renew(T0)
        assert a.leads(T0 + timedelta(seconds=10)) and not b.leads(T0 + timedelta(seconds=10))
        assert a.renew(T0 + timedelta(seconds=20))  # renewed: expires at T0 + 50 s
        assert not b.leads(T0 + timedelta(seconds=45))
        # worker-a stalls: past its expiry worker-b takes over, and worker-a knows it.
        assert b.leads(T0 + timedelta(seconds=51))
        assert not a.leads(T0 + timedelta(seconds=52))
        with registry() as session:
            row = session.scalars(select(JobLease)).one()
        assert (row.holder, row.expires_at) == ("worker-b", T0 + timedelta(seconds=81))
    finally:
        engine_a.dispose()
        engine_b.dispose()


def test_a_released_lease_or_one_from_a_clock_far_ahead_is_taken_at_once(registry) -> None:
    a = Leadership(SqlJobLeases(registry), holder="worker-a", ttl=TTL)
    b = Leadership(SqlJobLeases(registry), holder="worker-b", ttl=TTL)
    assert a.renew(T0) and not b.renew(T0 + timedelta(seconds=1))
    a.release()  # a clean shutdown
    assert b.renew(T0 + timedelta(seconds=2)) and not a.leads(T0 + timedelta(seconds=3))
    # The demo restarted its simulated clock an hour earlier: b's lease is from the future.
    assert a.renew(T0 - timedelta(hours=1))
    # A holder whose clock is a few seconds ahead keeps its lease.
    assert not b.renew(T0 - timedelta(hours=1, seconds=5))


def test_only_the_holder_runs_a_job_even_when_both_race(settings, registry) -> None:
    (engine_a, registry_a), (engine_b, registry_b) = _two_processes(settings)
    runs: list[str] = []
    lock = threading.Lock()

    def job_of(name: str, factory: orm.sessionmaker[orm.Session]) -> PeriodicJob:
        def action(now: datetime) -> None:
            with lock:
                runs.append(name)

        leadership = Leadership(SqlJobLeases(factory), holder=name, ttl=TTL)
        return PeriodicJob(
            "freeze-weeks",
            action,
            clock=lambda: T0,
            every=timedelta(hours=6),
            lease=leadership.leads,
        )

    try:
        jobs = [job_of("worker-a", registry_a), job_of("worker-b", registry_b)]
        threads = [threading.Thread(target=job.run_once) for job in jobs for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(runs)) == 1 and len(runs) == 5  # one worker ran all its turns
    finally:
        engine_a.dispose()
        engine_b.dispose()


def test_a_job_without_a_lease_always_runs() -> None:
    runs: list[datetime] = []
    job = PeriodicJob("x", runs.append, clock=lambda: T0, every=timedelta(minutes=1))
    job.run_once()
    assert runs == [T0]
