"""The tutor's students: this week's ledger of each, and one student's follow-up page
(contact, contract and slots, this week's sessions, the last weeks, excuses, alerts
and their calls, notes). Notes are added here, with an audit entry (never the text)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from server.config import PresenceSettings
from server.domain.accounts import Actor
from server.domain.calendar import IsoWeek
from server.domain.errors import DomainError
from server.domain.ledger import WeekLine, WeekStatus, hours
from server.domain.sessions import Session, SessionState
from server.ports.screens import (
    ContractView,
    ExcuseView,
    NoteView,
    Scope,
    ScreenReads,
    SessionSource,
    StudentRef,
    WeekLedger,
)
from server.services.screens.tutor_board import AlertCard, card_of, lives_of

MAX_NOTE_CHARS = 4000
HISTORY_WEEKS = 10
AT_RISK = frozenset({WeekStatus.AT_RISK, WeekStatus.SHORT})


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """A week of one student, in hours."""

    week: str
    expected: float
    attended: float
    unverified: float
    remaining: float
    missed_slots: int
    late_arrivals: int
    status: WeekStatus
    reachable: float = 0.0  # hours still reachable this week (domain.forecast)

    @property
    def at_risk(self) -> bool:
        return self.status in AT_RISK

    @property
    def forecast(self) -> bool:
        """The week is under way and not met yet: its forecast is worth showing."""
        return self.status in (WeekStatus.ON_TRACK, WeekStatus.AT_RISK)

    @classmethod
    def of(cls, line: WeekLine) -> LedgerRow:
        return cls(
            week=str(line.week),
            expected=hours(line.expected_s),
            attended=hours(line.attended_s),
            unverified=hours(line.unverified_s),
            remaining=hours(line.remaining_s),
            missed_slots=line.missed_slots,
            late_arrivals=line.late_arrivals,
            status=line.status,
            reachable=hours(line.reachable_s),
        )


@dataclass(frozen=True, slots=True)
class StudentPage:
    student: StudentRef
    email: str
    programme: str
    institution: str
    contracts: list[ContractView]
    week: str
    sessions: list[Session]
    this_week: LedgerRow | None
    history: list[LedgerRow]  # newest first
    excuses: list[ExcuseView]
    alerts: list[AlertCard]
    notes: list[NoteView]

    @property
    def unverified(self) -> list[Session]:
        return [s for s in self.sessions if s.state is SessionState.UNVERIFIED]


class TutorStudents:
    def __init__(
        self,
        reads: Callable[[], ScreenReads],
        ledger: WeekLedger,
        sessions: SessionSource,
        settings: PresenceSettings,
    ) -> None:
        self.reads = reads
        self.ledger = ledger
        self.settings = settings
        self.sessions = sessions

    def ref(self, student_id: str) -> StudentRef | None:
        with self.reads() as view:
            return view.student_ref(student_id)

    def students(self, scope: Scope) -> list[StudentRef]:
        """The scope's students, by name."""
        with self.reads() as view:
            return view.students(scope)

    def week_of(self, now: datetime) -> IsoWeek:
        """The week of ``now`` in the campuses' time zone."""
        return IsoWeek.of(now.astimezone(self.settings.zone).date())

    def listing(
        self, scope: Scope, week: IsoWeek, now: datetime
    ) -> list[tuple[StudentRef, LedgerRow | None]]:
        """The scope's students with their line of ``week`` (None: no contract then)."""
        students = self.students(scope)
        lines: dict[str, WeekLine] = {}
        for campus in sorted({student.campus_id for student in students}):
            lines.update(
                (line.student_id, line) for line in self.ledger.weekly(week, now, campus=campus)
            )
        return [
            (
                student,
                LedgerRow.of(lines[student.student_id]) if student.student_id in lines else None,
            )
            for student in students
        ]

    def page(self, ref: StudentRef, now: datetime) -> StudentPage:
        week = self.week_of(now)
        weeks = [week.shifted(-offset) for offset in range(HISTORY_WEEKS)]
        found = self.ledger.weeks(weeks, now, campus=ref.campus_id)
        rows = {
            label: LedgerRow.of(line)
            for label, lines in found.items()
            for line in lines
            if line.student_id == ref.student_id
        }
        history = [rows[item] for item in weeks if item in rows]
        with self.reads() as view:
            student = view.student(ref.pk)
            assert student is not None
            tz = view.presence.calendar(ref.campus_id).tz
            span = week.bounds(tz)
            sessions = self.sessions.sessions(view.presence, ref.campus_id, [ref.pk], span, now)
            return StudentPage(
                student=ref,
                email=student.email,
                programme=student.programme,
                institution=student.institution,
                contracts=_contracts(view, ref.pk, now.astimezone(tz).date()),
                week=str(week),
                sessions=sessions.get(ref.pk, []),
                this_week=rows.get(week),
                history=history,
                excuses=view.student_excuses(ref.pk, limit=30),
                alerts=self._alerts(view, ref, now),
                notes=view.notes(ref.pk, limit=50),
            )

    def add_note(self, ref: StudentRef, body: str, actor: Actor) -> int:
        body = body.strip()
        if not body:
            raise DomainError("a note cannot be empty")
        if len(body) > MAX_NOTE_CHARS:
            raise DomainError("a note has at most {count} characters", count=MAX_NOTE_CHARS)
        with self.reads() as view:
            note_id = view.add_note(ref, author=actor.name, body=body, at=actor.at)
            view.commit()
        return note_id

    def _alerts(
        self, view: ScreenReads, ref: StudentRef, now: datetime, limit: int = 30
    ) -> list[AlertCard]:
        found = view.student_alerts(ref.pk, limit=limit)
        calls = view.calls([facts.id for facts in found])
        lives = lives_of(view, self.settings, found, calls, now)
        return [card_of(facts, ref, tuple(calls[facts.id]), lives[facts.id]) for facts in found]


def _contracts(view: ScreenReads, student_pk: int, today: date) -> list[ContractView]:
    """Contracts in force or to come, not replaced by a correction."""
    return [
        contract
        for contract in view.current_contracts(student_pk)
        if contract.valid_to is None or contract.valid_to >= today
    ]
