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

from server.config import PresenceSettings
from server.domain import alerts as rules
from server.domain.accounts import Actor
from server.domain.alerts import AlertKind, AlertLife, CallLog, CallPolicy
from server.domain.calendar import local_midnight
from server.domain.errors import DomainError, NotFound
from server.domain.events import StoredTap
from server.domain.notices import NoticeKind
from server.domain.sessions import ReaderMode
from server.ports.alerts import (
    AlertRecord,
    AlertsUnitOfWork,
    CallRecord,
    ChannelSettings,
    apply_state,
    call_of,
    state_of,
)
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


def call_policy(settings: PresenceSettings, channel: ChannelSettings | None = None) -> CallPolicy:
    """A campus's call policy: the ``[presence]`` settings and the escalation delay of
    its alert channels (their settings, or anything with their ``escalation_minutes``)."""
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
        unit_of_work: Callable[[], AlertsUnitOfWork],
        notifications: NotificationService,
        corrections: CorrectionService,
        settings: PresenceSettings,
        *,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.notifications = notifications
        self.corrections = corrections
        self.settings = settings
        self._clock = clock
        self.tz = settings.zone

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
        with self.unit_of_work() as uow:
            alert = self._alert(uow, public_id)
            before = alert.status
            apply_state(alert, rules.acknowledge(state_of(alert), actor.at))
            if not alert.acknowledged_by:
                alert.acknowledged_by = actor.name
            uow.alerts.save(alert)
            self._audit(uow, alert, actor, "alert_acknowledged", before)
            described = self.describe(uow, alert, actor.at)
            uow.commit()
            return described

    def policy(self, uow: AlertsUnitOfWork, campus: str) -> CallPolicy:
        return call_policy(self.settings, uow.channel_settings.get(campus))

    def life(self, uow: AlertsUnitOfWork, alert: AlertRecord, now: datetime) -> AlertLife:
        """The alert's life (:func:`server.domain.alerts.life`) at ``now``."""
        assert alert.id is not None
        calls = uow.calls.logs_of([alert.id])[alert.id]
        return rules.life(state_of(alert), calls, self.policy(uow, alert.campus_id), now)

    def lives(
        self, uow: AlertsUnitOfWork, alerts: Sequence[AlertRecord], now: datetime
    ) -> dict[int, AlertLife]:
        """Each alert's life at ``now``, by alert id (the calls read at once)."""
        calls = uow.calls.logs_of([alert.id for alert in alerts if alert.id is not None])
        policies = {campus: self.policy(uow, campus) for campus in {a.campus_id for a in alerts}}
        return {
            alert.id: rules.life(state_of(alert), calls[alert.id], policies[alert.campus_id], now)
            for alert in alerts
            if alert.id is not None
        }

    def log_call(self, public_id: str, call: CallLog, actor: Actor) -> dict[str, Any]:
        """Record a call. It closes the alert unless it did not reach the student (then
        the next call is due, see ``domain.alerts.life``); a closed alert refuses it
        (:class:`AlertClosed`). An excused absence is recorded through the corrections
        service, over the slot."""
        with self.unit_of_work() as uow:
            alert = self._alert(uow, public_id)
            rules.log_call(state_of(alert), call, actor.at)  # validate before writing
            span = self._excusable(uow, alert) if call.excused else None
        excuse_id = None
        if span is not None and call.category is not None:
            student_id, start, end = span
            excuse_id = self.corrections.excuse(
                student_id, start, end, call.category.excuse, note=call.reason, actor=actor
            )
        with self.unit_of_work() as uow:
            alert = self._alert(uow, public_id)
            before = alert.status
            apply_state(alert, rules.log_call(state_of(alert), call, actor.at))
            uow.alerts.save(alert)
            uow.calls.add(_call_record(alert, call, excuse_id, actor))
            self._audit(uow, alert, actor, "alert_call_logged", before, outcome=call.outcome)
            described = self.describe(uow, alert, actor.at)
            pk, closed = alert.id, alert.status == "closed"
            uow.commit()
        if closed and pk is not None:
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
        with self.unit_of_work() as uow:
            alert = self._alert(uow, public_id)
            assert alert.id is not None
            records = uow.calls.of(alert.id)
            if not 0 <= index < len(records):
                raise CallNotFound()
            target = records[index]
            old = _call_dict(target)
            calls = [call_of(item) for item in records]
            calls[index] = replace(call, excused=target.excused)
            before = alert.status
            apply_state(alert, rules.correct_calls(state_of(alert), calls, actor.at))
            uow.alerts.save(alert)
            target.called_at, target.outcome = call.called_at, call.outcome.value
            target.reason_category = call.category.value if call.category else None
            target.reason = call.reason
            uow.calls.save(target)
            self._audit(
                uow,
                alert,
                actor,
                "alert_call_corrected",
                before,
                call=index,
                call_before=old,
                call_after=_call_dict(target),
                note=note,
            )
            described = self.describe(uow, alert, actor.at)
            uow.commit()
            return described

    def _excusable(
        self, uow: AlertsUnitOfWork, alert: AlertRecord
    ) -> tuple[str, datetime, datetime]:
        student = uow.people.student(alert.student_pk) if alert.student_pk else None
        if student is None:
            raise DomainError("only an alert about a student can be excused")
        if alert.slot_start is not None and alert.slot_end is not None:
            return student.student_id, alert.slot_start, alert.slot_end
        raise DomainError("only an absence from a slot can be excused here")

    # ------------------------------------------------------------------ automatic steps

    def taps_stored(self, taps: Sequence[StoredTap], now: datetime) -> list[Step]:
        """A student with an absence alert taps in: before any call the alert closes
        and the tutor is told; after it, the late arrival is recorded on the alert."""
        steps: list[Step] = []
        with self.unit_of_work() as uow:
            modes = uow.doors.reader_modes()
            door_taps = [
                tap
                for tap in taps
                if modes.get((tap.campus, tap.reader), ReaderMode.TOGGLE) is not ReaderMode.ROOM
            ]
            holdings = index_holdings(
                uow.doors.holdings_for_hashes({tap.badge for tap in door_taps})  # type: ignore[arg-type]
            )
            arrivals: dict[int, datetime] = {}
            for tap in door_taps:
                holder = holder_of(holdings, tap.badge, tap.ts)
                if holder is not None:
                    first = arrivals.get(holder.student_pk)
                    arrivals[holder.student_pk] = min(first, tap.ts) if first else tap.ts
            for alert in uow.alerts.unresolved_absences(arrivals):
                arrived = arrivals[alert.student_pk]  # type: ignore[index]
                if alert.slot_start is None or alert.slot_end is None:
                    continue
                if not alert.slot_start <= arrived < alert.slot_end:
                    continue
                state, tell = rules.student_arrived(state_of(alert), arrived, now)
                before = alert.status
                apply_state(alert, state)
                uow.alerts.save(alert)
                self._audit(uow, alert, Actor("system", now), "alert_student_arrived", before)
                if tell and alert.id is not None:
                    steps.append(Step(alert.id, NoticeKind.ARRIVED))
            uow.commit()
        return steps

    def escalate_due(self, now: datetime) -> int:
        """Tell the coordinator about the alerts whose life says so: still not closed
        after the campus's delay, or called too many times without an answer."""
        steps: list[Step] = []
        with self.unit_of_work() as uow:
            alerts = [
                alert
                for alert in uow.alerts.open_alerts()
                # incidents go to the coordinators already
                if alert.kind not in (AlertKind.READER_DOWN.value, AlertKind.CAPACITY.value)
            ]
            lives = self.lives(uow, alerts, now)
            for alert in alerts:
                assert alert.id is not None
                if lives[alert.id].escalate_now:
                    alert.escalated_at = now
                    uow.alerts.save(alert)
                    self._audit(uow, alert, Actor("system", now), "alert_escalated", alert.status)
                    steps.append(Step(alert.id, NoticeKind.ESCALATED))
            uow.commit()
        self.announce(steps, now)
        return len(steps)

    # ------------------------------------------------------------------ reading

    def listing(
        self, *, open_only: bool, since: datetime | None, campus: str | None = None
    ) -> list[dict[str, Any]]:
        with self.unit_of_work() as uow:
            alerts = uow.alerts.listing(open_only=open_only, since=since, campus=campus)
            return [self.describe(uow, alert) for alert in alerts]

    def get(self, public_id: str) -> dict[str, Any]:
        with self.unit_of_work() as uow:
            return self.describe(uow, self._alert(uow, public_id))

    def evidence(
        self, first: date, last: date, *, campus: str | None = None, tz: ZoneInfo | None = None
    ) -> dict[str, Any]:
        """The call-on-absence evidence from ``first`` to ``last`` (local days in ``tz``,
        the campus's time zone; the deployment's by default), of one campus or of all."""
        tz = tz or self.tz
        start = local_midnight(first, tz)
        end = local_midnight(last + timedelta(days=1), tz)
        with self.unit_of_work() as uow:
            policy = call_policy(
                self.settings, uow.channel_settings.get(campus) if campus else None
            )
            facts = uow.alerts.facts(start, end, campus, policy)
        lines = rules.evidence(facts, tz)
        return {
            "from": first.isoformat(),
            "to": last.isoformat(),
            "tutors": [line.as_dict() for line in lines[:-1]],
            "total": lines[-1].as_dict(),
        }

    def describe(
        self, uow: AlertsUnitOfWork, alert: AlertRecord, now: datetime | None = None
    ) -> dict[str, Any]:
        """The API's view of an alert: for staff, so with the student's phone."""
        assert alert.id is not None  # saved: the notice is read from the store
        (notice,) = uow.alerts.notices([(alert.id, NoticeKind.RAISED)])
        student = notice.student
        life = self.life(uow, alert, now or self._now())
        return {
            "id": alert.public_id,
            "kind": alert.kind,
            "campus": alert.campus_id,
            "status": alert.status,
            "resolution": alert.resolution,
            "student_id": notice.student_id,
            "student_name": student.name if student else None,
            "student_phone": student.phone if student else None,
            "tutor": notice.tutor.email if notice.tutor else None,
            "tutor_name": uow.people.tutor_names([alert.tutor_id]).get(alert.tutor_id)
            if alert.tutor_id
            else None,
            "stage": life.stage.value,
            "attempts": life.attempts,
            "next_call_at": _iso(life.next_call_at),
            "slot_start": _iso(alert.slot_start),
            "slot_end": _iso(alert.slot_end),
            "week": alert.week,
            "reader": alert.reader_id,
            "room": alert.room_id,
            "count": alert.occupancy_count,
            "capacity": alert.occupancy_capacity,
            "noticed_at": _iso(alert.noticed_at),
            "acknowledged_at": _iso(alert.acknowledged_at),
            "called_at": _iso(alert.called_at),
            "arrived_at": _iso(alert.arrived_at),
            "escalated_at": _iso(alert.escalated_at),
            "closed_at": _iso(alert.closed_at),
            "url": notice.url or None,
            "calls": [_call_dict(call) for call in uow.calls.of(alert.id)],
            "deliveries": [
                {
                    "notice": item.notice,
                    "channel": item.channel,
                    "status": item.status,
                    "attempts": item.attempts,
                    "error": item.last_error or None,
                    "sent_at": _iso(item.sent_at),
                }
                for item in uow.alerts.deliveries(alert.id)
            ],
        }

    # ------------------------------------------------------------------ helpers

    def _now(self) -> datetime:
        """The injected clock (the composition root's); without one, the real time."""
        return self._clock() if self._clock else datetime.now(UTC)

    @staticmethod
    def _alert(uow: AlertsUnitOfWork, public_id: str) -> AlertRecord:
        alert = uow.alerts.by_public_id(public_id)
        if alert is None:
            raise AlertNotFound()
        return alert

    @staticmethod
    def _audit(
        uow: AlertsUnitOfWork,
        alert: AlertRecord,
        actor: Actor,
        action: str,
        before: str,
        **extra: Any,
    ) -> None:
        uow.audit.record(
            at=actor.at,
            actor=actor.name,
            action=action,
            entity="alert",
            entity_id=alert.public_id,
            before={"status": before},
            after={"status": alert.status, "resolution": alert.resolution, **extra},
        )


def _call_record(
    alert: AlertRecord, call: CallLog, excuse_id: int | None, actor: Actor
) -> CallRecord:
    assert alert.id is not None
    return CallRecord(
        alert_pk=alert.id,
        called_at=call.called_at,
        outcome=call.outcome.value,
        reason_category=call.category.value if call.category else None,
        reason=call.reason,
        excused=call.excused,
        excused_absence_id=excuse_id,
        author=actor.name,
        created_at=actor.at,
    )


def _call_dict(call: CallRecord) -> dict[str, Any]:
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
