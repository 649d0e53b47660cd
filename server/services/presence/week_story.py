"""Use case: why a week adds up as it does, for one student and any week that has begun,
past and frozen weeks included (the tutor's, coordinator's and student's pages, the
``report week`` command and the API read it).

A week not frozen is explained from the raw taps, with the same rules as the weekly
ledger (``domain.ledger.week_account``, ``domain.slots``). A frozen week shows its stored
figures and explains itself from the breakdown stored with them (its slot outcomes and
sessions), so that it still does once its raw taps are purged; a week frozen before
breakdowns were kept is recomputed while its taps remain, and says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from server.adapters.event_store import EventStore
from server.config import PresenceSettings
from server.domain.calendar import CampusCalendar, IsoWeek, Schedule
from server.domain.contracts import Contract
from server.domain.ledger import WeekFrame, WeekLine, WeekStatus, taps_purged, week_account
from server.domain.sessions import Session, build_sessions
from server.domain.slots import closures
from server.domain.week_story import (
    Problem,
    SlotLine,
    Totals,
    WeekStoryError,
    is_future,
    read_breakdown,
    totals,
    week_sessions,
)
from server.ports.presence import PresenceStore, PresenceUnitOfWork
from server.ports.screens import StudentRef
from server.services.presence.ledger import (
    LedgerService,
    corrected_sessions,
    door_taps_by_student,
    index_holdings,
    session_rules,
)


class Source(StrEnum):
    LIVE = "live"  # computed from the raw taps now
    FROZEN = "frozen"  # the frozen record and its stored breakdown
    FROZEN_RECOMPUTED = "frozen_recomputed"  # frozen without breakdown: slots recomputed
    FROZEN_UNEXPLAINED = "frozen_unexplained"  # frozen without breakdown, taps purged


@dataclass(frozen=True, slots=True)
class TapLine:
    ts: datetime
    effect: str  # domain.sessions.TapEffect value


@dataclass(frozen=True, slots=True)
class CorrectionLine:
    kind: str
    session_start: datetime | None
    start: datetime | None
    end: datetime | None
    reason: str
    author: str
    created_at: datetime

    @property
    def moment(self) -> datetime | None:
        return self.start or self.session_start


@dataclass(frozen=True, slots=True)
class SessionLine:
    start: datetime
    end: datetime
    state: str
    taps: tuple[TapLine, ...] = ()
    corrections: tuple[CorrectionLine, ...] = ()


@dataclass(frozen=True, slots=True)
class ExcuseLine:
    start: datetime
    end: datetime
    category: str
    note: str
    created_by: str


@dataclass(frozen=True, slots=True)
class DayNote:
    """A day of the week the campus closed, or opened on exceptional hours."""

    day: date
    kind: str  # public_holiday, closure, school_holiday, exceptional_hours
    label: str


@dataclass(frozen=True)
class WeekStory:
    student: StudentRef
    week: IsoWeek
    line: WeekLine
    source: Source
    frozen_at: datetime | None
    taps_purged: bool
    slots: list[SlotLine]
    sessions: list[SessionLine]
    corrections: list[CorrectionLine]  # those not tied to a session shown (removals…)
    excuses: list[ExcuseLine]
    days: list[DayNote]
    totals: Totals
    previous: IsoWeek
    following: IsoWeek | None  # None when it would be in the future
    taps: list[TapLine] = field(default_factory=list)  # taps outside every session

    def as_dict(self) -> dict[str, Any]:
        """The public shape (``report week --format json``, the API)."""
        return {
            "student_id": self.student.student_id,
            "week": str(self.week),
            "source": self.source.value,
            "frozen_at": _iso(self.frozen_at),
            "taps_purged": self.taps_purged,
            "figures": self.line.as_dict(),
            "totals": {
                "weekly_minutes": self.totals.weekly_minutes,
                "slot_minutes": self.totals.slot_minutes,
                "due_minutes": self.totals.due_minutes,
                "not_due_minutes": self.totals.not_due_minutes,
                "attended_in_slots_minutes": self.totals.attended_in_slots_minutes,
            },
            "slots": [_slot_dict(slot) for slot in self.slots],
            "sessions": [
                {
                    "start": _iso(s.start),
                    "end": _iso(s.end),
                    "state": s.state,
                    "taps": [{"ts": _iso(t.ts), "effect": t.effect} for t in s.taps],
                    "corrections": [_correction_dict(c) for c in s.corrections],
                }
                for s in self.sessions
            ],
            "other_taps": [{"ts": _iso(t.ts), "effect": t.effect} for t in self.taps],
            "other_corrections": [_correction_dict(c) for c in self.corrections],
            "excuses": [
                {
                    "start": _iso(e.start),
                    "end": _iso(e.end),
                    "category": e.category,
                    "note": e.note,
                    "by": e.created_by,
                }
                for e in self.excuses
            ],
            "days": [
                {"day": note.day.isoformat(), "kind": note.kind, "label": note.label}
                for note in self.days
            ],
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _slot_dict(slot: SlotLine) -> dict[str, Any]:
    return {
        "day": slot.day.isoformat(),
        "slot": slot.slot,
        "start": _iso(slot.start),
        "end": _iso(slot.end),
        "state": slot.state.value,
        "reason": slot.reason.value if slot.reason else None,
        "detail": slot.detail,
        "expected_from": _iso(slot.expected_from),
        "expected_minutes": slot.expected_minutes,
        "attended_minutes": slot.attended_minutes,
        "excused_minutes": slot.excused_minutes,
        "arrived_at": _iso(slot.arrived_at),
        "late_minutes": slot.late_minutes,
    }


def _correction_dict(item: CorrectionLine) -> dict[str, Any]:
    return {
        "kind": item.kind,
        "session_start": _iso(item.session_start),
        "start": _iso(item.start),
        "end": _iso(item.end),
        "reason": item.reason,
        "by": item.author,
        "at": _iso(item.created_at),
    }


class WeekStories:
    def __init__(
        self,
        units: Callable[[], PresenceUnitOfWork],
        events: EventStore,
        ledger: LedgerService,
        settings: PresenceSettings,
        *,
        retention_days: int,
    ) -> None:
        self.units = units
        self.events = events
        self.ledger = ledger
        self.settings = settings
        self.rules = session_rules(settings)
        self.retention = timedelta(days=retention_days)

    def story(
        self,
        student_id: str,
        week_text: str,
        now: datetime,
        *,
        may_see: Callable[[StudentRef], bool] | None = None,
    ) -> WeekStory:
        """Why ``student_id``'s ``week_text`` (``2026-W46``) adds up as it does.
        Raises :class:`WeekStoryError` for a bad or future week, an unknown student or
        one ``may_see`` refuses."""
        try:
            week = IsoWeek.parse(week_text)
        except ValueError:
            raise WeekStoryError(Problem.BAD_WEEK) from None
        with self.units() as uow:
            card = uow.students.card(student_id) if student_id else None
        if card is None:
            raise WeekStoryError(Problem.UNKNOWN_STUDENT)
        ref = StudentRef(
            card.pk,
            card.student_id,
            card.campus_id,
            card.tutor_id,
            card.name,
            card.phone,
            card.tutor,
        )
        if may_see is not None and not may_see(ref):
            raise WeekStoryError(Problem.FORBIDDEN)
        with self.units() as uow:
            calendar = uow.presence.calendar(ref.campus_id)
        today = now.astimezone(calendar.tz).date()
        if is_future(week, today):
            raise WeekStoryError(Problem.FUTURE_WEEK)
        line = self._line(ref, week, now)
        with self.units() as uow:
            return self._story(uow.presence, ref, week, line, now)

    def _line(self, ref: StudentRef, week: IsoWeek, now: datetime) -> WeekLine:
        for line in self.ledger.weekly(week, now, campus=ref.campus_id):
            if line.student_id == ref.student_id:
                return line
        return WeekLine(ref.student_id, week, 0, 0, 0, 0, 0, WeekStatus.EXCUSED)  # no contract

    def _story(
        self,
        repo: PresenceStore,
        ref: StudentRef,
        week: IsoWeek,
        line: WeekLine,
        now: datetime,
    ) -> WeekStory:
        calendar = repo.calendar(ref.campus_id)
        tz = calendar.tz
        start, end = week.bounds(tz)
        days = week.days()
        contracts = _contracts(repo, ref, week)
        purged = taps_purged(week, now, tz, self.retention)
        record = repo.frozen_record(ref.pk, week)
        stored = read_breakdown(record.breakdown) if record is not None else None
        span = (start - self.rules.lookback, min(end, now + timedelta(microseconds=1)))
        schedule = calendar.schedule(span[0].astimezone(tz).date(), days[-1])
        if stored is not None:
            source, (slots, sessions) = Source.FROZEN, stored
        elif record is not None and purged:
            source, slots, sessions = Source.FROZEN_UNEXPLAINED, [], []
        else:
            source = Source.LIVE if record is None else Source.FROZEN_RECOMPUTED
            found = corrected_sessions(
                self.events, repo, self.rules, ref.campus_id, [ref.pk], span, schedule, now
            )[ref.pk]
            frame = WeekFrame.build(week, tz, schedule, closures(calendar, days[0], days[-1]))
            excuses = repo.excuses([ref.pk], span[0], end).get(ref.pk, [])
            _, outcomes = week_account(
                ref.student_id,
                frame,
                contracts=contracts,
                sessions=found,
                excuses=excuses,
                grace=timedelta(minutes=self.settings.grace_minutes),
                now=now,
            )
            slots = [SlotLine.of(outcome) for outcome in outcomes]
            sessions = week_sessions(found, start, end)
        taps = [] if purged else self._taps(repo, ref, span, schedule, now, start, end)
        notes = [
            CorrectionLine(
                row.kind,
                row.session_start,
                row.start,
                row.end,
                row.reason,
                row.author,
                row.created_at,
            )
            for row in repo.correction_notes(ref.pk, start, end)
        ]
        lines, loose_taps, loose_notes = _attach(sessions, taps, notes)
        weekly = contracts[-1].weekly_minutes if contracts else 0
        slot_minutes = contracts[-1].slot_minutes if contracts else 0
        following = week.shifted(1)
        today = now.astimezone(tz).date()
        return WeekStory(
            student=ref,
            week=week,
            line=line,
            source=source,
            frozen_at=record.frozen_at if record is not None else None,
            taps_purged=purged,
            slots=slots,
            sessions=lines,
            corrections=loose_notes,
            excuses=[
                ExcuseLine(row.start, row.end, row.category, row.note, row.created_by)
                for row in repo.excuse_notes(ref.pk, start, end)
            ],
            days=_day_notes(calendar, days),
            totals=totals(slots, weekly, slot_minutes),
            previous=week.shifted(-1),
            following=None if is_future(following, today) else following,
            taps=loose_taps,
        )

    def _taps(
        self,
        repo: PresenceStore,
        ref: StudentRef,
        span: tuple[datetime, datetime],
        schedule: Schedule,
        now: datetime,
        start: datetime,
        end: datetime,
    ) -> list[TapLine]:
        """The student's door taps of the week, each with what it did."""
        stored = self.events.taps(span[0], span[1], campus=ref.campus_id)
        door = door_taps_by_student(
            stored, index_holdings(repo.holdings_for_campus(ref.campus_id)), repo.reader_modes()
        ).get(ref.pk, [])
        _, effects = build_sessions(door, rules=self.rules, schedule=schedule, now=now)
        return [
            TapLine(tap.ts, effect.value)
            for tap, effect in zip(door, effects, strict=True)
            if start <= tap.ts < end
        ]


