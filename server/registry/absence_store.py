"""The registry's unit of work of the absence watcher (``server.ports.alerts.
AbsenceUnitOfWork``): the alert ports, the presence store and the checks (evaluations
and marks) on ONE SQLAlchemy session, so that one check instant is one transaction."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.config import PresenceSettings
from server.domain.absences import Verdict
from server.ports.alerts import DuplicateEvaluation, EvaluationRecord
from server.registry.alert_models import AbsenceEvaluation, WatcherMark
from server.registry.alert_repository import SqlAlertsUnitOfWork
from server.registry.presence_repository import PresenceRepository


class SqlAbsenceChecks:
    """``server.ports.alerts.AbsenceChecks`` on one registry session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def verdicts(
        self, campus: str, since: datetime, until: datetime
    ) -> dict[tuple[int, datetime], Verdict]:
        rows = self._session.execute(
            select(
                AbsenceEvaluation.student_pk,
                AbsenceEvaluation.slot_start,
                AbsenceEvaluation.verdict,
            ).where(
                AbsenceEvaluation.campus_id == campus,
                AbsenceEvaluation.check_at > since,
                AbsenceEvaluation.check_at <= until,
            )
        )
        return {(pk, start): Verdict(verdict) for pk, start, verdict in rows}

    def add(self, evaluations: Sequence[EvaluationRecord]) -> None:
        if not evaluations:
            return
        rows = [
            {
                "student_pk": item.student_pk,
                "campus_id": item.campus_id,
                "slot_start": item.slot_start,
                "slot_end": item.slot_end,
                "check_at": item.check_at,
                "verdict": item.verdict.value,
                "evaluated_at": item.evaluated_at,
            }
            for item in evaluations
        ]
        try:
            self._session.execute(AbsenceEvaluation.__table__.insert(), rows)  # Core: one INSERT
        except IntegrityError as error:
            raise DuplicateEvaluation() from error

    def recheck(self, evaluation: EvaluationRecord) -> None:
        row = self._session.scalar(
            select(AbsenceEvaluation).where(
                AbsenceEvaluation.student_pk == evaluation.student_pk,
                AbsenceEvaluation.slot_start == evaluation.slot_start,
            )
        )
        if row is None:  # gone meanwhile (an erasure): nothing to update
            return
        row.slot_end, row.check_at = evaluation.slot_end, evaluation.check_at
        row.verdict, row.evaluated_at = evaluation.verdict.value, evaluation.evaluated_at

    def marks(self, campuses: Collection[str]) -> dict[str, datetime]:
        if not campuses:
            return {}
        rows = self._session.scalars(
            select(WatcherMark).where(WatcherMark.campus_id.in_(list(campuses)))
        )
        return {row.campus_id: row.started_at for row in rows}

    def mark(self, campus: str, at: datetime) -> datetime:
        row = self._session.get(WatcherMark, campus)
        if row is None:
            row = WatcherMark(campus_id=campus, started_at=at)
            self._session.add(row)
            try:
                self._session.flush()
            except IntegrityError as error:  # made meanwhile by another worker
                raise DuplicateEvaluation() from error
        return row.started_at


class SqlAbsenceUnitOfWork(SqlAlertsUnitOfWork):
    """``server.ports.alerts.AbsenceUnitOfWork`` on one registry session."""

    def __init__(self, registry: Callable[[], Session], settings: PresenceSettings) -> None:
        super().__init__(registry, timezone=settings.timezone)
        self._settings = settings

    def _bind(self, session: Session) -> None:
        super()._bind(session)
        settings = self._settings
        self.presence = PresenceRepository(
            session, school_zone=settings.school_zone, timezone=settings.timezone
        )
        self.checks = SqlAbsenceChecks(session)


def absence_unit_of_work(
    registry: Callable[[], Session], settings: PresenceSettings
) -> Callable[[], SqlAbsenceUnitOfWork]:
    """What the absence watcher is built with."""
    return lambda: SqlAbsenceUnitOfWork(registry, settings)
