"""A tutor's manual corrections from the student page: add a session or fix one (with
a reason), record an excused absence, confirm a session the system closed at closing
time. Each one goes through :class:`CorrectionService` (audited, re-opens frozen weeks)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from sqlalchemy import orm

from server.adapters.event_store import EventStore
from server.config import PresenceSettings
from server.domain.accounts import Actor
from server.domain.contracts import ExcuseCategory
from server.domain.errors import DomainError
from server.domain.sessions import Correction, CorrectionKind, Session, SessionState
from server.registry.presence_repository import repository
from server.registry.presence_store import presence_unit_of_work
from server.services.accounts.tutor_scope import StudentRef
from server.services.presence.corrections import CorrectionService
from server.services.presence.tutor_sessions import SessionReader

CONFIRMED_REASON = "confirmed by tutor"


class TutorCorrections:
    def __init__(
        self,
        registry: Callable[[], orm.Session],
        events: EventStore,
        settings: PresenceSettings,
        *,
        retention_days: int,
    ) -> None:
        self.registry = registry
        self.settings = settings
        self.service = CorrectionService(
            presence_unit_of_work(registry, settings), settings, retention_days=retention_days
        )
        self.sessions = SessionReader(events, settings)

    def fix(
        self,
        ref: StudentRef,
        *,
        session_start: datetime | None,
        start: datetime,
        end: datetime,
        reason: str,
        actor: Actor,
    ) -> int:
        """A new session (``session_start`` None), or new times for an existing one."""
        if start > actor.at:
            raise DomainError("a session cannot start in the future")
        if session_start is None:
            correction = Correction(CorrectionKind.ADD, start=start, end=end)
        else:
            self._session(ref, session_start, actor.at)
            correction = Correction(
                CorrectionKind.AMEND, session_start=session_start, start=start, end=end
            )
        return self.service.correct(ref.student_id, correction, reason=reason, actor=actor)

    def excuse(
        self,
        ref: StudentRef,
        *,
        start: datetime,
        end: datetime,
        category: ExcuseCategory,
        note: str,
        actor: Actor,
    ) -> int:
        return self.service.excuse(ref.student_id, start, end, category, note=note, actor=actor)

    def confirm(self, ref: StudentRef, session_start: datetime, actor: Actor) -> int:
        """An unverified session is right as it is: a correction keeps its times."""
        found = self._session(ref, session_start, actor.at)
        if found.state is not SessionState.UNVERIFIED:
            raise DomainError("this session does not need a confirmation")
        correction = Correction(CorrectionKind.CONFIRM, session_start=session_start)
        return self.service.correct(
            ref.student_id, correction, reason=CONFIRMED_REASON, actor=actor
        )

    def _session(self, ref: StudentRef, start: datetime, now: datetime) -> Session:
        span = (start - timedelta(seconds=1), start + timedelta(seconds=1))
        with self.registry() as session:
            repo = repository(session, self.settings)
            sessions = self.sessions.sessions(repo, ref.campus_id, [ref.pk], span, now)
        for found in sessions.get(ref.pk, []):
            if found.start == start:
                return found
        raise DomainError("there is no such session")
