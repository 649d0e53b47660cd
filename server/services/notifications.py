"""The notification port: one :class:`Channel` interface for every way an alert is sent
(e-mail, SMS webhook, MQTT event), the :class:`Notice` they all render, and the
delivery records each notice leaves per channel (stored, retried, never lost).

A failing channel never blocks the others: each delivery is its own record, sent in
turn; a failure is stored with its error and retried with a growing delay by
:meth:`NotificationService.retry_due` (a periodic job). The web list is a channel too:
an alert is on it as soon as it is stored, so its delivery is recorded as sent at once.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import orm, select, update
from sqlalchemy.exc import IntegrityError

from server.domain.alerts import AlertKind
from server.registry.alert_models import AlertDelivery

log = logging.getLogger(__name__)

WEB = "web"
MAX_ATTEMPTS = 10
FIRST_RETRY = timedelta(seconds=30)
SEND_LEASE = timedelta(minutes=5)  # longer than any channel takes to send (SMTP, webhook)
LONGEST_RETRY = timedelta(hours=1)


TO_COORDINATORS = frozenset({AlertKind.READER_DOWN, AlertKind.CAPACITY})  # about the place
RAISED_AND_RESOLVED = TO_COORDINATORS  # incidents: told when raised and when over


class NoticeKind(StrEnum):
    RAISED = "raised"
    ESCALATED = "escalated"  # still open after the delay: the coordinator is told
    ARRIVED = "arrived"  # the student came in before the call: the alert closed
    RESOLVED = "resolved"  # closed by a call, a reader is back, a room under its limit


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class Notice:
    """Everything a channel may say about one alert at one step. Channels that leave
    the building without a trusted recipient (MQTT) must not use ``student``."""

    alert_id: str
    kind: AlertKind
    notice: NoticeKind
    campus: str
    ts: datetime  # when the step happened
    timezone: str
    url: str
    tutor: Person | None = None
    coordinators: tuple[str, ...] = ()
    student_id: str | None = None
    student: Person | None = None
    slot_start: datetime | None = None
    slot_end: datetime | None = None
    week: str | None = None
    expected_minutes: int | None = None
    recorded_minutes: int | None = None
    reader: str | None = None
    reader_state: str | None = None
    reader_last_seen: datetime | None = None
    room: str | None = None  # capacity: the room, None for the whole campus
    count: int | None = None  # capacity: people present when the limit was reached
    capacity: int | None = None  # capacity: the hard (fire-safety) limit
    escalation_minutes: int = 30

    @property
    def emails(self) -> tuple[str, ...]:
        """Who is written to: the tutor, or the coordinators for escalations, reader
        outages, capacity incidents and students without a tutor."""
        tutor = self.tutor.email if self.tutor and self.tutor.email else None
        to_coordinators = self.notice is NoticeKind.ESCALATED or self.kind in TO_COORDINATORS
        if to_coordinators or tutor is None:
            return self.coordinators
        return (tutor,)


class DeliveryFailed(RuntimeError):
    """The channel could not deliver; the message says why (no personal data)."""


class ChannelUnavailable(DeliveryFailed):
    """The channel cannot work in this process (e.g. no MQTT client in a CLI): the
    delivery stays pending for the server's retry job, without counting an attempt."""


class Channel(abc.ABC):
    name: str

    @abc.abstractmethod
    def handles(self, notice: Notice) -> bool:
        """Does this channel say anything for this step?"""

    @abc.abstractmethod
    def send(self, notice: Notice) -> None:
        """Deliver, or raise :class:`DeliveryFailed`."""


ChannelFactory = Callable[[str], Mapping[str, Channel]]  # campus id -> enabled channels
NoticeLoader = Callable[[orm.Session, int, NoticeKind], Notice]


def backoff(attempts: int) -> timedelta:
    """Delay before the next try after ``attempts`` failed ones: 30 s, 1 min, 2 min…"""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


