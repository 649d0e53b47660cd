"""When a committed slot is checked for an absence, and what the check finds (pure).

Whether a slot occurrence is due, from when the student is expected and when the check
happens are ``domain.slots``'s answer (due only while the campus is open and no excuse
covers it; expected from the first due instant, a 08:00 slot on a day opening at 08:30
expects 08:30; checked at that instant plus the grace time, or at the end of the due time
if shorter).

The check finds the student *present* (their first presence during the due time came by
the check instant, or they were already in), *late* (it came after the check instant:
only possible when the check is made late, e.g. after a restart), *absent*, or
*indeterminate* when the door reader(s) could not be trusted meanwhile: no taps from a
reader that is down prove nothing (no false alarms).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from server.domain.calendar import Interval, Schedule, local_midnight
from server.domain.contracts import Contract
from server.domain.reader_health import ReaderHealth
from server.domain.sessions import Session
from server.domain.slots import Excuse, Opening, Presence, SlotState, attend, slot_outcome


class Verdict(StrEnum):
    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True, slots=True, order=True)
class ExpectedSlot:
    """One occurrence of a committed slot of one student, and when to check it."""

    check_at: datetime
    student_pk: int
    student_id: str
    start: datetime  # the slot as committed (UTC)
    end: datetime
    due_from: datetime  # when the student is expected (after excuses and opening)
    due: tuple[Interval, ...] = ()  # the due time (``domain.slots``); () = due_from to end

    @property
    def due_time(self) -> tuple[Interval, ...]:
        return self.due or ((self.due_from, self.end),)

    def attendance(self, sessions: Sequence[Session], now: datetime) -> SlotState:
        """The slot's state at ``now`` from the student's sessions (``domain.slots``)."""
        return attend(self.due_time, self.check_at, Presence.of(sessions), now).state


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
    opening = Opening(tz, schedule)
    nobody = Presence(())
    found = []
    for day in days:
        for contract in contracts:
            for slot in contract.slots_on(day):
                outcome = slot_outcome(
                    day,
                    slot,
                    contract,
                    opening,
                    excused=excuses,
                    presence=nobody,
                    grace=grace,
                    now=local_midnight(day, tz),
                )
                if outcome.check_at is None or outcome.expected_from is None:
                    continue
                found.append(
                    ExpectedSlot(
                        outcome.check_at,
                        student_pk,
                        student_id,
                        outcome.start,
                        outcome.end,
                        outcome.expected_from,
                        outcome.due,
                    )
                )
    return sorted(found)


def check_instants(
    slots: Iterable[ExpectedSlot], after: datetime, until: datetime
) -> list[datetime]:
    """The distinct instants in ``(after, until]`` at which some of ``slots`` is checked
    (each occurrence's ``check_at``, ``domain.slots``'s rule), in order: when the absence
    watcher must wake."""
    return sorted({item.check_at for item in slots if after < item.check_at <= until})


def judge(expected: ExpectedSlot, sessions: Sequence[Session], *, doors_reliable: bool) -> Verdict:
    """What the check of ``expected`` finds, from the student's sessions known now
    (an open session ends at the evaluation instant): the slot's state at its check
    instant, by ``domain.slots``."""
    state = expected.attendance(sessions, expected.check_at)
    if state is SlotState.PRESENT:
        return Verdict.PRESENT
    if state is SlotState.LATE:
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
