"""The one rule for a slot's outcome (domain.slots), with fixed instants."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from server.domain.calendar import CampusCalendar, Hours, IsoWeek, Period
from server.domain.contracts import Contract, ExcuseCategory, Slot
from server.domain.sessions import Session, SessionState
from server.domain.slots import (
    Excuse,
    NotDue,
    Opening,
    Presence,
    SlotState,
    reachable,
    slot_outcome,
    week_outcomes,
)
from tests.unit.presence.helpers import at, calendar

MONDAY = date(2026, 11, 23)
SLOT = Slot(0, time(8), time(12))
CONTRACT = Contract(12 * 60, (SLOT,), date(2026, 9, 1))
GRACE = timedelta(minutes=15)


def outcome(cal=None, sessions=(), now=None, excuses=(), contract=CONTRACT, slot=SLOT):
    cal = cal or calendar()
    opening = Opening.of(cal, MONDAY - timedelta(days=1), MONDAY + timedelta(days=1))
    return slot_outcome(
        MONDAY,
        slot,
        contract,
        opening,
        excused=excuses,
        presence=Presence.of(sessions),
        grace=GRACE,
        now=now or at(MONDAY, 13),
    )


def opens(hour: int, minute: int = 0) -> CampusCalendar:
    return calendar(weekly={0: (Hours(time(hour, minute), time(19)),)})


def test_case_a_a_slot_before_opening_is_expected_from_opening_and_the_grace_runs_from_there():
    sessions = [Session(at(MONDAY, 8, 35), at(MONDAY, 12))]
    found = outcome(opens(8, 30), sessions)
    assert found.is_due and found.expected_from == at(MONDAY, 8, 30)
    assert found.check_at == at(MONDAY, 8, 45)
    assert found.late_by == timedelta(minutes=5)
    assert found.state is SlotState.PRESENT  # 5 min after, within the 15 min grace
    assert found.expected_s == 3 * 3600 + 1800  # the campus is closed 08:00-08:30
    assert found.attended_s == 3 * 3600 + 25 * 60


def test_arriving_after_the_grace_is_late_by_the_time_since_the_expected_start():
    sessions = [Session(at(MONDAY, 8, 46), at(MONDAY, 12))]
    found = outcome(opens(8, 30), sessions)
    assert found.state is SlotState.LATE and found.late_by == timedelta(minutes=16)
    assert found.arrived_at == at(MONDAY, 8, 46)


def test_case_b_exceptional_hours_leaving_the_slot_out_make_it_not_due():
    cal = calendar(exceptions={MONDAY: (Hours(time(14), time(18)),)})
    found = outcome(cal, slot=Slot(0, time(9), time(12)), now=at(MONDAY, 13))
    assert not found.is_due
    assert (found.state, found.reason) == (SlotState.NOT_DUE, NotDue.OUTSIDE_OPENING_HOURS)
    assert found.expected_s == 0 and found.check_at is None


@pytest.mark.parametrize(
    ("cal", "day", "reason", "detail"),
    [
        (calendar(), date(2026, 11, 11), NotDue.PUBLIC_HOLIDAY, "Armistice"),
        (
            calendar(closures=(Period(MONDAY, MONDAY, "Travaux"),)),
            MONDAY,
            NotDue.CLOSURE,
            "Travaux",
        ),
        (
            calendar(
                school_holidays=(Period(MONDAY, MONDAY, "Noël"),), closes_on_school_holidays=True
            ),
            MONDAY,
            NotDue.SCHOOL_HOLIDAY,
            "Noël",
        ),
        (
            calendar(weekly={1: (Hours(time(8), time(19)),)}),
            MONDAY,
            NotDue.OUTSIDE_OPENING_HOURS,
            "",
        ),
    ],
)
def test_closed_days_say_why(cal, day, reason, detail) -> None:
    opening = Opening.of(cal, day - timedelta(days=1), day)
    slot = Slot(day.weekday(), time(9), time(12))
    found = slot_outcome(
        day, slot, CONTRACT, opening, presence=Presence.of(()), grace=GRACE, now=at(day, 13)
    )
    assert (found.reason, found.state) == (reason, SlotState.NOT_DUE)
    assert detail in found.detail


def test_a_slot_entirely_outside_the_days_hours_is_not_due() -> None:
    found = outcome(opens(14), slot=Slot(0, time(9), time(12)))
    assert found.reason is NotDue.OUTSIDE_OPENING_HOURS


def test_outside_the_contracts_validity() -> None:
    later = Contract(12 * 60, (SLOT,), MONDAY + timedelta(days=1))
    assert outcome(contract=later).reason is NotDue.OUTSIDE_CONTRACT


def test_an_excuse_over_the_whole_slot_or_its_first_hour() -> None:
    illness = Excuse(at(MONDAY, 7), at(MONDAY, 13), ExcuseCategory.ILLNESS)
    whole = outcome(excuses=[illness])
    assert (whole.reason, whole.detail, whole.excused_s) == (
        NotDue.EXCUSED,
        "illness",
        4 * 3600,
    )
    exam = Excuse(at(MONDAY, 8), at(MONDAY, 9), ExcuseCategory.EXAM)
    part = outcome(excuses=[exam], now=at(MONDAY, 9, 20))
    assert part.is_due and part.expected_from == at(MONDAY, 9)
    assert (part.state, part.expected_s, part.excused_s) == (SlotState.ABSENT, 3 * 3600, 3600)


@pytest.mark.parametrize(
    ("now", "state", "under_way"),
    [
        ((7, 59), SlotState.UPCOMING, False),
        ((8, 10), SlotState.WAITING, True),
        ((8, 15), SlotState.ABSENT, True),  # the check instant has come
        ((11, 59), SlotState.ABSENT, True),
        ((12, 0), SlotState.MISSED, False),
    ],
)
def test_without_presence(now, state, under_way) -> None:
    found = outcome(now=at(MONDAY, *now))
    assert (found.state, found.under_way, found.arrived_at) == (state, under_way, None)


def test_a_student_already_in_before_the_slot_is_present() -> None:
    sessions = [Session(at(MONDAY, 7, 40), at(MONDAY, 7, 50), SessionState.OPEN)]
    found = outcome(sessions=sessions, now=at(MONDAY, 7, 50))
    assert (found.state, found.arrived_at, found.late_by) == (
        SlotState.PRESENT,
        at(MONDAY, 7, 40),
        timedelta(),
    )
    assert found.attended_s == 0  # nothing of the slot has passed yet


def test_left_before_the_slot_is_no_arrival() -> None:
    sessions = [Session(at(MONDAY, 7), at(MONDAY, 7, 50))]
    assert outcome(sessions=sessions).state is SlotState.MISSED


def test_week_outcomes_and_what_is_still_reachable() -> None:
    contract = Contract(
        6 * 60, (Slot(0, time(9), time(12)), Slot(2, time(9), time(12))), date(2026, 9, 1)
    )
    cal = calendar()
    week = IsoWeek.of(MONDAY)
    opening = Opening.of(cal, MONDAY - timedelta(days=1), MONDAY + timedelta(days=6))
    now = at(MONDAY, 10)
    found = week_outcomes(week, opening, [contract], sessions=[], grace=GRACE, now=now)
    assert [item.state for item in found] == [SlotState.ABSENT, SlotState.UPCOMING]
    left = reachable(found, opening, week.bounds(cal.tz)[1], now)
    assert left.slot_s == 2 * 3600 + 3 * 3600
    # Monday 10:00-19:00 and Tuesday to Friday 08:00-19:00 (helpers' calendar)
    assert left.opening_s == 9 * 3600 + 4 * 11 * 3600
