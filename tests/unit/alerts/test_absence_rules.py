"""Absence rules with fixed instants: grace edges, opening, holidays, excuses, readers."""

from __future__ import annotations

from datetime import date, time, timedelta

import pytest

from server.domain.absences import Verdict, expected_slots, judge, reader_back
from server.domain.calendar import CampusCalendar, Hours
from server.domain.contracts import Contract, Slot
from server.domain.ledger import Excuse
from server.domain.reader_health import Health, ReaderHealth
from server.domain.sessions import Session, SessionState
from tests.unit.presence.helpers import PARIS, at, calendar

MONDAY = date(2026, 11, 23)
CONTRACT = Contract(12 * 60, (Slot(0, time(9), time(12)),), date(2026, 9, 1))


def slots(cal: CampusCalendar | None = None, excuses: tuple[Excuse, ...] = (), day=MONDAY):
    cal = cal or calendar()
    schedule = cal.schedule(day - timedelta(days=1), day + timedelta(days=1))
    return expected_slots(
        1, "E001", [CONTRACT], days=[day], schedule=schedule, tz=PARIS, excuses=excuses
    )


def test_the_check_is_at_slot_start_plus_grace() -> None:
    (item,) = slots()
    assert (item.start, item.due_from, item.check_at) == (
        at(MONDAY, 9),
        at(MONDAY, 9),
        at(MONDAY, 9, 15),
    )


@pytest.mark.parametrize(
    ("arrival", "verdict"),
    [
        ((9, 14, 59), Verdict.PRESENT),
        ((9, 15, 0), Verdict.PRESENT),  # arriving at the check instant is in time
        ((9, 15, 1), Verdict.LATE),
        ((8, 30, 0), Verdict.PRESENT),
    ],
)
def test_grace_edges(arrival: tuple[int, int, int], verdict: Verdict) -> None:
    (item,) = slots()
    start = at(MONDAY, *arrival)
    sessions = [Session(start, at(MONDAY, 12), SessionState.CLOSED)]
    assert judge(item, sessions, doors_reliable=True) is verdict


def test_no_session_is_an_absence_only_when_the_doors_were_reliable() -> None:
    (item,) = slots()
    assert judge(item, [], doors_reliable=True) is Verdict.ABSENT
    assert judge(item, [], doors_reliable=False) is Verdict.INDETERMINATE


def test_a_tap_proves_presence_even_when_a_reader_was_down() -> None:
    (item,) = slots()
    sessions = [Session(at(MONDAY, 9, 5), at(MONDAY, 9, 20), SessionState.OPEN)]
    assert judge(item, sessions, doors_reliable=False) is Verdict.PRESENT


def test_left_before_the_slot_is_absent() -> None:
    (item,) = slots()
    sessions = [Session(at(MONDAY, 7), at(MONDAY, 8, 30), SessionState.CLOSED)]
    assert judge(item, sessions, doors_reliable=True) is Verdict.ABSENT


def test_a_slot_starting_before_opening_is_checked_from_opening() -> None:
    cal = calendar(weekly={0: (Hours(time(9, 30), time(19)),)})
    (item,) = slots(cal)
    assert item.due_from == at(MONDAY, 9, 30)
    assert item.check_at == at(MONDAY, 9, 45)


def test_slot_at_opening_time() -> None:
    cal = calendar(weekly={0: (Hours(time(9), time(19)),)})
    (item,) = slots(cal)
    assert item.check_at == at(MONDAY, 9, 15)


def test_no_check_on_a_public_holiday_or_closed_day() -> None:
    assert slots(day=date(2026, 11, 11)) == []  # 11 novembre, a Wednesday: no slot anyway
    holiday_monday = date(2026, 4, 6)  # lundi de Pâques
    assert slots(day=holiday_monday) == []
    closed = calendar(weekly={day: (Hours(time(8), time(19)),) for day in range(1, 5)})
    assert slots(closed) == []


def test_an_excuse_over_the_whole_slot_means_no_check() -> None:
    excuse = Excuse(at(MONDAY, 8), at(MONDAY, 13))
    assert slots(excuses=(excuse,)) == []


def test_an_excuse_over_the_first_half_moves_the_check() -> None:
    excuse = Excuse(at(MONDAY, 9), at(MONDAY, 10, 30))
    (item,) = slots(excuses=(excuse,))
    assert item.due_from == at(MONDAY, 10, 30)
    assert item.check_at == at(MONDAY, 10, 45)


def test_an_excuse_over_the_second_half_keeps_the_check() -> None:
    excuse = Excuse(at(MONDAY, 10, 30), at(MONDAY, 12))
    (item,) = slots(excuses=(excuse,))
    assert item.check_at == at(MONDAY, 9, 15)


def test_reader_back_needs_online_empty_queue_and_a_fresh_status() -> None:
    since = at(MONDAY, 9, 15)
    fresh = since + timedelta(minutes=10)
    assert reader_back(ReaderHealth("c", "door-1", Health.ONLINE, fresh, queued=0), since)
    assert not reader_back(ReaderHealth("c", "door-1", Health.ONLINE, fresh, queued=3), since)
    assert not reader_back(ReaderHealth("c", "door-1", Health.OFFLINE, fresh), since)
    stale = since - timedelta(minutes=1)
    assert not reader_back(ReaderHealth("c", "door-1", Health.ONLINE, stale), since)
