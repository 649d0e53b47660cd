"""When a committed slot is checked for an absence, and what the check finds (pure).

A slot occurrence is *due* where the campus is open that day and no excuse covers it
(an excuse covering the first half moves the expected arrival to its end). The student
is expected at the first due instant, or at opening time when the slot starts before the
campus opens (a 08:00 slot on a day opening at 08:30 expects 08:30). The check happens at
that instant plus the grace time (or at the end of the due time, if shorter).

The check finds the student *present* (a door session covering the check instant or
started since the slot's start), *late* (a session started after the check but before
the slot's end: only possible when the check is made late, e.g. after a restart),
*absent*, or *indeterminate* when the door reader(s) could not be trusted meanwhile:
no taps from a reader that is down prove nothing (no false alarms).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from server.domain.calendar import Interval, Schedule, local_instant, merge, subtract
from server.domain.contracts import Contract
from server.domain.ledger import Excuse
from server.domain.reader_health import ReaderHealth
from server.domain.sessions import Session


class Verdict(StrEnum):
    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"
    INDETERMINATE = "indeterminate"

    @property
    def final(self) -> bool:
        return self is not Verdict.INDETERMINATE


@dataclass(frozen=True, slots=True, order=True)
class ExpectedSlot:
    """One occurrence of a committed slot of one student, and when to check it."""

    check_at: datetime
    student_pk: int
    student_id: str
    start: datetime  # the slot as committed (UTC)
    end: datetime
    due_from: datetime  # when the student is expected (after excuses and opening)


def expected_slots(
    student_pk: int,
    student_id: str,
    contracts: Sequence[Contract],
    *,
    days: Iterable[date],
    schedule: Schedule,
    tz: ZoneInfo,
    excuses: Sequence[Excuse] = (),
    grace: timedelta = timedelta(minutes=15),
) -> list[ExpectedSlot]:
    """The student's due slot occurrences on ``days``, sorted by check time."""
    excused = merge((excuse.start, excuse.end) for excuse in excuses)
    found = []
    for day in days:
        for contract in contracts:
            for slot in contract.slots_on(day):
                start = local_instant(day, slot.start, tz)
                end = local_instant(day, slot.end, tz)
                due_from = _due_from(schedule, day, (start, end), excused)
                if due_from is None:
                    continue
                check_at = min(due_from + grace, end)
                found.append(ExpectedSlot(check_at, student_pk, student_id, start, end, due_from))
    return sorted(found)


def _due_from(
    schedule: Schedule, day: date, slot: Interval, excused: tuple[Interval, ...]
) -> datetime | None:
    """First instant the student is expected, or None when nothing of the slot is due
    (closed day, excused, or the campus never open during it)."""
    parts = subtract(schedule.restrict(day, slot), excused)
    for start, end in parts:
        if schedule.closing_after(start) is not None:
            return start
        opening = schedule.opening_after(start)
        if opening is not None and opening < end:
            return opening
    return None


def judge(expected: ExpectedSlot, sessions: Sequence[Session], *, doors_reliable: bool) -> Verdict:
    """What the check of ``expected`` finds, from the student's sessions known now
    (an open session ends at the evaluation instant)."""
    check = expected.check_at
    for session in sessions:
        if session.start <= check <= session.end or expected.start <= session.start <= check:
            return Verdict.PRESENT
    for session in sessions:
        if check < session.start < expected.end:
            return Verdict.LATE
    return Verdict.ABSENT if doors_reliable else Verdict.INDETERMINATE


def reader_back(health: ReaderHealth, since: datetime) -> bool:
    """Is a door reader that was down back, with every tap it queued delivered, so that
    checks held since ``since`` can be made again?"""
    return (
        health.reliable
        and health.queued == 0
        and health.last_seen is not None
        and health.last_seen >= since
    )
