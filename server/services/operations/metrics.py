"""Use case: the server's metrics for ``GET /metrics`` (Prometheus text format).

Two sources, so the answer is the same whichever process gives it:

- each process's own counters (ingest, logins, job runs), from the ``process_reports``
  rows every process writes (``services.process_reports``), this process's from memory.
  They carry a ``process`` label: each series is monotonic (a restarted process is a new
  series) and ``sum(rate(...))`` over the label adds the processes up; a pre-summed total
  would go backwards whenever a process stops;
- what the registry and the event store hold, shared by all: alerts, deliveries, the job
  lease, the readers' unconfirmed taps (their stored status, protocol v2).

No personal data: campus, reader, channel and job ids, counts and times only.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Collection, Iterable
from datetime import datetime
from importlib import metadata
from typing import Any

from edge.protocol import Reason
from server.adapters.event_store import EventStore
from server.ports.operations import ProcessRows, RegistryWatch
from server.prometheus_text import Family
from server.services.occupancy.reader_health import ReaderHealthService
from server.services.operations.leadership import JOBS
from server.services.operations.process_reports import (
    ProcessReporter,
    Report,
    merged,
    recent_reports,
)

Clock = Callable[[], datetime]

# (counter key in IngestCounters.snapshot(), metric name, help)
INGEST = (
    ("received", "campus_ingest_messages_total", "MQTT messages received (taps and statuses)."),
    ("stored", "campus_taps_stored_total", "Taps newly stored in the event store."),
    ("duplicates", "campus_taps_duplicate_total", "Taps received again, already stored."),
    ("confirmed", "campus_taps_confirmed_total", "Taps confirmed to their reader (stored)."),
    ("statuses", "campus_reader_statuses_total", "Reader status messages stored."),
    (
        "store_failures",
        "campus_event_store_failures_total",
        "Batches the event store refused or could not take; each is retried (not acked).",
    ),
    (
        "retained_cleared",
        "campus_retained_taps_cleared_total",
        "Taps found retained on the broker and cleared.",
    ),
)
LOGINS = ("ok", "failed", "throttled")


def version() -> str:
    try:
        return metadata.version("campus-presence")
    except metadata.PackageNotFoundError:
        return "unknown"


class Metrics:
    def __init__(
        self,
        registry: RegistryWatch,
        reports: ProcessRows,
        *,
        clock: Clock,
        wall: Clock,
        store: EventStore | None = None,
        reporter: ProcessReporter | None = None,
        known_readers: Collection[tuple[str, str]] = (),
    ) -> None:
        self.registry = registry
        self.reports = reports
        self.clock = clock  # the clock the job lease and reader statuses are judged with
        self.wall = wall
        self.store = store
        self.reporter = reporter
        self.known_readers = known_readers

    def families(self) -> list[Family]:
        wall = self.wall()
        own = self.reporter.report(wall) if self.reporter is not None else None
        reports = merged(own, recent_reports(self.reports, wall))
        found = [
            *process_families(reports, wall),
            *ingest_families(reports),
            *login_families(reports),
            *job_families(reports),
            *self._registry_families(),
        ]
        if self.store is not None:
            found += reader_families(
                ReaderHealthService(self.store).current(self.clock(), known=self.known_readers)
            )
        return found

    def _registry_families(self) -> list[Family]:
        now = self.clock()
        figures = self.registry.figures(JOBS)
        stored = Family(
            "campus_alerts",
            "gauge",
            "Alerts in the registry by kind and status (raised over time: watch the increase).",
        )
        for (kind, status), count in sorted(figures.alerts.items()):
            stored.add(count, kind=kind, status=status)
        sent = Family(
            "campus_alert_deliveries",
            "gauge",
            "Alert messages by channel and state (sent, pending, retrying, given_up).",
        )
        for channel, states in sorted(figures.deliveries.items()):
            for state, count in sorted(states.items()):
                sent.add(count, channel=channel, state=state)
        failing_family = Family(
            "campus_alert_channels_failing",
            "gauge",
            "Campuses whose alert channel keeps failing, by channel kind.",
        )
        by_channel: dict[str, int] = {}
        for health in figures.failing:
            by_channel[health.channel] = by_channel.get(health.channel, 0) + 1
        for channel, count in sorted(by_channel.items()):
            failing_family.add(count, channel=channel)
        held = Family(
            "campus_job_lease_held",
            "gauge",
            "1 when some process holds a fresh lease to run the periodic jobs, else 0.",
        )
        held.add(int(figures.lease_expiry is not None and figures.lease_expiry > now))
        return [stored, sent, failing_family, held]


def process_families(reports: Iterable[Report], now: datetime) -> list[Family]:
    info = Family(
        "campus_process_info", "gauge", "One per server process reporting lately (value 1)."
    )
    up = Family(
        "campus_process_up",
        "gauge",
        "1 while the process writes its counters, 0 once it stopped or went silent.",
    )
    started = Family(
        "campus_process_start_time_seconds", "gauge", "When the process started (Unix time)."
    )
    broker = Family(
        "campus_broker_connected",
        "gauge",
        "1 when the process is connected to the broker with its subscriptions granted.",
    )
    malformed = Family(
        "campus_mqtt_malformed_packets_total",
        "counter",
        "MQTT packets from the broker that could not be decoded (the connection is dropped "
        "and made again).",
    )
    for report in reports:
        meta = report.counters.get("process", {})
        info.add(
            1,
            process=report.process,
            host=report.host,
            pid=str(report.pid),
            version=str(meta.get("version", "")),
            python=str(meta.get("python", "")),
        )
        up.add(int(report.live(now)), process=report.process)
        started.add(report.started_at.timestamp(), process=report.process)
        link = report.counters.get("broker")
        if isinstance(link, dict):
            ok = bool(link.get("connected")) and bool(link.get("subscribed"))
            broker.add(int(ok), process=report.process)
            malformed.add(int(link.get("malformed_packets", 0)), process=report.process)
    return [info, up, started, broker, malformed]


def ingest_families(reports: Iterable[Report]) -> list[Family]:
    reports = [report for report in reports if isinstance(report.counters.get("ingest"), dict)]
    found = []
    for key, name, text in INGEST:
        family = Family(name, "counter", text)
        for report in reports:
            family.add(_number(report.counters["ingest"].get(key)), process=report.process)
        found.append(family)
    rejected = Family(
        "campus_ingest_rejected_total",
        "counter",
        "Messages refused by the intake, by reason (kept as dead letters).",
    )
    for report in reports:
        reasons = {reason.value: 0 for reason in Reason}
        given = report.counters["ingest"].get("rejected", {})
        if isinstance(given, dict):
            reasons.update({str(k): v for k, v in given.items() if _number(v) is not None})
        for reason, count in sorted(reasons.items()):
            rejected.add(count, process=report.process, reason=reason)
    found.append(rejected)
    return found


def login_families(reports: Iterable[Report]) -> list[Family]:
    family = Family("campus_logins_total", "counter", "Login attempts by outcome.")
    for report in reports:
        logins = report.counters.get("logins")
        if not isinstance(logins, dict):
            continue
        for outcome in LOGINS:
            family.add(
                _number(logins.get(f"login_{outcome}", 0)), process=report.process, outcome=outcome
            )
    return [family]


def job_families(reports: Iterable[Report]) -> list[Family]:
    duration = Family(
        "campus_job_last_duration_seconds", "gauge", "How long the job's last run took."
    )
    success = Family(
        "campus_job_last_success_time_seconds",
        "gauge",
        "When the job's last successful run ended (Unix time).",
    )
    runs = Family("campus_job_runs_total", "counter", "Runs of the job in the process.")
    failures = Family("campus_job_failures_total", "counter", "Runs of the job that failed.")
    for report in reports:
        jobs = report.counters.get("jobs")
        if not isinstance(jobs, dict):
            continue
        for job, run in sorted(jobs.items()):
            if not isinstance(run, dict):
                continue
            labels = {"process": report.process, "job": job}
            runs.add(_number(run.get("runs")), **labels)
            failures.add(_number(run.get("failures")), **labels)
            duration.add(_number(run.get("last_duration_s")), **labels)
            success.add(_number(run.get("last_success")), **labels)
    return [duration, success, runs, failures]


def reader_families(readers: Iterable[Any]) -> list[Family]:
    queued = Family(
        "campus_reader_unconfirmed_taps",
        "gauge",
        "Taps a reader holds that the server has not confirmed (its last status).",
    )
    oldest = Family(
        "campus_reader_oldest_unconfirmed_tap_time_seconds",
        "gauge",
        "Time of the oldest tap a reader holds unconfirmed (Unix time; absent when none).",
    )
    health = Family(
        "campus_reader_health",
        "gauge",
        "1 for the reader's current health (online, degraded, offline, unknown).",
    )
    seen = Family(
        "campus_reader_last_seen_time_seconds",
        "gauge",
        "When the server last received the reader's status (Unix time).",
    )
    for reader in readers:
        labels = {"campus": reader.campus, "reader": reader.reader}
        queued.add(reader.queued, **labels)
        if reader.oldest is not None:
            oldest.add(reader.oldest.timestamp(), **labels)
        health.add(1, **labels, health=str(reader.health))
        if reader.last_seen is not None:
            seen.add(reader.last_seen.timestamp(), **labels)
    return [queued, oldest, health, seen]


def process_meta() -> dict[str, str]:
    return {"version": version(), "python": platform.python_version()}


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
