"""What an alert's notification says and the port every channel implements: the
:class:`Notice` (one alert at one step), who is told (:attr:`Notice.emails`), the
:class:`Channel` interface (e-mail, SMS webhook, MQTT event) and its failures. Shared by
the notification service (``server.services.alerts.notifications``), the channels
(``server.adapters.alert_channels``) and the texts (``server.texts.alert_texts``)."""

from __future__ import annotations

import abc
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from server.domain.alerts import AlertKind

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
    coordinator_phones: tuple[str, ...] = ()  # as typed in their accounts, for SMS
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


@dataclass(frozen=True, slots=True)
class TestMessage:
    """A message an admin sends through a channel to check it works (no alert, no
    personal data): to the coordinators by e-mail, to the webhook, on MQTT."""

    campus: str
    ts: datetime
    subject: str
    text: str
    coordinators: tuple[str, ...] = ()
    id: str = ""


class Channel(abc.ABC):
    name: str

    @abc.abstractmethod
    def handles(self, notice: Notice) -> bool:
        """Does this channel say anything for this step?"""

    @abc.abstractmethod
    def send(self, notice: Notice) -> None:
        """Deliver, or raise :class:`DeliveryFailed`."""

    def send_test(self, message: TestMessage) -> None:
        """Send a test message now, or raise :class:`DeliveryFailed`."""
        raise DeliveryFailed(f"{self.name}: no test message for this channel")
