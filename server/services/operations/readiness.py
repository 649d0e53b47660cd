"""Use case: is this server process ready to serve (``GET /readyz``)?

The checks are those of what the process runs: the broker (connected, and the server's
subscriptions granted) and the event store (a write succeeds) only where the process
consumes MQTT and writes taps; the registry and the periodic jobs always. Jobs run in one
process at a time, the holder of the job lease (``services.leadership``): every process
checks that SOME process holds a fresh lease and that the holder's jobs ran lately, read
from the holder's row of ``process_reports`` (or its own memory when it is the holder),
so a process that does not lead is not "not ready" for that.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from server.adapters.event_store import EventStore
from server.ports.operations import JobLeases, ProcessRows, RegistryWatch
from server.services.operations.leadership import JOBS
from server.services.operations.process_reports import (
    ProcessReporter,
    Report,
    report_of,
    wall_clock,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]

STORE_PROBE_EVERY = 5.0  # seconds: a probe every second does not write every second
JOB_GRACE = timedelta(minutes=1)  # a job is late after twice its period plus this


class Broker(Protocol):
    @property
    def connected(self) -> bool: ...

    @property
    def subscribed(self) -> bool: ...

    store_healthy: bool


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str
    data: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ok": self.ok, "detail": self.detail, **self.data}


class Readiness:
    def __init__(
        self,
        registry: RegistryWatch,
        leases: JobLeases,
        reports: ProcessRows,
        *,
        clock: Clock,
        broker: Broker | None = None,
        store: EventStore | None = None,
        reporter: ProcessReporter | None = None,
        wall: Clock = wall_clock,
        probe_every: float = STORE_PROBE_EVERY,
    ) -> None:
        self.registry = registry
        self.leases = leases
        self.reports = reports
        self.clock = clock  # the clock the job lease is written with
        self.broker = broker
        self.store = store
        self.reporter = reporter
        self.wall = wall
        self.probe_every = probe_every
        self._probe_lock = threading.Lock()
        self._probe: tuple[float, Check] | None = None
        self._failing: list[str] | None = None  # as last answered: logged when it changes

    def checks(self) -> list[Check]:
        found = []
        if self.broker is not None:
            found.append(self._broker())
        if self.store is not None:
            found.append(self._store())
        registry = self._registry()
        found.append(registry)
        found.append(self._jobs() if registry.ok else Check("jobs", False, "registry unreachable"))
        return found

    def report(self) -> tuple[bool, dict[str, Any]]:
        checks = self.checks()
        failing = [check.name for check in checks if not check.ok]
        body = {
            "status": "not ready" if failing else "ready",
            "failing": failing,
            "checks": [check.as_dict() for check in checks],
        }
        if failing != self._failing:  # once per change, not once per probe
            if failing:
                details = "; ".join(f"{c.name}: {c.detail}" for c in checks if not c.ok)
                log.warning("not ready: %s", details)
            elif self._failing:
                log.info("ready again")
            self._failing = failing
        return not failing, body

    # -- checks ------------------------------------------------------------------------

    def _broker(self) -> Check:
        assert self.broker is not None
        connected, subscribed = self.broker.connected, self.broker.subscribed
        data = {"connected": connected, "subscribed": subscribed}
        if not connected:
            return Check("broker", False, "not connected to the MQTT broker", data)
        if not subscribed:
            return Check("broker", False, "connected, subscription not granted", data)
        return Check("broker", True, "connected and subscribed", data)

    def _store(self) -> Check:
        """A write probe, its answer kept :attr:`probe_every` seconds; a batch the ingest
        could not store lately fails the check at once."""
        assert self.store is not None
        broker = self.broker
        if broker is not None and not broker.store_healthy:
            return Check("store", False, "the last batch could not be stored; retrying")
        with self._probe_lock:
            if self._probe is not None and time.monotonic() - self._probe[0] < self.probe_every:
                return self._probe[1]
            try:
                self.store.check_writable(self.wall())
                check = Check("store", True, "writable")
            except Exception as error:
                # The answer is public: the error's kind only; its text (a path, a URL)
                # goes to the log, once per outage.
                check = Check("store", False, f"not writable ({type(error).__name__})")
                if self._probe is None or self._probe[1].ok:
                    log.warning("event store write probe failed: %s", error)
            self._probe = (time.monotonic(), check)
            return check

    def _registry(self) -> Check:
        try:
            self.registry.ping()
        except Exception as error:
            return Check("registry", False, f"unreachable: {type(error).__name__}")
        return Check("registry", True, "reachable")

    def _jobs(self) -> Check:
        now = self.clock()
        lease = self.leases.get(JOBS)
        holder = lease.holder if lease is not None else None
        expires = lease.expires_at if lease is not None else None
        if holder is None or expires is None or expires <= now:
            return Check("jobs", False, "no process holds the job lease")
        data: dict[str, Any] = {"holder": holder}
        report = self._report_of(holder)
        wall = self.wall()
        if report is None or not report.live(wall):
            return Check("jobs", False, "the job lease holder reports nothing lately", data)
        late = late_jobs(report, wall)
        data["late"] = late
        if late:
            return Check("jobs", False, f"jobs late: {', '.join(late)}", data)
        return Check("jobs", True, "the job lease holder ran its jobs lately", data)

    def _report_of(self, holder: str) -> Report | None:
        if self.reporter is not None and self.reporter.process == holder:
            return self.reporter.report()
        return report_of(self.reports, holder)


def late_jobs(report: Report, now: datetime) -> list[str]:
    """The jobs of a process whose thread did not turn (run, or skip while another
    process held the lease) within twice their period plus :data:`JOB_GRACE`, counted
    from the process's start for a job that never turned yet. The holder of the lease
    runs at every turn: a turn that ended is a run that ended, failed or not."""
    jobs = report.counters.get("jobs", {})
    started = report.started_at.timestamp()
    late = []
    for name, run in sorted(jobs.items()):
        if not isinstance(run, dict):
            continue
        last = run.get("last_turn") or started
        limit = 2 * float(run.get("every_s", 0)) + JOB_GRACE.total_seconds()
        if now.timestamp() - last > limit:
            late.append(name)
    return late
