"""Alerts to tutors and coordinators, and the call log that closes them (pure).

An absence alert is ``open`` when raised, ``acknowledged`` when the tutor saw it, and
``closed`` by a call log entry (the campus's proof that it called), or automatically when
the student arrives before the tutor called. Nothing here reads a clock: ``now`` is given.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from server.domain.contracts import ExcuseCategory
from server.domain.errors import Conflict, DomainError
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


class Stage(StrEnum):
    """Where an alert stands for the people who must act on it (see :func:`life`)."""

    NEW = "new"  # nobody has seen it yet
    SEEN = "seen"  # acknowledged, not called yet
    NO_ANSWER = "no_answer"  # the last call was not answered: next call at ``next_call_at``
    CALL_DUE = "call_due"  # after an unanswered call, the next call is due now
    ESCALATED = "escalated"  # the coordinator was told; still not closed
    CLOSED = "closed"


#: Outcomes of a call that did not reach the student: the alert stays open.
UNREACHED = frozenset({CallOutcome.NO_ANSWER, CallOutcome.WRONG_NUMBER})


@dataclass(frozen=True, slots=True)
class CallPolicy:
    """How a campus expects its tutors to call (``[presence]`` settings, and the
    escalation delay of the campus's alert channels)."""

    first_call_within: timedelta = timedelta(minutes=15)  # an arrival before: no call needed
    call_again_after: timedelta = timedelta(minutes=30)  # after "no answer"
    escalate_after_attempts: int = 3  # unanswered calls before the coordinator is told
    escalate_after: timedelta = timedelta(minutes=30)  # not closed this long after notice


@dataclass(frozen=True, slots=True)
class AlertLife:
    """What every view shows of an alert, and what may be done with it now."""

    stage: Stage
    attempts: int  # calls that did not reach the student
    next_call_at: datetime | None  # when the next call is due (None: none expected)
    escalate_now: bool  # the coordinator must be told now (not told yet)

    @property
    def closed(self) -> bool:
        return self.stage is Stage.CLOSED

    @property
    def escalated(self) -> bool:
        return self.stage is Stage.ESCALATED


class AlertClosed(Conflict):
    """A closed alert takes no new call nor acknowledgement; a logged call is fixed
    through its own correction."""

    code = "alert_closed"

    def __init__(self) -> None:
        super().__init__(
            "This alert is closed: it takes no new call or acknowledgement. "
            "To fix a call already logged, correct that call."
        )


def closes(call: CallLog) -> bool:
    """Does this call close its alert? Reaching the student (or leaving a message) does;
    an excused absence does; no answer or a wrong number does not."""
    return call.excused or call.outcome not in UNREACHED


def life(
    state: AlertState, calls: Sequence[CallLog], policy: CallPolicy, now: datetime
) -> AlertLife:
    """The one rule of an alert's life: open → seen → called without answer → next
    call due → escalated → closed. Every screen, job and API reads it."""
    unreached = sorted(
        (call for call in calls if not closes(call)), key=lambda call: call.called_at
    )
    attempts = len(unreached)
    if state.status is AlertStatus.CLOSED:
        return AlertLife(Stage.CLOSED, attempts, None, False)
    next_call_at = None
    if unreached and unreached[-1].outcome is CallOutcome.NO_ANSWER:
        next_call_at = unreached[-1].called_at + policy.call_again_after
    escalate = state.escalated_at is None and (
        attempts >= policy.escalate_after_attempts
        or any(call.outcome is CallOutcome.WRONG_NUMBER for call in unreached)
        or now >= state.noticed_at + policy.escalate_after
    )
    if state.escalated_at is not None:
        stage = Stage.ESCALATED
    elif next_call_at is not None:
        stage = Stage.CALL_DUE if now >= next_call_at else Stage.NO_ANSWER
    elif state.acknowledged_at is not None or attempts:
        stage = Stage.SEEN
    else:
        stage = Stage.NEW
    return AlertLife(stage, attempts, next_call_at, escalate)


def acknowledge(state: AlertState, now: datetime) -> AlertState:
    """The tutor saw the alert (idempotent); a closed alert refuses it."""
    if state.status is AlertStatus.CLOSED:
        raise AlertClosed()
    if state.acknowledged_at is not None:
        return state
    return replace(state, status=AlertStatus.ACKNOWLEDGED, acknowledged_at=now)


def log_call(state: AlertState, call: CallLog, now: datetime) -> AlertState:
    """A call is logged. It closes the alert unless it did not reach the student (then
    the alert stays open, the next call due: see :func:`life`). A closed alert refuses
    new calls."""
    _check_call_time(state, call, now)
    if state.status is AlertStatus.CLOSED:
        raise AlertClosed()
    called_at = min(state.called_at or call.called_at, call.called_at)
    seen = replace(
        state,
        status=AlertStatus.ACKNOWLEDGED,
        acknowledged_at=state.acknowledged_at or now,
        called_at=called_at,
    )
    if not closes(call):
        return seen
    return replace(seen, status=AlertStatus.CLOSED, closed_at=now, resolution=Resolution.CALLED)


def correct_calls(state: AlertState, calls: Sequence[CallLog], now: datetime) -> AlertState:
    """The calls of an alert after one of them was corrected: closed by a call when one
    of them closes it, open again (acknowledged) when none does any more. An alert
    closed otherwise (arrival, reader back) stays as it is."""
    for call in calls:
        _check_call_time(state, call, now)
    called_at = min((call.called_at for call in calls), default=None)
    state = replace(state, called_at=called_at)
    closing = any(closes(call) for call in calls)
    if state.status is AlertStatus.CLOSED and state.resolution is not Resolution.CALLED:
        return state
    if closing and state.status is not AlertStatus.CLOSED:
        return replace(
            state, status=AlertStatus.CLOSED, closed_at=now, resolution=Resolution.CALLED
        )
    if not closing and state.status is AlertStatus.CLOSED:
        return replace(state, status=AlertStatus.ACKNOWLEDGED, closed_at=None, resolution=None)
    return state


def _check_call_time(state: AlertState, call: CallLog, now: datetime) -> None:
    if call.called_at > now + CALL_CLOCK_SKEW:
        raise DomainError("a call cannot be logged in the future")
    if call.called_at < state.noticed_at - CALL_CLOCK_SKEW:
        raise DomainError("a call cannot be before the alert it answers")


def student_arrived(state: AlertState, at: datetime, now: datetime) -> tuple[AlertState, bool]:
    """The student came in at ``at``. Before the student was reached, the alert closes
    by itself and the tutor is told (second value True); after it, the late arrival is
    only kept."""
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


def incident_over(state: AlertState, resolution: Resolution, now: datetime) -> AlertState:
    """An incident alert (a reader down, a room over capacity) closes by itself when it
    is over (idempotent: a closed alert stays as it was closed)."""
    if resolution not in (Resolution.READER_BACK, Resolution.CAPACITY_BACK):
        raise DomainError("only an incident closes by itself")
    if state.status is AlertStatus.CLOSED:
        return state
    return replace(state, status=AlertStatus.CLOSED, closed_at=now, resolution=resolution)


def call_needed(state: AlertState, policy: CallPolicy) -> bool:
    """Did this absence still need a call? Not when the student arrived, before anyone
    called, within the time a first call is expected (the alert closed by itself)."""
    return not (
        state.resolution is Resolution.ARRIVED
        and state.called_at is None
        and state.arrived_at is not None
        and state.arrived_at < state.noticed_at + policy.first_call_within
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
    call_needed: bool = True  # see :func:`call_needed`: False when the student came first


@dataclass(frozen=True, slots=True)
class EvidenceLine:
    tutor: str  # "" for the total line
    noticed: int
    acknowledged: int
    called: int
    called_same_day: int
    arrived_before_call: int  # the student came before a call was needed
    median_minutes_to_call: float | None
    excused: int = 0

    @property
    def needing_call(self) -> int:
        """The absences that still needed a call: the shares are of these."""
        return self.noticed - self.arrived_before_call

    def as_dict(self) -> dict[str, object]:
        def share(count: int) -> float | None:
            return round(count / self.needing_call, 3) if self.needing_call else None

        return {
            "tutor": self.tutor or None,
            "absences_noticed": self.noticed,
            "needing_call": self.needing_call,
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
    """Per tutor (sorted by name), then the total (tutor ""): absences noticed, those
    that still needed a call (:func:`call_needed`), and of these: acknowledged, called
    (the same local day too), and the median time from notice to call."""
    by_tutor: dict[str, list[AlertFact]] = defaultdict(list)
    everything: list[AlertFact] = []
    for fact in facts:
        by_tutor[fact.tutor].append(fact)
        everything.append(fact)
    lines = [_line(tutor, items, tz) for tutor, items in sorted(by_tutor.items())]
    return [*lines, _line("", everything, tz)]


def _line(tutor: str, facts: list[AlertFact], tz: ZoneInfo) -> EvidenceLine:
    needing = [fact for fact in facts if fact.call_needed]
    called = [fact for fact in needing if fact.called_at is not None]
    delays = [(fact.called_at - fact.noticed_at).total_seconds() / 60 for fact in called]  # type: ignore[operator]
    same_day = sum(
        1
        for fact in called
        if fact.called_at.astimezone(tz).date() == fact.noticed_at.astimezone(tz).date()  # type: ignore[union-attr]
    )
    return EvidenceLine(
        tutor=tutor,
        noticed=len(facts),
        acknowledged=sum(1 for f in needing if f.acknowledged_at is not None or f.called_at),
        called=len(called),
        called_same_day=same_day,
        arrived_before_call=len(facts) - len(needing),
        median_minutes_to_call=round(statistics.median(delays), 1) if delays else None,
        excused=sum(1 for fact in facts if fact.excused),
    )
