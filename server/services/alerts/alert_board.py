"""Use case: the coordinator's alerts page. The open, escalated and recently closed
alerts of one campus (absences, shortfalls, readers down, capacity), each with where
it stands (``domain.alerts.life``), filterable by tutor and kind; the page refreshes
itself like the tutor's *Now* page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from server.domain.alerts import AlertKind, AlertLife, Stage
from server.ports.alerts import AlertRecord, StudentRecord
from server.services.alerts.alerts import AlertService

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
    def __init__(self, alerts: AlertService) -> None:
        self._alerts = alerts  # the alerts' unit of work, and their lives

    def campus(
        self,
        campus: str,
        now: datetime,
        *,
        tutor_id: int | None = None,
        kind: AlertKind | None = None,
        recent: timedelta = RECENT,
    ) -> CampusAlerts:
        with self._alerts.unit_of_work() as uow:
            records = uow.alerts.listing(
                open_only=True,
                since=None,
                campus=campus,
                closed_since=now - recent,
                tutor_id=tutor_id,
                kind=kind,
            )
            names = uow.people.tutor_names(uow.alerts.tutor_ids(campus))
            tutors = sorted(names.items(), key=lambda item: item[1].lower())
            students = uow.people.students({r.student_pk for r in records if r.student_pk})
            lives = self._alerts.lives(uow, records, now)
            found = [
                self._item(record, students, names, lives[record.id])  # type: ignore[index]
                for record in records
            ]
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
    def _item(
        alert: AlertRecord,
        students: dict[int, StudentRecord],
        tutors: dict[int, str],
        life: AlertLife,
    ) -> BoardAlert:
        student = students.get(alert.student_pk) if alert.student_pk else None
        return BoardAlert(
            public_id=alert.public_id,
            kind=AlertKind(alert.kind),
            student_id=student.student_id if student else None,
            student_name=f"{student.first_name} {student.last_name}" if student else None,
            tutor=tutors.get(alert.tutor_id) if alert.tutor_id else None,
            noticed_at=alert.noticed_at,
            slot_start=alert.slot_start,
            slot_end=alert.slot_end,
            week=alert.week,
            place=alert.reader_id or alert.room_id,
            life=life,
            escalated_at=alert.escalated_at,
            closed_at=alert.closed_at,
            resolution=alert.resolution,
        )
