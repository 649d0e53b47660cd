"""Use cases of alerts: acknowledge, log a call (and excuse the absence), close an
absence when the student arrives before the call, escalate unacknowledged alerts, list
them and report on the call-on-absence obligation. Every change is audited."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import orm

from server.config import PresenceSettings
from server.domain import alerts as rules
from server.domain.accounts import Actor
from server.domain.alerts import AlertKind, AlertLife, CallLog, CallPolicy
from server.domain.calendar import local_midnight
from server.domain.errors import DomainError, NotFound
from server.domain.events import StoredTap
from server.domain.notices import NoticeKind
from server.domain.sessions import ReaderMode
from server.registry import audit
from server.registry.alert_models import Alert, AlertCall, AlertChannelSettings
from server.registry.alert_repository import AlertRepository, apply_state, call_of, state_of
from server.registry.models import Student
from server.registry.presence_repository import repository
from server.services.alerts.notifications import NotificationService
from server.services.presence.corrections import CorrectionService
from server.services.presence.ledger import holder_of, index_holdings

log = logging.getLogger(__name__)


class AlertNotFound(NotFound):
    code = "unknown_alert"

    def __init__(self) -> None:
        super().__init__("There is no such alert.")


class CallNotFound(NotFound):
    code = "unknown_call"

    def __init__(self) -> None:
        super().__init__("there is no such call")


def call_policy(
    settings: PresenceSettings, channel: AlertChannelSettings | None = None
) -> CallPolicy:
    """A campus's call policy: the ``[presence]`` settings and the escalation delay of
    its alert channels."""
    return CallPolicy(
        first_call_within=timedelta(minutes=settings.first_call_minutes),
        call_again_after=timedelta(minutes=settings.call_again_minutes),
        escalate_after_attempts=settings.escalate_after_calls,
        escalate_after=timedelta(minutes=channel.escalation_minutes if channel else 30),
    )


@dataclass(frozen=True, slots=True)
class Step:
    """A change to an alert that people must hear about."""

    alert_pk: int
    notice: NoticeKind


class AlertService:
    def __init__(
        self,
        registry: Callable[[], orm.Session],
        notifications: NotificationService,
        corrections: CorrectionService,
        settings: PresenceSettings,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.registry = registry
        self.notifications = notifications
        self.corrections = corrections
        self.settings = settings
        self._clock = clock
        self.tz = settings.zone

    def _repo(self, session: orm.Session) -> AlertRepository:
        return AlertRepository(session, timezone=self.settings.timezone)

    def announce(self, steps: Sequence[Step], now: datetime, *, send_now: bool = True) -> None:
        for step in steps:
            try:
                self.notifications.notify(step.alert_pk, step.notice, now, send_now=send_now)
            except Exception:
                log.exception(
                    "notice %s of alert %d could not be recorded", step.notice, step.alert_pk
                )

    # ------------------------------------------------------------------ tutor's actions

    def acknowledge(self, public_id: str, actor: Actor) -> dict[str, Any]:
        with self.registry() as session, session.begin():
            row = self._alert(session, public_id)
            before = row.status
            apply_state(row, rules.acknowledge(state_of(row), actor.at))
            if not row.acknowledged_by:
                row.acknowledged_by = actor.name
            self._audit(session, row, actor, "alert_acknowledged", before)
            return self.describe(session, row, actor.at)

    def policy(self, session: orm.Session, campus: str) -> CallPolicy:
        return call_policy(self.settings, self._repo(session).channel_settings(campus))

    def life(self, session: orm.Session, row: Alert, now: datetime) -> AlertLife:
        """The alert's life (:func:`server.domain.alerts.life`) at ``now``."""
        calls = self._repo(session).calls_of([row.id])[row.id]
        return rules.life(state_of(row), calls, self.policy(session, row.campus_id), now)

    def log_call(self, public_id: str, call: CallLog, actor: Actor) -> dict[str, Any]:
        """Record a call. It closes the alert unless it did not reach the student (then
        the next call is due, see ``domain.alerts.life``); a closed alert refuses it
        (:class:`AlertClosed`). An excused absence is recorded through the corrections
        service, over the slot."""
        with self.registry() as session:
            row = self._alert(session, public_id)
            rules.log_call(state_of(row), call, actor.at)  # validate before writing
            span = self._excusable(session, row) if call.excused else None
        excuse_id = None
        if span is not None and call.category is not None:
            student_id, start, end = span
            excuse_id = self.corrections.excuse(
                student_id, start, end, call.category.excuse, note=call.reason, actor=actor
            )
        with self.registry() as session, session.begin():
            row = self._alert(session, public_id)
            before = row.status
            apply_state(row, rules.log_call(state_of(row), call, actor.at))
            session.add(_call_row(row, call, excuse_id, actor))
            self._audit(session, row, actor, "alert_call_logged", before, outcome=call.outcome)
            described = self.describe(session, row, actor.at)
            pk, closed = row.id, row.status == "closed"
        if closed:
            self.announce([Step(pk, NoticeKind.RESOLVED)], actor.at)
        return described

    def correct_call(
        self, public_id: str, index: int, call: CallLog, note: str, actor: Actor
    ) -> dict[str, Any]:
        """Correct the ``index``-th call (0: the first) of an alert, closed or not: its
        time, outcome and reason. The alert follows (closed by a call that reached the
        student, open again when none did). Audited with the call before and after.
        Excusing the absence is not done here: log a call for that."""
        if call.excused:
            raise DomainError("a correction cannot excuse the absence: log a call for that")
        with self.registry() as session, session.begin():
            row = self._alert(session, public_id)
            rows = self._repo(session).calls(row.id)
            if not 0 <= index < len(rows):
                raise CallNotFound()
            target = rows[index]
            old = _call_dict(target)
            calls = [call_of(item) for item in rows]
            calls[index] = replace(call, excused=target.excused)
            before = row.status
            apply_state(row, rules.correct_calls(state_of(row), calls, actor.at))
            target.called_at, target.outcome = call.called_at, call.outcome.value
            target.reason_category = call.category.value if call.category else None
            target.reason = call.reason
            self._audit(
                session,
                row,
                actor,
                "alert_call_corrected",
                before,
                call=index,
                call_before=old,
                call_after=_call_dict(target),
                note=note,
            )
            return self.describe(session, row, actor.at)

    def _excusable(self, session: orm.Session, row: Alert) -> tuple[str, datetime, datetime]:
        student = session.get(Student, row.student_pk) if row.student_pk else None
        if student is None:
            raise DomainError("only an alert about a student can be excused")
        if row.slot_start is not None and row.slot_end is not None:
            return student.student_id, row.slot_start, row.slot_end
        raise DomainError("only an absence from a slot can be excused here")

    # ------------------------------------------------------------------ automatic steps

    def taps_stored(self, taps: Sequence[StoredTap], now: datetime) -> list[Step]:
        """A student with an absence alert taps in: before any call the alert closes
        and the tutor is told; after it, the late arrival is recorded on the alert."""
        steps: list[Step] = []
        with self.registry() as session, session.begin():
            repo = repository(session, self.settings)
            modes = repo.reader_modes()
            door_taps = [
                tap
                for tap in taps
                if modes.get((tap.campus, tap.reader), ReaderMode.TOGGLE) is not ReaderMode.ROOM
            ]
            holdings = index_holdings(repo.holdings_for_hashes({tap.badge for tap in door_taps}))
            arrivals: dict[int, datetime] = {}
            for tap in door_taps:
                holder = holder_of(holdings, tap.badge, tap.ts)
                if holder is not None:
                    first = arrivals.get(holder.student_pk)
                    arrivals[holder.student_pk] = min(first, tap.ts) if first else tap.ts
            for row in self._repo(session).unresolved_absences(arrivals):
                arrived = arrivals[row.student_pk]  # type: ignore[index]
                if row.slot_start is None or row.slot_end is None:
                    continue
                if not row.slot_start <= arrived < row.slot_end:
                    continue
                state, tell = rules.student_arrived(state_of(row), arrived, now)
                before = row.status
                apply_state(row, state)
                self._audit(session, row, Actor("system", now), "alert_student_arrived", before)
                if tell:
                    steps.append(Step(row.id, NoticeKind.ARRIVED))
        return steps

    def escalate_due(self, now: datetime) -> int:
        """Tell the coordinator about the alerts whose life says so: still not closed
        after the campus's delay, or called too many times without an answer."""
        steps: list[Step] = []
        with self.registry() as session, session.begin():
            repo = self._repo(session)
            rows = [
                row
                for row in repo.open_alerts()
                # incidents go to the coordinators already
                if row.kind not in (AlertKind.READER_DOWN.value, AlertKind.CAPACITY.value)
            ]
            calls = repo.calls_of([row.id for row in rows])
            policies: dict[str, CallPolicy] = {}
            for row in rows:
                if row.campus_id not in policies:
                    policies[row.campus_id] = self.policy(session, row.campus_id)
                life = rules.life(state_of(row), calls[row.id], policies[row.campus_id], now)
                if life.escalate_now:
                    row.escalated_at = now
                    self._audit(session, row, Actor("system", now), "alert_escalated", row.status)
                    steps.append(Step(row.id, NoticeKind.ESCALATED))
        self.announce(steps, now)
        return len(steps)

    # ------------------------------------------------------------------ reading

    def listing(
        self, *, open_only: bool, since: datetime | None, campus: str | None = None
    ) -> list[dict[str, Any]]:
        with self.registry() as session:
            rows = self._repo(session).listing(open_only=open_only, since=since, campus=campus)
            return [self.describe(session, row) for row in rows]

    def get(self, public_id: str) -> dict[str, Any]:
        with self.registry() as session:
            return self.describe(session, self._alert(session, public_id))

    def evidence(
        self, first: date, last: date, *, campus: str | None = None, tz: ZoneInfo | None = None
    ) -> dict[str, Any]:
        """The call-on-absence evidence from ``first`` to ``last`` (local days in ``tz``,
        the campus's time zone; the deployment's by default), of one campus or of all."""
        tz = tz or self.tz
        start = local_midnight(first, tz)
        end = local_midnight(last + timedelta(days=1), tz)
        with self.registry() as session:
            policy = call_policy(
                self.settings, self._repo(session).channel_settings(campus) if campus else None
            )
            facts = self._repo(session).facts(start, end, campus, policy)
        lines = rules.evidence(facts, tz)
        return {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "tutors": [line.as_dict() for line in lines[:-1]],
            "total": lines[-1].as_dict(),
        }

    def describe(
        self, session: orm.Session, row: Alert, now: datetime | None = None
    ) -> dict[str, Any]:
        """The API's view of an alert: for staff, so with the student's phone."""
        notice = self._repo(session).notice(row.id, NoticeKind.RAISED)
        student = notice.student
        life = self.life(session, row, now or self._now())
        return {
            "id": row.public_id,
            "kind": row.kind,
            "campus": row.campus_id,
            "status": row.status,
            "resolution": row.resolution,
            "student_id": notice.student_id,
            "student_name": student.name if student else None,
            "student_phone": student.phone if student else None,
            "tutor": notice.tutor.email if notice.tutor else None,
            "tutor_name": self._repo(session).tutor_names([row.tutor_id]).get(row.tutor_id)
            if row.tutor_id
            else None,
            "stage": life.stage.value,
            "attempts": life.attempts,
            "next_call_at": _iso(life.next_call_at),
            "slot_start": _iso(row.slot_start),
            "slot_end": _iso(row.slot_end),
            "week": row.week,
            "reader": row.reader_id,
            "room": row.room_id,
            "count": row.occupancy_count,
            "capacity": row.occupancy_capacity,
            "noticed_at": _iso(row.noticed_at),
            "acknowledged_at": _iso(row.acknowledged_at),
            "called_at": _iso(row.called_at),
            "arrived_at": _iso(row.arrived_at),
            "escalated_at": _iso(row.escalated_at),
            "closed_at": _iso(row.closed_at),
            "url": notice.url or None,
            "calls": [_call_dict(call) for call in self._repo(session).calls(row.id)],
            "deliveries": [
                {
                    "notice": item.notice,
                    "channel": item.channel,
                    "status": item.status,
                    "attempts": item.attempts,
                    "error": item.last_error or None,
                    "sent_at": _iso(item.sent_at),
                }
                for item in self._repo(session).deliveries(row.id)
            ],
        }

    # ------------------------------------------------------------------ helpers

    def _now(self) -> datetime:
        """The injected clock (the composition root's); without one, the real time."""
        return self._clock() if self._clock else datetime.now(UTC)

    def _alert(self, session: orm.Session, public_id: str) -> Alert:
        row = self._repo(session).by_public_id(public_id)
        if row is None:
            raise AlertNotFound()
        return row

    @staticmethod
    def _audit(
        session: orm.Session, row: Alert, actor: Actor, action: str, before: str, **extra: Any
    ) -> None:
        audit.record(
            session,
            at=actor.at,
            actor=actor.name,
            action=action,
            entity="alert",
            entity_id=row.public_id,
            before={"status": before},
            after={"status": row.status, "resolution": row.resolution, **extra},
        )


def _call_row(row: Alert, call: CallLog, excuse_id: int | None, actor: Actor) -> AlertCall:
    return AlertCall(
        alert_pk=row.id,
        called_at=call.called_at,
        outcome=call.outcome.value,
        reason_category=call.category.value if call.category else None,
        reason=call.reason,
        excused=call.excused,
        excused_absence_id=excuse_id,
        author=actor.name,
        created_at=actor.at,
    )


def _call_dict(call: AlertCall) -> dict[str, Any]:
    return {
        "called_at": _iso(call.called_at),
        "outcome": call.outcome,
        "reason_category": call.reason_category,
        "reason": call.reason,
        "excused": call.excused,
        "by": call.author,
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def arrival_listener(
    alerts: AlertService, clock: Callable[[], datetime]
) -> Callable[[Sequence[StoredTap]], None]:
    """What the composition root hands to ``IngestService.on_taps_stored``. Runs in the
    ingest worker: it only writes the registry; the notices are sent by the delivery
    lanes at their next scan (``server.services.alerts.delivery_workers``, every 10 s)."""

    def listener(taps: Sequence[StoredTap]) -> None:
        now = clock()
        alerts.announce(alerts.taps_stored(taps, now), now, send_now=False)

    return listener
