"""In-memory fakes of the alert ports (``server.ports.alerts``), for the unit tests of
the alert use cases. The same contract suite runs against them and against the
registry's adapter (tests/integration/registry/test_alerts_store_contract.py)."""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any

from server.domain.absences import Verdict
from server.domain.alerts import AlertFact, AlertKind, CallLog, CallPolicy, Resolution, call_needed
from server.domain.deliveries import ChannelHealth, after_failure, after_success
from server.domain.notices import Notice, NoticeKind, Person
from server.domain.sessions import ReaderMode
from server.ports.alerts import (
    AlertRecord,
    CallRecord,
    ChannelSettings,
    DeliveryCounts,
    DeliveryRecord,
    DeliveryState,
    DuplicateAlert,
    DuplicateDelivery,
    DuplicateEvaluation,
    EvaluationRecord,
    StudentRecord,
    call_of,
    state_of,
)
from server.services.alerts.notifications import NotificationService
from tests.unit.accounts.fakes import FakeAuditTrail
from tests.unit.presence import fakes as presence_fakes


@dataclass(frozen=True)
class FakeHolding:
    badge_hash: str
    student_pk: int
    active_from: datetime
    revoked_at: datetime | None = None

    def holds_at(self, moment: datetime) -> bool:
        return self.active_from <= moment and (self.revoked_at is None or moment < self.revoked_at)


def delivery(
    channel: str,
    status: str,
    next_attempt_at: datetime | None,
    *,
    alert_pk: int = 0,
    notice: str = "raised",
    created_at: datetime | None = None,
) -> DeliveryState:
    """A delivery as stored (what the counters read, and more)."""
    return DeliveryState(
        alert_pk=alert_pk,
        notice=notice,
        channel=channel,
        status=status,
        attempts=0,
        last_error="",
        created_at=created_at or next_attempt_at or datetime(2026, 1, 1, tzinfo=UTC),
        next_attempt_at=next_attempt_at,
    )


@dataclass
class Stored:
    """What the fake registry holds (committed state)."""

    alerts: dict[int, AlertRecord] = field(default_factory=dict)
    calls: dict[int, CallRecord] = field(default_factory=dict)
    students: dict[int, StudentRecord] = field(default_factory=dict)
    tutors: dict[int, tuple[str, str]] = field(default_factory=dict)  # id -> (name, e-mail)
    reader_modes: dict[tuple[str, str], ReaderMode] = field(default_factory=dict)
    holdings: list[FakeHolding] = field(default_factory=list)
    sent: dict[int, list[DeliveryRecord]] = field(default_factory=dict)  # by alert
    channel_settings: dict[str, ChannelSettings] = field(default_factory=dict)
    channel_health: dict[tuple[str, str], ChannelHealth] = field(default_factory=dict)
    deliveries: dict[int, DeliveryState] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)
    # the absence watcher's checks: evaluations by (student, slot start), marks by campus
    evaluations: dict[tuple[int, datetime], EvaluationRecord] = field(default_factory=dict)
    marks: dict[str, datetime] = field(default_factory=dict)
    commits: int = 0


