"""Presence sessions of some students of one campus over a span, corrections applied,
built from the stored door taps with the same rules as the weekly ledger."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from server.adapters.event_store import EventStore
from server.config import PresenceSettings
from server.domain.sessions import Session, SessionState, apply_corrections, build_sessions
from server.registry.presence_repository import PresenceRepository
from server.services.ledger import door_taps_by_student, index_holdings, session_rules


class SessionReader:
    def __init__(self, events: EventStore, settings: PresenceSettings) -> None:
        self.events = events
        self.rules = session_rules(settings)

    def sessions(
        self,
        repo: PresenceRepository,
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
        taps = self.events.taps(start, end, campus=campus_id) if start < end else []
        door = door_taps_by_student(
            taps, index_holdings(repo.holdings_for_campus(campus_id)), repo.reader_modes()
        )
        corrections = repo.corrections(wanted, start, last)
        result: dict[int, list[Session]] = {}
        for pk in wanted:
            built, _ = build_sessions(
                door.get(pk, []), rules=self.rules, schedule=schedule, now=now
            )
            fixes = corrections.get(pk)
            sessions = apply_corrections(built, fixes) if fixes else built
            result[pk] = [s for s in sessions if s.start < last and _reaches(s, first)]
        return result


def _reaches(session: Session, moment: datetime) -> bool:
    """Ends after ``moment``, or is still going on (someone already inside)."""
    return session.end > moment or session.state is SessionState.OPEN
