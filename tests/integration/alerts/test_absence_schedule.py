"""The absence-watcher job of ``serve`` (``AbsenceSchedule``) on the real registry and
event store: it wakes at the slot's check instant, not on a 15 s poll."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from server.bootstrap import build_alerting
from server.registry.alert_models import AbsenceEvaluation, Alert, AlertDelivery
from server.registry.models import ExcusedAbsence, Student
from server.registry.operations_store import SqlJobLeases
from server.registry.presence_store import presence_unit_of_work
from server.services.alerts.absence_schedule import AbsenceSchedule
from server.services.operations.leadership import Leadership
from server.services.presence.ledger import LedgerService
from tests.integration.alerts.conftest import MONDAY, paris, statuses
from tests.integration.registry.conftest import UID_E001

INSTANT = paris(9, 15)  # E001's Monday 09:00 slot, 15 min of grace


class Clock:
    """A settable clock (one turn of the job at a time, in the test's thread)."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


class RealTime:
    """Wall time shifted so that ``start`` is now: it runs at the real pace."""

    def __init__(self, start: datetime) -> None:
        self.offset = start - datetime.now(UTC)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def wall(self, moment: datetime) -> float:
        """The real time.time() at which this clock shows ``moment``."""
        return (moment - self.offset).timestamp()


def _absences(registry) -> list[Alert]:
    with registry() as session:
        return list(session.scalars(select(Alert).where(Alert.kind == "absence")))


def _verdicts(registry) -> list[str]:
    with registry() as session:  # a session a poll: a reading one holds the lock
        return list(session.scalars(select(AbsenceEvaluation.verdict)))


def _wait(condition, timeout: float = 15.0) -> float:
    """Poll the registry until ``condition()``; the time.time() it first held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return time.time()
        time.sleep(0.02)
    raise AssertionError("not within the timeout")


def test_the_alert_is_recorded_within_seconds_of_the_instant(
    alerting, events, registry, channel
) -> None:
    statuses(events, paris(8), paris(9, 20))
    clock = RealTime(INSTANT - timedelta(seconds=2))
    job = AbsenceSchedule(alerting.watcher, clock=clock, sweep_every=timedelta(minutes=10))
    job.lease = Leadership(SqlJobLeases(registry)).leads
    job.start()
    try:
        seen = _wait(lambda: _absences(registry))
    finally:
        job.stop()
    assert 0 <= seen - clock.wall(INSTANT) < 3.0, seen - clock.wall(INSTANT)
    (alert,) = _absences(registry)
    assert (alert.slot_start, alert.status) == (paris(9), "open")
    assert alert.noticed_at >= INSTANT
    assert job.instants_checked == 1  # woken at the instant, not by the start's sweep
    run = job.last_run  # what /metrics and /readyz read of the job's turns
    assert run.runs >= 2 and run.failures == 0  # the start's sweep, then the instant
    assert run.last_turn is not None and time.time() - run.last_turn < 15
    with registry() as session:
        channels = session.scalars(
            select(AlertDelivery.channel).where(AlertDelivery.alert_pk == alert.id)
        ).all()
    assert sorted(channels) == ["record", "web"]


def test_an_arrival_before_the_instant_raises_nothing(alerting, events, writer, registry):
    statuses(events, paris(8), paris(9, 20))
    writer.tap(UID_E001, paris(9, 10))
    clock = RealTime(INSTANT - timedelta(seconds=1))
    job = AbsenceSchedule(alerting.watcher, clock=clock, sweep_every=timedelta(minutes=10))
    job.start()
    try:
        _wait(lambda: _verdicts(registry))
    finally:
        job.stop()
    assert _verdicts(registry) == ["present"]
    assert _absences(registry) == []


def test_the_plan_holds_the_coming_instants_and_a_late_excuse_is_seen(
    alerting, events, registry
) -> None:
    statuses(events, paris(8), paris(9, 20))
    clock = Clock(paris(8, 0))
    hours = timedelta(hours=4)  # neither a sweep nor a new plan before the instant
    job = AbsenceSchedule(alerting.watcher, clock=clock, sweep_every=hours, replan_every=hours)
    assert 0 < job.step() <= job.max_sleep.total_seconds()
    assert job.planned == [INSTANT, paris(14, 15, day=MONDAY + timedelta(days=1))]
    clock.moment = INSTANT - timedelta(seconds=1)
    job.step()  # just before the instant: its due slots are read ahead
    assert job._prepared is not None and job.instants_checked == 0
    # An excuse recorded after that, before the instant: no alert at the instant.
    with registry() as session, session.begin():
        student = session.scalar(select(Student.id).where(Student.student_id == "E001"))
        session.add(
            ExcusedAbsence(
                student_pk=student,
                start=paris(8, 30),
                end=paris(12),
                category="illness",
                note="",
                created_by="tests",
                created_at=paris(8, 30),
            )
        )
    clock.moment = INSTANT + timedelta(milliseconds=5)
    job.step()
    assert job.instants_checked == 1  # checked at the instant, the excuse read then
    assert _absences(registry) == [] and _verdicts(registry) == []


def test_a_turn_without_the_lease_is_a_turn_not_a_run(alerting, events, registry) -> None:
    """A process that does not hold the job lease still turns (``/readyz`` does not call
    its jobs late), and runs nothing."""
    job = AbsenceSchedule(alerting.watcher, clock=Clock(paris(9)))
    job.lease = lambda now: False
    job.start()
    try:
        _wait(lambda: job.last_run.last_turn is not None, timeout=5)
    finally:
        job.stop()
    assert job.last_run.runs == 0
    assert _verdicts(registry) == []


def test_a_restart_after_the_missed_instant_raises_it_once(
    alerting, events, registry, settings, channel
) -> None:
    statuses(events, paris(8), paris(9, 50))
    before = AbsenceSchedule(alerting.watcher, clock=Clock(paris(9, 0)))
    before.step()  # the process runs at 09:00 (its mark), then is down until 09:40
    ledger = LedgerService(
        presence_unit_of_work(registry, settings.presence), events, settings.presence
    )
    again = build_alerting(settings, registry, events, ledger, publish=None, environ={})
    again.notifications.channels = lambda campus: {"record": channel}
    again.watcher.catch_up = alerting.watcher.catch_up
    after = AbsenceSchedule(again.watcher, clock=Clock(paris(9, 40)))
    after.step()  # its start's sweep raises the 09:15 absence
    assert len(_absences(registry)) == 1
    after._clock = Clock(paris(9, 40, 30))
    after.step()
    before._clock = Clock(paris(9, 41))  # the old process back: the plan still has 09:15
    before.step()
    (alert,) = _absences(registry)
    assert alert.noticed_at == paris(9, 40)
    with registry() as session:
        deliveries = session.scalar(select(func.count()).select_from(AlertDelivery))
        evaluations = session.scalar(select(func.count()).select_from(AbsenceEvaluation))
    assert (deliveries, evaluations) == (2, 1)  # web + record, once
