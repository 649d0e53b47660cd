"""The tutor's roster of the current slots: what each expected student's state is now
(pure: ``now`` is given, nothing is read).

A slot occurrence is on the roster while it runs or when it starts within ``ahead``.
Its state is the slot's outcome (``domain.slots``) at ``now``: *present* when the
student came in by the check instant (expected start + grace), *late* when they came in
afterwards, *absent* once the check instant passed without them (or the slot was
missed), *unchecked* when the absence check could not be trusted (a door reader was
down) and *expected* before the check instant.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from server.domain.absences import ExpectedSlot, Verdict
from server.domain.sessions import Session
from server.domain.slots import Presence, SlotState, attend


class RosterState(StrEnum):
    EXPECTED = "expected"
    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"
    UNCHECKED = "unchecked"

    @property
    def urgency(self) -> int:
        """Absent students first on the roster, present ones last."""
        return _URGENCY[self]


_URGENCY = {
    RosterState.ABSENT: 0,
    RosterState.UNCHECKED: 1,
    RosterState.LATE: 2,
    RosterState.EXPECTED: 3,
    RosterState.PRESENT: 4,
}


def on_roster(slot: ExpectedSlot, now: datetime, ahead: timedelta) -> bool:
    """Running now, or starting within ``ahead``."""
    return slot.start <= now + ahead and slot.end > now


def roster_state(
    slot: ExpectedSlot,
    sessions: Sequence[Session],
    now: datetime,
    checked: Verdict | None = None,
) -> tuple[RosterState, datetime | None]:
    """The state of one slot occurrence at ``now`` and the arrival, if any.
    ``checked`` is the absence watcher's verdict on it, when it has checked it."""
    seen = attend(slot.due_time, slot.check_at, Presence.of(sessions), now)
    if seen.state is SlotState.PRESENT:
        return RosterState.PRESENT, seen.arrived_at
    if seen.state is SlotState.LATE:
        return RosterState.LATE, seen.arrived_at
    if seen.state in (SlotState.UPCOMING, SlotState.WAITING):
        return RosterState.EXPECTED, None
    if checked is Verdict.INDETERMINATE:
        return RosterState.UNCHECKED, None
    return RosterState.ABSENT, None
