"""What the alert services read from and write to the registry, as domain values; the
registry's adapter of the alert ports (``server.ports.alerts``): one SQLAlchemy session
per unit of work (:func:`alerts_unit_of_work`)."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import asdict, fields, replace
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from server.domain.accounts import Role
from server.domain.alert_links import alert_link, recipient_role
from server.domain.alerts import (
    AlertFact,
    AlertKind,
    AlertStatus,
    CallLog,
    CallPolicy,
    Resolution,
    call_needed,
)
from server.domain.notices import Notice, NoticeKind, Person
from server.ports.alerts import (
    AlertRecord,
    CallRecord,
    ChannelSettings,
    DeliveryRecord,
    DeliveryState,
    DuplicateAlert,
    DuplicateDelivery,
    StudentRecord,
    call_of,
    new_public_id,
    state_of,
)
from server.ports.alerts import apply_state as apply_state  # for bench/reference
from server.registry.account_models import Account
from server.registry.account_store import SqlAuditTrail
from server.registry.alert_models import Alert, AlertCall, AlertChannelSettings, AlertDelivery
from server.registry.channel_health import SqlChannelHealth
from server.registry.models import Student, Tutor
from server.registry.presence_repository import PresenceRepository
from server.registry.unit_of_work import SessionUnitOfWork

_CHUNK = 500  # keys per IN (...) query
_STUDENT_COLUMNS = select(
    Student.id,
    Student.student_id,
    Student.first_name,
    Student.last_name,
    Student.email,
    Student.phone,
)


class AlertRepository:
    def __init__(self, session: Session, *, timezone: str = "Europe/Paris") -> None:
        self.session = session
        self.timezone = timezone

    def by_public_id(self, public_id: str) -> Alert | None:
        return self.session.scalar(select(Alert).where(Alert.public_id == public_id))

    def by_key(self, dedupe_key: str) -> Alert | None:
        return self.session.scalar(select(Alert).where(Alert.dedupe_key == dedupe_key))

    def add(self, kind: AlertKind, key: str, campus: str, now: datetime, **values: Any) -> Alert:
        row = self.new(kind, key, campus, now, **values)
        self.session.add(row)
        self.session.flush()
        return row

    @staticmethod
    def new(kind: AlertKind, key: str, campus: str, now: datetime, **values: Any) -> Alert:
        """A new open alert, not added yet (:meth:`add` adds and flushes one)."""
        return Alert(**AlertRepository.values(kind, key, campus, now, **values))

    @staticmethod
    def values(
        kind: AlertKind, key: str, campus: str, now: datetime, **values: Any
    ) -> dict[str, Any]:
        """The columns of a new open alert's row (for a bulk insert)."""
        return {
            "public_id": new_public_id(),
            "dedupe_key": key,
            "kind": kind.value,
            "campus_id": campus,
            "status": AlertStatus.OPEN.value,
            "noticed_at": now,
            "acknowledged_by": "",
            **values,
        }

    def tutor_of(self, student_pk: int) -> int | None:
        return self.session.scalar(select(Student.tutor_id).where(Student.id == student_pk))

    def tutors_of(self, student_pks: Collection[int]) -> dict[int, int | None]:
        """Each student's tutor (:meth:`tutor_of`), in one query per 500 students."""
        keys = sorted(student_pks)
        found: dict[int, int | None] = {}
        for start in range(0, len(keys), _CHUNK):
            rows = self.session.execute(
                select(Student.id, Student.tutor_id).where(
                    Student.id.in_(keys[start : start + _CHUNK])
                )
            )
            found.update((pk, tutor) for pk, tutor in rows)
        return found

    def open_readers_down(self, campuses: Collection[str]) -> dict[tuple[str, str], Alert]:
        """The open ``reader_down`` alerts of these campuses, by (campus, reader)."""
        rows = self.session.scalars(
            select(Alert).where(
                Alert.kind == AlertKind.READER_DOWN.value,
                Alert.campus_id.in_(sorted(campuses)),
                Alert.status != "closed",
            )
        )
        return {(row.campus_id, row.reader_id or ""): row for row in rows}

    def unresolved_absences(self, student_pks: Collection[int]) -> list[Alert]:
        """Absence alerts of these students still waiting for a call or an arrival
        (closed ones too while the arrival is unknown: a late arrival is recorded)."""
        if not student_pks:
            return []
        return list(
            self.session.scalars(
                select(Alert).where(
                    Alert.kind == AlertKind.ABSENCE.value,
                    Alert.student_pk.in_(list(student_pks)),
                    Alert.arrived_at.is_(None),
                )
            )
        )

    def open_alerts(self) -> list[Alert]:
        """Alerts not closed yet (open or acknowledged)."""
        return list(self.session.scalars(select(Alert).where(Alert.status != "closed")))

    def calls_of(self, alert_pks: Collection[int]) -> dict[int, list[CallLog]]:
        """The calls of these alerts as domain values, oldest first."""
        found: dict[int, list[CallLog]] = {pk: [] for pk in alert_pks}
        if not found:
            return found
        rows = self.session.scalars(
            select(AlertCall).where(AlertCall.alert_pk.in_(list(found))).order_by(AlertCall.id)
        )
        for row in rows:
            found[row.alert_pk].append(call_of(row))
        return found

    def open_reader_down(self, campus: str, reader: str) -> Alert | None:
        return self.session.scalar(
            select(Alert).where(
                Alert.kind == AlertKind.READER_DOWN.value,
                Alert.campus_id == campus,
                Alert.reader_id == reader,
                Alert.status != "closed",
            )
        )

    def open_capacity(self, campus: str, room: str | None) -> Alert | None:
        """The open capacity alert of a room (``None``: the whole campus)."""
        place = Alert.room_id.is_(None) if room is None else Alert.room_id == room
        return self.session.scalar(
            select(Alert).where(
                Alert.kind == AlertKind.CAPACITY.value,
                Alert.campus_id == campus,
                place,
                Alert.status != "closed",
            )
        )

    def listing(
        self, *, open_only: bool, since: datetime | None, campus: str | None = None
    ) -> list[Alert]:
        query = select(Alert).order_by(Alert.noticed_at.desc(), Alert.id.desc())
        if campus is not None:
            query = query.where(Alert.campus_id == campus)
        if open_only:
            query = query.where(Alert.status != "closed")
        if since is not None:
            query = query.where(Alert.noticed_at >= since)
        return list(self.session.scalars(query))

    def calls(self, alert_pk: int) -> list[AlertCall]:
        return list(
            self.session.scalars(
                select(AlertCall).where(AlertCall.alert_pk == alert_pk).order_by(AlertCall.id)
            )
        )

    def deliveries(self, alert_pk: int) -> list[AlertDelivery]:
        return list(
            self.session.scalars(
                select(AlertDelivery)
                .where(AlertDelivery.alert_pk == alert_pk)
                .order_by(AlertDelivery.id)
            )
        )

    def channel_settings(self, campus: str) -> AlertChannelSettings | None:
        return self.session.get(AlertChannelSettings, campus)

    def enabled_webhooks(self) -> dict[str, str]:
        """Campus -> the NAME of the variable holding its webhook secret, for every
        campus whose webhook channel is on."""
        rows = self.session.scalars(
            select(AlertChannelSettings).where(AlertChannelSettings.webhook_enabled.is_(True))
        )
        return {row.campus_id: row.webhook_secret_env for row in rows}

    def campus_timezone(self, campus: str) -> str:
        """The campus's time zone: the settings' (docs/campus-settings.md)."""
        return self.timezone

    def facts(
        self,
        start: datetime,
        end: datetime,
        campus: str | None = None,
        policy: CallPolicy | None = None,
    ) -> list[AlertFact]:
        """Absence alerts noticed in ``[start, end)`` (of one campus, or all), for the
        evidence report; each tutor by name (their e-mail when they have none)."""
        policy = policy or CallPolicy()
        query = select(Alert).where(
            Alert.kind == AlertKind.ABSENCE.value,
            Alert.noticed_at >= start,
            Alert.noticed_at < end,
        )
        if campus is not None:
            query = query.where(Alert.campus_id == campus)
        excused = set(
            self.session.scalars(select(AlertCall.alert_pk).where(AlertCall.excused.is_(True)))
        )
        rows = self.session.execute(query).all()
        names = self.tutor_names({row.tutor_id for (row,) in rows if row.tutor_id})
        return [
            AlertFact(
                tutor=names.get(row.tutor_id, "") if row.tutor_id else "",
                noticed_at=row.noticed_at,
                acknowledged_at=row.acknowledged_at,
                called_at=row.called_at,
                arrived_first=row.resolution == Resolution.ARRIVED.value,
                excused=row.id in excused,
                call_needed=call_needed(state_of(row), policy),
            )
            for (row,) in rows
        ]

    def coordinator_phones(self, campus: str) -> tuple[str, ...]:
        """The phones of the campus's active coordinator accounts (E.164), in login
        order: whom an escalated alert is texted to."""
        return self._coordinator_phones([campus]).get(campus, ())

    def tutor_names(self, tutor_ids: Collection[int]) -> dict[int, str]:
        """How each tutor is shown to people (``Tutor.label``: their name, else their
        account's display name, else their e-mail)."""
        if not tutor_ids:
            return {}
        tutors = self.session.scalars(select(Tutor).where(Tutor.id.in_(list(tutor_ids))))
        return {tutor.id: tutor.label for tutor in tutors}

    def notice(self, alert_pk: int, notice: NoticeKind) -> Notice:
        """The notice of one step of an alert, with the people it is about and the
        link its recipient opens (:mod:`server.domain.alert_links`)."""
        return self.notices([(alert_pk, notice)])[0]

    def notices(self, steps: Sequence[tuple[int, NoticeKind]]) -> list[Notice]:
        """The notices of these steps (alert, step), in order, read with one query per
        table whatever their number (the absences of one instant)."""
        self.session.flush()  # plain rows are read below: the session's changes first
        pks = sorted({pk for pk, _ in steps})
        rows = {row.id: row for row in self._rows(Alert.__table__, Alert.id, pks)}
        missing = [pk for pk in pks if pk not in rows]
        if missing:
            raise LookupError(f"no alert {missing[0]}")
        campuses = sorted({row.campus_id for row in rows.values()})
        settings = {
            row.campus_id: row
            for row in self._all(AlertChannelSettings, AlertChannelSettings.campus_id, campuses)
        }
        phones = self._coordinator_phones(campuses)
        tutors = {
            row.id: row
            for row in self._all(
                Tutor, Tutor.id, sorted({r.tutor_id for r in rows.values() if r.tutor_id})
            )
        }
        students = {
            row.id: row
            for row in self._rows(
                _STUDENT_COLUMNS,
                Student.id,
                sorted({r.student_pk for r in rows.values() if r.student_pk}),
            )
        }
        account_phones = self._account_phones([t.id for t in tutors.values() if not t.phone])
        return [
            self._notice(
                rows[pk],
                notice,
                settings.get(rows[pk].campus_id),
                phones.get(rows[pk].campus_id, ()),
                tutors.get(rows[pk].tutor_id) if rows[pk].tutor_id else None,
                students.get(rows[pk].student_pk) if rows[pk].student_pk else None,
                account_phones,
            )
            for pk, notice in steps
        ]

    def _all(self, model: Any, column: Any, keys: Sequence[Any]) -> list[Any]:
        found: list[Any] = []
        for start in range(0, len(keys), _CHUNK):
            found += self.session.scalars(
                select(model).where(column.in_(list(keys[start : start + _CHUNK])))
            )
        return found

    def _rows(self, selectable: Any, column: Any, keys: Sequence[Any]) -> list[Any]:
        """Plain rows (no ORM objects: many are read at once) whose ``column`` is in
        ``keys``; a row's fields read as attributes."""
        found: list[Any] = []
        for start in range(0, len(keys), _CHUNK):
            query = selectable if isinstance(selectable, Select) else select(selectable)
            found += self.session.execute(
                query.where(column.in_(list(keys[start : start + _CHUNK])))
            ).all()
        return found

    def _coordinator_phones(self, campuses: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Each campus's coordinator phones (:meth:`coordinator_phones`), in one query."""
        found: dict[str, list[str]] = {}
        rows = self.session.execute(
            select(Account.campus_id, Account.phone)
            .where(
                Account.role == Role.COORDINATOR.value,
                Account.campus_id.in_(list(campuses)),
                Account.active.is_(True),
                Account.phone != "",
            )
            .order_by(Account.login)
        )
        for campus, phone in rows:
            found.setdefault(campus, []).append(phone)
        return {campus: tuple(numbers) for campus, numbers in found.items()}

    def _account_phones(self, tutor_ids: Sequence[int]) -> dict[int, str]:
        """The phone of each tutor's first active account with one (admin page
        *Comptes*), for tutors whose row (students' import) has none."""
        found: dict[int, str] = {}
        for start in range(0, len(tutor_ids), _CHUNK):
            rows = self.session.execute(
                select(Account.tutor_id, Account.phone)
                .where(
                    Account.tutor_id.in_(list(tutor_ids[start : start + _CHUNK])),
                    Account.active.is_(True),
                    Account.phone != "",
                )
                .order_by(Account.id)
            )
            for tutor_id, phone in rows:
                found.setdefault(tutor_id, phone)
        return found

    def _notice(
        self,
        row: Any,  # an alert's row
        notice: NoticeKind,
        channel: AlertChannelSettings | None,
        coordinator_phones: tuple[str, ...],
        tutor: Tutor | None,
        student: Any,  # a row of _STUDENT_COLUMNS
        account_phones: dict[int, str],
    ) -> Notice:
        kind = AlertKind(row.kind)
        built = Notice(
            alert_id=row.public_id,
            kind=kind,
            notice=notice,
            campus=row.campus_id,
            ts=_step_time(row, notice),
            timezone=self.campus_timezone(row.campus_id),
            url="",
            coordinators=_emails(channel.coordinator_emails if channel else ""),
            coordinator_phones=coordinator_phones,
            slot_start=row.slot_start,
            slot_end=row.slot_end,
            week=row.week,
            expected_minutes=row.expected_minutes,
            recorded_minutes=row.recorded_minutes,
            reader=row.reader_id,
            reader_state=row.reader_state,
            reader_last_seen=row.reader_last_seen,
            room=row.room_id,
            count=row.occupancy_count,
            capacity=row.occupancy_capacity,
            escalation_minutes=channel.escalation_minutes if channel else 30,
            tutor=(
                Person(tutor.label, tutor.email, tutor.phone or account_phones.get(tutor.id, ""))
                if tutor
                else None
            ),
            student_id=student.student_id if student else None,
            student=(
                Person(f"{student.first_name} {student.last_name}", student.email, student.phone)
                if student
                else None
            ),
        )
        role = recipient_role(
            kind,
            escalated=notice is NoticeKind.ESCALATED,
            has_tutor=bool(built.tutor and built.tutor.email),
        )
        base_url = channel.base_url if channel else ""
        return replace(built, url=alert_link(base_url, kind, row.public_id, row.campus_id, role))


def _step_time(row: Any, notice: NoticeKind) -> datetime:
    if notice is NoticeKind.ESCALATED and row.escalated_at:
        return row.escalated_at
    if notice is NoticeKind.ARRIVED and row.arrived_at:
        return row.arrived_at
    if notice is NoticeKind.RESOLVED and row.closed_at:
        return row.closed_at
    return row.noticed_at


def _emails(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.replace(";", ",").split(",") if item.strip())


_SETTINGS_FIELDS = tuple(item.name for item in fields(ChannelSettings))


class SqlChannelSettings:
    """``server.ports.alerts.ChannelSettingsStore`` on one registry session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def get(self, campus: str) -> ChannelSettings | None:
        row = self._session.get(AlertChannelSettings, campus)
        if row is None:
            return None
        return ChannelSettings(**{name: getattr(row, name) for name in _SETTINGS_FIELDS})

    def save(self, campus: str, settings: ChannelSettings) -> None:
        row = self._session.get(AlertChannelSettings, campus)
        if row is None:
            row = AlertChannelSettings(campus_id=campus)
            self._session.add(row)
        for name, value in asdict(settings).items():
            setattr(row, name, value)


class SqlAlertsUnitOfWork(SessionUnitOfWork):
    """``server.ports.alerts.AlertsUnitOfWork`` on one registry session."""

    def __init__(self, registry: Callable[[], Session], *, timezone: str) -> None:
        super().__init__(registry)
        self._timezone = timezone

    def _bind(self, session: Session) -> None:
        self.alerts = SqlAlerts(session, timezone=self._timezone)
        self.calls = SqlCalls(session)
        self.deliveries = SqlDeliveries(session)
        self.people = SqlPeople(session)
        self.doors = PresenceRepository(session, timezone=self._timezone)
        self.channel_settings = SqlChannelSettings(session)
        self.channel_health = SqlChannelHealth(session)
        self.audit = SqlAuditTrail(session)


def alerts_unit_of_work(
    registry: Callable[[], Session], *, timezone: str = "Europe/Paris"
) -> Callable[[], SqlAlertsUnitOfWork]:
    """What the alert use cases are built with (``timezone``: the campuses' time zone,
    ``[presence] timezone``)."""
    return lambda: SqlAlertsUnitOfWork(registry, timezone=timezone)


_ALERT_FIELDS = tuple(item.name for item in fields(AlertRecord) if item.name != "id")
_CALL_FIELDS = tuple(item.name for item in fields(CallRecord) if item.name != "id")


def alert_record(row: Alert) -> AlertRecord:
    return AlertRecord(id=row.id, **{name: getattr(row, name) for name in _ALERT_FIELDS})


def _call_record(row: AlertCall) -> CallRecord:
    return CallRecord(id=row.id, **{name: getattr(row, name) for name in _CALL_FIELDS})


def _student(row: Any) -> StudentRecord:
    return StudentRecord(
        row.id, row.student_id, row.campus_id, row.tutor_id, row.first_name, row.last_name
    )


_STUDENT_RECORD = select(
    Student.id,
    Student.student_id,
    Student.campus_id,
    Student.tutor_id,
    Student.first_name,
    Student.last_name,
)


class SqlAlerts:
    """``server.ports.alerts.Alerts`` on one registry session (the rows are kept in the
    session: ``save`` writes a record back onto its row)."""

    def __init__(self, session: Session, *, timezone: str) -> None:
        self._session = session
        self._repo = AlertRepository(session, timezone=timezone)

    def _row(self, record: AlertRecord) -> Alert:
        assert record.id is not None
        row = self._session.get(Alert, record.id)
        assert row is not None
        return row

    def by_public_id(self, public_id: str) -> AlertRecord | None:
        row = self._repo.by_public_id(public_id)
        return alert_record(row) if row is not None else None

    def by_key(self, dedupe_key: str) -> AlertRecord | None:
        row = self._repo.by_key(dedupe_key)
        return alert_record(row) if row is not None else None

    def add(self, record: AlertRecord) -> AlertRecord:
        row = Alert(**{name: getattr(record, name) for name in _ALERT_FIELDS})
        self._session.add(row)
        try:
            self._session.flush()
        except IntegrityError as error:
            raise DuplicateAlert() from error
        record.id = row.id
        return record

    def add_many(self, records: Sequence[AlertRecord]) -> list[int]:
        if not records:
            return []
        rows = [{name: getattr(record, name) for name in _ALERT_FIELDS} for record in records]
        table = Alert.__table__  # Core: no ORM objects, one multi-row INSERT … RETURNING
        try:
            result = self._session.execute(
                table.insert().returning(table.c.id, sort_by_parameter_order=True), rows
            )
        except IntegrityError as error:
            raise DuplicateAlert() from error
        ids = [pk for (pk,) in result]
        for record, pk in zip(records, ids, strict=True):
            record.id = pk
        return ids

    def save(self, record: AlertRecord) -> None:
        row = self._row(record)
        for name in _ALERT_FIELDS:
            setattr(row, name, getattr(record, name))

    def open_reader_down(self, campus: str, reader: str) -> AlertRecord | None:
        row = self._repo.open_reader_down(campus, reader)
        return alert_record(row) if row is not None else None

    def open_readers_down(self, campuses: Collection[str]) -> dict[tuple[str, str], AlertRecord]:
        return {
            key: alert_record(row) for key, row in self._repo.open_readers_down(campuses).items()
        }

    def open_capacity(self, campus: str, room: str | None) -> AlertRecord | None:
        row = self._repo.open_capacity(campus, room)
        return alert_record(row) if row is not None else None

    def unresolved_absences(self, student_pks: Collection[int]) -> list[AlertRecord]:
        return [alert_record(row) for row in self._repo.unresolved_absences(student_pks)]

    def open_alerts(self) -> list[AlertRecord]:
        return [alert_record(row) for row in self._repo.open_alerts()]

    def listing(
        self,
        *,
        open_only: bool,
        since: datetime | None,
        campus: str | None = None,
        closed_since: datetime | None = None,
        tutor_id: int | None = None,
        kind: AlertKind | None = None,
    ) -> list[AlertRecord]:
        query = select(Alert).order_by(Alert.noticed_at.desc(), Alert.id.desc())
        if campus is not None:
            query = query.where(Alert.campus_id == campus)
        if open_only and closed_since is not None:
            query = query.where(or_(Alert.status != "closed", Alert.closed_at >= closed_since))
        elif open_only:
            query = query.where(Alert.status != "closed")
        if since is not None:
            query = query.where(Alert.noticed_at >= since)
        if tutor_id is not None:
            query = query.where(Alert.tutor_id == tutor_id)
        if kind is not None:
            query = query.where(Alert.kind == kind.value)
        return [alert_record(row) for row in self._session.scalars(query)]

    def tutor_ids(self, campus: str) -> set[int]:
        students = self._session.scalars(
            select(Student.tutor_id).where(
                Student.campus_id == campus, Student.tutor_id.is_not(None)
            )
        )
        alerts = self._session.scalars(
            select(Alert.tutor_id).where(Alert.campus_id == campus, Alert.tutor_id.is_not(None))
        )
        return {pk for pk in [*students, *alerts] if pk is not None}

    def facts(
        self, start: datetime, end: datetime, campus: str | None, policy: CallPolicy
    ) -> list[AlertFact]:
        return self._repo.facts(start, end, campus, policy)

    def notices(self, steps: Sequence[tuple[int, NoticeKind]]) -> list[Notice]:
        return self._repo.notices(steps)

    def deliveries(self, alert_pk: int) -> list[DeliveryRecord]:
        return [
            DeliveryRecord(
                row.notice, row.channel, row.status, row.attempts, row.last_error, row.sent_at
            )
            for row in self._repo.deliveries(alert_pk)
        ]


_DELIVERY_FIELDS = tuple(item.name for item in fields(DeliveryState) if item.name != "id")


def _due(now: datetime) -> tuple[ColumnElement[bool], ...]:
    """A delivery to try now: pending or failed but not given up, its time come, and no
    live claim of any process on it."""
    return (
        AlertDelivery.status.in_(("pending", "failed")),
        AlertDelivery.next_attempt_at.is_not(None),
        AlertDelivery.next_attempt_at <= now,
        or_(AlertDelivery.claimed_until.is_(None), AlertDelivery.claimed_until <= now),
    )


class SqlDeliveries:
    """``server.ports.alerts.Deliveries`` on one registry session."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def known(self, alert_pks: Collection[int]) -> set[tuple[int, str, str]]:
        pks = sorted(alert_pks)
        found: set[tuple[int, str, str]] = set()
        for start in range(0, len(pks), _CHUNK):
            rows = self._session.execute(
                select(AlertDelivery.alert_pk, AlertDelivery.notice, AlertDelivery.channel).where(
                    AlertDelivery.alert_pk.in_(pks[start : start + _CHUNK])
                )
            )
            found.update((pk, notice, channel) for pk, notice, channel in rows)
        return found

    def add(self, deliveries: Sequence[DeliveryState]) -> None:
        if not deliveries:
            return
        rows = [{name: getattr(item, name) for name in _DELIVERY_FIELDS} for item in deliveries]
        try:
            with self._session.begin_nested():
                self._session.execute(AlertDelivery.__table__.insert(), rows)  # Core: one INSERT
        except IntegrityError as error:
            raise DuplicateDelivery() from error

    def get(self, delivery_id: int) -> DeliveryState | None:
        row = self._session.get(AlertDelivery, delivery_id)
        if row is None:
            return None
        return DeliveryState(id=row.id, **{name: getattr(row, name) for name in _DELIVERY_FIELDS})

    def save(self, delivery: DeliveryState) -> None:
        assert delivery.id is not None
        row = self._session.get(AlertDelivery, delivery.id)
        assert row is not None
        for name in _DELIVERY_FIELDS:
            setattr(row, name, getattr(delivery, name))

    def due_lanes(self, now: datetime) -> set[tuple[str, str]]:
        rows = self._session.execute(
            select(Alert.campus_id, AlertDelivery.channel)
            .join(Alert, Alert.id == AlertDelivery.alert_pk)
            .where(*_due(now))
            .distinct()
        )
        return {(campus, channel) for campus, channel in rows}

    def count_due(self, now: datetime) -> int:
        query = select(func.count()).select_from(AlertDelivery).where(*_due(now))
        return self._session.scalar(query) or 0

    def next_due(
        self, now: datetime, campus: str | None = None, channel: str | None = None
    ) -> int | None:
        query = select(AlertDelivery.id).where(*_due(now))
        if campus is not None:
            query = query.join(Alert, Alert.id == AlertDelivery.alert_pk).where(
                Alert.campus_id == campus
            )
        if channel is not None:
            query = query.where(AlertDelivery.channel == channel)
        query = query.order_by(AlertDelivery.next_attempt_at, AlertDelivery.id).limit(1)
        return self._session.scalar(query)

    def claim(self, delivery_id: int, now: datetime, owner: str, until: datetime) -> bool:
        claimed = self._session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.id == delivery_id, *_due(now))
            .values(claimed_by=owner, claimed_until=until)
        )
        return claimed.rowcount == 1  # type: ignore[attr-defined]

    def release(self, delivery_id: int, owner: str) -> None:
        self._session.execute(
            update(AlertDelivery)
            .where(AlertDelivery.id == delivery_id, AlertDelivery.claimed_by == owner)
            .values(claimed_by=None, claimed_until=None)
        )


