"""The ``absence-watcher`` job of ``serve``: it wakes at the instants that matter.

Each slot occurrence is checked at its check instant (``domain.slots``: the expected
start plus the grace time), known in advance from the contracts and the calendar. The job
keeps the coming instants (:meth:`AbsenceWatcher.upcoming`, from now to ``horizon``
ahead), re-read every ``replan_every`` and at once after :meth:`AbsenceSchedule.changed`
(contracts, calendar or excuses changed); it sleeps until the next instant and checks
then the slots due, on the campuses that have some, in one transaction
(:meth:`AbsenceWatcher.check`). Which slots are due (contracts, calendar, excuses) is
read a little ahead (:meth:`AbsenceWatcher.prepare`, twice as long before the instant as
that reading took), the excuses once more at the instant (a campus whose excuses changed
is read again in full); the taps and the readers' states are read at the instant, so a
student who came in before it raises nothing.

A safety sweep (:meth:`AbsenceWatcher.run`: every slot since the watcher's mark, up to
``catch_up`` back) runs at start and every ``sweep_every``, never just before a known
instant: whatever an instant missed (the process was down, the clock jumped, a change
came after the plan) is checked then, once (the evaluations' unique constraint).

As every periodic job, it runs only in the process holding the job lease.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

from server.services.alerts.absence_watcher import AbsenceWatcher, Prepared
from server.services.operations.periodic import PeriodicJob

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
PREPARED_SPAN = timedelta(seconds=30)  # instants this close after the next are read with it


class AbsenceSchedule(PeriodicJob):
    def __init__(
        self,
        watcher: AbsenceWatcher,
        *,
        clock: Clock,
        sweep_every: timedelta = timedelta(minutes=2),
        replan_every: timedelta = timedelta(minutes=5),
        horizon: timedelta = timedelta(hours=36),
        max_sleep: timedelta = timedelta(seconds=10),
    ) -> None:
        super().__init__("absence-watcher", self._step, clock=clock, every=sweep_every)
        self.watcher = watcher
        self.sweep_every = sweep_every
        self.replan_every = replan_every
        self.horizon = horizon
        self.max_sleep = max_sleep  # lease renewal, a clock jump, a change of leader
        self._changed = True
        self._plan: dict[datetime, set[str]] = {}
        self._checked: datetime | None = None  # checked up to here (None: sweep first)
        self._sweep_at: datetime | None = None
        self._replan_at: datetime | None = None
        self._slowest = timedelta(seconds=1)  # the longest sweep or plan so far
        self._prepared: Prepared | None = None  # the next instant's due slots, read ahead
        self._preparing: timedelta | None = None  # how long that took last time
        self.instants_checked = 0
        self._wait: float | None = None  # what the last turn said (None: it did not end)

    def changed(self) -> None:
        """Contracts, the calendar or excuses changed: re-read the coming instants now."""
        self._changed = True
        self._prepared = None
        self.wake()

    @property
    def planned(self) -> list[datetime]:
        """The coming check instants known now."""
        return sorted(self._plan)

    def step(self) -> float:
        """One turn now, in the caller's thread, as the job's thread runs them; returns
        how long to sleep (seconds) before the next turn."""
        self.run_once()
        return self.next_wait().total_seconds()

    def next_wait(self) -> timedelta:
        """Until the next instant, the next sweep or plan, at most ``max_sleep``; after a
        turn that did not run (another process holds the lease) or failed, ``max_sleep``
        and a sweep first at the next turn: nothing is lost."""
        wait, self._wait = self._wait, None
        if wait is None:
            self._checked, self._prepared = None, None
            return self.max_sleep
        return timedelta(seconds=wait)

    def _step(self, now: datetime) -> None:
        """The job's action, in the process holding the lease: the sweep if due, the plan
        if stale, the instants come."""
        self._wait = None
        near = self._near(now)
        if near is not None:  # an instant is coming: the chores wait until it is checked
            for chore in ("_sweep_at", "_replan_at"):
                moment = getattr(self, chore)
                if moment is not None and moment < near + self._slowest:
                    setattr(self, chore, near + self._slowest)
        if self._checked is None or (self._sweep_at is not None and now >= self._sweep_at):
            began = time.monotonic()
            self.watcher.run(now)
            self._slowest = max(self._slowest, timedelta(seconds=time.monotonic() - began))
            self._checked, self._sweep_at = now, now + self.sweep_every
            self._changed = True  # re-plan from here
        if self._changed or self._replan_at is None or now >= self._replan_at:
            self._changed = False
            began = time.monotonic()
            self._plan = self.watcher.upcoming(self._checked, now + self.horizon)
            self._slowest = max(self._slowest, timedelta(seconds=time.monotonic() - began))
            self._replan_at = now + self.replan_every
        due = [instant for instant in self._plan if instant <= now]
        if due:
            campuses = set().union(*(self._plan.pop(instant) for instant in due))
            prepared, self._prepared = self._prepared, None
            self.watcher.check(
                now, respect_mark=True, since=self._checked, campuses=campuses, prepared=prepared
            )
            self._checked = now
            self.instants_checked += len(due)
        else:
            self._prepare(now)
        self._wait = self._sleep(self._clock())

    def _prepare(self, now: datetime) -> None:
        """Shortly before an instant, read its due slots ahead (``prepare``)."""
        coming = min(self._plan, default=None)
        if coming is None or self._checked is None or now < coming - self._lead():
            return
        if self._prepared is not None and self._prepared.until >= coming:
            return
        until = coming + PREPARED_SPAN
        campuses = set().union(*(c for instant, c in self._plan.items() if instant <= until))
        began = time.monotonic()
        self._prepared = self.watcher.prepare(self._checked, until, campuses)
        self._preparing = timedelta(seconds=time.monotonic() - began)

    def _lead(self) -> timedelta:
        """How long before an instant its slots are read ahead."""
        return 2 * (self._preparing or self._slowest) + timedelta(milliseconds=500)

    def _near(self, now: datetime) -> datetime | None:
        """The next planned instant if it comes within twice the longest sweep or plan
        (a chore begun now could still be running then), else None."""
        coming = min(self._plan, default=None)
        if self._checked is None or coming is None or coming <= now:
            return None
        return coming if coming - now < 2 * self._slowest else None

    def _sleep(self, now: datetime) -> float:
        """Until the next instant, the next sweep or plan, at most ``max_sleep``."""
        coming = min(self._plan, default=None)
        moments = [self._sweep_at, self._replan_at, coming]
        if coming is not None and (self._prepared is None or self._prepared.until < coming):
            moments.append(coming - self._lead())
        wake = min([m for m in moments if m is not None] + [now + self.max_sleep])
        return max((wake - now).total_seconds(), 0.0)
