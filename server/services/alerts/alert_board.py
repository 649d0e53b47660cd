"""Use case: the coordinator's alerts page. The open, escalated and recently closed
alerts of one campus (absences, shortfalls, readers down, capacity), each with where
it stands (``domain.alerts.life``), filterable by tutor and kind; the page refreshes
itself like the tutor's *Now* page."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, orm, select

from server.config import PresenceSettings
from server.domain.alerts import AlertKind, AlertLife, Stage, life
from server.registry.alert_models import Alert
from server.registry.alert_repository import AlertRepository, state_of
from server.registry.models import Student
from server.services.alerts.alerts import call_policy

RECENT = timedelta(hours=24)  # closed alerts shown this long after closing


@dataclass(frozen=True, slots=True)
class BoardAlert:
    public_id: str
    kind: AlertKind
    student_id: str | None
    student_name: str | None  # None: an incident (reader down, capacity)
    tutor: str | None  # the tutor's name
    noticed_at: datetime
    slot_start: datetime | None
    slot_end: datetime | None
    week: str | None
    place: str | None  # the reader or room of an incident
    life: AlertLife
    escalated_at: datetime | None
    closed_at: datetime | None
    resolution: str | None


@dataclass(frozen=True, slots=True)
class CampusAlerts:
    campus: str
    now: datetime
    escalated: list[BoardAlert]
    open: list[BoardAlert]
    closed: list[BoardAlert]  # closed within RECENT
    tutors: list[tuple[int, str]]  # the campus's tutors, for the filter
    tutor_id: int | None
    kind: AlertKind | None


class AlertBoard:
    def __init__(self, registry: Callable[[], orm.Session], settings: PresenceSettings) -> None:
        self.registry = registry
        self.settings = settings

    def campus(
        self,
        campus: str,
        now: datetime,
        *,
        tutor_id: int | None = None,
        kind: AlertKind | None = None,
        recent: timedelta = RECENT,
    ) -> CampusAlerts:
        with self.registry() as session:
            query = (
                select(Alert)
                .where(
                    Alert.campus_id == campus,
                    or_(Alert.status != "closed", Alert.closed_at >= now - recent),
                )
                .order_by(Alert.noticed_at.desc(), Alert.id.desc())
            )
            if tutor_id is not None:
                query = query.where(Alert.tutor_id == tutor_id)
            if kind is not None:
                query = query.where(Alert.kind == kind.value)
            rows = list(session.scalars(query))
            repo = AlertRepository(session, timezone=self.settings.timezone)
            tutors = self._tutors(session, repo, campus)
            names = dict(tutors)
            students = {
                student.id: student
                for student in session.scalars(
                    select(Student).where(
                        Student.id.in_([r.student_pk for r in rows if r.student_pk])
                    )
                )
            }
            lives = lives_of(session, self.settings, rows, now)
            found = [self._item(row, students, names, lives[row.id]) for row in rows]
        return CampusAlerts(
            campus=campus,
            now=now,
            escalated=[item for item in found if item.life.stage is Stage.ESCALATED],
            open=[item for item in found if item.life.stage not in (Stage.ESCALATED, Stage.CLOSED)],
            closed=[item for item in found if item.life.stage is Stage.CLOSED],
            tutors=tutors,
            tutor_id=tutor_id,
            kind=kind,
        )

    @staticmethod
    def _tutors(session: orm.Session, repo: AlertRepository, campus: str) -> list[tuple[int, str]]:
        ids = set(
            session.scalars(
                select(Student.tutor_id).where(
                    Student.campus_id == campus, Student.tutor_id.is_not(None)
                )
            )
        ) | set(
            session.scalars(
                select(Alert.tutor_id).where(Alert.campus_id == campus, Alert.tutor_id.is_not(None))
            )
        )
        names = repo.tutor_names({pk for pk in ids if pk is not None})
        return sorted(names.items(), key=lambda item: item[1].lower())

    @staticmethod
    def _item(
        row: Alert,
        students: dict[int, Student],
        tutors: dict[int, str],
        life: AlertLife,
    ) -> BoardAlert:
        student = students.get(row.student_pk) if row.student_pk else None
        return BoardAlert(
            public_id=row.public_id,
            kind=AlertKind(row.kind),
            student_id=student.student_id if student else None,
            student_name=f"{student.first_name} {student.last_name}" if student else None,
            tutor=tutors.get(row.tutor_id) if row.tutor_id else None,
            noticed_at=row.noticed_at,
            slot_start=row.slot_start,
            slot_end=row.slot_end,
            week=row.week,
            place=row.reader_id or row.room_id,
            life=life,
            escalated_at=row.escalated_at,
            closed_at=row.closed_at,
            resolution=row.resolution,
        )


def lives_of(
    session: orm.Session, settings: PresenceSettings, rows: Sequence[Alert], now: datetime
) -> dict[int, AlertLife]:
    """Each alert's life at ``now`` (``domain.alerts.life``), by alert id."""
    repo = AlertRepository(session, timezone=settings.timezone)
    calls = repo.calls_of([row.id for row in rows])
    policies = {
        campus: call_policy(settings, repo.channel_settings(campus))
        for campus in {row.campus_id for row in rows}
    }
    return {
        row.id: life(state_of(row), calls[row.id], policies[row.campus_id], now) for row in rows
    }
