"""A tutor's manual corrections from the student page: add a session or fix one (with
a reason), record an excused absence, confirm a session the system closed at closing
time. Each one goes through :class:`CorrectionService` (audited, re-opens frozen weeks)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from server.domain.accounts import Actor
from server.domain.contracts import ExcuseCategory
from server.domain.errors import DomainError
from server.domain.sessions import Correction, CorrectionKind, Session, SessionState
from server.ports.screens import ScreenReads, SessionSource, StudentRef

CONFIRMED_REASON = "confirmed by tutor"


class Corrections(Protocol):
    """The presence corrections (``server.services.presence.corrections.CorrectionService``:
    audited, re-opens frozen weeks)."""

    def correct(
        self, student_id: str, correction: Correction, *, reason: str, actor: Actor
    ) -> int: ...

    def excuse(
        self,
        student_id: str,
        start: datetime,
        end: datetime,
        category: ExcuseCategory,
        *,
        note: str,
        actor: Actor,
    ) -> int: ...


class TutorCorrections:
    def __init__(
        self,
        reads: Callable[[], ScreenReads],
        sessions: SessionSource,
        corrections: Corrections,
    ) -> None:
        self.reads = reads
        self.service = corrections
        self.sessions = sessions

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
        with self.reads() as view:
            sessions = self.sessions.sessions(view.presence, ref.campus_id, [ref.pk], span, now)
        for found in sessions.get(ref.pk, []):
            if found.start == start:
                return found
        raise DomainError("there is no such session")
