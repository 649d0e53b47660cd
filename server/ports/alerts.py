"""What the alert use cases need from storage, as ports: a unit of work holding the
alerts, their calls and deliveries, the people they are about, who held a badge at a
door, each campus's alert channel settings, the channels' health and the delivery
counters, and the audit log.

The registry's adapter is in ``server.registry.alert_repository`` (the unit of work,
the settings) and ``server.registry.channel_health`` (the health); the unit tests of
:mod:`server.services.alerts` use in-memory fakes of these ports
(``tests/unit/alerts/fakes.py``), and one contract suite runs against both. Records are
plain values; nothing is written until the unit of work commits."""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol

from server.domain.absences import Verdict
from server.domain.alerts import (
    AlertFact,
    AlertKind,
    AlertState,
    AlertStatus,
    CallLog,
    CallOutcome,
    CallPolicy,
    ReasonCategory,
    Resolution,
)
from server.domain.deliveries import ChannelHealth
from server.domain.errors import Conflict
from server.domain.notices import Notice, NoticeKind
from server.domain.sessions import ReaderMode
from server.ports.accounts import AuditTrail
from server.ports.presence import PresenceStore


@dataclass(slots=True)
class AlertRecord:
    """An alert as stored (``alerts``): a use case changes it and ``save``s it."""

    public_id: str
    dedupe_key: str
    kind: str  # an AlertKind's value
    campus_id: str
    noticed_at: datetime
    status: str = AlertStatus.OPEN.value
    student_pk: int | None = None
    tutor_id: int | None = None
    slot_start: datetime | None = None
    slot_end: datetime | None = None
    week: str | None = None
    expected_minutes: int | None = None
    recorded_minutes: int | None = None
    reader_id: str | None = None
    reader_state: str | None = None
    reader_last_seen: datetime | None = None
    room_id: str | None = None  # capacity: None = the whole campus
    occupancy_count: int | None = None
    occupancy_capacity: int | None = None
    resolution: str | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str = ""
    called_at: datetime | None = None
    arrived_at: datetime | None = None
    escalated_at: datetime | None = None
    closed_at: datetime | None = None
    id: int | None = None  # given by ``Alerts.add``


@dataclass(slots=True)
class CallRecord:
    """A logged call (``alert_calls``): the campus's proof that it called the student."""

    alert_pk: int
    called_at: datetime
    outcome: str  # a CallOutcome's value
    reason_category: str | None
    reason: str
    excused: bool
    author: str
    created_at: datetime
    excused_absence_id: int | None = None
    id: int | None = None  # given by ``Calls.add``


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    """What a notice's delivery on one channel came to (read only here)."""

    notice: str
    channel: str
    status: str
    attempts: int
    last_error: str
    sent_at: datetime | None


@dataclass(slots=True)
class DeliveryState:
    """One notice of an alert on one channel (``alert_deliveries``), as the lanes that
    send it read and change it."""

    alert_pk: int
    notice: str  # a NoticeKind's value
    channel: str  # web | email | webhook | mqtt
    status: str  # pending | sent | failed
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime | None = None  # None: nothing more to try
    sent_at: datetime | None = None
    last_attempt_at: datetime | None = None
    claimed_by: str | None = None  # the process sending it now
    claimed_until: datetime | None = None  # until when that claim holds
    id: int | None = None  # given when stored


class DuplicateDelivery(Conflict):
    """A delivery of this alert, notice and channel is stored already: recorded
    meanwhile by another process."""

    code = "duplicate_delivery"


@dataclass(frozen=True, slots=True)
class StudentRecord:
    """Who an alert is about."""

    pk: int
    student_id: str
    campus_id: str
    tutor_id: int | None
    first_name: str
    last_name: str


class DuplicateAlert(Conflict):
    """An alert with this key (or of this student for this slot) is stored already:
    raised meanwhile by another process."""

    code = "duplicate_alert"


