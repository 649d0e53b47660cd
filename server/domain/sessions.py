"""Presence sessions of one person from their door taps, and tutors' corrections (pure).

Rules (docs/domain.md):

- a ``toggle`` reader lets a person in when they are out and out when they are in; an
  ``in`` or ``out`` reader only does that; a ``room`` reader never makes presence (room
  occupancy is counted elsewhere, the server does not follow people inside);
- repeated taps within the debounce window are one tap (the window slides: a burst of
  taps, each a few seconds after the last, is one tap);
- a session still open at closing time, or after the maximum duration, is closed there
  and marked *unverified* until a tutor confirms or corrects it; a tap while the campus is
  closed, just after such a closing, is the person leaving late: it closes that session;
  a tap that opens a session while the campus is closed (and not about to open) makes an
  empty unverified session, for a tutor to amend;
- a session still open at ``now`` ends at ``now`` (state ``open``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum

from server.domain.calendar import Schedule, from_us, to_us, us_of
from server.domain.errors import DomainError


class ReaderMode(StrEnum):
    TOGGLE = "toggle"
    IN = "in"
    OUT = "out"
    ROOM = "room"


class TapEffect(StrEnum):
    """What a tap did to its person's presence."""

    ENTERED = "entered"
    LEFT = "left"
    ROOM = "room"  # room reader: no presence
    REPEATED = "repeated"  # within the debounce window of the previous tap
    ALREADY_IN = "already_in"  # an ``in`` reader while inside
    NOT_IN = "not_in"  # an ``out`` reader while outside


class SessionState(StrEnum):
    CLOSED = "closed"  # badged in and out
    OPEN = "open"  # still inside at ``now``
    UNVERIFIED = "unverified"  # closed by the system at closing time or after the maximum
    CONFIRMED = "confirmed"  # an unverified session that a tutor confirmed
    MANUAL = "manual"  # entered or amended by a tutor


@dataclass(frozen=True, slots=True)
class DoorTap:
    """A tap of a known person at a reader of their campus (aware ``ts``)."""

    ts: datetime
    mode: ReaderMode
    tap_id: str = ""


@dataclass(frozen=True, slots=True, order=True)
class Session:
    start: datetime
    end: datetime
    state: SessionState = SessionState.CLOSED

    @property
    def verified(self) -> bool:
        return self.state is not SessionState.UNVERIFIED


@dataclass(frozen=True, slots=True)
class SessionRules:
    debounce: timedelta = timedelta(seconds=5)
    max_duration: timedelta = timedelta(hours=12)
    early_arrival: timedelta = timedelta(hours=1)  # before opening, a tap still opens

    @property
    def lookback(self) -> timedelta:
        """How far before a moment taps must be read to know who is inside then."""
        return max(2 * self.max_duration, timedelta(days=1))


_ROOM, _IN, _OUT = ReaderMode.ROOM, ReaderMode.IN, ReaderMode.OUT

# A session in integer form (``calendar.to_us``): start, end, state.
SessionSpan = tuple[int, int, SessionState]
# A door tap in integer form: (microseconds since the epoch, reader mode).
TapSpan = tuple[int, ReaderMode]


def build_sessions(
    taps: Sequence[DoorTap], *, rules: SessionRules, schedule: Schedule | None, now: datetime
) -> tuple[list[Session], list[TapEffect]]:
    """Sessions from one person's taps (sorted by time, none after ``now``), and the
    effect of each tap, in the order given (the rule runs on integer instants:
    :func:`build_session_spans`)."""
    spans, effects = build_session_spans(
        [(to_us(tap.ts), tap.mode) for tap in taps],
        rules=rules,
        schedule=schedule,
        now=to_us(now),
        effects=True,
    )
    return [session_of(span) for span in spans], effects


def build_session_spans(
    taps: Sequence[TapSpan],
    *,
    rules: SessionRules,
    schedule: Schedule | None,
    now: int,
    effects: bool = False,
) -> tuple[list[SessionSpan], list[TapEffect]]:
    """:func:`build_sessions` on integer instants (microseconds since the epoch, UTC):
    taps as :data:`TapSpan` in time order; the effects only when asked. The one place the
    session rule is decided."""
    tracker = _Tracker(rules, schedule)
    feed = tracker.feed
    if effects:
        found = [feed(ts, mode) for ts, mode in taps]
    else:
        found = []
        for ts, mode in taps:
            feed(ts, mode)
    tracker.finish(now)
    return tracker.sessions, found