class NotificationService:
    def __init__(
        self,
        registry: Callable[[], orm.Session],
        channels: ChannelFactory,
        load_notice: NoticeLoader,
    ) -> None:
        self.registry = registry
        self.channels = channels
        self.load_notice = load_notice

    def notify(
        self, alert_pk: int, notice: NoticeKind, now: datetime, *, send_now: bool = True
    ) -> list[int]:
        """Record one delivery per channel that handles this step (once: a repeated
        call adds nothing) and, unless ``send_now`` is false, try them at once."""
        with self.registry() as session:
            built = self.load_notice(session, alert_pk, notice)
        channels = self.channels(built.campus)
        names = [name for name, channel in channels.items() if channel.handles(built)]
        created = []
        for name in [WEB, *names]:
            delivery = self._record(alert_pk, notice, name, now)
            if delivery is not None:
                created.append(delivery)
        if send_now:
            self._attempt(created, now)
        return created

    def _record(self, alert_pk: int, notice: NoticeKind, channel: str, now: datetime) -> int | None:
        web = channel == WEB
        row = AlertDelivery(
            alert_pk=alert_pk,
            notice=notice.value,
            channel=channel,
            status="sent" if web else "pending",
            attempts=1 if web else 0,
            last_error="",
            created_at=now,
            next_attempt_at=None if web else now,
            sent_at=now if web else None,
        )
        try:
            with self.registry() as session, session.begin():
                session.add(row)
        except IntegrityError:
            return None  # already recorded (a repeated notice)
        return None if web else row.id

    def retry_due(self, now: datetime) -> int:
        """Try the deliveries whose next attempt is due (a periodic job); returns how
        many were sent."""
        with self.registry() as session:
            due = list(
                session.scalars(
                    select(AlertDelivery.id).where(
                        AlertDelivery.status.in_(("pending", "failed")),
                        AlertDelivery.next_attempt_at <= now,
                    )
                )
            )
        return self._attempt(due, now)

    def _attempt(self, delivery_ids: list[int], now: datetime) -> int:
        sent = 0
        for delivery_id in delivery_ids:
            try:
                sent += self._attempt_one(delivery_id, now)
            except Exception:
                log.exception("delivery %d could not be attempted", delivery_id)
        return sent

    def _attempt_one(self, delivery_id: int, now: datetime) -> bool:
        if not self._claim(delivery_id, now):
            return False  # sent already, or another thread is sending it right now
        with self.registry() as session:
            row = session.get(AlertDelivery, delivery_id)
            assert row is not None
            notice = self.load_notice(session, row.alert_pk, NoticeKind(row.notice))
        channel = self.channels(notice.campus).get(row.channel)
        error, counted = "", True
        if channel is None:
            error = "channel disabled for this campus"
        else:
            try:
                channel.send(notice)
            except ChannelUnavailable as failure:
                error, counted = str(failure), False
            except DeliveryFailed as failure:
                error = str(failure)
        self._store_outcome(delivery_id, error, counted, now)
        if not error:
            log.info("alert %s: %s notice sent by %s", notice.alert_id, row.notice, row.channel)
        else:
            log.warning(
                "alert %s: %s by %s failed: %s", notice.alert_id, row.notice, row.channel, error
            )
        return not error

    def _claim(self, delivery_id: int, now: datetime) -> bool:
        """Take the delivery for one attempt: its next attempt moves a lease ahead, so the
        inline send and the retry job never both send it (and a process that dies while
        sending leaves it to the retry job once the lease is over)."""
        with self.registry() as session, session.begin():
            claimed = session.execute(
                update(AlertDelivery)
                .where(
                    AlertDelivery.id == delivery_id,
                    AlertDelivery.status.in_(("pending", "failed")),
                    AlertDelivery.next_attempt_at <= now,
                )
                .values(next_attempt_at=now + SEND_LEASE)
            )
        return claimed.rowcount == 1

    def _store_outcome(self, delivery_id: int, error: str, counted: bool, now: datetime) -> None:
        with self.registry() as session, session.begin():
            row = session.get(AlertDelivery, delivery_id)
            assert row is not None
            if counted:
                row.attempts += 1
            if not error:
                row.status, row.sent_at, row.next_attempt_at, row.last_error = "sent", now, None, ""
                return
            row.last_error = error[:500]
            if not counted:
                row.next_attempt_at = now + FIRST_RETRY
            elif row.attempts >= MAX_ATTEMPTS:
                row.status, row.next_attempt_at = "failed", None  # given up: shown as failed
            else:
                row.status, row.next_attempt_at = "failed", now + backoff(row.attempts)