def new_public_id() -> str:
    return f"alert-{secrets.token_hex(8)}"


def new_alert(
    kind: AlertKind, key: str, campus: str, now: datetime, **values: object
) -> AlertRecord:
    """A new open alert (``Alerts.add`` stores it); ``key`` keeps it unique."""
    return AlertRecord(
        public_id=new_public_id(),
        dedupe_key=key,
        kind=kind.value,
        campus_id=campus,
        noticed_at=now,
        **values,  # type: ignore[arg-type]
    )


class Holding(Protocol):
    """A student holding a badge (by its hash) for a while."""

    @property
    def badge_hash(self) -> str: ...

    @property
    def student_pk(self) -> int: ...

    def holds_at(self, moment: datetime) -> bool: ...


def state_of(alert: AlertRecord) -> AlertState:
    """An alert's state as the domain's value (``domain.alerts``)."""
    return AlertState(
        status=AlertStatus(alert.status),
        noticed_at=alert.noticed_at,
        acknowledged_at=alert.acknowledged_at,
        called_at=alert.called_at,
        arrived_at=alert.arrived_at,
        escalated_at=alert.escalated_at,
        closed_at=alert.closed_at,
        resolution=Resolution(alert.resolution) if alert.resolution else None,
    )


def apply_state(alert: AlertRecord, state: AlertState) -> None:
    """The domain's new state onto the record (``save`` it)."""
    alert.status = state.status.value
    alert.acknowledged_at = state.acknowledged_at
    alert.called_at = state.called_at
    alert.arrived_at = state.arrived_at
    alert.escalated_at = state.escalated_at
    alert.closed_at = state.closed_at
    alert.resolution = state.resolution.value if state.resolution else None


def call_of(call: CallRecord) -> CallLog:
    """A logged call as the domain's value."""
    return CallLog(
        call.called_at,
        CallOutcome(call.outcome),
        ReasonCategory(call.reason_category) if call.reason_category else None,
        call.reason,
        call.excused,
    )


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    """How a campus's alerts are sent (the admin's *Alert channels* page), with the
    defaults of a campus that saved none. Secrets are never stored: only the NAME of the
    environment variable holding each one."""

    base_url: str = ""
    coordinator_emails: str = ""  # comma-separated
    escalation_minutes: int = 30
    email_enabled: bool = False
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password_env: str = "CAMPUS_SMTP_PASSWORD"  # noqa: S105 - a variable's name
    from_address: str = ""
    webhook_enabled: bool = False
    webhook_url: str = ""
    webhook_secret_env: str = "CAMPUS_WEBHOOK_SECRET"  # noqa: S105 - a variable's name
    mqtt_enabled: bool = True


# Deliveries by channel and state: {"email": {"sent": 3, "pending": 0, "retrying": 1,
# "given_up": 0}, ...}
DeliveryCounts = dict[str, dict[str, int]]


class ChannelSettingsStore(Protocol):
    def get(self, campus: str) -> ChannelSettings | None:
        """The campus's saved settings; None when it saved none."""
        ...

    def save(self, campus: str, settings: ChannelSettings) -> None: ...


class ChannelHealthLog(Protocol):
    """Each campus's channels' health (``server.domain.deliveries``), shared by every
    server process, and the counters of the deliveries."""

    def states(self, campuses: Collection[str] | None = None) -> list[ChannelHealth]:
        """The channels' health (of these campuses, or all), by campus and channel."""
        ...

    def record_outcome(self, campus: str, channel: str, error: str, now: datetime) -> ChannelHealth:
        """One attempt on the channel ended (``error`` empty: it worked)."""
        ...

    def delivery_counts(self) -> DeliveryCounts:
        """Deliveries by channel and state: ``sent``, ``pending`` (never tried yet),
        ``retrying`` (failed, tried again later) and ``given_up``."""
        ...


