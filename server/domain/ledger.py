"""The weekly ledger: hours attended against hours committed, per student and ISO week.

All arithmetic is on aware UTC instants, so a week with a daylight-saving change counts
its real hours. Figures are whole seconds; expected hours are rounded to the minute.

- *expected*: the contract's weekly hours, pro rata on the slot time still due that week:
  slots falling on a closed day (closure, public holiday, school holidays when the campus
  closes), outside exceptional opening hours, under an excused absence, or outside the
  contract's validity are not due. Two contracts in one week (a renewal) each count for
  their own days.
- *attended*: the union of the week's sessions (hours outside the slots count too), of
  which *unverified* is the part only known from sessions the system closed.
  Unverified hours do not count towards ``met`` until a tutor confirms them.
- *missed slots*: due slots that are over with no presence at all during them; *late
  arrivals*: the first presence in a due slot came after its start plus the grace time.
- *status*: ``excused`` when nothing is due, ``met``, ``short`` once the week is over,
  ``at_risk`` mid-week when the remaining due slot time can no longer make up the hours,
  ``on_track`` otherwise.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from fractions import Fraction
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from server.domain.calendar import (
    Interval,
    IsoWeek,
    Schedule,
    local_instant,
    merge,
    seconds,
    subtract,
)
from server.domain.contracts import Contract, ExcuseCategory
from server.domain.sessions import Session


class WeekStatus(StrEnum):
    MET = "met"
    SHORT = "short"
    AT_RISK = "at_risk"
    EXCUSED = "excused"
    ON_TRACK = "on_track"  # the week is not over and the hours can still be made


@dataclass(frozen=True, slots=True)
class Excuse:
    """An excused absence (illness, exam, competition…) from ``start`` to ``end``."""

    start: datetime
    end: datetime
    category: ExcuseCategory = ExcuseCategory.OTHER


@dataclass(frozen=True, slots=True)
class WeekLine:
    student_id: str
    week: IsoWeek
    expected_s: int
    attended_s: int
    unverified_s: int
    missed_slots: int
    late_arrivals: int
    status: WeekStatus

    def as_dict(self) -> dict[str, Any]:
        """The public shape of a line (reports, API): hours with two decimals."""
        return {
            "student_id": self.student_id,
            "week": str(self.week),
            "expected_hours": hours(self.expected_s),
            "attended_hours": hours(self.attended_s),
            "unverified_hours": hours(self.unverified_s),
            "missed_slots": self.missed_slots,
            "late_arrivals": self.late_arrivals,
            "status": self.status.value,
        }


def hours(whole_seconds: int) -> float:
    return round(whole_seconds / 3600, 2)


@dataclass(frozen=True, slots=True)
class WeekFrame:
    """One campus's week: its bounds and opening schedule, shared by its students."""

    week: IsoWeek
    tz: ZoneInfo
    start: datetime
    end: datetime
    schedule: Schedule

    @classmethod
    def build(cls, week: IsoWeek, tz: ZoneInfo, schedule: Schedule) -> WeekFrame:
        start, end = week.bounds(tz)
        return cls(week, tz, start, end, schedule)


DueSlot = tuple[Interval, ...]  # the due parts of one slot occurrence, sorted


def week_line(
    student_id: str,
    frame: WeekFrame,
    *,
    contracts: Sequence[Contract],
    sessions: Sequence[Session],
    excuses: Sequence[Excuse] = (),
    grace: timedelta = timedelta(minutes=15),
    now: datetime,
) -> WeekLine:
    """The ledger line of one student for one week, as known at ``now``.

    ``sessions`` are the student's sessions sorted by start (others are ignored)."""
    excused = merge((excuse.start, excuse.end) for excuse in excuses)
    expected = Fraction(0)
    due_slots: list[DueSlot] = []
    for contract in contracts:
        slots, due_s = _due_slots(contract, frame, excused)
        expected += _expected_share(contract, frame, due_s)
        due_slots.extend(slots)
    expected_s = int(expected / 60 + Fraction(1, 2)) * 60  # to the minute
    inside = [s for s in sessions if s.start < frame.end and s.end > frame.start]
    attended = merge(_clip(session, frame) for session in inside)
    verified = merge(_clip(session, frame) for session in inside if session.verified)
    attended_s, verified_s = seconds(attended), seconds(verified)
    missed, late = _slot_attendance(due_slots, attended, grace, now)
    remaining = sum(seconds(_after(parts, now)) for parts in due_slots)
    return WeekLine(
        student_id,
        frame.week,
        expected_s,
        attended_s,
        attended_s - verified_s,
        missed,
        late,
        _status(expected_s, verified_s, remaining, frame, now),
    )


def _status(
    expected_s: int, verified_s: int, remaining_s: int, frame: WeekFrame, now: datetime
) -> WeekStatus:
    if expected_s == 0:
        return WeekStatus.EXCUSED
    if verified_s >= expected_s:
        return WeekStatus.MET
    if now >= frame.end:
        return WeekStatus.SHORT
    if verified_s + remaining_s < expected_s:
        return WeekStatus.AT_RISK
    return WeekStatus.ON_TRACK


def _due_slots(
    contract: Contract, frame: WeekFrame, excused: tuple[Interval, ...]
) -> tuple[list[DueSlot], int]:
    """The contract's slot occurrences in the week with their due parts, and the total
    due time in seconds."""
    slots: list[DueSlot] = []
    total = 0
    for day in frame.week.days():
        for slot in contract.slots_on(day):
            occurrence = _occurrence(day, slot.start, slot.end, frame.tz)
            parts = frame.schedule.restrict(day, occurrence)
            if excused:
                parts = subtract(parts, excused)
            if parts:
                slots.append(parts)
                total += seconds(parts)
    return slots, total


@lru_cache(maxsize=65536)
def _occurrence(day: date, start: Any, end: Any, tz: ZoneInfo) -> Interval:
    return local_instant(day, start, tz), local_instant(day, end, tz)


def _expected_share(contract: Contract, frame: WeekFrame, due_s: int) -> Fraction:
    weekly_s = contract.weekly_minutes * 60
    slot_s = contract.slot_minutes * 60
    if slot_s:
        return Fraction(weekly_s * due_s, slot_s)
    # No slots agreed: pro rata on the contract's open days in the week.
    days = sum(
        1
        for day in frame.week.days()
        if contract.covers(day) and frame.schedule.limits.get(day) != ()
    )
    return Fraction(weekly_s * days, 7)


def _slot_attendance(
    due_slots: Sequence[DueSlot], attended: tuple[Interval, ...], grace: timedelta, now: datetime
) -> tuple[int, int]:
    """(missed slots, late arrivals) among the due slots."""
    missed = late = 0
    starts = [start for start, _ in attended]
    for parts in due_slots:
        first, last = parts[0][0], parts[-1][1]
        arrival = _first_presence(attended, starts, first, last)
        if arrival is None:
            missed += last <= now
        elif arrival > first + grace:
            late += 1
    return missed, late


def _first_presence(
    attended: tuple[Interval, ...], starts: list[datetime], first: datetime, last: datetime
) -> datetime | None:
    index = max(bisect.bisect_right(starts, first) - 1, 0)
    for start, end in attended[index:]:
        if start >= last:
            return None
        if end > first:
            return max(start, first)
    return None


def _clip(session: Session, frame: WeekFrame) -> Interval:
    return max(session.start, frame.start), min(session.end, frame.end)


def _after(parts: tuple[Interval, ...], now: datetime) -> tuple[Interval, ...]:
    return tuple((max(start, now), end) for start, end in parts if end > now)