class FakeAlerts:
    def __init__(self, rows: dict[int, AlertRecord], stored: Stored) -> None:
        self._rows = rows
        self._stored = stored

    def _found(self, test: Any) -> list[AlertRecord]:
        return [copy.copy(row) for row in self._rows.values() if test(row)]

    def _one(self, test: Any) -> AlertRecord | None:
        found = self._found(test)
        return found[0] if found else None

    def by_public_id(self, public_id: str) -> AlertRecord | None:
        return self._one(lambda row: row.public_id == public_id)

    def by_key(self, dedupe_key: str) -> AlertRecord | None:
        return self._one(lambda row: row.dedupe_key == dedupe_key)

    def add(self, record: AlertRecord) -> AlertRecord:
        for row in self._rows.values():
            same_slot = (
                record.student_pk is not None
                and record.slot_start is not None
                and (row.student_pk, row.slot_start) == (record.student_pk, record.slot_start)
            )
            if row.dedupe_key == record.dedupe_key or same_slot:
                raise DuplicateAlert()
        record.id = max(self._rows, default=0) + 1
        self._rows[record.id] = copy.copy(record)
        return record

    def add_many(self, records: Sequence[AlertRecord]) -> list[int]:
        keys = {row.dedupe_key for row in self._rows.values()}
        slots = {(row.student_pk, row.slot_start) for row in self._rows.values() if row.student_pk}
        for record in records:
            slot = (record.student_pk, record.slot_start)
            if record.dedupe_key in keys or (record.student_pk and slot in slots):
                raise DuplicateAlert()  # nothing stored (one statement)
            keys.add(record.dedupe_key)
            if record.student_pk:
                slots.add(slot)
        return [self.add(record).id or 0 for record in records]

    def save(self, record: AlertRecord) -> None:
        assert record.id in self._rows
        self._rows[record.id] = copy.copy(record)

    def open_readers_down(self, campuses: Collection[str]) -> dict[tuple[str, str], AlertRecord]:
        return {
            (row.campus_id, row.reader_id or ""): row
            for row in self._found(
                lambda row: (
                    row.kind == AlertKind.READER_DOWN.value
                    and row.campus_id in campuses
                    and row.status != "closed"
                )
            )
        }

    def open_reader_down(self, campus: str, reader: str) -> AlertRecord | None:
        return self._one(
            lambda row: (
                (row.kind, row.campus_id, row.reader_id)
                == (AlertKind.READER_DOWN.value, campus, reader)
                and row.status != "closed"
            )
        )

    def open_capacity(self, campus: str, room: str | None) -> AlertRecord | None:
        return self._one(
            lambda row: (
                (row.kind, row.campus_id, row.room_id) == (AlertKind.CAPACITY.value, campus, room)
                and row.status != "closed"
            )
        )

    def unresolved_absences(self, student_pks: Collection[int]) -> list[AlertRecord]:
        return self._found(
            lambda row: (
                row.kind == AlertKind.ABSENCE.value
                and row.student_pk in student_pks
                and row.arrived_at is None
            )
        )

    def open_alerts(self) -> list[AlertRecord]:
        return self._found(lambda row: row.status != "closed")

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
        def shown(row: AlertRecord) -> bool:
            if open_only and row.status == "closed":
                recent = closed_since is not None and row.closed_at is not None
                if not (recent and row.closed_at >= closed_since):  # type: ignore[operator]
                    return False
            return (
                (campus is None or row.campus_id == campus)
                and (since is None or row.noticed_at >= since)
                and (tutor_id is None or row.tutor_id == tutor_id)
                and (kind is None or row.kind == kind.value)
            )

        found = self._found(shown)
        return sorted(found, key=lambda row: (row.noticed_at, row.id), reverse=True)

    def tutor_ids(self, campus: str) -> set[int]:
        students = {s.tutor_id for s in self._stored.students.values() if s.campus_id == campus}
        alerts = {row.tutor_id for row in self._rows.values() if row.campus_id == campus}
        return {pk for pk in students | alerts if pk is not None}

    def facts(
        self, start: datetime, end: datetime, campus: str | None, policy: CallPolicy
    ) -> list[AlertFact]:
        excused = {call.alert_pk for call in self._stored.calls.values() if call.excused}
        rows = self._found(
            lambda row: (
                row.kind == AlertKind.ABSENCE.value
                and start <= row.noticed_at < end
                and (campus is None or row.campus_id == campus)
            )
        )
        names = {pk: name for pk, (name, _email) in self._stored.tutors.items()}
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
            for row in sorted(rows, key=lambda row: row.id or 0)
        ]

    def notices(self, steps: Sequence[tuple[int, NoticeKind]]) -> list[Notice]:
        """The people and the step; the fakes make no links nor channels' details."""
        found = []
        for pk, notice in steps:
            if pk not in self._rows:
                raise LookupError(f"no alert {pk}")
            row = self._rows[pk]
            student = self._stored.students.get(row.student_pk) if row.student_pk else None
            tutor = self._stored.tutors.get(row.tutor_id) if row.tutor_id else None
            found.append(
                Notice(
                    alert_id=row.public_id,
                    kind=AlertKind(row.kind),
                    notice=notice,
                    campus=row.campus_id,
                    ts=row.noticed_at,
                    timezone="Europe/Paris",
                    url="",
                    tutor=Person(*tutor) if tutor else None,
                    student_id=student.student_id if student else None,
                    student=(
                        Person(f"{student.first_name} {student.last_name}") if student else None
                    ),
                )
            )
        return found

    def deliveries(self, alert_pk: int) -> list[DeliveryRecord]:
        return list(self._stored.sent.get(alert_pk, []))