def session_of(span: SessionSpan) -> Session:
    """The :class:`Session` of an integer session (UTC instants)."""
    return Session(from_us(span[0]), from_us(span[1]), span[2])


def span_of(session: Session) -> SessionSpan:
    return to_us(session.start), to_us(session.end), session.state


class SessionReplay:
    """:func:`build_sessions` fed one tap at a time, for live use: the same rules, the
    same effects, without replaying the person's earlier taps at each new one. Taps must
    come in time order; a tap older than the last one fed needs a new replay (the caller
    starts again from the first tap, as ``build_sessions`` would)."""

    __slots__ = ("_tracker", "last_ts")

    def __init__(self, *, rules: SessionRules, schedule: Schedule | None) -> None:
        self._tracker = _Tracker(rules, schedule)
        self.last_ts: datetime | None = None

    def feed(self, tap: DoorTap) -> TapEffect:
        self.last_ts = tap.ts
        return self._tracker.feed(to_us(tap.ts), tap.mode)

    def open_at(self, now: datetime) -> bool:
        """Would ``build_sessions(taps fed, now=max(now, last tap))`` end with a session
        still open? (The state is not changed: more taps may follow.)"""
        tracker = self._tracker
        latest = now if self.last_ts is None else max(now, self.last_ts)
        return (
            tracker.open_start is not None
            and tracker.deadline is not None
            and to_us(latest) < tracker.deadline
        )


_ROOM_TAP, _REPEATED, _LEFT = TapEffect.ROOM, TapEffect.REPEATED, TapEffect.LEFT
_NOT_IN, _ENTERED, _ALREADY_IN = TapEffect.NOT_IN, TapEffect.ENTERED, TapEffect.ALREADY_IN
_UNVERIFIED, _CLOSED = SessionState.UNVERIFIED, SessionState.CLOSED


class _Tracker:
    """The session rule, on integer instants (microseconds since the epoch)."""

    __slots__ = (
        "at_closing",
        "deadline",
        "debounce",
        "early",
        "last_ts",
        "max_us",
        "open_start",
        "schedule",
        "sessions",
    )

    def __init__(self, rules: SessionRules, schedule: Schedule | None) -> None:
        self.debounce = us_of(rules.debounce)
        self.max_us = us_of(rules.max_duration)
        self.early = us_of(rules.early_arrival)
        self.schedule = schedule
        self.sessions: list[SessionSpan] = []
        self.open_start: int | None = None
        self.deadline: int | None = None
        self.at_closing = False  # the deadline is a closing time, not the maximum
        self.last_ts: int | None = None

    def feed(self, ts: int, mode: ReaderMode) -> TapEffect:
        # Called once per tap by the million (national reports): the closing of a session
        # is written out here rather than through _close.
        if mode is _ROOM:
            return _ROOM_TAP
        last, self.last_ts = self.last_ts, ts
        if last is not None and ts - last <= self.debounce:
            return _REPEATED
        start = self.open_start
        if start is not None:
            deadline: int = self.deadline  # type: ignore[assignment]
            if ts >= deadline:  # cut at its deadline: unverified
                self.sessions.append((start, deadline, _UNVERIFIED))
                self.open_start = start = None
        if start is None:
            if mode is not _IN and self.at_closing and self._late_exit(ts):
                return _LEFT
            if mode is _OUT:
                return _NOT_IN
            self._open(ts)
            return _ENTERED
        if mode is _IN:
            return _ALREADY_IN
        self.sessions.append((start, ts, _CLOSED))
        self.open_start = None
        return _LEFT

    def finish(self, now: int) -> None:
        if self.open_start is None or self.deadline is None:
            return
        if now >= self.deadline:
            self._close(self.deadline, SessionState.UNVERIFIED)
        else:
            self.sessions.append((self.open_start, max(now, self.open_start), SessionState.OPEN))
            self.open_start = None

    def _open(self, moment: int) -> None:
        self.open_start = moment
        cap = moment + self.max_us
        closing = self._closing(moment)
        self.at_closing = closing is not None and closing <= cap
        self.deadline = closing if closing is not None and closing <= cap else cap

    def _closing(self, moment: int) -> int | None:
        """When a session opened at ``moment`` must end at the latest, by the calendar.

        Opened while closed: a little before opening it runs to that opening's closing
        time; otherwise it ends at once (unverified: a tutor will say what happened)."""
        if self.schedule is None:
            return None
        closing = self.schedule.closing_after_us(moment)
        if closing is not None:
            return closing
        opening = self.schedule.opening_after_us(moment)
        if opening is not None and opening - moment <= self.early:
            return self.schedule.closing_after_us(opening)
        return moment

    def _close(self, moment: int, state: SessionState) -> None:
        assert self.open_start is not None
        self.sessions.append((self.open_start, moment, state))
        self.open_start = None

    def _late_exit(self, moment: int) -> bool:
        """A tap while closed, right after a session was cut at closing time, is its end."""
        if not self.sessions or self.schedule is None or not self.at_closing:
            return False
        start, end, state = self.sessions[-1]
        if state is not SessionState.UNVERIFIED or moment - start > self.max_us:
            return False
        reopening = self.schedule.opening_after_us(end)
        if reopening is not None and reopening <= moment:
            return False
        self.sessions[-1] = (start, moment, SessionState.CLOSED)
        self.at_closing = False
        return True


