"""The weekly ledger: hours attended against hours committed, per student and ISO week.

All arithmetic is on aware UTC instants, so a week with a daylight-saving change counts
its real hours. Figures are whole seconds; expected hours are rounded to the minute.

- *expected*: the contract's weekly hours, pro rata on the slot time due that week, as
  ``domain.slots`` decides it for each slot occurrence: slots falling on a closed day
  (closure, public holiday, school holidays when the campus closes, a weekday without
  opening hours), outside the day's opening hours (regular or exceptional: a 08:00 slot
  on a day opening at 08:30 is due from 08:30), under an excused absence, or outside the
  contract's validity are not due. Two contracts in one week (a renewal) each count for
  their own days.
- *attended*: the union of the week's sessions (hours outside the slots count too), of
  which *unverified* is the part only known from sessions the system closed.
  Unverified hours do not count towards ``met`` until a tutor confirms them.
- *missed slots* and *late arrivals*: the slot outcomes ``missed`` (over, no presence
  during the due time) and ``late`` (first presence after the expected start plus the
  grace time), counted.
- *status*: ``excused`` when nothing is due, ``met``, ``short`` once the week is over,
  ``at_risk`` mid-week when the remaining due slot time can no longer make up the hours,
  ``on_track`` otherwise.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from server.domain.calendar import (
    US_PER_S,
    ClosureKind,
    IsoWeek,
    Schedule,
    Span,
    merge,
    span_seconds,
    to_us,
    us_of,
)
from server.domain.contracts import Contract
from server.domain.forecast import at_risk, reachable_time
from server.domain.sessions import Session, SessionSpan, SessionState, span_of
from server.domain.slots import (
    Excuse,
    ExcuseSpan,
    Opening,
    SlotOutcome,
    SlotState,
    Stays,
    contract_slots,
    excuse_span,
    outcome_of,
    reachable_spans,
)


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
    reachable_s: int = 0  # time still reachable this week at ``now`` (domain.forecast)

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
    closures: Mapping[date, tuple[ClosureKind, str]] = field(default_factory=dict)
    _opening: Opening = field(init=False, repr=False, compare=False)
    start_us: int = field(init=False, repr=False, compare=False)  # ``start``, ``to_us``
    end_us: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # One opening for the frame: its students share what it remembers (domain.slots).
        object.__setattr__(self, "_opening", Opening(self.tz, self.schedule, self.closures))
        object.__setattr__(self, "start_us", to_us(self.start))
        object.__setattr__(self, "end_us", to_us(self.end))

    @classmethod
    def build(
        cls,
        week: IsoWeek,
        tz: ZoneInfo,
        schedule: Schedule,
        closures: Mapping[date, tuple[ClosureKind, str]] | None = None,
    ) -> WeekFrame:
        """``closures``: why the campus is closed on its closed days (else a closed day
        reads as outside the opening hours)."""
        start, end = week.bounds(tz)
        return cls(week, tz, start, end, schedule, week.days(), closures or {})

    @property
    def opening(self) -> Opening:
        return self._opening


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
    return week_account(
        student_id,
        frame,
        contracts=contracts,
        sessions=sessions,
        excuses=excuses,
        grace=grace,
        now=now,
    )[0]


def week_account(
    student_id: str,
    frame: WeekFrame,
    *,
    contracts: Sequence[Contract],
    sessions: Sequence[Session],
    excuses: Sequence[Excuse] = (),
    grace: timedelta = timedelta(minutes=15),
    now: datetime,
) -> tuple[WeekLine, list[SlotOutcome]]:
    """The ledger line and the slot outcomes it adds up (``domain.slots``), in time order;
    slots outside a contract's validity are listed too, as not due (computed on integer
    instants: :func:`account`)."""
    line, outcomes = account(
        student_id,
        frame,
        contracts=contracts,
        sessions=[span_of(session) for session in sessions],
        excuses=[excuse_span(excuse) for excuse in excuses],
        grace=us_of(grace),
        now=to_us(now),
        outcomes=True,
    )
    return line, outcomes


def account(
    student_id: str,
    frame: WeekFrame,
    *,
    contracts: Sequence[Contract],
    sessions: Sequence[SessionSpan],
    excuses: Sequence[ExcuseSpan] = (),
    grace: int,
    now: int,
    outcomes: bool = False,
) -> tuple[WeekLine, list[SlotOutcome]]:
    """:func:`week_account` on integer instants (microseconds since the epoch, UTC:
    ``calendar.to_us``), the one place the week's figures are decided; the slot outcomes
    are built as objects only when asked (``outcomes``), else the list is empty."""
    stays = Stays.of(sessions)
    found = contract_slots(
        frame.days,
        frame.opening,
        contracts,
        stays=stays,
        excuses=excuses,
        grace=grace,
        now=now,
    )
    due_by_contract = [0] * len(contracts)
    missed = late = 0
    for at, _, _, raw in found:
        due_by_contract[at] += raw[12]
        state = raw[2]
        if state is SlotState.MISSED:
            missed += 1
        elif state is SlotState.LATE:
            late += 1
    numerator, denominator = 0, 1  # expected seconds, as an exact fraction
    for contract, due_s in zip(contracts, due_by_contract, strict=True):
        share, share_of = _expected_share(contract, frame, due_s)
        numerator, denominator = numerator * share_of + share * denominator, denominator * share_of
    expected_s = (2 * numerator + 60 * denominator) // (120 * denominator) * 60  # to the minute
    attended_s, verified_s = _presence(sessions, stays, frame)
    if now >= frame.end_us:  # the week is over: none of its slots or hours is left
        left = reachable_time(0, 0)
    else:
        dues = [raw[5] for _, _, _, raw in found if raw[3] is None]
        still = reachable_spans(dues, frame.schedule, frame.end_us, now)
        left = reachable_time(still.slot_s, still.opening_s)
    line = WeekLine(
        student_id,
        frame.week,
        expected_s,
        attended_s,
        attended_s - verified_s,
        missed,
        late,
        _status(expected_s, verified_s, left, frame, now),
        left,
    )
    if not outcomes:
        return line, []
    ordered = sorted(found, key=lambda item: (item[3][0], item[3][1]))
    return line, [outcome_of(day, slot, raw) for _, day, slot, raw in ordered]


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


def _presence(sessions: Sequence[SessionSpan], stays: Stays, frame: WeekFrame) -> tuple[int, int]:
    """The seconds of the union of the sessions within the week, and of the verified
    ones. ``stays`` is the union of the sessions (:meth:`Stays.of`): cut to the week, it
    is the union of the sessions cut to the week; the verified ones are merged apart only
    when a session of the week is unverified."""
    low, high = frame.start_us, frame.end_us
    total = 0
    for start, end in stays.intervals:
        if start < high and end > low:
            total += (end if end < high else high) - (start if start > low else low)
    attended_s = total // US_PER_S
    verified: list[Span] = []
    unverified = False
    for start, end, state in sessions:
        if start < high and end > low:
            if state is SessionState.UNVERIFIED:
                unverified = True
            else:
                verified.append((start if start > low else low, end if end < high else high))
    return attended_s, span_seconds(merge(verified)) if unverified else attended_s


def _status(
    expected_s: int, verified_s: int, reachable_s: int, frame: WeekFrame, now: int
) -> WeekStatus:
    """At risk only when the time still reachable (slots and opening hours left) cannot
    cover what is missing (``domain.forecast``)."""
    if expected_s == 0:
        return WeekStatus.EXCUSED
    if verified_s >= expected_s:
        return WeekStatus.MET
    if now >= frame.end_us:
        return WeekStatus.SHORT
    if at_risk(verified_s, expected_s, reachable_s):
        return WeekStatus.AT_RISK
    return WeekStatus.ON_TRACK


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


# ---------------------------------------------------------------------- freezing a week
#
# A week's lines are computed from the raw taps until the freeze job stores them as weekly
# records (they outlive the purge of the taps). Late data counts: a tap stored later for a
# frozen week re-opens it (``services.ledger``) and the job freezes it again. The job is
# the only writer of weekly records: a read never freezes.


def freeze_candidates(
    now: datetime, tz: ZoneInfo, window: timedelta, retention: timedelta
) -> list[IsoWeek]:
    """Every week the freeze job looks at, oldest first: those over for ``window`` whose
    raw taps are all still kept (so a week re-opened by a late tap or a correction gets
    frozen again, however old, as long as it can be recomputed)."""
    last = IsoWeek.of((now - window).astimezone(tz).date())
    while last.bounds(tz)[1] + window > now:
        last = last.shifted(-1)
    weeks, week = [], last
    while not taps_purged(week, now, tz, retention):
        weeks.append(week)
        week = week.shifted(-1)
    return weeks[::-1]


def oldest_unconfirmed(
    reports: Iterable[tuple[int, datetime | None]],
) -> datetime | None:
    """The oldest tap still awaiting the server's confirmation on any reader, from each
    reader's last status as ``(queued, oldest)``; None when none is waiting. A reader
    holding taps without saying how old (an agent older than protocol 1.1) holds nothing:
    its age is unknown, and holding every week for ever would stop the freezing."""
    ages = [oldest for queued, oldest in reports if queued > 0 and oldest is not None]
    return min(ages) if ages else None


# A held week is frozen anyway once its first taps are this close to the purge: its
# figures would be lost otherwise (a tap delivered later would be refused as too old).
FREEZE_BEFORE_PURGE = timedelta(days=7)


def weeks_to_freeze(
    candidates: Iterable[IsoWeek],
    *,
    tz: ZoneInfo,
    now: datetime,
    window: timedelta,
    unconfirmed_since: datetime | None,
    retention: timedelta | None = None,
) -> list[IsoWeek]:
    """The weeks among ``candidates`` the freeze job may freeze at ``now``: over for the
    correction ``window``, and none of whose taps may still sit on a door: a week is held
    while a reader of its campus reports an unconfirmed tap older than the week's end
    (a reader gone for good cannot hold a week past ``retention`` less
    :data:`FREEZE_BEFORE_PURGE`: its raw taps would be purged unrecorded)."""
    frozen = []
    for week in candidates:
        start, end = week.bounds(tz)
        if end + window > now:
            continue
        purged_soon = retention is not None and start < now - retention + FREEZE_BEFORE_PURGE
        if unconfirmed_since is not None and unconfirmed_since < end and not purged_soon:
            continue
        frozen.append(week)
    return frozen


def late_tap_week(ts: datetime, tz: ZoneInfo, now: datetime, window: timedelta) -> IsoWeek | None:
    """The week (in the campus's time zone) of a tap stored at ``now`` if that week may be
    frozen already (over for the correction window), else None: no need to look."""
    week = IsoWeek.of(ts.astimezone(tz).date())
    return week if week.bounds(tz)[1] + window <= now else None
