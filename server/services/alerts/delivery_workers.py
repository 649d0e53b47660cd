"""The server's delivery workers: one *lane* per campus and channel (e-mail, webhook,
MQTT), each a few threads that claim the lane's due deliveries in the registry and send
them with the channel's own timeout. A hung SMTP server only holds the e-mail lane: the
webhook and MQTT lanes, and the web list (recorded at once), go on.

Lanes are made on first use and woken by :class:`NotificationService` when it records a
delivery, and by a scan of the registry every ``scan_every`` (retries whose time came,
deliveries left by a restart or by another process). Stopping is idempotent; a thread
stuck in a send is a daemon and its claim runs out after ``SEND_LEASE``."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from server.services.alerts.notifications import NotificationService
from server.services.operations.periodic import PeriodicJob

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class _Lane:
    def __init__(
        self,
        key: tuple[str, str],
        notifications: NotificationService,
        clock: Clock,
        *,
        threads: int,
        idle_wait_s: float,
    ) -> None:
        self.key = key
        self._notifications = notifications
        self._clock = clock
        self._idle_wait_s = idle_wait_s
        self._cond = threading.Condition()
        self._generation = 0
        self._stopping = False
        self.busy = 0
        campus, channel = key
        self.threads = [
            threading.Thread(
                target=self._run, name=f"deliveries-{campus}-{channel}-{index}", daemon=True
            )
            for index in range(threads)
        ]
        for thread in self.threads:
            thread.start()

    def signal(self) -> None:
        with self._cond:
            self._generation += 1
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify_all()

    @property
    def idle(self) -> bool:
        with self._cond:
            return self.busy == 0

    def _run(self) -> None:
        campus, channel = self.key
        while True:
            with self._cond:
                if self._stopping:
                    return
                seen = self._generation
                self.busy += 1
            claimed = None
            try:
                claimed = self._notifications.claim_next(self._clock(), campus, channel)
                if claimed is not None:
                    self._notifications.send_claimed(claimed, self._clock)
            except Exception:  # the registry unreachable: wait, try again
                log.exception("delivery lane %s/%s failed; trying again", campus, channel)
                claimed = None
            finally:
                with self._cond:
                    self.busy -= 1
            if claimed is not None:
                continue
            with self._cond:
                if self._stopping:
                    return
                if self._generation == seen:
                    self._cond.wait(self._idle_wait_s)


class DeliveryWorkers(PeriodicJob):
    """The ``alert-deliveries`` job of ``serve``: the scan runs at start and every
    ``scan_every``; each campus's channel gets ``threads_per_lane`` sending threads."""

    def __init__(
        self,
        notifications: NotificationService,
        *,
        clock: Clock,
        threads_per_lane: int = 2,
        scan_every: timedelta = timedelta(seconds=10),
        join_s: float = 2.0,
    ) -> None:
        super().__init__("alert-deliveries", self._scan, clock=clock, every=scan_every)
        self._notifications = notifications
        self._threads = threads_per_lane
        self._idle_wait_s = scan_every.total_seconds()
        self._join_s = join_s
        self._lanes: dict[tuple[str, str], _Lane] = {}
        self._lock = threading.Lock()
        self._running = False
        self._stopped = False
        notifications.wake = self.wake

    def __repr__(self) -> str:
        state = "running" if self._running else "stopped" if self._stopped else "not started"
        return f"DeliveryWorkers({state}, lanes={sorted(self._lanes)})"

    def start(self) -> None:
        with self._lock:
            if self._running or self._stopped:
                return
            self._running = True
        super().start()

    def _scan(self, now: datetime) -> int:
        lanes = self._notifications.due_lanes(now)
        for campus, channel in lanes:
            self.wake(campus, channel)
        return len(lanes)

    def wake(self, campus: str, channel: str) -> None:
        """A delivery of this lane is due: make the lane if new, wake its threads."""
        key = (campus, channel)
        with self._lock:
            if not self._running:
                return  # not started (a web test, a command): the deliveries wait
            lane = self._lanes.get(key)
            if lane is None:
                lane = self._lanes[key] = _Lane(
                    key,
                    self._notifications,
                    self._clock,
                    threads=self._threads,
                    idle_wait_s=self._idle_wait_s,
                )
        lane.signal()

    def wait_idle(self, timeout: float) -> bool:
        """True once no lane is sending and nothing is due (tests, benchmarks, the end
        of a one-shot command); False after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                lanes = list(self._lanes.values())
            if all(lane.idle for lane in lanes):
                due = self._notifications.due_lanes(self._clock())
                if not due or not self._running:
                    return True
                for campus, channel in due:
                    self.wake(campus, channel)
            time.sleep(0.02)
        return False

    def stop(self) -> None:
        """Stop the scan and the lanes (idempotent). Threads stuck in a send are left to
        end on their own timeout (daemons); what they hold is claimed for a while only."""
        with self._lock:
            if self._stopped:
                return
            self._stopped, self._running = True, False
            lanes = list(self._lanes.values())
        super().stop()
        for lane in lanes:
            lane.stop()
        deadline = time.monotonic() + self._join_s
        stuck = 0
        for lane in lanes:
            for thread in lane.threads:
                thread.join(max(deadline - time.monotonic(), 0))
                stuck += thread.is_alive()
        if stuck:
            log.warning("%d delivery thread(s) still sending at stop; left to their timeout", stuck)
