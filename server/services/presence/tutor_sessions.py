"""Presence sessions of some students of one campus over a span, corrections applied,
built from the stored door taps with the same rules as the weekly ledger."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from server.adapters.event_store import EventStore
from server.config import PresenceSettings
from server.domain.sessions import Session, SessionState
from server.ports.presence import PresenceStore
from server.services.presence.ledger import corrected_sessions, session_rules


class SessionReader:
    def __init__(self, events: EventStore, settings: PresenceSettings) -> None:
        self.events = events
        self.rules = session_rules(settings)

    def sessions(
        self,
        repo: PresenceStore,
        campus_id: str,
        student_pks: Collection[int],
        span: tuple[datetime, datetime],
        now: datetime,
    ) -> dict[int, list[Session]]:
        """Each student's sessions overlapping ``span`` (and the ones still open), as
        known at ``now``."""
        wanted = list(student_pks)
        if not wanted:
            return {}
        first, last = span
        start = first - self.rules.lookback
        # Taps after the span still end the sessions begun in it.
        end = min(last + self.rules.lookback, now + timedelta(microseconds=1))
        calendar = repo.calendar(campus_id)
        tz = calendar.tz
        schedule = calendar.schedule(
            start.astimezone(tz).date(), end.astimezone(tz).date() + timedelta(days=1)
        )
        found = corrected_sessions(
            self.events, repo, self.rules, campus_id, wanted, (start, end), schedule, now
        )
        return {
            pk: [s for s in sessions if s.start < last and _reaches(s, first)]
            for pk, sessions in found.items()
        }


def _reaches(session: Session, moment: datetime) -> bool:
    """Ends after ``moment``, or is still going on (someone already inside)."""
    return session.end > moment or session.state is SessionState.OPEN
