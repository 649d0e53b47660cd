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

from server.domain.calendar import CampusCalendar, Interval, IsoWeek, local_instant, merge
from server.domain.contracts import Contract
from server.domain.ledger import Excuse, WeekLine, WeekStatus
from server.domain.sessions import Session, SessionState

ACADEMIC_YEAR_STARTS = 9  # September


class SlotState(StrEnum):
    CLOSED = "closed"  # the campus is closed then (holiday, closure)
    EXCUSED = "excused"  # an excused absence covers it
    ATTENDED = "attended"  # some presence during the slot
    MISSED = "missed"  # over, no presence at all
    NOW = "now"  # under way
    UPCOMING = "upcoming"


@dataclass(frozen=True, slots=True)
class SlotVisit:
    """One committed slot of the week and what became of it."""

    day: date
    start: datetime
    end: datetime
    state: SlotState
    today: bool
    closure: str = ""  # why the campus is closed, when it is

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
    now: datetime,
) -> list[SlotVisit]:
    """The committed slots of ``week`` in time order, each with its state at ``now``."""
    tz = calendar.tz
    today = now.astimezone(tz).date()
    excused = merge((excuse.start, excuse.end) for excuse in excuses)
    presence = merge((session.start, session.end) for session in sessions)
    visits = []
    for day in week.days():
        closed = calendar.hours_on(day) == ()  # a closure, or no opening hours that day
        closure = calendar.closure(day)
        label = closure[1] if closure else ""
        for contract in contracts:
            for slot in contract.slots_on(day):
                start, end = local_instant(day, slot.start, tz), local_instant(day, slot.end, tz)
                if closed:
                    state = SlotState.CLOSED
                elif _covered((start, end), excused):
                    state = SlotState.EXCUSED
                else:
                    state = _attendance((start, end), presence, now)
                visits.append(SlotVisit(day, start, end, state, day == today, label))
    return sorted(visits, key=lambda visit: visit.start)


def _covered(slot: Interval, intervals: Sequence[Interval]) -> bool:
    return any(start <= slot[0] and slot[1] <= end for start, end in intervals)


def _attendance(slot: Interval, presence: Sequence[Interval], now: datetime) -> SlotState:
    if any(start < slot[1] and end > slot[0] for start, end in presence):
        return SlotState.NOW if slot[0] <= now < slot[1] else SlotState.ATTENDED
    if now >= slot[1]:
        return SlotState.MISSED
    return SlotState.NOW if now >= slot[0] else SlotState.UPCOMING


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