class Alerts(Protocol):
    def by_public_id(self, public_id: str) -> AlertRecord | None: ...

    def by_key(self, dedupe_key: str) -> AlertRecord | None: ...

    def add(self, record: AlertRecord) -> AlertRecord:
        """Stored with its new ``id``; :class:`DuplicateAlert` when its key (or its
        student and slot) is taken."""
        ...

    def save(self, record: AlertRecord) -> None: ...

    def add_many(self, records: Sequence[AlertRecord]) -> list[int]:
        """Store new alerts at once (many: one statement), each given its ``id``;
        their ids, in order. :class:`DuplicateAlert` when one's key (or its student and
        slot) is taken."""
        ...

    def open_reader_down(self, campus: str, reader: str) -> AlertRecord | None: ...

    def open_readers_down(self, campuses: Collection[str]) -> dict[tuple[str, str], AlertRecord]:
        """The open ``reader_down`` alerts of these campuses, by (campus, reader)."""
        ...

    def open_capacity(self, campus: str, room: str | None) -> AlertRecord | None:
        """The open capacity alert of a room (``None``: the whole campus)."""
        ...

    def unresolved_absences(self, student_pks: Collection[int]) -> list[AlertRecord]:
        """Absence alerts of these students still waiting for a call or an arrival
        (closed ones too while the arrival is unknown: a late arrival is recorded)."""
        ...

    def open_alerts(self) -> list[AlertRecord]:
        """Alerts not closed yet (open or acknowledged)."""
        ...

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
        """Newest first: every alert, or those not closed (``open_only``; with
        ``closed_since``, those closed since then too), noticed since ``since``, of one
        campus, tutor, kind."""
        ...

    def tutor_ids(self, campus: str) -> set[int]:
        """The tutors of the campus's students and of its alerts."""
        ...

    def facts(
        self, start: datetime, end: datetime, campus: str | None, policy: CallPolicy
    ) -> list[AlertFact]:
        """Absence alerts noticed in ``[start, end)`` (of one campus, or all), for the
        evidence report; each tutor by name."""
        ...

    def notices(self, steps: Sequence[tuple[int, NoticeKind]]) -> list[Notice]:
        """The notices of these steps (alert, step), in order, with the people they are
        about and the link each recipient opens."""
        ...

    def deliveries(self, alert_pk: int) -> list[DeliveryRecord]:
        """Oldest first."""
        ...


class Deliveries(Protocol):
    """The deliveries of the alerts' notices: recorded once per (alert, notice,
    channel), claimed by one process at a time, retried from the store."""

    def known(self, alert_pks: Collection[int]) -> set[tuple[int, str, str]]:
        """(alert, notice, channel) of the deliveries of these alerts."""
        ...

    def add(self, deliveries: Sequence[DeliveryState]) -> None:
        """Store new deliveries at once (many: one statement);
        :class:`DuplicateDelivery` when one is there already."""
        ...

    def get(self, delivery_id: int) -> DeliveryState | None: ...

    def save(self, delivery: DeliveryState) -> None: ...

    def due_lanes(self, now: datetime) -> set[tuple[str, str]]:
        """The (campus, channel) lanes with a delivery to try now: pending or failed but
        not given up, its time come, and no live claim of any process on it."""
        ...

    def count_due(self, now: datetime) -> int: ...

    def next_due(
        self, now: datetime, campus: str | None = None, channel: str | None = None
    ) -> int | None:
        """The id of the next delivery to try now (of a lane, or any): the earliest
        due, then the oldest."""
        ...

    def claim(self, delivery_id: int, now: datetime, owner: str, until: datetime) -> bool:
        """Take the delivery for ``owner`` until ``until``, only if it is still due and
        unclaimed (one statement: two claimants never both win)."""
        ...

    def release(self, delivery_id: int, owner: str) -> None:
        """Free ``owner``'s claim on the delivery (it is tried again later)."""
        ...