class FakeDeliveries:
    def __init__(self, rows: dict[int, DeliveryState], alerts: dict[int, AlertRecord]) -> None:
        self._rows = rows
        self._alerts = alerts

    def known(self, alert_pks: Collection[int]) -> set[tuple[int, str, str]]:
        return {
            (row.alert_pk, row.notice, row.channel)
            for row in self._rows.values()
            if row.alert_pk in alert_pks
        }

    def add(self, deliveries: Sequence[DeliveryState]) -> None:
        known = self.known({item.alert_pk for item in deliveries})
        keys = [(item.alert_pk, item.notice, item.channel) for item in deliveries]
        if known & set(keys) or len(set(keys)) < len(keys):
            raise DuplicateDelivery()
        for item in deliveries:
            key = max(self._rows, default=0) + 1
            self._rows[key] = copy.copy(item)
            self._rows[key].id = key

    def get(self, delivery_id: int) -> DeliveryState | None:
        row = self._rows.get(delivery_id)
        return copy.copy(row) if row is not None else None

    def save(self, delivery: DeliveryState) -> None:
        assert delivery.id in self._rows
        self._rows[delivery.id] = copy.copy(delivery)

    @staticmethod
    def _due(row: DeliveryState, now: datetime) -> bool:
        return (
            row.status in ("pending", "failed")
            and row.next_attempt_at is not None
            and row.next_attempt_at <= now
            and (row.claimed_until is None or row.claimed_until <= now)
        )

    def due_lanes(self, now: datetime) -> set[tuple[str, str]]:
        return {
            (self._alerts[row.alert_pk].campus_id, row.channel)
            for row in self._rows.values()
            if self._due(row, now)
        }

    def count_due(self, now: datetime) -> int:
        return sum(self._due(row, now) for row in self._rows.values())

    def next_due(
        self, now: datetime, campus: str | None = None, channel: str | None = None
    ) -> int | None:
        found = [
            (row.next_attempt_at, pk)
            for pk, row in self._rows.items()
            if self._due(row, now)
            and (campus is None or self._alerts[row.alert_pk].campus_id == campus)
            and (channel is None or row.channel == channel)
        ]
        return min(found)[1] if found else None  # type: ignore[type-var]

    def claim(self, delivery_id: int, now: datetime, owner: str, until: datetime) -> bool:
        row = self._rows.get(delivery_id)
        if row is None or not self._due(row, now):
            return False
        row.claimed_by, row.claimed_until = owner, until
        return True

    def release(self, delivery_id: int, owner: str) -> None:
        row = self._rows.get(delivery_id)
        if row is not None and row.claimed_by == owner:
            row.claimed_by, row.claimed_until = None, None


class FakeCalls:
    def __init__(self, rows: dict[int, CallRecord]) -> None:
        self._rows = rows

    def of(self, alert_pk: int) -> list[CallRecord]:
        return [
            copy.copy(row) for pk, row in sorted(self._rows.items()) if row.alert_pk == alert_pk
        ]

    def logs_of(self, alert_pks: Collection[int]) -> dict[int, list[CallLog]]:
        return {pk: [call_of(row) for row in self.of(pk)] for pk in alert_pks}

    def add(self, record: CallRecord) -> CallRecord:
        record.id = max(self._rows, default=0) + 1
        self._rows[record.id] = copy.copy(record)
        return record

    def save(self, record: CallRecord) -> None:
        assert record.id in self._rows
        self._rows[record.id] = copy.copy(record)


