"""Use case: tell the coordinator when a reader is down during opening hours.

A periodic job (``PeriodicJob("reader-watch", watch.check, every=1 min)``) judges every
reader from its last status (``domain.reader_health``). A reader is *down* when it is
offline (its last will, or silent) for more than ``MISSED_HEARTBEATS`` of its own
heartbeat periods while its campus is open. One alert per outage: raised once, resolved
once the reader is back online; never repeated every minute.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import orm

from server.adapters.event_store import EventStore
from server.config import PresenceSettings
from server.domain.calendar import Schedule
from server.domain.reader_health import Health, ReaderHealth, health_at, silence_limit
from server.services.ledger import repository

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
        registry: Callable[[], orm.Session],
        events: EventStore,
        settings: PresenceSettings,
        *,
        notifier: ReaderNotifier | None = None,
    ) -> None:
        self.registry = registry
        self.events = events
        self.settings = settings
        self.notifier = notifier or LoggingReaderNotifier()
        self._down: dict[tuple[str, str], ReaderDown] = {}

    def check(self, now: datetime) -> list[ReaderDown]:
        """Judge every reader now; returns the alerts raised or resolved by this turn."""
        latest = {(s.campus, s.reader): s for s in self.events.latest_statuses()}
        schedules = self._schedules({campus for campus, _ in latest}, now)
        sent = []
        for key, status in sorted(latest.items()):
            health = health_at(*key, status, now)
            down = (
                health.health is Health.OFFLINE
                and now - status.received_at > silence_limit(status)
                and _open(schedules.get(key[0]), now)
            )
            state = "offline" if status.state == Health.OFFLINE else "silent"
            event = self._transition(key, health, state if down else None, now)
            if event is not None:
                sent.append(event)
                self.notifier.reader_down(event)
        return sent

    def current(self, now: datetime) -> dict[tuple[str, str], ReaderDown]:
        """The outages alerted and not resolved yet."""
        return dict(self._down)

    def _transition(
        self, key: tuple[str, str], health: ReaderHealth, down: str | None, now: datetime
    ) -> ReaderDown | None:
        """``down``: the state of an outage now (offline | silent), or None."""
        if down is not None and key not in self._down:
            event = ReaderDown(*key, now, health.last_seen, down)
            self._down[key] = event
            return event
        if key in self._down and health.health is Health.ONLINE:
            del self._down[key]
            return ReaderDown(*key, now, health.last_seen, "online", resolved=True)
        return None

    def _schedules(self, campuses: set[str], now: datetime) -> dict[str, Schedule]:
        schedules = {}
        with self.registry() as session:
            repo = repository(session, self.settings)
            for campus in campuses:
                calendar = repo.calendar(campus)
                today = now.astimezone(calendar.tz).date()
                schedules[campus] = calendar.schedule(today, today + timedelta(days=1))
        return schedules


def _open(schedule: Schedule | None, now: datetime) -> bool:
    return schedule is None or schedule.closing_after(now) is not None
