"""Alerts to tutors and coordinators, and the call log that closes them (pure).

An absence alert is ``open`` when raised, ``acknowledged`` when the tutor saw it, and
``closed`` by a call log entry (the campus's proof that it called), or automatically when
the student arrives before the tutor called. Nothing here reads a clock: ``now`` is given.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from server.domain.contracts import DomainError, ExcuseCategory
from server.domain.ledger import WeekStatus

MAX_REASON_CHARS = 2000
CALL_CLOCK_SKEW = timedelta(minutes=5)  # a call logged "now" from a slow phone clock


class AlertKind(StrEnum):
    ABSENCE = "absence"
    SHORTFALL = "shortfall"  # the week ended short of the committed hours
    EARLY_WARNING = "early_warning"  # mid-week: the hours can no longer be made
    READER_DOWN = "reader_down"  # absences are held while a door reader is down
    CAPACITY = "capacity"  # a room (or the campus) reached its hard (fire-safety) limit


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    CLOSED = "closed"


class Resolution(StrEnum):
    CALLED = "called"  # closed by a call log entry
    ARRIVED = "arrived"  # the student arrived before the tutor called
    READER_BACK = "reader_back"  # a reader_down alert: the reader works again
    CAPACITY_BACK = "under_limit"  # a capacity alert: the count fell back under the limit


class CallOutcome(StrEnum):
    REACHED = "reached"
    VOICEMAIL = "voicemail"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"


class ReasonCategory(StrEnum):
    ILLNESS = "illness"
    TRANSPORT = "transport"
    FAMILY = "family"
    WORK = "work"
    EXAM = "exam"
    OTHER = "other"

    @property
    def excuse(self) -> ExcuseCategory:
        """The excused-absence category recorded when the tutor excuses the absence."""
        return {
            ReasonCategory.ILLNESS: ExcuseCategory.ILLNESS,
            ReasonCategory.FAMILY: ExcuseCategory.FAMILY,
            ReasonCategory.EXAM: ExcuseCategory.EXAM,
        }.get(self, ExcuseCategory.OTHER)


@dataclass(frozen=True, slots=True)
class CallLog:
    """A tutor's call about an alert: when, what came of it, what reason was given."""

    called_at: datetime
    outcome: CallOutcome
    category: ReasonCategory | None = None
    reason: str = ""
    excused: bool = False

    def __post_init__(self) -> None:
        if self.called_at.tzinfo is None:
            raise DomainError("called_at needs a time zone offset")
        if len(self.reason) > MAX_REASON_CHARS:
            raise DomainError("the reason is longer than {limit} characters", limit=2000)
        if self.excused and self.category is None:
            raise DomainError("an excused absence needs a reason category")


@dataclass(frozen=True, slots=True)
class AlertState:
    status: AlertStatus
    noticed_at: datetime
    acknowledged_at: datetime | None = None
    called_at: datetime | None = None
    arrived_at: datetime | None = None
    escalated_at: datetime | None = None
    closed_at: datetime | None = None
    resolution: Resolution | None = None


def acknowledge(state: AlertState, now: datetime) -> AlertState:
    """The tutor saw the alert (idempotent; a closed alert stays closed)."""
    if state.acknowledged_at is not None:
        return state
    status = AlertStatus.ACKNOWLEDGED if state.status is AlertStatus.OPEN else state.status
    return replace(state, status=status, acknowledged_at=now)


def log_call(state: AlertState, call: CallLog, now: datetime) -> AlertState:
    """A call is logged: it closes the alert (more calls may follow a voicemail)."""
    if call.called_at > now + CALL_CLOCK_SKEW:
        raise DomainError("a call cannot be logged in the future")
    if call.called_at < state.noticed_at - CALL_CLOCK_SKEW:
        raise DomainError("a call cannot be before the alert it answers")
    called_at = min(state.called_at or call.called_at, call.called_at)
    if state.status is AlertStatus.CLOSED:
        return replace(state, called_at=called_at)
    return replace(
        state,
        status=AlertStatus.CLOSED,
        acknowledged_at=state.acknowledged_at or now,
        called_at=called_at,
        closed_at=now,
        resolution=Resolution.CALLED,
    )