class FakePeople:
    def __init__(self, stored: Stored) -> None:
        self._stored = stored

    def student(self, student_pk: int) -> StudentRecord | None:
        return self._stored.students.get(student_pk)

    def student_by_id(self, student_id: str) -> StudentRecord | None:
        found = [s for s in self._stored.students.values() if s.student_id == student_id]
        return found[0] if found else None

    def students(self, student_pks: Collection[int]) -> dict[int, StudentRecord]:
        return {pk: s for pk, s in self._stored.students.items() if pk in student_pks}

    def tutors_of(self, student_pks: Collection[int]) -> dict[int, int | None]:
        return {pk: s.tutor_id for pk, s in self._stored.students.items() if pk in student_pks}

    def tutor_names(self, tutor_ids: Collection[int]) -> dict[int, str]:
        return {pk: name for pk, (name, _e) in self._stored.tutors.items() if pk in tutor_ids}


class FakeDoors:
    def __init__(self, stored: Stored) -> None:
        self._stored = stored

    def reader_modes(self) -> Mapping[tuple[str, str], ReaderMode]:
        return dict(self._stored.reader_modes)

    def holdings_for_hashes(self, hashes: Collection[str]) -> Sequence[FakeHolding]:
        students = {h.student_pk for h in self._stored.holdings if h.badge_hash in hashes}
        return [h for h in self._stored.holdings if h.student_pk in students]


class FakeChannelSettings:
    def __init__(self, rows: dict[str, ChannelSettings]) -> None:
        self._rows = rows

    def get(self, campus: str) -> ChannelSettings | None:
        return self._rows.get(campus)

    def save(self, campus: str, settings: ChannelSettings) -> None:
        self._rows[campus] = settings


class FakeChannelHealth:
    def __init__(
        self, rows: dict[tuple[str, str], ChannelHealth], deliveries: dict[int, DeliveryState]
    ) -> None:
        self._rows = rows
        self._deliveries = deliveries

    def states(self, campuses: Collection[str] | None = None) -> list[ChannelHealth]:
        return [
            self._rows[key] for key in sorted(self._rows) if campuses is None or key[0] in campuses
        ]

    def record_outcome(self, campus: str, channel: str, error: str, now: datetime) -> ChannelHealth:
        before = self._rows.get((campus, channel), ChannelHealth(campus, channel))
        after = after_success(before, now) if not error else after_failure(before, error, now)
        self._rows[(campus, channel)] = after
        return after

    def delivery_counts(self) -> DeliveryCounts:
        counts: DeliveryCounts = {}
        for item in self._deliveries.values():
            if item.status != "failed":
                name = item.status
            else:
                name = "given_up" if item.next_attempt_at is None else "retrying"
            entry = counts.setdefault(
                item.channel, {"sent": 0, "pending": 0, "retrying": 0, "given_up": 0}
            )
            entry[name] += 1
        return counts


class FakeUnitOfWork:
    """A transaction on copies of the stored state: ``commit`` puts them back."""

    def __init__(self, stored: Stored) -> None:
        self._stored = stored

    def __enter__(self) -> FakeUnitOfWork:
        self._alerts = copy.deepcopy(self._stored.alerts)
        self._calls = copy.deepcopy(self._stored.calls)
        self.alerts = FakeAlerts(self._alerts, self._stored)
        self.calls = FakeCalls(self._calls)
        self._deliveries = copy.deepcopy(self._stored.deliveries)
        self.deliveries = FakeDeliveries(self._deliveries, self._alerts)
        self.people = FakePeople(self._stored)
        self.doors = FakeDoors(self._stored)
        self._settings = dict(self._stored.channel_settings)
        self._health = dict(self._stored.channel_health)
        self._audit: list[dict[str, Any]] = list(self._stored.audit)
        self.channel_settings = FakeChannelSettings(self._settings)
        self.channel_health = FakeChannelHealth(self._health, self._deliveries)
        self.audit = FakeAuditTrail(self._audit)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        del self.alerts, self.calls, self.deliveries, self.people, self.doors  # no use after
        del self.channel_settings, self.channel_health, self.audit

    def commit(self) -> None:
        self._stored.alerts = copy.deepcopy(self._alerts)
        self._stored.calls = copy.deepcopy(self._calls)
        self._stored.deliveries = copy.deepcopy(self._deliveries)
        self._stored.channel_settings = copy.copy(self._settings)
        self._stored.channel_health = copy.copy(self._health)
        self._stored.audit = list(self._audit)
        self._stored.commits += 1


