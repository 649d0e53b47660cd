"""Use cases of a student's own pages: my week (hours against my commitment, my slots,
what is left to do, am I in now) and my weeks of the academic year.

The figures are the weekly ledger's (closures and excuses accounted for); the slots and
the current session are rebuilt from the student's own door taps, with the same session
rules and the tutors' corrections.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from server.adapters.event_store import EventStore
from server.config import PresenceSettings
from server.domain.calendar import CampusCalendar, IsoWeek
from server.domain.contracts import Contract
from server.domain.errors import NotFound
from server.domain.ledger import WeekLine, WeekStatus
from server.domain.sessions import Session
from server.domain.student_progress import (
    Progress,
    SlotVisit,
    current_session,
    progress,
    week_slots,
    year_weeks,
)
from server.ports.screens import PresenceReads, ScreenReads, WeekLedger
from server.services.presence.ledger import corrected_sessions, session_rules


class NotAStudent(NotFound):
    """The account is not linked to a student record (any more)."""


@dataclass(frozen=True, slots=True)
class Me:
    student_pk: int
    student_id: str
    campus_id: str
    tutor_id: int | None
    first_name: str


@dataclass(frozen=True, slots=True)
class MyWeek:
    me: Me
    week: IsoWeek
    progress: Progress
    slots: list[SlotVisit]
    inside_since: datetime | None  # the open session's start: the student is in now
    weekly_hours: float  # the commitment of the contract in force


@dataclass(frozen=True, slots=True)
class MyYear:
    me: Me
    first_day: date
    lines: list[WeekLine]  # oldest first


class StudentSpace:
    def __init__(
        self,
        reads: Callable[[], ScreenReads],
        events: EventStore,
        ledger: WeekLedger,
        settings: PresenceSettings,
    ) -> None:
        self.reads = reads
        self.events = events
        self.ledger = ledger
        self.settings = settings
        self.rules = session_rules(settings)

    def me(self, student_pk: int) -> Me:
        with self.reads() as view:
            row = view.student(student_pk)
        if row is None:
            raise NotAStudent(student_pk)
        return Me(row.pk, row.student_id, row.campus_id, row.tutor_id, row.first_name)

    def week(self, student_pk: int, now: datetime) -> MyWeek:
        me = self.me(student_pk)
        with self.reads() as view:
            repo = view.presence
            calendar = repo.calendar(me.campus_id)
            week = IsoWeek.of(now.astimezone(calendar.tz).date())
            start, end = week.bounds(calendar.tz)
            contracts = self._contracts(repo, me, week.monday, week.monday + timedelta(days=6))
            sessions = self.sessions(repo, me, calendar, (start, min(end, now)), now)
            excuses = repo.excuses([me.student_pk], start, end).get(me.student_pk, [])
        line = self._line(me, week, now)
        grace = timedelta(minutes=self.settings.grace_minutes)
        slots = week_slots(
            week, calendar, contracts, sessions=sessions, excuses=excuses, grace=grace, now=now
        )
        inside = current_session(sessions)
        today = now.astimezone(calendar.tz).date()
        in_force = [c for c in contracts if c.covers(today)] or contracts
        return MyWeek(
            me,
            week,
            progress(line, slots, now),
            slots,
            inside.start if inside else None,
            in_force[-1].weekly_minutes / 60 if in_force else 0.0,
        )

    def year(self, student_pk: int, now: datetime) -> MyYear:
        me = self.me(student_pk)
        with self.reads() as view:
            repo = view.presence
            today = now.astimezone(repo.calendar(me.campus_id).tz).date()
            contracts = self._contracts(repo, me, today - timedelta(days=366), today)
        weeks = year_weeks(today, contracts)
        lines: list[WeekLine] = []
        if weeks:
            by_week = self.ledger.weeks(weeks, now, campus=me.campus_id)
            lines = [line for week in weeks for line in by_week[week] if _mine(line, me)]
        first = weeks[0].monday if weeks else today
        return MyYear(me, first, lines)

    def sessions(
        self,
        repo: PresenceReads,
        me: Me,
        calendar: CampusCalendar,
        span: tuple[datetime, datetime],
        now: datetime,
    ) -> list[Session]:
        """The student's sessions overlapping ``span``, corrections applied."""
        start, end = span[0] - self.rules.lookback, span[1]
        if end <= start:
            return []
        tz = calendar.tz
        schedule = calendar.schedule(start.astimezone(tz).date(), end.astimezone(tz).date())
        sessions = corrected_sessions(
            self.events,
            repo,  # type: ignore[arg-type]  # the presence repository, through the port
            self.rules,
            me.campus_id,
            [me.student_pk],
            (start, end),
            schedule,
            now,
        )[me.student_pk]
        return [s for s in sessions if s.end > span[0] and s.start < span[1]]

    def _line(self, me: Me, week: IsoWeek, now: datetime) -> WeekLine:
        for line in self.ledger.weekly(week, now, campus=me.campus_id):
            if _mine(line, me):
                return line
        return WeekLine(me.student_id, week, 0, 0, 0, 0, 0, WeekStatus.EXCUSED)  # no contract

    @staticmethod
    def _contracts(repo: PresenceReads, me: Me, first: date, last: date) -> list[Contract]:
        for plan in repo.plans(me.campus_id, first, last):
            if plan.student_pk == me.student_pk:
                return list(plan.contracts)
        return []


def _mine(line: WeekLine, me: Me) -> bool:
    return line.student_id == me.student_id