class SqlCalls:
    """``server.ports.alerts.Calls`` on one registry session."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._repo = AlertRepository(session)

    def of(self, alert_pk: int) -> list[CallRecord]:
        return [_call_record(row) for row in self._repo.calls(alert_pk)]

    def logs_of(self, alert_pks: Collection[int]) -> dict[int, list[CallLog]]:
        return self._repo.calls_of(alert_pks)

    def add(self, record: CallRecord) -> CallRecord:
        row = AlertCall(**{name: getattr(record, name) for name in _CALL_FIELDS})
        self._session.add(row)
        self._session.flush()
        record.id = row.id
        return record

    def save(self, record: CallRecord) -> None:
        assert record.id is not None
        row = self._session.get(AlertCall, record.id)
        assert row is not None
        for name in _CALL_FIELDS:
            setattr(row, name, getattr(record, name))


class SqlPeople:
    """``server.ports.alerts.People`` on one registry session."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._repo = AlertRepository(session)

    def student(self, student_pk: int) -> StudentRecord | None:
        row = self._session.execute(_STUDENT_RECORD.where(Student.id == student_pk)).first()
        return _student(row) if row is not None else None

    def student_by_id(self, student_id: str) -> StudentRecord | None:
        row = self._session.execute(_STUDENT_RECORD.where(Student.student_id == student_id)).first()
        return _student(row) if row is not None else None

    def students(self, student_pks: Collection[int]) -> dict[int, StudentRecord]:
        if not student_pks:
            return {}
        rows = self._session.execute(_STUDENT_RECORD.where(Student.id.in_(list(student_pks))))
        return {row.id: _student(row) for row in rows}

    def tutors_of(self, student_pks: Collection[int]) -> dict[int, int | None]:
        return self._repo.tutors_of(student_pks)

    def tutor_names(self, tutor_ids: Collection[int]) -> dict[int, str]:
        return self._repo.tutor_names(tutor_ids)