class Calls(Protocol):
    def of(self, alert_pk: int) -> list[CallRecord]:
        """The alert's calls, oldest first."""
        ...

    def logs_of(self, alert_pks: Collection[int]) -> dict[int, list[CallLog]]:
        """The calls of these alerts as domain values, oldest first (an entry for each)."""
        ...

    def add(self, record: CallRecord) -> CallRecord: ...

    def save(self, record: CallRecord) -> None: ...


class People(Protocol):
    def student(self, student_pk: int) -> StudentRecord | None: ...

    def student_by_id(self, student_id: str) -> StudentRecord | None: ...

    def students(self, student_pks: Collection[int]) -> dict[int, StudentRecord]: ...

    def tutors_of(self, student_pks: Collection[int]) -> dict[int, int | None]:
        """Each student's tutor (None without one), read in bulk."""
        ...

    def tutor_names(self, tutor_ids: Collection[int]) -> dict[int, str]:
        """How each tutor is shown to people (their name, else their account's display
        name, else their e-mail)."""
        ...


class Doors(Protocol):
    """Who held a badge at a door: what a late arrival is read from."""

    def reader_modes(self) -> Mapping[tuple[str, str], ReaderMode]:
        """Each (campus, reader)'s mode; a reader not listed toggles."""
        ...

    def holdings_for_hashes(self, hashes: Collection[str]) -> Sequence[Holding]:
        """Holdings of these hashes, and every other badge of the students holding them."""
        ...


class AlertsUnitOfWork(Protocol):
    """One transaction: ``with uow: ...; uow.commit()``; leaving without ``commit``
    discards every change."""

    alerts: Alerts
    calls: Calls
    deliveries: Deliveries
    people: People
    doors: Doors
    channel_settings: ChannelSettingsStore
    channel_health: ChannelHealthLog
    audit: AuditTrail

    def __enter__(self) -> AlertsUnitOfWork: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...


# The absence watcher's checks (``server.services.alerts.absence_watcher``).


@dataclass(frozen=True, slots=True)
class EvaluationRecord:
    """What the check of one slot occurrence found (``absence_evaluations``): one per
    (student, slot start)."""

    student_pk: int
    campus_id: str
    slot_start: datetime
    slot_end: datetime
    check_at: datetime
    verdict: Verdict
    evaluated_at: datetime


class DuplicateEvaluation(Conflict):
    """This slot occurrence was evaluated (or this campus's mark made) meanwhile, by
    another worker."""

    code = "duplicate_evaluation"


class AbsenceChecks(Protocol):
    """The evaluations of the slot occurrences checked, and each campus's mark (when the
    watcher first ran there)."""

    def verdicts(
        self, campus: str, since: datetime, until: datetime
    ) -> dict[tuple[int, datetime], Verdict]:
        """The verdicts of the campus's occurrences checked in ``(since, until]``, by
        (student, slot start)."""
        ...

    def add(self, evaluations: Sequence[EvaluationRecord]) -> None:
        """Store new evaluations at once (many: one statement);
        :class:`DuplicateEvaluation` when one's occurrence is evaluated already."""
        ...

    def recheck(self, evaluation: EvaluationRecord) -> None:
        """A held occurrence checked again: its stored evaluation becomes this one
        (nothing when it is gone meanwhile, e.g. erased)."""
        ...

    def marks(self, campuses: Collection[str]) -> dict[str, datetime]:
        """The marks of these campuses that have one."""
        ...

    def mark(self, campus: str, at: datetime) -> datetime:
        """The campus's mark, made ``at`` when it has none."""
        ...


class AbsenceUnitOfWork(AlertsUnitOfWork, Protocol):
    """The alert ports with, in the same transaction, the presence reads the checks
    need and the checks themselves; ``savepoint()`` undoes what is done in it when it
    fails, and only that."""

    presence: PresenceStore
    checks: AbsenceChecks

    def __enter__(self) -> AbsenceUnitOfWork: ...

    def savepoint(self) -> AbstractContextManager[None]: ...
