"""Jobs that run every so often inside ``campus-presence serve``.

- retention: events older than the configured period are deleted (InfluxDB does it
  itself through its retention policy or bucket retention; the SQLite store needs this);
- freezing: weeks past their correction window become stored weekly records.

With several server processes, a job given a ``lease`` (``services.leadership``) runs
only in the process holding it: one freeze, one purge, one absence watch at a time.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta

from server.adapters.event_store import EventStore
from server.ports.operations import RegistryRetention

log = logging.getLogger(__name__)


def purge_expired(
    store: EventStore,
    now: datetime,
    retention: timedelta,
    registry: RegistryRetention | None = None,
) -> int:
    """Deletes the events older than ``retention`` and, given the ``registry``, the
    unknown-badge records last seen before then (a badge hash kept no longer than the
    taps it came from). Returns the number of rows deleted."""
    deleted = store.purge(now - retention)
    if deleted:
        log.info("retention: deleted %d events older than %d days", deleted, retention.days)
    if registry is not None:
        badges = registry.purge_unknown_badges(now - retention)
        if badges:
            log.info("retention: deleted %d unknown-badge records", badges)
            registry.checkpoint()  # the deleted hashes leave a SQLite write-ahead log too
        deleted += badges
    return deleted


@dataclass(frozen=True, slots=True)
class JobRun:
    """What a job did lately in this process (``/metrics``, ``/readyz``): wall-clock
    Unix times (not the injected clock, which a demo runs faster), durations in seconds.
    A turn skipped because another process holds the lease is not a run, but it is a
    turn: a process that takes the lease over is not "late" for jobs it skipped."""

    every_s: float
    last_turn: float | None = None  # when the job's thread last turned, run or skipped
    runs: int = 0
    failures: int = 0
    last_end: float | None = None  # when the last run ended, failed or not
    last_duration_s: float | None = None
    last_success: float | None = None  # when the last successful run ended

    def as_dict(self) -> dict[str, float | int | None]:
        return asdict(self)


class PeriodicJob:
    """Runs ``action(now)`` at start and then every ``every``, in a daemon thread; a
    failure is logged and retried at the next turn, never fatal. A job that knows better
    when its next turn is due says so in :meth:`next_wait`; :meth:`wake` ends the
    current wait early."""

    def __init__(
        self,
        name: str,
        action: Callable[[datetime], object],
        *,
        clock: Callable[[], datetime],
        every: timedelta,
        lease: Callable[[datetime], bool] | None = None,
    ) -> None:
        self.name = name
        self.lease = lease  # "does this process run the jobs now?"; None: always
        self._action = action
        self._clock = clock
        self._every = every
        self._stop = threading.Event()
        self._wake = threading.Event()  # set by ``wake`` and ``stop``: the wait ends
        self._thread: threading.Thread | None = None
        self._run_lock = threading.Lock()
        self._last = JobRun(every.total_seconds())

    @property
    def every(self) -> timedelta:
        return self._every

    @property
    def last_run(self) -> JobRun:
        with self._run_lock:
            return self._last

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                self.run_once()
            except Exception:
                log.exception("periodic job %s failed; next try in %s", self.name, self.next_wait())
            wait = self.next_wait().total_seconds()
            if wait > 0:
                self._wake.wait(wait)
            self._wake.clear()
            if self._stop.is_set():
                return

    def next_wait(self) -> timedelta:
        """How long the job's thread sleeps before its next turn (``every``)."""
        return self._every

    def wake(self) -> None:
        """End the current wait: the next turn comes now."""
        self._wake.set()

    def _turn(self, now: datetime) -> object:
        if self.lease is not None and not self.lease(now):
            self._skipped()
            return None  # another process runs it
        started = time.monotonic()
        ok = False
        try:
            result = self._action(now)
            ok = True
            return result
        finally:
            self._record(time.monotonic() - started, ok)

    def _skipped(self) -> None:
        with self._run_lock:
            self._last = replace(self._last, last_turn=time.time())

    def _record(self, duration: float, ok: bool) -> None:
        ended = time.time()
        with self._run_lock:
            last = self._last
            self._last = JobRun(
                last.every_s,
                last_turn=ended,
                runs=last.runs + 1,
                failures=last.failures + (not ok),
                last_end=ended,
                last_duration_s=duration,
                last_success=ended if ok else last.last_success,
            )

    def run_once(self) -> object:
        """One turn now, in the caller's thread (the job's own loop, or a test), if this
        process holds the job's lease; failures propagate."""
        return self._turn(self._clock())

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(10)