class FakeAbsenceChecks:
    def __init__(
        self, rows: dict[tuple[int, datetime], EvaluationRecord], marks: dict[str, datetime]
    ) -> None:
        self._rows = rows
        self._marks = marks

    def verdicts(
        self, campus: str, since: datetime, until: datetime
    ) -> dict[tuple[int, datetime], Verdict]:
        return {
            key: row.verdict
            for key, row in self._rows.items()
            if row.campus_id == campus and since < row.check_at <= until
        }

    def add(self, evaluations: Sequence[EvaluationRecord]) -> None:
        keys = [(item.student_pk, item.slot_start) for item in evaluations]
        if set(keys) & set(self._rows) or len(set(keys)) < len(keys):
            raise DuplicateEvaluation()  # nothing stored (one statement)
        self._rows.update(zip(keys, evaluations, strict=True))

    def recheck(self, evaluation: EvaluationRecord) -> None:
        key = (evaluation.student_pk, evaluation.slot_start)
        if key in self._rows:
            self._rows[key] = evaluation

    def marks(self, campuses: Collection[str]) -> dict[str, datetime]:
        return {campus: at for campus, at in self._marks.items() if campus in campuses}

    def mark(self, campus: str, at: datetime) -> datetime:
        return self._marks.setdefault(campus, at)


class FakeAbsenceUnitOfWork(FakeUnitOfWork):
    """The absence watcher's unit of work: the alert fakes, the presence fakes' store
    (read only) and the checks, on copies; ``savepoint`` restores what was done in it
    when it fails."""

    def __init__(self, stored: Stored, presence: presence_fakes.Stored) -> None:
        super().__init__(stored)
        self._presence = presence

    def __enter__(self) -> FakeAbsenceUnitOfWork:
        super().__enter__()
        self.presence = presence_fakes.FakePresenceStore(self._presence)
        self._evaluations = dict(self._stored.evaluations)
        self._marks = dict(self._stored.marks)
        self.checks = FakeAbsenceChecks(self._evaluations, self._marks)
        return self

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        kept = [
            (held, copy.deepcopy(held))
            for held in (self._alerts, self._calls, self._deliveries, self._evaluations)
        ]
        try:
            yield
        except BaseException:
            for held, before in kept:
                held.clear()
                held.update(before)  # type: ignore[arg-type]
            raise

    def commit(self) -> None:
        super().commit()
        self._stored.evaluations = dict(self._evaluations)
        self._stored.marks = dict(self._marks)


# What the alert use cases call besides their ports.


class Outbox:
    """A channel of the campus: it keeps what it sent, or fails as told."""

    def __init__(self, *, handles: bool = True) -> None:
        self._handles = handles
        self.sent: list[Notice] = []
        self.failure: Exception | None = None

    def handles(self, notice: Notice) -> bool:
        return self._handles

    def send(self, notice: Notice) -> None:
        if self.failure is not None:
            raise self.failure
        self.sent.append(notice)


class Told:
    """The real notification service on the fakes, with one e-mail channel: the steps
    it recorded (their "web" deliveries, in order) and the lanes it woke."""

    def __init__(self, stored: Stored) -> None:
        self._stored = stored
        self.email = Outbox()
        self.woken: list[tuple[str, str]] = []
        self.service = NotificationService(
            lambda: FakeUnitOfWork(stored), lambda campus: {"email": self.email}
        )
        self.service.wake = lambda campus, channel: self.woken.append((campus, channel))

    @property
    def steps(self) -> list[tuple[int, NoticeKind]]:
        rows = sorted(self._stored.deliveries.items())
        return [(row.alert_pk, NoticeKind(row.notice)) for _id, row in rows if row.channel == "web"]


class Corrections:
    """Records the excuses the use cases ask for (the corrections service's part)."""

    def __init__(self) -> None:
        self.excuses: list[tuple[str, datetime, datetime, Any]] = []

    def excuse(self, student_id: str, start: datetime, end: datetime, category: Any, **_: Any):
        self.excuses.append((student_id, start, end, category))
        return 77