def _contracts(repo: PresenceStore, ref: StudentRef, week: IsoWeek) -> list[Contract]:
    days = week.days()
    for plan in repo.plans(ref.campus_id, days[0], days[-1]):
        if plan.student_pk == ref.pk:
            return list(plan.contracts)
    return []


def _attach(
    sessions: Sequence[Session], taps: Sequence[TapLine], notes: Sequence[CorrectionLine]
) -> tuple[list[SessionLine], list[TapLine], list[CorrectionLine]]:
    """Each session with the taps that opened or closed it and the corrections that made
    or changed it; what belongs to no session shown, apart."""
    used_taps: set[int] = set()
    used_notes: set[int] = set()
    lines = []
    for session in sessions:
        mine = [index for index, tap in enumerate(taps) if session.start <= tap.ts <= session.end]
        fixes = [
            index
            for index, note in enumerate(notes)
            if note.moment is not None
            and (note.start == session.start or note.session_start == session.start)
        ]
        used_taps.update(mine)
        used_notes.update(fixes)
        lines.append(
            SessionLine(
                session.start,
                session.end,
                session.state.value,
                tuple(taps[index] for index in mine),
                tuple(notes[index] for index in fixes),
            )
        )
    loose_taps = [tap for index, tap in enumerate(taps) if index not in used_taps]
    loose_notes = [note for index, note in enumerate(notes) if index not in used_notes]
    return lines, loose_taps, loose_notes


def _day_notes(calendar: CampusCalendar, days: Sequence[date]) -> list[DayNote]:
    notes = []
    shut = closures(calendar, days[0], days[-1])
    for day in days:
        if day in shut:
            kind, label = shut[day]
            notes.append(DayNote(day, kind.value, label))
        elif calendar.exceptions.get(day):
            hours = ", ".join(
                f"{item.opens:%H:%M}-{item.closes:%H:%M}" for item in calendar.exceptions[day]
            )
            notes.append(DayNote(day, "exceptional_hours", hours))
    return notes
