"""The tutor's *Now* board: the open alerts about their students first, then the
roster of the current slots (expected / present / late / absent), built from the
contracts, the calendar, the stored taps and the absence watcher's verdicts.

A coordinator's board covers their whole campus; an admin's every campus."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import orm, select

from server.adapters.event_store import EventStore
from server.config import PresenceSettings
from server.domain.absences import ExpectedSlot, Verdict, expected_slots
from server.domain.alerts import AlertKind, AlertLife, life
from server.domain.tutor_roster import RosterState, on_roster, roster_state
from server.registry.alert_models import AbsenceEvaluation, Alert, AlertCall
from server.registry.alert_repository import AlertRepository, state_of
from server.registry.models import Student, Tutor
from server.registry.presence_repository import PresenceRepository
from server.registry.screen_reads import ref_of, students_in
from server.services.accounts.tutor_scope import Scope, StudentRef
from server.services.alerts.alerts import call_policy
from server.services.presence.ledger import repository
from server.services.presence.tutor_sessions import SessionReader
from server.texts.alert_texts import tel_uri

STUDENT_ALERTS = (AlertKind.ABSENCE.value, AlertKind.SHORTFALL.value, AlertKind.EARLY_WARNING.value)


@dataclass(frozen=True, slots=True)
class CallLine:
    called_at: datetime
    outcome: str
    reason_category: str | None
    reason: str
    excused: bool
    author: str


@dataclass(frozen=True, slots=True)
class AlertCard:
    """An alert about one student, with the phone number to call."""

    public_id: str
    kind: str
    status: str
    resolution: str | None
    student: StudentRef
    tel: str
    slot_start: datetime | None
    slot_end: datetime | None
    week: str | None
    noticed_at: datetime
    acknowledged_at: datetime | None
    called_at: datetime | None
    arrived_at: datetime | None
    calls: tuple[CallLine, ...] = ()
    life: AlertLife | None = None  # domain.alerts.life at the board's instant

    @property
    def is_open(self) -> bool:
        return self.status != "closed"


@dataclass(frozen=True, slots=True)
class RosterLine:
    student: StudentRef
    tel: str
    slot_start: datetime
    slot_end: datetime
    state: RosterState
    arrived_at: datetime | None
    alert_id: str | None  # the open alert about this slot, if any


@dataclass(frozen=True, slots=True)
class Board:
    now: datetime
    alerts: list[AlertCard]
    roster: list[RosterLine]


class TutorBoard:
    def __init__(
        self,
        registry: Callable[[], orm.Session],
        events: EventStore,
        settings: PresenceSettings,
        *,
        ahead: timedelta = timedelta(hours=1),
    ) -> None:
        self.registry = registry
        self.settings = settings
        self.sessions = SessionReader(events, settings)
        self.grace = timedelta(minutes=settings.grace_minutes)
        self.ahead = ahead

    def board(self, scope: Scope, now: datetime) -> Board:
        with self.registry() as session:
            students = students_in(session, scope)
            alerts = self._open_alerts(session, students, now)
            repo = repository(session, self.settings)
            by_campus: dict[str, list[StudentRef]] = defaultdict(list)
            for student in students:
                by_campus[student.campus_id].append(student)
            open_by_slot = {
                (card.student.pk, card.slot_start): card.public_id
                for card in alerts
                if card.slot_start is not None
            }
            roster = [
                line
                for campus, refs in sorted(by_campus.items())
                for line in self._roster(session, repo, campus, refs, open_by_slot, now)
            ]
        roster.sort(key=lambda line: (line.slot_start, line.state.urgency, line.student.name))
        return Board(now, alerts, roster)

    def alert(self, public_id: str, now: datetime) -> AlertCard | None:
        """An alert about a student, with its calls and its life at ``now``; None for
        others (incidents)."""
        with self.registry() as session:
            row = session.execute(
                select(Alert, Student, Tutor)
                .join(Student, Student.id == Alert.student_pk)
                .outerjoin(Tutor, Tutor.id == Student.tutor_id)
                .where(Alert.public_id == public_id, Alert.kind.in_(STUDENT_ALERTS))
            ).first()
            if row is None:
                return None
            alert, student, tutor = row
            calls = session.scalars(
                select(AlertCall).where(AlertCall.alert_pk == alert.id).order_by(AlertCall.id)
            )
            lines = tuple(call_of(call) for call in calls)
            return card_of(
                alert,
                ref_of(student, tutor),
                lines,
                lives_of(session, self.settings, [alert], now)[alert.id],
            )

    # ------------------------------------------------------------------ parts

    def _open_alerts(
        self, session: orm.Session, students: Sequence[StudentRef], now: datetime
    ) -> list[AlertCard]:
        refs = {student.pk: student for student in students}
        if not refs:
            return []
        rows = session.scalars(
            select(Alert)
            .where(
                Alert.status != "closed",
                Alert.kind.in_(STUDENT_ALERTS),
                Alert.student_pk.in_(list(refs)),
            )
            .order_by(Alert.noticed_at, Alert.id)
        )
        found = [row for row in rows if row.student_pk in refs]
        lives = lives_of(session, self.settings, found, now)
        return [card_of(row, refs[row.student_pk], (), lives[row.id]) for row in found]

    def _roster(
        self,
        session: orm.Session,
        repo: PresenceRepository,
        campus: str,
        refs: Sequence[StudentRef],
        open_by_slot: dict[tuple[int, datetime | None], str],
        now: datetime,
    ) -> list[RosterLine]:
        wanted = {ref.pk: ref for ref in refs}
        slots = self._current_slots(repo, campus, set(wanted), now)
        if not slots:
            return []
        span = (min(slot.start for slot in slots), max(slot.end for slot in slots))
        sessions = self.sessions.sessions(repo, campus, {s.student_pk for s in slots}, span, now)
        verdicts = _verdicts(session, slots)
        lines = []
        for slot in slots:
            state, came = roster_state(
                slot,
                sessions.get(slot.student_pk, []),
                now,
                verdicts.get((slot.student_pk, slot.start)),
            )
            ref = wanted[slot.student_pk]
            alert_id = open_by_slot.get((slot.student_pk, slot.start))
            lines.append(RosterLine(ref, _tel(ref), slot.start, slot.end, state, came, alert_id))
        return lines

    def _current_slots(
        self, repo: PresenceRepository, campus: str, pks: set[int], now: datetime
    ) -> list[ExpectedSlot]:
        calendar = repo.calendar(campus)
        today = now.astimezone(calendar.tz).date()
        plans = [plan for plan in repo.plans(campus, today, today) if plan.student_pk in pks]
        if not plans:
            return []
        schedule = calendar.schedule(today - timedelta(days=1), today + timedelta(days=1))
        day_start = now - timedelta(days=1)
        excuses = repo.excuses([p.student_pk for p in plans], day_start, now + timedelta(days=1))
        found = []
        for plan in plans:
            for slot in expected_slots(
                plan.student_pk,
                plan.student_id,
                plan.contracts,
                days=[today],
                schedule=schedule,
                tz=calendar.tz,
                excuses=excuses.get(plan.student_pk, ()),
                grace=self.grace,
            ):
                if on_roster(slot, now, self.ahead):
                    found.append(slot)
        return found


def _verdicts(
    session: orm.Session, slots: Sequence[ExpectedSlot]
) -> dict[tuple[int, datetime], Verdict]:
    rows = session.execute(
        select(
            AbsenceEvaluation.student_pk, AbsenceEvaluation.slot_start, AbsenceEvaluation.verdict
        ).where(
            AbsenceEvaluation.student_pk.in_(list({slot.student_pk for slot in slots})),
            AbsenceEvaluation.slot_start.in_(list({slot.start for slot in slots})),
        )
    )
    return {(pk, start): Verdict(verdict) for pk, start, verdict in rows}


def _tel(ref: StudentRef) -> str:
    return tel_uri(ref.phone) if ref.phone else ""


def lives_of(
    session: orm.Session, settings: PresenceSettings, rows: Sequence[Alert], now: datetime
) -> dict[int, AlertLife]:
    """Each alert's life at ``now`` (``domain.alerts.life``), by alert id."""
    repo = AlertRepository(session, timezone=settings.timezone)
    calls = repo.calls_of([row.id for row in rows])
    policies = {
        campus: call_policy(settings, repo.channel_settings(campus))
        for campus in {row.campus_id for row in rows}
    }
    return {
        row.id: life(state_of(row), calls[row.id], policies[row.campus_id], now) for row in rows
    }


def card_of(
    row: Alert,
    ref: StudentRef,
    calls: tuple[CallLine, ...] = (),
    alert_life: AlertLife | None = None,
) -> AlertCard:
    return AlertCard(
        public_id=row.public_id,
        kind=row.kind,
        status=row.status,
        resolution=row.resolution,
        student=ref,
        tel=_tel(ref),
        slot_start=row.slot_start,
        slot_end=row.slot_end,
        week=row.week,
        noticed_at=row.noticed_at,
        acknowledged_at=row.acknowledged_at,
        called_at=row.called_at,
        arrived_at=row.arrived_at,
        calls=calls,
        life=alert_life,
    )


def call_of(row: AlertCall) -> CallLine:
    return CallLine(
        row.called_at, row.outcome, row.reason_category, row.reason, row.excused, row.author
    )
