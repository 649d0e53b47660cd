"""The roster rules (pure): present by the check instant, late after it, absent once
it passed, unchecked when the watcher could not trust the door, expected before."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.domain.absences import ExpectedSlot, Verdict
from server.domain.sessions import Session, SessionState
from server.domain.tutor_roster import RosterState, on_roster, roster_state


def t(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=UTC)


SLOT = ExpectedSlot(t(9, 15), 1, "E001", t(9), t(12), t(9))


@pytest.mark.parametrize(
    ("sessions", "now", "verdict", "expected"),
    [
        ([], t(9, 10), None, (RosterState.EXPECTED, None)),
        (
            [Session(t(9, 5), t(9, 10), SessionState.OPEN)],
            t(9, 10),
            None,
            (RosterState.PRESENT, t(9, 5)),
        ),
        (
            [Session(t(8, 40), t(8, 58), SessionState.OPEN)],
            t(8, 58),
            None,
            (RosterState.PRESENT, t(8, 40)),
        ),
        ([Session(t(7), t(8))], t(9, 20), Verdict.ABSENT, (RosterState.ABSENT, None)),
        (
            [Session(t(9, 18), t(9, 20), SessionState.OPEN)],
            t(9, 20),
            None,
            (RosterState.LATE, t(9, 18)),
        ),
        ([], t(9, 16), None, (RosterState.ABSENT, None)),
        ([], t(9, 20), Verdict.INDETERMINATE, (RosterState.UNCHECKED, None)),
        ([Session(t(9, 15), t(9, 30))], t(10), Verdict.PRESENT, (RosterState.PRESENT, t(9, 15))),
    ],
)
def test_roster_state(sessions, now, verdict, expected) -> None:
    assert roster_state(SLOT, sessions, now, verdict) == expected


def test_the_roster_holds_running_slots_and_those_starting_within_the_hour() -> None:
    hour = timedelta(hours=1)
    assert on_roster(SLOT, t(8), hour) and on_roster(SLOT, t(11, 59), hour)
    assert not on_roster(SLOT, t(7, 59), hour) and not on_roster(SLOT, t(12), hour)


def test_the_absent_come_first() -> None:
    ranked = sorted(RosterState, key=lambda state: state.urgency)
    assert ranked[0] is RosterState.ABSENT and ranked[-1] is RosterState.PRESENT
