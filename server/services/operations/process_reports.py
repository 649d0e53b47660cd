"""Use case: each server process's own counters, shared through the registry.

Counters kept in a process's memory (messages ingested, logins, job runs) are that
process's share only. Each process writes them, as JSON without personal data, to its
row of ``process_reports`` every few seconds and when it stops; ``/metrics`` answered by
any process reads every row written lately, so it tells the truth whichever process
answers. A restarted process writes a new row (its counters start again at zero:
Prometheus's ``rate()`` and ``increase()`` handle a reset); rows not written for a day
are purged by whoever writes.

Times here are the wall clock (real UTC), never a simulated clock: a demo running its
clock faster must not make a live process look dead.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from server.ports.operations import ProcessRow, ProcessRows

log = logging.getLogger(__name__)

Part = Callable[[], Any]

EVERY = timedelta(seconds=5)  # how often a process writes its row
LIVE = timedelta(seconds=30)  # a row written more recently: the process is running
SHOWN = timedelta(minutes=15)  # a stopped or silent process's last counters stay shown
PURGED = timedelta(days=1)  # rows older than this are deleted


def wall_clock() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Report:
    """One process's row: who it is and what it counted."""

    process: str
    host: str
    pid: int
    started_at: datetime
    updated_at: datetime
    stopped: bool
    counters: dict[str, Any]

    def live(self, now: datetime) -> bool:
        return not self.stopped and now - self.updated_at <= LIVE


class ProcessReporter:
    """Writes this process's counters (``parts``: name -> snapshot function) to the
    registry every :data:`EVERY` seconds in a daemon thread, and once more at stop."""

    def __init__(
        self,
        rows: ProcessRows,
        *,
        process: str,
        parts: Mapping[str, Part],
        wall: Callable[[], datetime] = wall_clock,
        every: timedelta = EVERY,
    ) -> None:
        self.rows = rows
        self.process = process
        self.parts = dict(parts)
        self.wall = wall
        self.every = every
        self.started_at = wall()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def snapshot(self) -> dict[str, Any]:
        """This process's counters now; a part that fails is left out (and logged)."""
        found: dict[str, Any] = {}
        for name, part in self.parts.items():
            try:
                found[name] = part()
            except Exception:
                log.exception("process counters: part %s failed", name)
        return found

    def report(self, now: datetime | None = None) -> Report:
        """This process as a row would show it, read from memory (fresher than its row)."""
        now = now or self.wall()
        return Report(
            self.process,
            socket.gethostname()[:100],
            os.getpid(),
            self.started_at,
            now,
            self._stop.is_set(),
            self.snapshot(),
        )

    def write(self, *, stopped: bool = False) -> None:
        """Upsert this process's row; purge rows not written for :data:`PURGED`."""
        now = self.wall()
        report = self.report(now)
        text = json.dumps(report.counters, sort_keys=True, separators=(",", ":"))
        row = ProcessRow(self.process, report.host, report.pid, self.started_at, now, stopped, text)
        self.rows.write(row, purge_before=now - PURGED)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="process-report", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                self.write()
            except Exception:
                log.exception("could not write this process's counters to the registry")
            if self._stop.wait(self.every.total_seconds()):
                return

    def stop(self) -> None:
        """Stop the thread and write the last counters, marked stopped."""
        if self._thread is None:
            return  # never started (a composition built for tests or a command)
        self._stop.set()
        self._thread.join(10)
        try:
            self.write(stopped=True)
        except Exception:
            log.exception("could not write this process's last counters to the registry")


def recent_reports(rows: ProcessRows, now: datetime) -> list[Report]:
    """Every process's row written within :data:`SHOWN`, oldest start first."""
    return [_report(row) for row in rows.since(now - SHOWN)]


def report_of(rows: ProcessRows, process: str) -> Report | None:
    row = rows.get(process)
    return _report(row) if row is not None else None


def _report(row: ProcessRow) -> Report:
    try:
        counters = json.loads(row.counters)
    except ValueError:
        log.warning("process report of %s is not valid JSON: ignored", row.process)
        counters = {}
    return Report(
        row.process,
        row.host,
        row.pid,
        row.started_at,
        row.updated_at,
        row.stopped,
        counters if isinstance(counters, dict) else {},
    )


def merged(own: Report | None, others: list[Report]) -> list[Report]:
    """The rows read, with this process's own row replaced by its fresher memory."""
    if own is None:
        return others
    return [own] + [report for report in others if report.process != own.process]
