"""Alert lifecycle: acknowledge, call, arrival before and after the call, escalation,
call log validation, the evidence figures."""

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
    ReasonCategory,
    Resolution,
)
from server.domain.contracts import ExcuseCategory
from server.domain.errors import DomainError
from server.domain.ledger import WeekStatus

T0 = datetime(2026, 11, 23, 8, 15, 30, tzinfo=UTC)
OPEN = AlertState(AlertStatus.OPEN, T0)


def call(minutes: float = 5, **options) -> CallLog:
    return CallLog(T0 + timedelta(minutes=minutes), CallOutcome.REACHED, **options)


def test_acknowledge_then_call_closes() -> None:
    seen = rules.acknowledge(OPEN, T0 + timedelta(minutes=1))
    assert seen.status is AlertStatus.ACKNOWLEDGED
    assert rules.acknowledge(seen, T0 + timedelta(minutes=2)) == seen  # idempotent
    closed = rules.log_call(seen, call(), T0 + timedelta(minutes=6))
    assert (closed.status, closed.resolution) == (AlertStatus.CLOSED, Resolution.CALLED)
    assert closed.called_at == T0 + timedelta(minutes=5)


def test_a_call_closes_an_open_alert_and_counts_as_acknowledged() -> None:
    closed = rules.log_call(OPEN, call(), T0 + timedelta(minutes=6))
    assert closed.status is AlertStatus.CLOSED and closed.acknowledged_at is not None


def test_arrival_before_the_call_closes_and_tells_the_tutor() -> None:
    state, tell = rules.student_arrived(OPEN, T0 + timedelta(minutes=3), T0 + timedelta(minutes=3))
    assert tell and state.resolution is Resolution.ARRIVED and state.status is AlertStatus.CLOSED
    again, tell_again = rules.student_arrived(state, T0 + timedelta(minutes=4), T0)
    assert again == state and not tell_again


def test_arrival_after_the_call_is_recorded_only() -> None:
    called = rules.log_call(OPEN, call(), T0 + timedelta(minutes=6))
    state, tell = rules.student_arrived(called, T0 + timedelta(minutes=30), T0)
    assert not tell
    assert state.resolution is Resolution.CALLED and state.arrived_at == T0 + timedelta(minutes=30)


def test_a_closed_alert_refuses_calls_and_acknowledgements() -> None:
    arrived, _ = rules.student_arrived(OPEN, T0 + timedelta(minutes=3), T0)
    with pytest.raises(rules.AlertClosed):
        rules.log_call(arrived, call(10), T0 + timedelta(minutes=11))
    called = rules.log_call(OPEN, call(), T0 + timedelta(minutes=6))
    with pytest.raises(rules.AlertClosed):
        rules.log_call(called, call(7), T0 + timedelta(minutes=8))
    with pytest.raises(rules.AlertClosed):
        rules.acknowledge(called, T0 + timedelta(minutes=8))


def test_call_log_validation() -> None:
    with pytest.raises(DomainError):
        CallLog(datetime(2026, 11, 23, 9), CallOutcome.REACHED)  # naive
    with pytest.raises(DomainError):
        CallLog(T0, CallOutcome.REACHED, excused=True)  # excused without a category
    with pytest.raises(DomainError):
        rules.log_call(OPEN, call(60), T0 + timedelta(minutes=10))  # in the future
    with pytest.raises(DomainError):
        rules.log_call(OPEN, call(-60), T0)  # before the alert


def test_reason_categories_map_to_excuses() -> None:
    assert ReasonCategory.ILLNESS.excuse is ExcuseCategory.ILLNESS
    assert ReasonCategory.TRANSPORT.excuse is ExcuseCategory.OTHER


def test_shortfall_kinds() -> None:
    assert rules.shortfall_kind(WeekStatus.SHORT) is rules.AlertKind.SHORTFALL
    assert rules.shortfall_kind(WeekStatus.AT_RISK) is rules.AlertKind.EARLY_WARNING
    assert rules.shortfall_kind(WeekStatus.MET) is None


def test_evidence_per_tutor_and_total() -> None:
    def fact(tutor: str, call_after: float | None, *, arrived: bool = False) -> AlertFact:
        called = T0 + timedelta(minutes=call_after) if call_after is not None else None
        return AlertFact(tutor, T0, None, called, arrived, call_needed=not arrived)

    facts = [fact("a@x", 10), fact("a@x", 30), fact("a@x", None), fact("b@x", None, arrived=True)]
    lines = rules.evidence(facts, ZoneInfo("Europe/Paris"))
    assert [line.tutor for line in lines] == ["a@x", "b@x", ""]
    first = lines[0].as_dict()
    assert first["absences_noticed"] == 3 and first["called"] == 2
    assert first["called_share"] == round(2 / 3, 3)
    assert first["median_minutes_to_call"] == 20.0
    total = lines[-1]
    assert (total.noticed, total.called, total.arrived_before_call) == (4, 2, 1)
    assert lines[1].median_minutes_to_call is None
