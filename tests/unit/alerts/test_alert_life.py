"""The one rule of an alert's life (domain.alerts.life): open → seen → called without
answer → next call due → escalated → closed; a correction of a call; whether an
absence still needed a call (the evidence)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.domain import alerts as rules
from server.domain.alerts import (
    AlertFact,
    AlertState,
    AlertStatus,
    CallLog,
    CallOutcome,
    CallPolicy,
    ReasonCategory,
    Resolution,
    Stage,
)
from server.domain.errors import DomainError

T0 = datetime(2026, 11, 23, 8, 15, tzinfo=UTC)  # 09:15 in Paris
OPEN = AlertState(AlertStatus.OPEN, T0)
POLICY = CallPolicy(
    first_call_within=timedelta(minutes=15),
    call_again_after=timedelta(minutes=30),
    escalate_after_attempts=3,
    escalate_after=timedelta(hours=2),
)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def no_answer(minutes: float) -> CallLog:
    return CallLog(at(minutes), CallOutcome.NO_ANSWER)


def test_a_new_alert_is_to_call_and_not_escalated_before_the_delay() -> None:
    life = rules.life(OPEN, [], POLICY, at(5))
    assert (life.stage, life.attempts, life.next_call_at, life.escalate_now) == (
        Stage.NEW,
        0,
        None,
        False,
    )
    seen = rules.acknowledge(OPEN, at(1))
    assert rules.life(seen, [], POLICY, at(5)).stage is Stage.SEEN


def test_no_answer_keeps_the_alert_open_with_the_next_call_due() -> None:
    state = rules.log_call(OPEN, no_answer(5), at(6))
    assert state.status is AlertStatus.ACKNOWLEDGED and state.closed_at is None
    assert state.called_at == at(5)
    waiting = rules.life(state, [no_answer(5)], POLICY, at(20))
    assert (waiting.stage, waiting.attempts, waiting.next_call_at) == (
        Stage.NO_ANSWER,
        1,
        at(35),
    )
    assert rules.life(state, [no_answer(5)], POLICY, at(35)).stage is Stage.CALL_DUE


def test_a_reached_call_after_no_answer_closes() -> None:
    state = rules.log_call(OPEN, no_answer(5), at(6))
    reached = CallLog(at(40), CallOutcome.REACHED)
    closed = rules.log_call(state, reached, at(41))
    assert (closed.status, closed.resolution, closed.called_at) == (
        AlertStatus.CLOSED,
        Resolution.CALLED,
        at(5),
    )
    life = rules.life(closed, [no_answer(5), reached], POLICY, at(50))
    assert life.closed and life.next_call_at is None and not life.escalate_now


def test_escalates_after_the_number_of_unanswered_calls() -> None:
    calls = [no_answer(5), no_answer(35)]
    assert not rules.life(OPEN, calls, POLICY, at(66)).escalate_now
    calls.append(no_answer(65))
    life = rules.life(OPEN, calls, POLICY, at(66))
    assert life.escalate_now and life.attempts == 3 and life.next_call_at == at(95)


@pytest.mark.parametrize(("minutes", "due"), [(119.9, False), (120, True)])
def test_escalates_after_the_delay_even_when_acknowledged(minutes: float, due: bool) -> None:
    seen = rules.acknowledge(OPEN, at(1))
    assert rules.life(seen, [], POLICY, at(minutes)).escalate_now is due


def test_a_wrong_number_escalates_at_once_with_no_next_call() -> None:
    wrong = CallLog(at(5), CallOutcome.WRONG_NUMBER)
    state = rules.log_call(OPEN, wrong, at(6))
    life = rules.life(state, [wrong], POLICY, at(6))
    assert life.escalate_now and life.next_call_at is None and not life.closed


def test_escalated_once_then_stays_escalated_until_closed() -> None:
    escalated = AlertState(AlertStatus.OPEN, T0, escalated_at=at(120))
    life = rules.life(escalated, [], POLICY, at(200))
    assert life.stage is Stage.ESCALATED and not life.escalate_now
    closed = rules.log_call(escalated, CallLog(at(201), CallOutcome.REACHED), at(201))
    assert rules.life(closed, [], POLICY, at(202)).stage is Stage.CLOSED


def test_an_excused_call_closes_even_without_an_answer() -> None:
    excused = CallLog(at(5), CallOutcome.NO_ANSWER, ReasonCategory.ILLNESS, excused=True)
    assert rules.log_call(OPEN, excused, at(6)).status is AlertStatus.CLOSED


def test_arrival_after_no_answer_closes_and_tells_the_tutor() -> None:
    state = rules.log_call(OPEN, no_answer(5), at(6))
    arrived, tell = rules.student_arrived(state, at(20), at(20))
    assert tell and arrived.resolution is Resolution.ARRIVED
    assert rules.life(arrived, [no_answer(5)], POLICY, at(21)).closed


def test_correcting_a_call_reopens_or_closes_the_alert() -> None:
    reached = CallLog(at(5), CallOutcome.REACHED)
    closed = rules.log_call(OPEN, reached, at(6))
    reopened = rules.correct_calls(closed, [no_answer(5)], at(30))
    assert (reopened.status, reopened.resolution, reopened.closed_at) == (
        AlertStatus.ACKNOWLEDGED,
        None,
        None,
    )
    assert rules.life(reopened, [no_answer(5)], POLICY, at(30)).stage is Stage.NO_ANSWER
    again = rules.correct_calls(reopened, [CallLog(at(4), CallOutcome.REACHED)], at(31))
    assert (again.status, again.called_at) == (AlertStatus.CLOSED, at(4))
    arrived, _ = rules.student_arrived(OPEN, at(3), at(3))
    assert rules.correct_calls(arrived, [], at(40)) == arrived  # closed by the arrival
    with pytest.raises(DomainError):
        rules.correct_calls(closed, [CallLog(at(90), CallOutcome.REACHED)], at(10))


@pytest.mark.parametrize(
    ("arrived", "called", "needed"),
    [(10, None, False), (14.9, None, False), (15, None, True), (40, None, True), (10, 5, True)],
)
def test_a_call_was_needed_unless_the_student_came_first(
    arrived: float, called: float | None, needed: bool
) -> None:
    state = OPEN
    if called is not None:
        state = rules.log_call(state, no_answer(called), at(called))
    state, _ = rules.student_arrived(state, at(arrived), at(arrived))
    assert rules.call_needed(state, POLICY) is needed


def test_evidence_counts_only_absences_that_needed_a_call() -> None:
    """The issue's case: three absences, one called the same day, one student who came
    before any call was needed: one of two, not one of three."""

    def fact(called: float | None, needed: bool = True) -> AlertFact:
        return AlertFact(
            "Alice Martin",
            T0,
            None,
            at(called) if called is not None else None,
            not needed,
            call_needed=needed,
        )

    (line, total) = rules.evidence(
        [fact(10), fact(None), fact(None, needed=False)], ZoneInfo("Europe/Paris")
    )
    assert (total.noticed, total.needing_call, total.called_same_day) == (3, 2, 1)
    assert total.as_dict()["called_same_day_share"] == 0.5
    assert line.tutor == "Alice Martin"


def test_an_incident_closes_by_itself_once() -> None:
    closed = rules.incident_over(OPEN, Resolution.READER_BACK, at(30))
    assert (closed.status, closed.resolution, closed.closed_at) == (
        AlertStatus.CLOSED,
        Resolution.READER_BACK,
        at(30),
    )
    assert rules.incident_over(closed, Resolution.READER_BACK, at(40)) == closed
    assert rules.life(closed, [], POLICY, at(41)).closed
    with pytest.raises(DomainError):
        rules.incident_over(OPEN, Resolution.CALLED, at(30))
