"""Use cases: a tutor corrects presence or records an excused absence.

Every change is kept (who, when, why) with an audit entry. A change touching a frozen
week re-opens it (its stored record is dropped, with an audit entry holding what it
said) so the next report recomputes it; a week whose raw taps were already purged cannot
be recomputed, so it cannot be corrected any more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from server.config import PresenceSettings
from server.domain.accounts import Actor
from server.domain.calendar import IsoWeek
from server.domain.contracts import ExcuseCategory
from server.domain.errors import DomainError
from server.domain.ledger import taps_purged
from server.domain.sessions import Correction
from server.ports.presence import (
    CORRECTIONS_ENTITY,
    EXCUSES_ENTITY,
    CorrectionNote,
    ExcuseRecord,
    PresenceStore,
    PresenceUnitOfWork,
    StudentKey,
)

MAX_MANUAL_SESSION = timedelta(hours=24)


class CorrectionService:
    def __init__(
        self,
        units: Callable[[], PresenceUnitOfWork],
        settings: PresenceSettings,
        *,
        retention_days: int,
    ) -> None:
        self.units = units
        self.settings = settings
        self.retention = timedelta(days=retention_days)
        self.tz = settings.zone

    def correct(self, student_id: str, correction: Correction, *, reason: str, actor: Actor) -> int:
        """Record a correction of ``student_id``'s presence; returns its id."""
        reason = reason.strip()
        if not reason:
            raise DomainError("a correction needs a reason")
        start, end = correction.start, correction.end
        if start and end and end - start > MAX_MANUAL_SESSION:
            raise DomainError("a corrected session cannot last more than 24 hours")
        moments = [m for m in (correction.session_start, start, end) if m]
        values = {"session_start": correction.session_start, "start": start, "end": end}
        note = CorrectionNote(
            kind=correction.kind.value,
            moment=correction.moment,
            reason=reason,
            author=actor.name,
            created_at=actor.at,
            **values,
        )

        def add(store: PresenceStore, student_pk: int) -> int:
            return store.add_correction(student_pk, note)

        after = {"kind": correction.kind.value, "reason": reason, **values}
        return self._record(
            student_id, add, CORRECTIONS_ENTITY, moments, "presence_corrected", after, actor
        )

    def excuse(
        self,
        student_id: str,
        start: datetime,
        end: datetime,
        category: ExcuseCategory,
        *,
        note: str = "",
        actor: Actor,
    ) -> int:
        """Record an excused absence (illness, exam, competition, job interview…)."""
        if end <= start:
            raise DomainError("an absence cannot end before it starts")
        excuse = ExcuseRecord(start, end, category.value, note, actor.name, actor.at)

        def add(store: PresenceStore, student_pk: int) -> int:
            return store.add_excuse(student_pk, excuse)

        after = {"start": start, "end": end, "category": category.value}
        moments = _week_moments(start, end)
        return self._record(
            student_id, add, EXCUSES_ENTITY, moments, "absence_excused", after, actor
        )

    def _record(
        self,
        student_id: str,
        add: Callable[[PresenceStore, int], int],
        entity: str,
        moments: list[datetime],
        action: str,
        after: dict[str, Any],
        actor: Actor,
    ) -> int:
        """Save a record for the student (``add``) with its audit entry, re-opening
        frozen weeks."""
        with self.units() as uow:
            student = self._student(uow, student_id)
            weeks = self._weeks(moments, actor)
            record_id = add(uow.presence, student.pk)
            uow.audit.record(
                at=actor.at,
                actor=actor.name,
                action=action,
                entity=entity,
                entity_id=record_id,
                after={"student_id": student_id, **after},
            )
            uow.students.reopen_weeks(student, weeks, actor, cause=action)
            uow.commit()
            return record_id

    @staticmethod
    def _student(uow: PresenceUnitOfWork, student_id: str) -> StudentKey:
        student = uow.students.key(student_id)
        if student is None:
            raise DomainError("unknown student {student_id}", student_id=student_id)
        return student

    def _weeks(self, moments: Iterable[datetime], actor: Actor) -> set[IsoWeek]:
        weeks = {IsoWeek.of(moment.astimezone(self.tz).date()) for moment in moments}
        for week in weeks:
            if taps_purged(week, actor.at, self.tz, self.retention):
                raise DomainError(
                    "the taps of week {week} are already purged: it can no longer be corrected",
                    week=str(week),
                )
        return weeks


def _week_moments(start: datetime, end: datetime) -> list[datetime]:
    """A moment in each week from ``start`` to ``end``."""
    moments, cursor = [], start
    while cursor < end:
        moments.append(cursor)
        cursor += timedelta(days=7)
    return [*moments, end - timedelta(microseconds=1)]
