"""The operations use cases (job lease, process reports, readiness, metrics, retention)
on in-memory fakes of their ports: no database."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from server.domain.deliveries import ChannelHealth
from server.ports.operations import ProcessRow
from server.services.operations.leadership import JOBS, Leadership
from server.services.operations.metrics import Metrics
from server.services.operations.periodic import purge_expired
from server.services.operations.process_reports import (
    ProcessReporter,
    merged,
    recent_reports,
    report_of,
)
from server.services.operations.readiness import Readiness
from tests.unit.operations.fakes import (
    FakeJobLeases,
    FakeProcessRows,
    FakeRegistryRetention,
    FakeRegistryWatch,
)

T0 = datetime(2026, 12, 7, 9, tzinfo=UTC)
TTL = timedelta(seconds=30)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


class CountingLeases(FakeJobLeases):
    takes: int = 0

    def take(self, name: str, holder: str, now: datetime, ttl: timedelta) -> bool:
        self.takes += 1
        return super().take(name, holder, now, ttl)


def test_one_holder_at_a_time_a_takeover_once_expired_and_a_release() -> None:
    leases = FakeJobLeases()
    a = Leadership(leases, holder="a", ttl=TTL)
    b = Leadership(leases, holder="b", ttl=TTL)
    assert a.renew(T0) and not b.renew(T0 + timedelta(seconds=5))
    assert b.leads(T0 + timedelta(seconds=31))  # a stalled: its lease expired
    assert not a.leads(T0 + timedelta(seconds=32))
    b.release()
    assert leases.get(JOBS) is None
    assert a.renew(T0 + timedelta(seconds=33))


def test_the_holder_renews_only_once_half_of_its_lease_ran_out() -> None:
    leases = CountingLeases()
    a = Leadership(leases, holder="a", ttl=TTL)
    assert a.leads(T0) and leases.takes == 1
    assert a.leads(T0 + timedelta(seconds=14)) and leases.takes == 1  # from memory
    assert a.leads(T0 + timedelta(seconds=16)) and leases.takes == 2
    lease = leases.get(JOBS)
    assert lease is not None and lease.expires_at == T0 + timedelta(seconds=46)


def test_a_lease_written_by_a_clock_far_ahead_is_taken_over() -> None:
    leases = FakeJobLeases()
    assert Leadership(leases, holder="ahead", ttl=TTL).renew(T0 + timedelta(hours=1))
    assert Leadership(leases, holder="b", ttl=TTL).renew(T0)
    lease = leases.get(JOBS)
    assert lease is not None and lease.holder == "b"


def test_counters_written_by_a_process_are_read_back_and_purged_after_a_day() -> None:
    rows, wall = FakeProcessRows(), Clock()
    counted = {"stored": 3}
    reporter = ProcessReporter(rows, process="h:1:a", parts={"ingest": counted.copy}, wall=wall)
    reporter.write()
    report = report_of(rows, "h:1:a")
    assert report is not None
    assert (report.counters, report.stopped, report.live(T0)) == (
        {"ingest": {"stored": 3}},
        False,
        True,
    )
    wall.now = T0 + timedelta(seconds=10)
    reporter.write(stopped=True)
    assert [r.process for r in recent_reports(rows, T0 + timedelta(minutes=15))] == ["h:1:a"]
    assert recent_reports(rows, T0 + timedelta(minutes=16)) == []
    other = ProcessReporter(rows, process="h:2:b", parts={}, wall=wall)
    wall.now = T0 + timedelta(days=1, minutes=1)
    other.write()
    assert report_of(rows, "h:1:a") is None and report_of(rows, "h:2:b") is not None


def test_a_row_with_broken_counters_shows_none_and_a_process_its_own_memory() -> None:
    rows = FakeProcessRows()
    rows.write(ProcessRow("h:3:c", "h", 3, T0, T0, False, "{not json"), purge_before=T0)
    broken = report_of(rows, "h:3:c")
    assert broken is not None and broken.counters == {}
    own = ProcessReporter(rows, process="h:3:c", parts={"x": lambda: 1}, wall=Clock()).report()
    assert [(r.process, r.counters) for r in merged(own, [broken])] == [("h:3:c", {"x": 1})]


def _readiness(leases: FakeJobLeases, rows: FakeProcessRows, watch: FakeRegistryWatch):
    clock = Clock()
    return Readiness(watch, leases, rows, clock=clock, wall=clock), clock


def _jobs_row(process: str, last_turn: datetime, updated: datetime) -> ProcessRow:
    jobs = {"jobs": {"freeze-weeks": {"every_s": 60.0, "last_turn": last_turn.timestamp()}}}
    return ProcessRow(process, "h", 1, T0 - timedelta(hours=1), updated, False, json.dumps(jobs))


def test_readiness_follows_the_lease_holder_and_its_jobs() -> None:
    leases, rows = FakeJobLeases(), FakeProcessRows()
    watch = FakeRegistryWatch(leases)
    readiness, clock = _readiness(leases, rows, watch)
    checks = {check.name: check for check in readiness.checks()}
    assert checks["registry"].ok
    assert (checks["jobs"].ok, checks["jobs"].detail) == (False, "no process holds the job lease")
    leases.take(JOBS, "h:1:a", T0, TTL)
    assert readiness.report()[1]["failing"] == ["jobs"]  # the holder reported nothing
    rows.write(_jobs_row("h:1:a", T0 - timedelta(seconds=30), T0), purge_before=T0)
    ok, body = readiness.report()
    assert ok and body["status"] == "ready"
    clock.now = T0 + timedelta(seconds=20)  # the freeze job did not turn for 3 minutes
    rows.write(_jobs_row("h:1:a", T0 - timedelta(minutes=3), clock.now), purge_before=T0)
    jobs = {check.name: check for check in readiness.checks()}["jobs"]
    assert (jobs.ok, jobs.data["late"]) == (False, ["freeze-weeks"])
    watch.reachable = False
    failing = readiness.report()[1]["failing"]
    assert failing == ["registry", "jobs"]


def test_metrics_show_the_registry_figures() -> None:
    leases, rows = FakeJobLeases(), FakeProcessRows()
    watch = FakeRegistryWatch(
        leases,
        alerts={("absence", "open"): 2, ("absence", "closed"): 0},
        deliveries={"email": {"sent": 4, "retrying": 1}},
        channels=[
            ChannelHealth("campus-a", "sms", failures=5),
            ChannelHealth("campus-b", "sms", failures=0),
        ],
    )
    clock = Clock()
    families = {f.name: f for f in Metrics(watch, rows, clock=clock, wall=clock).families()}
    assert families["campus_alerts"].samples == [
        ({"kind": "absence", "status": "closed"}, 0.0),
        ({"kind": "absence", "status": "open"}, 2.0),
    ]
    assert families["campus_alert_deliveries"].samples == [
        ({"channel": "email", "state": "retrying"}, 1.0),
        ({"channel": "email", "state": "sent"}, 4.0),
    ]
    assert families["campus_alert_channels_failing"].samples == [({"channel": "sms"}, 1.0)]
    assert families["campus_job_lease_held"].samples == [({}, 0.0)]
    leases.take(JOBS, "h:1:a", T0, TTL)
    families = {f.name: f for f in Metrics(watch, rows, clock=clock, wall=clock).families()}
    assert families["campus_job_lease_held"].samples == [({}, 1.0)]


class PurgedStore:
    """The one event-store call the retention makes."""

    def __init__(self, deleted: int) -> None:
        self.deleted = deleted
        self.before: datetime | None = None

    def purge(self, before: datetime) -> int:
        self.before = before
        return self.deleted


def test_the_retention_purges_old_events_and_unknown_badges_then_checkpoints() -> None:
    retention = FakeRegistryRetention(
        {"old": T0 - timedelta(days=401), "recent": T0 - timedelta(days=10)}
    )
    store = PurgedStore(deleted=5)
    keep = timedelta(days=400)
    assert purge_expired(store, T0, keep, registry=retention) == 6  # type: ignore[arg-type]
    assert store.before == T0 - keep
    assert (list(retention.last_seen), retention.checkpoints) == (["recent"], 1)
    assert purge_expired(store, T0, keep, registry=retention) == 5  # type: ignore[arg-type]
    assert retention.checkpoints == 1  # nothing deleted in the registry: no checkpoint
