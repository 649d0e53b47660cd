"""The registry's implementation of the reporting ports (``server.ports.reporting``):
one SQLAlchemy session per unit of work, rows copied to records."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import or_, orm, select

from server.domain.alerts import AlertFact, AlertKind, CallPolicy
from server.domain.annual_report import StudentFacts
from server.domain.coordinator_reports import StudentInfo
from server.ports.reporting import AbsenceRecord, CallRecord, ChannelPolicy
from server.registry.alert_models import Alert, AlertCall
from server.registry.alert_repository import AlertRepository
from server.registry.models import Campus, Contract, Room, Student, Tutor
from server.registry.occupancy_models import CampusCapacity
from server.registry.unit_of_work import SessionUnitOfWork


class SqlReports:
    def __init__(self, session: orm.Session, timezone: str) -> None:
        self._session = session
        self._alerts = AlertRepository(session, timezone=timezone)

    def directory(self, campus: str) -> dict[str, StudentInfo]:
        query = (  # the columns shown, not whole rows: a report reads it for every student
            select(
                Student.id.label("pk"),
                Student.student_id,
                Student.last_name,
                Student.first_name,
                Student.programme,
                Student.tutor_id,
                Tutor.id.label("tutor_pk"),
                Tutor.name.label("tutor_name"),
                Tutor.email.label("tutor_email"),
            )
            .outerjoin(Tutor, Tutor.id == Student.tutor_id)
            .where(Student.campus_id == campus)
        )
        return {
            row.student_id: StudentInfo(
                student_pk=row.pk,
                student_id=row.student_id,
                last_name=row.last_name,
                first_name=row.first_name,
                programme=row.programme,
                tutor_id=row.tutor_id,
                tutor=(row.tutor_name or row.tutor_email) if row.tutor_pk is not None else "",
            )
            for row in self._session.execute(query)
        }

    def campus_name(self, campus: str) -> str | None:
        row = self._session.get(Campus, campus)
        return row.name if row is not None and row.name else None

    def place(self, campus: str) -> tuple[int | None, float | None]:
        own = self._session.get(CampusCapacity, campus)
        rooms = list(self._session.scalars(select(Room).where(Room.campus_id == campus)))
        capacity = own.capacity if own is not None else None
        area = own.area_m2 if own is not None else None
        if capacity is None and any(room.capacity for room in rooms):
            capacity = sum(room.capacity or 0 for room in rooms)
        if area is None and any(room.area_m2 for room in rooms):
            area = sum(room.area_m2 or 0.0 for room in rooms)
        return capacity, area

    def headcount(self, campus: str, first: date, last: date) -> list[StudentFacts]:
        query = (
            select(Student)
            .join(Contract, Contract.student_pk == Student.id)
            .where(
                Student.campus_id == campus,
                Contract.replaced_at.is_(None),
                Contract.valid_from <= last,
                or_(Contract.valid_to.is_(None), Contract.valid_to >= first),
            )
            .distinct()
            .order_by(Student.student_id)
        )
        return [
            StudentFacts(
                student_id=student.student_id,
                tutor_id=student.tutor_id,
                institution_type=student.institution_type or "",
            )
            for student in self._session.scalars(query)
        ]

    def channel_policy(self, campus: str) -> ChannelPolicy | None:
        row = self._alerts.channel_settings(campus)
        return ChannelPolicy(row.escalation_minutes) if row is not None else None

    def alert_facts(
        self, start: datetime, end: datetime, campus: str, policy: CallPolicy
    ) -> list[AlertFact]:
        return self._alerts.facts(start, end, campus, policy)

    def absence_records(
        self, campus: str | None, start: datetime, end: datetime
    ) -> list[AbsenceRecord]:
        query = (
            select(Alert, Student)
            .outerjoin(Student, Student.id == Alert.student_pk)
            .where(
                Alert.kind == AlertKind.ABSENCE.value,
                Alert.noticed_at >= start,
                Alert.noticed_at < end,
            )
            .order_by(Alert.noticed_at, Alert.id)
        )
        if campus is not None:
            query = query.where(Alert.campus_id == campus)
        rows = self._session.execute(query).all()
        ids = [alert.id for alert, _student in rows]
        calls: dict[int, list[CallRecord]] = {}
        for call in self._session.scalars(
            select(AlertCall).where(AlertCall.alert_pk.in_(ids)).order_by(AlertCall.called_at)
        ):
            calls.setdefault(call.alert_pk, []).append(
                CallRecord(call.called_at, call.outcome, call.author, call.excused)
            )
        tutors = self._alerts.tutor_names(
            {alert.tutor_id for alert, _student in rows if alert.tutor_id}
        )
        return [
            AbsenceRecord(
                alert_id=alert.public_id,
                noticed_at=alert.noticed_at,
                student_id=student.student_id if student is not None else "",
                last_name=student.last_name if student is not None else "",
                first_name=student.first_name if student is not None else "",
                tutor=tutors.get(alert.tutor_id, "") if alert.tutor_id else "",
                slot_start=alert.slot_start,
                slot_end=alert.slot_end,
                acknowledged_at=alert.acknowledged_at,
                acknowledged_by=alert.acknowledged_by,
                status=alert.status,
                resolution=alert.resolution,
                closed_at=alert.closed_at,
                calls=tuple(calls.get(alert.id, ())),
            )
            for alert, student in rows
        ]


class SqlReportingUnitOfWork(SessionUnitOfWork):
    """``server.ports.reporting.ReportingUnitOfWork`` on one registry session."""

    def __init__(self, registry: Callable[[], orm.Session], timezone: str) -> None:
        super().__init__(registry)
        self._timezone = timezone

    def _bind(self, session: orm.Session) -> None:
        self.reports = SqlReports(session, self._timezone)


def reporting_unit_of_work(
    registry: Callable[[], orm.Session], timezone: str
) -> Callable[[], SqlReportingUnitOfWork]:
    """What :class:`~server.services.reporting.coordinator_reports.Reports` is built with
    (``timezone``: the settings' ``[presence] timezone``)."""
    return lambda: SqlReportingUnitOfWork(registry, timezone)