class CorrectionKind(StrEnum):
    CONFIRM = "confirm"  # an unverified session is right as it is
    AMEND = "amend"  # a session gets other times (e.g. when the student really left)
    ADD = "add"  # presence without taps (forgotten badge, broken reader)
    REMOVE = "remove"  # a session that did not happen (a lent badge)


@dataclass(frozen=True, slots=True)
class Correction:
    """A tutor's correction. ``session_start`` names the session it applies to (sessions
    are identified by their start); ``start``/``end`` are the new times."""

    kind: CorrectionKind
    session_start: datetime | None = None
    start: datetime | None = None
    end: datetime | None = None

    def __post_init__(self) -> None:
        if self.kind is not CorrectionKind.ADD and self.session_start is None:
            raise DomainError("this correction must name the session it corrects")
        if self.kind in (CorrectionKind.ADD, CorrectionKind.AMEND):
            if self.start is None or self.end is None:
                raise DomainError("this correction needs a start and an end")
            if self.end <= self.start:
                raise DomainError("a session cannot end before it starts")

    @property
    def moment(self) -> datetime:
        """When the corrected presence happened (to find the week it belongs to)."""
        moment = self.session_start or self.start
        assert moment is not None
        return moment

    def new_session(self) -> Session:
        assert self.start is not None and self.end is not None
        return Session(self.start, self.end, SessionState.MANUAL)


def apply_corrections(
    sessions: Iterable[Session], corrections: Iterable[Correction]
) -> list[Session]:
    """Sessions after the corrections, applied in order. A correction naming a session
    that does not exist (any more) is skipped."""
    by_start = {session.start: session for session in sessions}
    for correction in corrections:
        if correction.kind is CorrectionKind.ADD:
            added = correction.new_session()
            by_start[added.start] = added
            continue
        target = by_start.pop(correction.moment, None)
        if target is None:
            continue
        if correction.kind is CorrectionKind.CONFIRM:
            state = target.state if target.verified else SessionState.CONFIRMED
            by_start[target.start] = replace(target, state=state)
        elif correction.kind is CorrectionKind.AMEND:
            amended = correction.new_session()
            by_start[amended.start] = amended
    return sorted(by_start.values())


def correct_spans(
    spans: Sequence[SessionSpan], corrections: Iterable[Correction]
) -> list[SessionSpan]:
    """:func:`apply_corrections` on integer sessions (the rule stays there)."""
    fixed = apply_corrections((session_of(span) for span in spans), corrections)
    return [span_of(session) for session in fixed]
