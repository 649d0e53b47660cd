"""The weekly ledger: hours attended against hours committed, per student and ISO week.

All arithmetic is on aware UTC instants, so a week with a daylight-saving change counts
its real hours. Figures are whole seconds; expected hours are rounded to the minute.

- *expected*: the contract's weekly hours, pro rata on the slot time still due that week:
  slots falling on a closed day (closure, public holiday, school holidays when the campus
  closes, a weekday without opening hours), outside a day's exceptional hours, under an
  excused absence, or outside the contract's validity are not due. Regular hours do not
  trim a slot (a 08:30 opening leaves a 08:00 slot whole: the contract says so). Two
  contracts in one week (a renewal) each count for their own days.
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
from datetime import date, datetime, time, timedelta
from enum import StrEnum
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
from server.domain.contracts import Contract
from server.domain.sessions import Session, SessionState
from server.domain.slots import Excuse


class WeekStatus(StrEnum):
    MET = "met"
    SHORT = "short"
    AT_RISK = "at_risk"
    EXCUSED = "excused"
    ON_TRACK = "on_track"  # the week is not over and the hours can still be made


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

    @property
    def remaining_s(self) -> int:
        """Verified time still needed to meet the week's commitment (never below zero:
        unverified time counts once a tutor confirms it)."""
        return max(0, self.expected_s - (self.attended_s - self.unverified_s))

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
    days: tuple[date, ...]

    @classmethod
    def build(cls, week: IsoWeek, tz: ZoneInfo, schedule: Schedule) -> WeekFrame:
        start, end = week.bounds(tz)
        return cls(week, tz, start, end, schedule, week.days())


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
    excused = merge((excuse.start, excuse.end) for excuse in excuses) if excuses else ()
    due_slots: list[DueSlot] = []
    numerator, denominator = 0, 1  # expected seconds, as an exact fraction
    for contract in contracts:
        share, share_of = _expected_share(
            contract, frame, _due_slots(contract, frame, excused, due_slots)
        )
        numerator, denominator = numerator * share_of + share * denominator, denominator * share_of
    expected_s = (2 * numerator + 60 * denominator) // (120 * denominator) * 60  # to the minute
    attended, verified = _presence(sessions, frame)
    attended_s = seconds(attended)
    verified_s = attended_s if verified is None else seconds(verified)
    missed, late = _slot_attendance(due_slots, attended, grace, now)
    return WeekLine(
        student_id,
        frame.week,
        expected_s,
        attended_s,
        attended_s - verified_s,
        missed,
        late,
        _status(expected_s, verified_s, due_slots, frame, now),
    )


def weeks_to_recompute(
    first_day: date, now: datetime, tz: ZoneInfo, retention: timedelta
) -> list[IsoWeek]:
    """The weeks a change in force from ``first_day`` (a contract's new terms) alters and
    the ledger can still recompute: from the week holding ``first_day`` to this week,
    without those whose raw taps are already purged (their stored record stays)."""
    last = IsoWeek.of(now.astimezone(tz).date())
    weeks, week = [], IsoWeek.of(first_day)
    while week <= last:
        if not taps_purged(week, now, tz, retention):
            weeks.append(week)
        week = week.shifted(1)
    return weeks


def taps_purged(week: IsoWeek, now: datetime, tz: ZoneInfo, retention: timedelta) -> bool:
    """Whether some raw taps of ``week`` are already gone: it can no longer be recomputed."""
    return week.bounds(tz)[0] < now - retention


def _presence(
    sessions: Sequence[Session], frame: WeekFrame
) -> tuple[tuple[Interval, ...], tuple[Interval, ...] | None]:
    """The union of the sessions within the week, and of the verified ones (None when
    all of them are verified: the same union)."""
    low, high = frame.start, frame.end
    parts: list[Interval] = []
    verified: list[Interval] = []
    unverified = False
    for session in sessions:
        if session.start < high and session.end > low:
            part = (max(session.start, low), min(session.end, high))
            parts.append(part)
            if session.state is SessionState.UNVERIFIED:
                unverified = True
            else:
                verified.append(part)
    return merge(parts), merge(verified) if unverified else None


def _status(
    expected_s: int, verified_s: int, due_slots: Sequence[DueSlot], frame: WeekFrame, now: datetime
) -> WeekStatus:
    if expected_s == 0:
        return WeekStatus.EXCUSED
    if verified_s >= expected_s:
        return WeekStatus.MET
    if now >= frame.end:
        return WeekStatus.SHORT
    remaining_s = sum(seconds(_after(parts, now)) for parts in due_slots)
    if verified_s + remaining_s < expected_s:
        return WeekStatus.AT_RISK
    return WeekStatus.ON_TRACK


def _due_slots(
    contract: Contract, frame: WeekFrame, excused: tuple[Interval, ...], found: list[DueSlot]
) -> int:
    """Add the contract's slot occurrences in the week (their due parts) to ``found``;
    returns the total due time in seconds."""
    total = 0
    restrict, tz, days = frame.schedule.restrict, frame.tz, frame.days
    for slot in contract.slots:
        day = days[slot.weekday]
        if not contract.covers(day):
            continue
        parts = restrict(day, _occurrence(day, slot.start, slot.end, tz))
        if excused:
            parts = subtract(parts, excused)
        if parts:
            found.append(parts)
            total += seconds(parts)
    return total


@lru_cache(maxsize=65536)
def _occurrence(day: date, start: time, end: time, tz: ZoneInfo) -> Interval:
    return local_instant(day, start, tz), local_instant(day, end, tz)


def _expected_share(contract: Contract, frame: WeekFrame, due_s: int) -> tuple[int, int]:
    """The contract's expected seconds this week as (numerator, denominator)."""
    weekly_s = contract.weekly_minutes * 60
    slot_s = contract.slot_minutes * 60
    if slot_s:
        return weekly_s * due_s, slot_s
    # No slots agreed: pro rata on the contract's open days in the week.
    days = sum(
        1 for day in frame.days if contract.covers(day) and frame.schedule.limits.get(day) != ()
    )
    return weekly_s * days, 7


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


def _after(parts: tuple[Interval, ...], now: datetime) -> tuple[Interval, ...]:
    return tuple((max(start, now), end) for start, end in parts if end > now)
