"""The tutor's students: this week's ledger of each, and one student's follow-up page
(contact, contract and slots, this week's sessions, the last weeks, excuses, alerts
and their calls, notes). Notes are added here, with an audit entry (never the text)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy import orm, select

from server.adapters.event_store import EventStore
from server.config import PresenceSettings
from server.domain.accounts import Actor
from server.domain.calendar import IsoWeek
from server.domain.errors import DomainError
from server.domain.ledger import WeekLine, WeekStatus, hours
from server.domain.sessions import Session, SessionState
from server.registry import audit
from server.registry.account_models import StudentNote
from server.registry.alert_models import Alert, AlertCall
from server.registry.models import Student
from server.registry.presence_repository import PresenceRepository
from server.registry.screen_reads import student_ref, students_in
from server.registry.student_repository import StudentRepository
from server.services.accounts.tutor_scope import Scope, StudentRef
from server.services.presence.ledger import LedgerService, repository
from server.services.presence.tutor_sessions import SessionReader
from server.services.screens.tutor_board import (
    STUDENT_ALERTS,
    AlertCard,
    call_of,
    card_of,
    lives_of,
)

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
class SlotView:
    weekday: int  # 0 = Monday
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class ContractView:
    weekly_hours: float
    valid_from: date
    valid_to: date | None
    slots: tuple[SlotView, ...]


@dataclass(frozen=True, slots=True)
class ExcuseView:
    start: datetime
    end: datetime
    category: str
    note: str
    by: str


@dataclass(frozen=True, slots=True)
class NoteView:
    at: datetime
    author: str
    body: str


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
        registry: Callable[[], orm.Session],
        ledger: LedgerService,
        events: EventStore,
        settings: PresenceSettings,
    ) -> None:
        self.registry = registry
        self.ledger = ledger
        self.settings = settings
        self.sessions = SessionReader(events, settings)

    def ref(self, student_id: str) -> StudentRef | None:
        with self.registry() as session:
            return student_ref(session, student_id)

    def week_of(self, now: datetime) -> IsoWeek:
        """The week of ``now`` in the campuses' time zone."""
        return IsoWeek.of(now.astimezone(self.settings.zone).date())

    def listing(
        self, scope: Scope, week: IsoWeek, now: datetime
    ) -> list[tuple[StudentRef, LedgerRow | None]]:
        """The scope's students with their line of ``week`` (None: no contract then)."""
        with self.registry() as session:
            students = students_in(session, scope)
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
        with self.registry() as session:
            student = session.get(Student, ref.pk)
            assert student is not None
            repo = repository(session, self.settings)
            tz = repo.calendar(ref.campus_id).tz
            span = week.bounds(tz)
            sessions = self.sessions.sessions(repo, ref.campus_id, [ref.pk], span, now)
            return StudentPage(
                student=ref,
                email=student.email,
                programme=student.programme,
                institution=student.institution,
                contracts=_contracts(session, ref.pk, now.astimezone(tz).date()),
                week=str(week),
                sessions=sessions.get(ref.pk, []),
                this_week=rows.get(week),
                history=history,
                excuses=_excuses(session, ref.pk),
                alerts=_alerts(session, ref, self.settings, now),
                notes=_notes(session, ref.pk),
            )

    def add_note(self, ref: StudentRef, body: str, actor: Actor) -> int:
        body = body.strip()
        if not body:
            raise DomainError("a note cannot be empty")
        if len(body) > MAX_NOTE_CHARS:
            raise DomainError("a note has at most {count} characters", count=MAX_NOTE_CHARS)
        with self.registry() as session, session.begin():
            note = StudentNote(student_pk=ref.pk, author=actor.name, body=body, created_at=actor.at)
            session.add(note)
            session.flush()
            audit.record(
                session,
                at=actor.at,
                actor=actor.name,
                action="note_added",
                entity="student_note",
                entity_id=note.id,
                after={"student_id": ref.student_id, "chars": len(body)},
            )
            return note.id


def _contracts(session: orm.Session, student_pk: int, today: date) -> list[ContractView]:
    """Contracts in force or to come, not replaced by a correction."""
    rows = StudentRepository(session).contracts_of(student_pk, current=True)
    return [
        ContractView(
            weekly_hours=round(row.weekly_minutes / 60, 2),
            valid_from=row.valid_from,
            valid_to=row.valid_to,
            slots=tuple(
                SlotView(s.weekday, s.start, s.end) for s in sorted(row.slots, key=_slot_key)
            ),
        )
        for row in rows
        if row.valid_to is None or row.valid_to >= today
    ]


def _slot_key(slot: object) -> tuple[int, time]:
    return slot.weekday, slot.start  # type: ignore[attr-defined]


def _excuses(session: orm.Session, student_pk: int, limit: int = 30) -> list[ExcuseView]:
    rows = PresenceRepository(session).student_excuses(student_pk, limit=limit)
    return [ExcuseView(r.start, r.end, r.category, r.note, r.created_by) for r in rows]


def _alerts(
    session: orm.Session,
    ref: StudentRef,
    settings: PresenceSettings,
    now: datetime,
    limit: int = 30,
) -> list[AlertCard]:
    rows = list(
        session.scalars(
            select(Alert)
            .where(Alert.student_pk == ref.pk, Alert.kind.in_(STUDENT_ALERTS))
            .order_by(Alert.noticed_at.desc(), Alert.id.desc())
            .limit(limit)
        )
    )
    calls: dict[int, list[AlertCall]] = defaultdict(list)
    if rows:
        for call in session.scalars(
            select(AlertCall)
            .where(AlertCall.alert_pk.in_([row.id for row in rows]))
            .order_by(AlertCall.id)
        ):
            calls[call.alert_pk].append(call)
    lives = lives_of(session, settings, rows, now)
    return [
        card_of(row, ref, tuple(call_of(c) for c in calls[row.id]), lives[row.id]) for row in rows
    ]


def _notes(session: orm.Session, student_pk: int, limit: int = 50) -> list[NoteView]:
    rows = session.scalars(
        select(StudentNote)
        .where(StudentNote.student_pk == student_pk)
        .order_by(StudentNote.created_at.desc(), StudentNote.id.desc())
        .limit(limit)
    )
    return [NoteView(row.created_at, row.author, row.body) for row in rows]
