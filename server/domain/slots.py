"""What became of one committed slot: the one rule every view reads (pure).

A *slot occurrence* is one weekly slot of a contract on one date. Its outcome says:

- whether it is **due**, and when not, why: outside the contract's validity, a public
  holiday, a campus closure, school holidays when the campus closes, outside the opening
  hours (a day without opening hours, exceptional hours that leave the slot out, or a
  slot entirely outside the day's hours), or an excused absence covering all of it;
- its **due time**: the slot, clipped to the campus's opening hours, minus the excused
  parts. A student is only ever expected while the campus is open: a 08:00-12:00 slot on
  a day opening at 08:30 is due from 08:30 (3 h 30 expected);
- **expected from**: the first due instant; the **check instant** is that plus the grace
  time (or the end of the due time, if sooner);
- the **arrival**: the first presence during the due time (a session still open before
  the slot, the student came early, counts from the expected start). The student is
  **present** when they arrived by the check instant, **late** after it (``late_by`` is
  measured from the expected start: arriving at 08:35 for 08:30 is 5 min after, within a
  15 min grace: present, not late);
- with no arrival: **upcoming** before the expected start, **waiting** during the grace
  time, **absent** once the check instant has passed while the slot runs, **missed** once
  the due time is over;
- the **attended** seconds: presence during the due time (unverified sessions included).

The weekly ledger, the absence check, the tutor's roster, the student's pages and the
"why this week" explanation all read this result.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from server.domain.calendar import (
    US_PER_S,
    CampusCalendar,
    ClosureKind,
    Interval,
    IsoWeek,
    Schedule,
    Span,
    from_us,
    local_instant,
    merge,
    seconds,
    span_seconds,
    subtract,
    to_us,
    us_of,
)
from server.domain.contracts import Contract, ExcuseCategory, Slot
from server.domain.sessions import Session, SessionSpan, SessionState

_FAR = us_of(timedelta(days=2))  # a session still open reaches this far ahead for an arrival


class NotDue(StrEnum):
    """Why a slot occurrence is not due."""

    OUTSIDE_CONTRACT = "outside_contract"
    PUBLIC_HOLIDAY = "public_holiday"
    CLOSURE = "closure"
    SCHOOL_HOLIDAY = "school_holiday"
    OUTSIDE_OPENING_HOURS = "outside_opening_hours"
    EXCUSED = "excused"


_CLOSURE_REASON = {
    ClosureKind.PUBLIC_HOLIDAY: NotDue.PUBLIC_HOLIDAY,
    ClosureKind.CLOSURE: NotDue.CLOSURE,
    ClosureKind.SCHOOL_HOLIDAY: NotDue.SCHOOL_HOLIDAY,
}


class SlotState(StrEnum):
    NOT_DUE = "not_due"
    UPCOMING = "upcoming"  # before the expected start, not in yet
    WAITING = "waiting"  # within the grace time, not in yet
    PRESENT = "present"  # arrived by the check instant
    LATE = "late"  # arrived after the check instant
    ABSENT = "absent"  # the check instant passed, not in, the slot still runs
    MISSED = "missed"  # the due time is over, no presence at all

    @property
    def arrived(self) -> bool:
        return self in (SlotState.PRESENT, SlotState.LATE)


@dataclass(frozen=True, slots=True)
class Excuse:
    """An excused absence (illness, exam, competition…) from ``start`` to ``end``."""

    start: datetime
    end: datetime
    category: ExcuseCategory = ExcuseCategory.OTHER


@dataclass(frozen=True)
class Opening:
    """What the rule needs of a campus's calendar over some days: its time zone, its open
    intervals and why a day is closed (``closures``; a day missing there that has no
    open interval is outside the opening hours)."""

    tz: ZoneInfo
    schedule: Schedule
    closures: Mapping[date, tuple[ClosureKind, str]] = field(default_factory=dict)

    @classmethod
    def of(cls, calendar: CampusCalendar, first: date, last: date) -> Opening:
        return cls(calendar.tz, calendar.schedule(first, last), closures(calendar, first, last))

    @cached_property
    def occurrences(self) -> dict[tuple[date, time, time, int], _Occurrence]:
        """What slot occurrences are for every student, already asked for
        (:func:`_occurrence`): an opening never changes, so the students of a campus
        share them."""
        return {}


def closures(
    calendar: CampusCalendar, first: date, last: date
) -> dict[date, tuple[ClosureKind, str]]:
    """The closed days from ``first`` to ``last`` (included), with their reason."""
    found = {}
    day = first
    while day <= last:
        closure = calendar.closure(day)
        if closure is not None:
            found[day] = closure
        day += timedelta(days=1)
    return found


class Stays:
    """A student's presence in integer form (microseconds since the epoch, UTC): the union
    of the sessions, the start of the one still open, if any. What the slot rule reads."""

    __slots__ = ("intervals", "open_since", "starts")

    def __init__(self, intervals: tuple[Span, ...], open_since: int | None = None) -> None:
        self.intervals = intervals
        self.open_since = open_since
        self.starts = [start for start, _ in intervals]

    @classmethod
    def of(cls, sessions: Iterable[SessionSpan]) -> Stays:
        spans = []
        open_since = None
        for start, end, state in sessions:
            spans.append((start, end))
            if state is SessionState.OPEN:
                open_since = start
        return cls(merge(spans), open_since)

    def near(self, low: int, high: int) -> tuple[Span, ...]:
        """The intervals that may overlap ``low``..``high`` (binary search)."""
        first = max(bisect.bisect_right(self.starts, low) - 1, 0)
        return self.intervals[first : bisect.bisect_left(self.starts, high)]

    def reach(self, low: int, high: int) -> tuple[Span, ...]:
        """Presence near ``low``..``high``, with the open session running on to ``high``."""
        near = self.near(low, high)
        if self.open_since is None or high <= self.open_since:
            return near
        return merge((*near, (self.open_since, high)))


@dataclass(frozen=True, slots=True)
class Presence:
    """A student's presence from their (corrected) sessions: the union of the sessions,
    and the start of the one still open, if any (aware instants; the rule reads its
    integer form, ``stays``)."""

    intervals: tuple[Interval, ...]
    open_since: datetime | None = None
    starts: tuple[datetime, ...] = field(default=(), compare=False)
    stays: Stays = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if len(self.starts) != len(self.intervals):
            object.__setattr__(self, "starts", tuple(start for start, _ in self.intervals))
        spans = tuple((to_us(start), to_us(end)) for start, end in self.intervals)
        since = None if self.open_since is None else to_us(self.open_since)
        object.__setattr__(self, "stays", Stays(spans, since))

    @classmethod
    def of(cls, sessions: Iterable[Session]) -> Presence:
        listed = list(sessions)
        open_since = None
        for session in listed:
            if session.state is SessionState.OPEN:
                open_since = session.start
        return cls(merge((s.start, s.end) for s in listed), open_since)

    def near(self, low: datetime, high: datetime) -> tuple[Interval, ...]:
        """The intervals that may overlap ``low``..``high`` (binary search)."""
        first = max(bisect.bisect_right(self.starts, low) - 1, 0)
        return self.intervals[first : bisect.bisect_left(self.starts, high)]

    def reach(self, low: datetime, high: datetime) -> tuple[Interval, ...]:
        """Presence near ``low``..``high``, with the open session running on to
        ``high`` (the student is in)."""
        near = self.near(low, high)
        if self.open_since is None or high <= self.open_since:
            return near
        return merge((*near, (self.open_since, high)))


@dataclass(frozen=True, slots=True)
class Attendance:
    """What the student did during a due time, at some instant."""

    state: SlotState
    arrived_at: datetime | None  # start of the stay that reached the due time
    late_by: timedelta  # first due presence after the expected start (zero if on time)
    attended_s: int


def attend(
    due: Sequence[Interval], check_at: datetime, presence: Presence, now: datetime
) -> Attendance:
    """The attendance of a due time (sorted, disjoint, not empty) at ``now``."""
    state, arrived_at, late_us, attended_s = _attend(
        tuple((to_us(start), to_us(end)) for start, end in due),
        to_us(check_at),
        presence.stays,
        to_us(now),
    )
    return Attendance(
        state,
        None if arrived_at is None else from_us(arrived_at),
        timedelta(microseconds=late_us),
        attended_s,
    )


def _attend(
    due: Sequence[Span], check_at: int, stays: Stays, now: int
) -> tuple[SlotState, int | None, int, int]:
    """:func:`attend` on integer instants, as a tuple: (state, arrival, late by, attended
    seconds). The one place this part of the rule is decided."""
    expected_from, due_end = due[0][0], due[-1][1]
    starts = stays.starts
    first_at = bisect.bisect_right(starts, expected_from) - 1
    near = stays.intervals[first_at if first_at > 0 else 0 : bisect.bisect_left(starts, due_end)]
    if len(due) == 1 and (stays.open_since is None or due_end + _FAR <= stays.open_since):
        # The usual case in one pass: one due part, no session still open near it (the
        # general path below gives the same: the first stay crossing the due part holds
        # the first due presence).
        attended = 0
        first = arrived_at = None
        for start, end in near:
            low = start if start > expected_from else expected_from
            high = end if end < due_end else due_end
            if low < high:
                attended += high - low
                if first is None:
                    first, arrived_at = low, start
        if first is not None:
            state = SlotState.PRESENT if first <= check_at else SlotState.LATE
            return state, arrived_at, first - expected_from, attended // US_PER_S
        return _no_arrival(expected_from, check_at, due_end, now), None, 0, 0
    during = _cross(due, near) if near else ()
    attended_s = span_seconds(during) if during else 0
    if stays.open_since is None or due_end + _FAR <= stays.open_since:
        # Without a session still open, the presence reaching the due time is ``near``
        # (intervals starting after the due time's end cannot meet it).
        reach, met = near, during
    else:
        reach = stays.reach(expected_from, due_end + _FAR)
        met = _cross(due, reach) if reach else ()
    if met:
        first = met[0][0]
        arrived_at = None
        for start, end in reach:  # the stay holding the first due presence
            if start <= first < end:
                arrived_at = start
                break
        state = SlotState.PRESENT if first <= check_at else SlotState.LATE
        return state, arrived_at, first - expected_from, attended_s
    return _no_arrival(expected_from, check_at, due_end, now), None, 0, attended_s


def _no_arrival(expected_from: int, check_at: int, due_end: int, now: int) -> SlotState:
    """The state of a due time nobody arrived for, at ``now``."""
    if now < expected_from:
        return SlotState.UPCOMING
    if now < check_at:
        return SlotState.WAITING
    if now < due_end:
        return SlotState.ABSENT
    return SlotState.MISSED


def check_instant(due: Sequence[Interval], grace: timedelta) -> datetime:
    """When the absence check of a due time is made: expected start plus grace, at the
    latest the end of the due time."""
    return from_us(_check_instant(tuple((to_us(s), to_us(e)) for s, e in due), us_of(grace)))


def _check_instant(due: Sequence[Span], grace: int) -> int:
    """:func:`check_instant` on integer instants (the rule)."""
    return min(due[0][0] + grace, due[-1][1])


@dataclass(frozen=True, slots=True)
class SlotOutcome:
    """What became of one slot occurrence, as known at ``now``."""

    day: date
    slot: Slot
    start: datetime  # the slot as committed (UTC)
    end: datetime
    state: SlotState
    reason: NotDue | None  # why it is not due (None when due)
    detail: str  # the holiday's or closure's name, the excuse's category
    due: tuple[Interval, ...]  # the due time: open, not excused, sorted
    check_at: datetime | None
    arrived_at: datetime | None
    late_by: timedelta
    attended_s: int
    excused_s: int  # the part of the open slot an excuse covers
    under_way: bool  # now is within the due time
    due_s: int = field(default=-1, compare=False, repr=False)  # seconds(due), when known

    @property
    def is_due(self) -> bool:
        return self.reason is None

    @property
    def expected_from(self) -> datetime | None:
        return self.due[0][0] if self.due else None

    @property
    def expected_s(self) -> int:
        return self.due_s if self.due_s >= 0 else seconds(self.due)

    def as_dict(self) -> dict[str, Any]:
        """The public shape (reports, API, frozen weeks): times in ISO 8601 UTC."""
        return {
            "day": self.day.isoformat(),
            "slot": str(self.slot),
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "state": self.state.value,
            "reason": self.reason.value if self.reason else None,
            "detail": self.detail,
            "expected_from": _iso(self.expected_from),
            "check_at": _iso(self.check_at),
            "expected_minutes": self.expected_s // 60,
            "attended_minutes": self.attended_s // 60,
            "excused_minutes": self.excused_s // 60,
            "arrived_at": _iso(self.arrived_at),
            "late_minutes": int(self.late_by.total_seconds()) // 60,
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


# An excused absence in integer form: start, end (microseconds since the epoch), category.
ExcuseSpan = tuple[int, int, ExcuseCategory]

# What became of a slot occurrence, in integer form (:func:`_slot`): the slot as committed
# (aware, UTC), state, why not due, detail, due time, check instant, arrival, late by (µs),
# attended seconds, excused seconds, under way, due seconds.
RawOutcome = tuple[
    datetime,
    datetime,
    SlotState,
    NotDue | None,
    str,
    tuple[Span, ...],
    int | None,
    int | None,
    int,
    int,
    int,
    bool,
    int,
]


def excuse_span(excuse: Excuse) -> ExcuseSpan:
    return to_us(excuse.start), to_us(excuse.end), excuse.category


def slot_outcome(
    day: date,
    slot: Slot,
    contract: Contract,
    opening: Opening,
    *,
    excused: Sequence[Excuse] = (),
    presence: Presence,
    grace: timedelta,
    now: datetime,
) -> SlotOutcome:
    """The outcome of ``slot`` of ``contract`` on ``day`` (the one rule: :func:`_slot`,
    on integer instants)."""
    raw = _slot(
        _occurrence(opening, day, slot, us_of(grace)),
        contract.covers(day),
        [excuse_span(excuse) for excuse in excused],
        presence.stays,
        us_of(grace),
        to_us(now),
    )
    return outcome_of(day, slot, raw)


def outcome_of(day: date, slot: Slot, raw: RawOutcome) -> SlotOutcome:
    """The :class:`SlotOutcome` of an outcome computed on integer instants."""
    start, end, state, reason, detail, due, check_at, arrived, late, attended_s = raw[:10]
    return SlotOutcome(
        day,
        slot,
        start,
        end,
        state,
        reason,
        detail,
        tuple((from_us(low), from_us(high)) for low, high in due),
        None if check_at is None else from_us(check_at),
        None if arrived is None else from_us(arrived),
        timedelta(microseconds=late),
        attended_s,
        raw[10],
        raw[11],
        raw[12],
    )


def _slot(
    occurrence: _Occurrence,
    covered: bool,
    excused: Sequence[ExcuseSpan],
    stays: Stays,
    grace: int,
    now: int,
) -> RawOutcome:
    """The slot rule on integer instants (microseconds since the epoch, UTC), for a slot
    occurrence (:func:`_occurrence`) the contract ``covered`` or not that day."""
    _, _, reason, detail, due, due_s, check_at, start, end = occurrence
    excused_s = 0
    if not covered:
        reason, detail = NotDue.OUTSIDE_CONTRACT, ""
    elif reason is None and excused:
        covering = [e for e in excused if e[0] < due[-1][1] and e[1] > due[0][0]]
        if covering:
            open_s = due_s
            due = subtract(due, ((e[0], e[1]) for e in covering))
            due_s = span_seconds(due)
            excused_s = open_s - due_s
            detail = covering[0][2].value
            if not due:
                reason = NotDue.EXCUSED
            else:
                detail = detail if excused_s else ""
                check_at = _check_instant(due, grace)
    if reason is not None:
        return (
            start,
            end,
            SlotState.NOT_DUE,
            reason,
            detail,
            (),
            None,
            None,
            0,
            0,
            excused_s,
            False,
            0,
        )
    assert check_at is not None
    state, arrived_at, late_by, attended_s = _attend(due, check_at, stays, now)
    under_way = due[0][0] <= now < due[-1][1]
    return (
        start,
        end,
        state,
        None,
        detail,
        due,
        check_at,
        arrived_at,
        late_by,
        attended_s,
        excused_s,
        under_way,
        due_s,
    )


# What a slot occurrence is for every student of a campus, before a contract's validity
# and the student's excuses, in integer form: (start, end, why not due, detail, open
# parts, their seconds, check instant of the open parts, start and end as aware UTC).
_Occurrence = tuple[
    int, int, NotDue | None, str, tuple[Span, ...], int, int | None, datetime, datetime
]
_OCCURRENCES_MEMO = 4096  # occurrences an opening remembers


def _occurrence(opening: Opening, day: date, slot: Slot, grace: int) -> _Occurrence:
    """The slot on ``day`` for everyone: closed days (with their reason), the parts while
    the campus is open (remembered by the opening: every student shares them)."""
    memo = opening.occurrences
    key = (day, slot.start, slot.end, grace)
    found = memo.get(key)
    if found is None:
        start, end, start_at, end_at = _occurrence_us(day, slot.start, slot.end, opening.tz)
        closure = opening.closures.get(day)
        if closure is not None:
            reason = _CLOSURE_REASON[closure[0]]
            found = (start, end, reason, closure[1], (), 0, None, start_at, end_at)
        else:
            parts = _open_parts_us(opening.schedule, (start, end))
            if not parts:
                reason = NotDue.OUTSIDE_OPENING_HOURS
                found = (start, end, reason, "", (), 0, None, start_at, end_at)
            else:
                check_at = _check_instant(parts, grace)
                found = (
                    start,
                    end,
                    None,
                    "",
                    parts,
                    span_seconds(parts),
                    check_at,
                    start_at,
                    end_at,
                )
        if len(memo) >= _OCCURRENCES_MEMO:
            memo.clear()
        memo[key] = found
    return found


_PARTS_MEMO = 4096  # intervals a schedule remembers the open parts of


def _open_parts(schedule: Schedule, slot: Interval) -> tuple[Interval, ...]:
    """The parts of ``slot`` while the campus is open (aware instants)."""
    parts = _open_parts_us(schedule, (to_us(slot[0]), to_us(slot[1])))
    return tuple((from_us(start), from_us(end)) for start, end in parts)


def _open_parts_us(schedule: Schedule, slot: Span) -> tuple[Span, ...]:
    """The parts of ``slot`` while the campus is open (remembered by the schedule)."""
    memo = schedule.spans_memo
    found = memo.get(slot)
    if found is None:
        spans = schedule.spans
        starts = schedule.span_starts
        low = max(bisect.bisect_right(starts, slot[0]) - 1, 0)
        high = bisect.bisect_left(starts, slot[1])
        found = _cross((slot,), spans[low:high])
        if len(memo) >= _PARTS_MEMO:
            memo.clear()
        memo[slot] = found
    return found


@lru_cache(maxsize=65536)
def occurrence(day: date, start: time, end: time, tz: ZoneInfo) -> Interval:
    """A slot on ``day`` as UTC instants."""
    return local_instant(day, start, tz), local_instant(day, end, tz)


@lru_cache(maxsize=65536)
def _occurrence_us(
    day: date, start: time, end: time, tz: ZoneInfo
) -> tuple[int, int, datetime, datetime]:
    """:func:`occurrence` in integer form too (:func:`to_us`), remembered: every campus and
    week asks for the same few slot times of a day."""
    start_at, end_at = occurrence(day, start, end, tz)
    return to_us(start_at), to_us(end_at), start_at, end_at


def week_outcomes(
    week: IsoWeek,
    opening: Opening,
    contracts: Sequence[Contract],
    *,
    sessions: Sequence[Session],
    excuses: Sequence[Excuse] = (),
    grace: timedelta,
    now: datetime,
) -> list[SlotOutcome]:
    """Every slot occurrence of every contract overlapping ``week`` (those outside a
    contract's validity included, as not due), in time order."""
    found = contract_outcomes(
        week.days(), opening, contracts, sessions=sessions, excuses=excuses, grace=grace, now=now
    )
    return sorted((outcome for _, outcome in found), key=lambda item: (item.start, item.end))


def contract_outcomes(
    days: Sequence[date],
    opening: Opening,
    contracts: Sequence[Contract],
    *,
    sessions: Sequence[Session] | Presence,
    excuses: Sequence[Excuse] = (),
    grace: timedelta,
    now: datetime,
) -> list[tuple[int, SlotOutcome]]:
    """(index of the contract, outcome) of the contracts' slots on ``days``."""
    presence = sessions if isinstance(sessions, Presence) else Presence.of(sessions)
    found = contract_slots(
        days,
        opening,
        contracts,
        stays=presence.stays,
        excuses=[excuse_span(excuse) for excuse in excuses],
        grace=us_of(grace),
        now=to_us(now),
    )
    return [(index, outcome_of(day, slot, raw)) for index, day, slot, raw in found]


def contract_slots(
    days: Sequence[date],
    opening: Opening,
    contracts: Sequence[Contract],
    *,
    stays: Stays,
    excuses: Sequence[ExcuseSpan] = (),
    grace: int,
    now: int,
) -> list[tuple[int, date, Slot, RawOutcome]]:
    """:func:`contract_outcomes` on integer instants: (index of the contract, day, slot,
    outcome as :data:`RawOutcome`)."""
    first, last = (days[0], days[-1]) if days else (None, None)
    found = []
    memo = opening.occurrences
    for index, contract in enumerate(contracts):
        if first is None or last is None or not contract.overlaps(first, last):
            continue
        week_slots = contract.week_slots
        for day in days:
            slots = week_slots[day.weekday()]
            if not slots:
                continue
            covered = contract.covers(day)
            for slot in slots:
                occurrence = memo.get((day, slot.start, slot.end, grace))
                if occurrence is None:
                    occurrence = _occurrence(opening, day, slot, grace)
                raw = _slot(occurrence, covered, excuses, stays, grace, now)
                found.append((index, day, slot, raw))
    return found


@dataclass(frozen=True, slots=True)
class Reachable:
    """What the rest of a week can still bring, at ``now`` (for the at-risk forecast):
    the due slot time not over yet, and the campus's opening time not over yet."""

    slot_s: int
    opening_s: int


def reachable(
    outcomes: Iterable[SlotOutcome], opening: Opening, week_end: datetime, now: datetime
) -> Reachable:
    """The seconds still reachable this week from ``now``: in the due slots left, and in
    the campus's open hours left (up to ``week_end``)."""
    dues = [
        tuple((to_us(start), to_us(end)) for start, end in outcome.due)
        for outcome in outcomes
        if outcome.is_due
    ]
    return reachable_spans(dues, opening.schedule, to_us(week_end), to_us(now))


def reachable_spans(
    dues: Iterable[Sequence[Span]], schedule: Schedule, week_end: int, now: int
) -> Reachable:
    """:func:`reachable` on integer instants, from the due times of the due slots."""
    slot_s = sum(
        sum(end - max(start, now) for start, end in due if end > now) // US_PER_S
        for due in dues
        if due and due[-1][1] > now  # else nothing of it is left
    )
    if now >= week_end:
        return Reachable(slot_s, 0)
    return Reachable(slot_s, span_seconds(_open_parts_us(schedule, (now, week_end))))


def _cross(left: Sequence[Interval], right: Sequence[Interval]) -> tuple[Interval, ...]:
    """The intersection of two sorted lists of disjoint intervals (``intersect`` without
    its merging: every list here is already sorted and disjoint)."""
    result: list[Interval] = []
    if len(left) == 1:  # the usual case: one slot against presence or opening hours
        low, high = left[0]
        for start, end in right:
            if start < low:
                start = low
            if end > high:
                end = high
            if start < end:
                result.append((start, end))
        return tuple(result)
    i = j = 0
    while i < len(left) and j < len(right):
        start = max(left[i][0], right[j][0])
        end = min(left[i][1], right[j][1])
        if start < end:
            result.append((start, end))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return tuple(result)


def after(parts: Iterable[Interval], now: datetime) -> tuple[Interval, ...]:
    """The parts of intervals still to come at ``now``."""
    return tuple((max(start, now), end) for start, end in parts if end > now)
