"""The tutor's *Now* board: the open alerts about their students first, then the
roster of the current slots (expected / present / late / absent), built from the
contracts, the calendar, the stored taps and the absence watcher's verdicts.

A coordinator's board covers their whole campus; an admin's every campus."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.config import PresenceSettings
from server.domain.absences import ExpectedSlot, expected_slots
from server.domain.alerts import AlertLife, life
from server.domain.tutor_roster import RosterState, on_roster, roster_state
from server.ports.screens import (
    AlertFacts,
    CallLine,
    PresenceReads,
    Scope,
    ScreenReads,
    SessionSource,
    StudentRef,
)
from server.services.alerts.alerts import call_policy
from server.texts.alert_texts import tel_uri


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
        reads: Callable[[], ScreenReads],
        sessions: SessionSource,
        settings: PresenceSettings,
        *,
        ahead: timedelta = timedelta(hours=1),
    ) -> None:
        self.reads = reads
        self.settings = settings
        self.sessions = sessions
        self.grace = timedelta(minutes=settings.grace_minutes)
        self.ahead = ahead

    def board(self, scope: Scope, now: datetime) -> Board:
        with self.reads() as view:
            students = view.students(scope)
            alerts = self._open_alerts(view, students, now)
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
                for line in self._roster(view, campus, refs, open_by_slot, now)
            ]
        roster.sort(key=lambda line: (line.slot_start, line.state.urgency, line.student.name))
        return Board(now, alerts, roster)

    def alert(self, public_id: str, now: datetime) -> AlertCard | None:
        """An alert about a student, with its calls and its life at ``now``; None for
        others (incidents)."""
        with self.reads() as view:
            found = view.alert(public_id)
            if found is None:
                return None
            facts, ref = found
            calls = view.calls([facts.id])
            lives = lives_of(view, self.settings, [facts], calls, now)
        return card_of(facts, ref, tuple(calls[facts.id]), lives[facts.id])

    # ------------------------------------------------------------------ parts

    def _open_alerts(
        self, view: ScreenReads, students: Sequence[StudentRef], now: datetime
    ) -> list[AlertCard]:
        refs = {student.pk: student for student in students}
        if not refs:
            return []
        found = view.open_alerts(list(refs))
        calls = view.calls([facts.id for facts in found])
        lives = lives_of(view, self.settings, found, calls, now)
        return [card_of(facts, refs[facts.student_pk], (), lives[facts.id]) for facts in found]

    def _roster(
        self,
        view: ScreenReads,
        campus: str,
        refs: Sequence[StudentRef],
        open_by_slot: dict[tuple[int, datetime | None], str],
        now: datetime,
    ) -> list[RosterLine]:
        wanted = {ref.pk: ref for ref in refs}
        slots = self._current_slots(view.presence, campus, set(wanted), now)
        if not slots:
            return []
        span = (min(slot.start for slot in slots), max(slot.end for slot in slots))
        sessions = self.sessions.sessions(
            view.presence, campus, {s.student_pk for s in slots}, span, now
        )
        verdicts = view.verdicts([(slot.student_pk, slot.start) for slot in slots])
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
        self, repo: PresenceReads, campus: str, pks: set[int], now: datetime
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


def _tel(ref: StudentRef) -> str:
    return tel_uri(ref.phone) if ref.phone else ""


def lives_of(
    view: ScreenReads,
    settings: PresenceSettings,
    alerts: Sequence[AlertFacts],
    calls: dict[int, list[CallLine]],
    now: datetime,
) -> dict[int, AlertLife]:
    """Each alert's life at ``now`` (``domain.alerts.life``), by alert id."""
    escalations = view.escalations({facts.campus_id for facts in alerts}) if alerts else {}
    policies = {
        campus: call_policy(settings, escalations.get(campus))  # type: ignore[arg-type]
        for campus in {facts.campus_id for facts in alerts}
    }
    return {
        facts.id: life(
            facts.state,
            [line.log() for line in calls[facts.id]],
            policies[facts.campus_id],
            now,
        )
        for facts in alerts
    }


def card_of(
    facts: AlertFacts,
    ref: StudentRef,
    calls: tuple[CallLine, ...] = (),
    alert_life: AlertLife | None = None,
) -> AlertCard:
    return AlertCard(
        public_id=facts.public_id,
        kind=facts.kind,
        status=facts.status,
        resolution=facts.resolution,
        student=ref,
        tel=_tel(ref),
        slot_start=facts.slot_start,
        slot_end=facts.slot_end,
        week=facts.week,
        noticed_at=facts.noticed_at,
        acknowledged_at=facts.acknowledged_at,
        called_at=facts.called_at,
        arrived_at=facts.arrived_at,
        calls=calls,
        life=alert_life,
    )