def student_arrived(state: AlertState, at: datetime, now: datetime) -> tuple[AlertState, bool]:
    """The student came in at ``at``. Before any call, the alert closes by itself and
    the tutor is told (second value True); after it, the late arrival is only kept."""
    if state.arrived_at is not None:
        return state, False
    if state.status is AlertStatus.CLOSED:
        return replace(state, arrived_at=at), False
    closed = replace(
        state,
        status=AlertStatus.CLOSED,
        arrived_at=at,
        closed_at=now,
        resolution=Resolution.ARRIVED,
    )
    return closed, True


def escalation_due(state: AlertState, now: datetime, delay: timedelta) -> bool:
    """Still open (nobody acknowledged) after ``delay``: the coordinator must know."""
    return (
        state.status is AlertStatus.OPEN
        and state.escalated_at is None
        and now >= state.noticed_at + delay
    )


def shortfall_kind(status: WeekStatus) -> AlertKind | None:
    if status is WeekStatus.SHORT:
        return AlertKind.SHORTFALL
    if status is WeekStatus.AT_RISK:
        return AlertKind.EARLY_WARNING
    return None


# --------------------------------------------------------------------------- events


@dataclass(frozen=True, slots=True)
class AbsenceNoticed:
    alert_id: str
    campus: str
    student_id: str
    slot_start: datetime
    slot_end: datetime
    noticed_at: datetime


@dataclass(frozen=True, slots=True)
class AbsenceHeld:
    """A check could not be trusted (a door reader was down): held, not alerted."""

    campus: str
    student_id: str
    slot_start: datetime
    readers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ShortfallNoticed:
    alert_id: str
    campus: str
    student_id: str
    week: str
    early: bool


# --------------------------------------------------------------------------- evidence


@dataclass(frozen=True, slots=True)
class AlertFact:
    """What the evidence report needs of one absence alert."""

    tutor: str
    noticed_at: datetime
    acknowledged_at: datetime | None
    called_at: datetime | None
    arrived_first: bool  # closed because the student came in before any call
    excused: bool = False  # a call recorded an excuse (illness, exam…)


@dataclass(frozen=True, slots=True)
class EvidenceLine:
    tutor: str  # "" for the total line
    noticed: int
    acknowledged: int
    called: int
    called_same_day: int
    arrived_before_call: int
    median_minutes_to_call: float | None
    excused: int = 0

    def as_dict(self) -> dict[str, object]:
        def share(count: int) -> float | None:
            return round(count / self.noticed, 3) if self.noticed else None

        return {
            "tutor": self.tutor or None,
            "absences_noticed": self.noticed,
            "acknowledged": self.acknowledged,
            "acknowledged_share": share(self.acknowledged),
            "called": self.called,
            "called_share": share(self.called),
            "called_same_day_share": share(self.called_same_day),
            "arrived_before_call": self.arrived_before_call,
            "median_minutes_to_call": self.median_minutes_to_call,
            "excused": self.excused,
        }


def evidence(facts: Iterable[AlertFact], tz: ZoneInfo) -> list[EvidenceLine]:
    """Per tutor (sorted), then the total (tutor ""): absences noticed, acknowledged,
    called (the same local day too), and the median time from notice to call."""
    by_tutor: dict[str, list[AlertFact]] = defaultdict(list)
    everything: list[AlertFact] = []
    for fact in facts:
        by_tutor[fact.tutor].append(fact)
        everything.append(fact)
    lines = [_line(tutor, items, tz) for tutor, items in sorted(by_tutor.items())]
    return [*lines, _line("", everything, tz)]


def _line(tutor: str, facts: list[AlertFact], tz: ZoneInfo) -> EvidenceLine:
    called = [fact for fact in facts if fact.called_at is not None]
    delays = [(fact.called_at - fact.noticed_at).total_seconds() / 60 for fact in called]  # type: ignore[operator]
    same_day = sum(
        1
        for fact in called
        if fact.called_at.astimezone(tz).date() == fact.noticed_at.astimezone(tz).date()  # type: ignore[union-attr]
    )
    return EvidenceLine(
        tutor=tutor,
        noticed=len(facts),
        acknowledged=sum(1 for f in facts if f.acknowledged_at is not None or f.called_at),
        called=len(called),
        called_same_day=same_day,
        arrived_before_call=sum(1 for fact in facts if fact.arrived_first),
        median_minutes_to_call=round(statistics.median(delays), 1) if delays else None,
        excused=sum(1 for fact in facts if fact.excused),
    )
