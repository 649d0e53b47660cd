"""Use case: tell the coordinator when a reader is down during opening hours.

A periodic job (``PeriodicJob("reader-watch", watch.check, every=1 min)``) judges every
reader from its last status (``domain.reader_health``). A reader is *down* when it is
offline (its last will, or silent) for more than ``MISSED_HEARTBEATS`` of its own
heartbeat periods while its campus is open. One alert per outage: raised once, resolved
once the reader is back online; never repeated every minute. The outages alerted and not
resolved live in the registry (``reader_outages``), not in this process: another worker
taking the job over, or any web worker's readers page, sees the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from server.adapters.event_store import EventStore
from server.domain.calendar import Schedule
from server.domain.reader_health import Health, ReaderHealth, health_at, silence_limit
from server.ports.occupancy import Outage, ReaderOutages

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReaderDown:
    """Raised (``resolved`` False) once when a reader goes down, resolved once after."""

    campus: str
    reader: str
    at: datetime
    last_seen: datetime | None
    reader_state: str  # offline | silent (no status for two heartbeats) | online (resolved)
    resolved: bool = False


class ReaderNotifier(Protocol):
    """Where reader alerts go (the coordinator); adapted by the composition root."""

    def reader_down(self, event: ReaderDown) -> None: ...


class LoggingReaderNotifier:
    def reader_down(self, event: ReaderDown) -> None:
        if event.resolved:
            log.warning("reader %s/%s is back online", event.campus, event.reader)
        else:
            log.warning(
                "reader %s/%s is down (%s) since %s",
                event.campus,
                event.reader,
                event.reader_state,
                event.last_seen,
            )


class ReaderWatch:
    def __init__(
        self,
        outages: ReaderOutages,
        events: EventStore,
        *,
        notifier: ReaderNotifier | None = None,
    ) -> None:
        self.outages = outages
        self.events = events
        self.notifier = notifier or LoggingReaderNotifier()

    def check(self, now: datetime) -> list[ReaderDown]:
        """Judge every reader now; returns the alerts raised or resolved by this turn."""
        latest = {(s.campus, s.reader): s for s in self.events.latest_statuses()}
        schedules = self._schedules({campus for campus, _ in latest}, now)
        known = self.current(now)
        sent = []
        for key, status in sorted(latest.items()):
            health = health_at(*key, status, now)
            down = (
                health.health is Health.OFFLINE
                and now - status.received_at > silence_limit(status)
                and _open(schedules.get(key[0]), now)
            )
            state = "offline" if status.state == Health.OFFLINE else "silent"
            event = self._transition(key, health, state if down else None, now, known)
            if event is not None:
                sent.append(event)
                self.notifier.reader_down(event)
        return sent

    def current(self, now: datetime) -> dict[tuple[str, str], ReaderDown]:
        """The outages alerted and not resolved yet (from the registry)."""
        return {
            (row.campus, row.reader): ReaderDown(
                row.campus, row.reader, row.noticed_at, row.last_seen, row.reader_state
            )
            for row in self.outages.all()
        }

    def _transition(
        self,
        key: tuple[str, str],
        health: ReaderHealth,
        down: str | None,
        now: datetime,
        known: dict[tuple[str, str], ReaderDown],
    ) -> ReaderDown | None:
        """``down``: the state of an outage now (offline | silent), or None. A change is
        sent only by the process whose registry write made it (one alert per outage)."""
        if down is not None and key not in known:
            event = ReaderDown(*key, now, health.last_seen, down)
            if not self.outages.notice(Outage(*key, now, health.last_seen, down)):
                return None  # noticed by another process meanwhile
            return event
        if key in known and health.health is Health.ONLINE:
            if not self.outages.resolve(*key):
                return None
            return ReaderDown(*key, now, health.last_seen, "online", resolved=True)
        return None

    def _schedules(self, campuses: set[str], now: datetime) -> dict[str, Schedule]:
        schedules = {}
        for campus, calendar in self.outages.calendars(sorted(campuses)).items():
            today = now.astimezone(calendar.tz).date()
            schedules[campus] = calendar.schedule(today, today + timedelta(days=1))
        return schedules


def _open(schedule: Schedule | None, now: datetime) -> bool:
    return schedule is None or schedule.closing_after(now) is not None
