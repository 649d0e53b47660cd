"""A student's own view of their week and year (pure, no I/O).

The figures (expected, attended, status) come from the weekly ledger; this module adds
what a student needs to act on them: each committed slot of the week with what became
of it, what is left to do, and the weeks of the academic year.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from server.domain.calendar import CampusCalendar, IsoWeek
from server.domain.contracts import Contract
from server.domain.ledger import WeekLine, WeekStatus
from server.domain.sessions import Session, SessionState
from server.domain.slots import Excuse, NotDue, Opening, SlotOutcome, week_outcomes
from server.domain.slots import SlotState as Outcome

ACADEMIC_YEAR_STARTS = 9  # September


class SlotState(StrEnum):
    CLOSED = "closed"  # not due: the campus is closed then (holiday, closure, hours)
    EXCUSED = "excused"  # an excused absence covers it
    ATTENDED = "attended"  # the student came, in time
    LATE = "late"  # the student came, after the grace time
    MISSED = "missed"  # over, no presence at all
    NOW = "now"  # under way
    UPCOMING = "upcoming"


@dataclass(frozen=True, slots=True)
class SlotVisit:
    """One committed slot of the week and what became of it (read from its
    ``domain.slots`` outcome)."""

    day: date
    start: datetime
    end: datetime
    state: SlotState
    today: bool
    closure: str = ""  # why the campus is closed, when it is
    outcome: SlotOutcome | None = None

    @property
    def due(self) -> bool:
        return self.state not in (SlotState.CLOSED, SlotState.EXCUSED)


@dataclass(frozen=True, slots=True)
class Progress:
    """Where a student stands this week: ``to_go_s`` is what is still missing of the
    commitment (verified hours only), ``slots_left`` the due slots not over yet."""

    line: WeekLine
    to_go_s: int
    slots_left: int

    @property
    def on_track(self) -> bool:
        return self.line.status in (WeekStatus.MET, WeekStatus.ON_TRACK, WeekStatus.EXCUSED)


def week_slots(
    week: IsoWeek,
    calendar: CampusCalendar,
    contracts: Sequence[Contract],
    *,
    sessions: Sequence[Session],
    excuses: Sequence[Excuse],
    grace: timedelta = timedelta(minutes=15),
    now: datetime,
) -> list[SlotVisit]:
    """The committed slots of ``week`` in time order, each with its state at ``now``
    (slots outside the contracts' validity are left out)."""
    days = week.days()
    opening = Opening.of(calendar, days[0] - timedelta(days=1), days[-1])
    today = now.astimezone(calendar.tz).date()
    outcomes = week_outcomes(
        week, opening, contracts, sessions=sessions, excuses=excuses, grace=grace, now=now
    )
    return [
        visit(outcome, today)
        for outcome in outcomes
        if outcome.reason is not NotDue.OUTSIDE_CONTRACT
    ]


def visit(outcome: SlotOutcome, today: date) -> SlotVisit:
    """How the student's page shows a slot's outcome."""
    state = _VISIBLE.get(outcome.state, SlotState.ATTENDED)
    if outcome.reason is NotDue.EXCUSED:
        state = SlotState.EXCUSED
    elif outcome.under_way:
        state = SlotState.NOW
    closure = outcome.detail if state is SlotState.CLOSED else ""
    return SlotVisit(
        outcome.day, outcome.start, outcome.end, state, outcome.day == today, closure, outcome
    )


_VISIBLE = {
    Outcome.NOT_DUE: SlotState.CLOSED,
    Outcome.UPCOMING: SlotState.UPCOMING,
    Outcome.WAITING: SlotState.NOW,
    Outcome.ABSENT: SlotState.NOW,
    Outcome.MISSED: SlotState.MISSED,
    Outcome.PRESENT: SlotState.ATTENDED,
    Outcome.LATE: SlotState.LATE,
}


def progress(line: WeekLine, visits: Sequence[SlotVisit], now: datetime) -> Progress:
    """What is left to do this week."""
    to_go_s = line.remaining_s
    left = sum(1 for visit in visits if visit.due and visit.end > now)
    return Progress(line, to_go_s, left if to_go_s else 0)


def current_session(sessions: Sequence[Session]) -> Session | None:
    """The session still open now (the student is in), if any."""
    for session in reversed(sessions):
        if session.state is SessionState.OPEN:
            return session
    return None


def academic_year_start(day: date) -> date:
    """1 September of the academic year ``day`` belongs to."""
    year = day.year if day.month >= ACADEMIC_YEAR_STARTS else day.year - 1
    return date(year, ACADEMIC_YEAR_STARTS, 1)


def year_weeks(today: date, contracts: Sequence[Contract]) -> list[IsoWeek]:
    """The weeks of the academic year so far (oldest first) that a contract covers."""
    first = academic_year_start(today)
    weeks = []
    week = IsoWeek.of(first)
    while week.monday <= today:
        sunday = week.monday + timedelta(days=6)
        if any(contract.overlaps(week.monday, sunday) for contract in contracts):
            weeks.append(week)
        week = week.shifted(1)
    return weeks
