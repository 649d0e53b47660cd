"""The absence watcher on the real registry and event store, at fixed instants."""

from __future__ import annotations

from sqlalchemy import func, select

from server.domain.accounts import Actor
from server.domain.alerts import CallLog, CallOutcome, ReasonCategory
from server.registry.alert_models import AbsenceEvaluation, Alert, AlertDelivery
from server.registry.models import ExcusedAbsence
from server.registry.presence_store import presence_unit_of_work
from tests.integration.alerts.conftest import paris, statuses
from tests.integration.registry.conftest import UID_E001

E001_UID = UID_E001


def _count(registry, model, *where) -> int:
    with registry() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def _absences(registry) -> list[Alert]:
    with registry() as session:
        return list(session.scalars(select(Alert).where(Alert.kind == "absence")))


def test_absent_at_the_grace_edge_then_never_twice(alerting, events, registry, channel) -> None:
    statuses(events, paris(8), paris(9, 16))
    assert alerting.watcher.check(paris(9, 14, 59)).noticed == []
    report = alerting.watcher.check(paris(9, 15, 30))
    assert [n.student_id for n in report.noticed] == ["E001"]
    assert alerting.notifications.retry_due(paris(9, 15, 30)) == 1  # the delivery lanes
    assert alerting.watcher.check(paris(9, 15, 45)).noticed == []
    assert alerting.watcher.check(paris(9, 30)).evaluated == 0
    (alert,) = _absences(registry)
    assert (alert.status, alert.slot_start) == ("open", paris(9))
    assert [n.notice.value for n in channel.sent] == ["raised"]
    assert channel.sent[0].student.phone == "06 12 34 56 78"


def test_present_student_raises_nothing(alerting, events, writer, registry) -> None:
    statuses(events, paris(8), paris(9, 16))
    writer.tap(E001_UID, paris(9, 5))
    report = alerting.watcher.check(paris(9, 15, 30))
    assert report.noticed == [] and report.evaluated == 1
    with registry() as session:
        assert session.scalar(select(AbsenceEvaluation.verdict)) == "present"


def test_reader_offline_holds_then_back_with_queued_taps(
    alerting, events, writer, registry, channel
) -> None:
    statuses(events, paris(8), paris(8, 50))
    statuses(events, paris(8, 51), paris(8, 51), state="offline", readers=("door-1",))
    report = alerting.watcher.check(paris(9, 15, 30))
    assert report.noticed == [] and [h.student_id for h in report.held] == ["E001"]
    with registry() as session:
        down = session.scalars(select(Alert).where(Alert.kind == "reader_down")).all()
    assert {a.reader_id for a in down} == {"door-1", "door-in", "door-out"}
    # Back, but still delivering its queue: still held, nothing sent about E001.
    statuses(events, paris(9, 40), paris(9, 41), queued=4)
    assert alerting.watcher.check(paris(9, 41, 30)).noticed == []
    # The queued tap of 09:05 arrives, then an empty queue: present, no false alarm.
    writer.tap(E001_UID, paris(9, 5))
    statuses(events, paris(9, 42), paris(9, 42))
    report = alerting.watcher.check(paris(9, 42, 30))
    assert report.noticed == [] and report.evaluated == 1
    assert _absences(registry) == []
    assert _count(registry, Alert, Alert.kind == "reader_down", Alert.status == "closed") == 3


def test_reader_back_without_taps_raises_the_absence_then(alerting, events, registry) -> None:
    statuses(events, paris(8), paris(8, 50))
    assert alerting.watcher.check(paris(9, 15, 30)).held
    statuses(events, paris(10), paris(10))
    report = alerting.watcher.check(paris(10, 0, 30))
    assert [n.student_id for n in report.noticed] == ["E001"]
    assert report.noticed[0].noticed_at == paris(10, 0, 30)


def test_restart_in_the_middle_of_a_slot_catches_up_once(
    alerting, events, writer, registry, settings
) -> None:
    statuses(events, paris(8), paris(11))
    assert alerting.watcher.run(paris(9, 0)).evaluated == 0  # first run: the mark
    # The server is down from 09:01 to 11:00; a new watcher starts at 11:00.
    from server.bootstrap import build_alerting
    from server.services.presence.ledger import LedgerService

    ledger = LedgerService(
        presence_unit_of_work(registry, settings.presence), events, settings.presence
    )
    again = build_alerting(settings, registry, events, ledger, publish=None, environ={})
    again.watcher.catch_up = alerting.watcher.catch_up
    report = again.watcher.run(paris(11, 0))
    assert [n.student_id for n in report.noticed] == ["E001"]
    assert again.watcher.run(paris(11, 0, 15)).evaluated == 0
    assert alerting.watcher.run(paris(11, 0, 30)).evaluated == 0
    assert len(_absences(registry)) == 1


def test_late_arrival_after_a_restart_is_recorded_not_alerted(alerting, events, writer, registry):
    statuses(events, paris(8), paris(11))
    writer.tap(E001_UID, paris(9, 40))
    report = alerting.watcher.check(paris(11, 0))
    assert report.noticed == []
    with registry() as session:
        assert session.scalar(select(AbsenceEvaluation.verdict)) == "late"


def test_arrival_before_the_call_closes_and_tells_the_tutor(
    alerting, events, writer, registry
) -> None:
    statuses(events, paris(8), paris(9, 16))
    alerting.watcher.check(paris(9, 15, 30))
    assert alerting.notifications.retry_due(paris(9, 15, 30)) == 1  # the raised notice
    tap = writer.tap(E001_UID, paris(9, 25))
    steps = alerting.alerts.taps_stored([tap], paris(9, 25, 1))
    alerting.alerts.announce(steps, paris(9, 25, 1), send_now=False)
    (alert,) = _absences(registry)
    assert (alert.status, alert.resolution, alert.arrived_at) == ("closed", "arrived", paris(9, 25))
    assert (
        _count(
            registry,
            AlertDelivery,
            AlertDelivery.notice == "arrived",
            AlertDelivery.status == "pending",
        )
        == 1
    )
    assert alerting.notifications.retry_due(paris(9, 25, 10)) == 1


def test_arrival_after_the_call_is_only_recorded(alerting, events, writer, registry) -> None:
    statuses(events, paris(8), paris(9, 16))
    (noticed,) = alerting.watcher.check(paris(9, 15, 30)).noticed
    call = CallLog(paris(9, 20), CallOutcome.VOICEMAIL)
    alerting.alerts.log_call(noticed.alert_id, call, Actor("tutrice", paris(9, 21)))
    tap = writer.tap(E001_UID, paris(9, 50))
    assert alerting.alerts.taps_stored([tap], paris(9, 50, 1)) == []
    (alert,) = _absences(registry)
    assert (alert.resolution, alert.arrived_at) == ("called", paris(9, 50))


def test_escalation_once_after_the_delay(alerting, events, registry, channel) -> None:
    statuses(events, paris(8), paris(9, 16))
    alerting.watcher.check(paris(9, 15, 30))
    assert alerting.alerts.escalate_due(paris(9, 45)) == 0
    assert alerting.alerts.escalate_due(paris(9, 45, 30)) == 1
    assert alerting.alerts.escalate_due(paris(9, 50)) == 0
    alerting.notifications.retry_due(paris(9, 50))
    assert [n.notice.value for n in channel.sent] == ["raised", "escalated"]


def test_excused_call_records_the_excused_absence(alerting, events, registry) -> None:
    statuses(events, paris(8), paris(9, 16))
    (noticed,) = alerting.watcher.check(paris(9, 15, 30)).noticed
    call = CallLog(
        paris(9, 20), CallOutcome.REACHED, ReasonCategory.ILLNESS, "fièvre", excused=True
    )
    answer = alerting.alerts.log_call(noticed.alert_id, call, Actor("tutrice", paris(9, 21)))
    assert answer["status"] == "closed" and answer["calls"][0]["excused"] is True
    with registry() as session:
        excuse = session.scalars(select(ExcusedAbsence)).one()
    assert (excuse.start, excuse.end, excuse.category) == (paris(9), paris(12), "illness")


def test_a_failing_channel_keeps_the_alert_and_is_retried(
    alerting, events, registry, channel
) -> None:
    statuses(events, paris(8), paris(9, 16))
    channel.failing = True
    alerting.watcher.check(paris(9, 15, 30))
    assert alerting.notifications.retry_due(paris(9, 15, 30)) == 0
    assert len(_absences(registry)) == 1
    with registry() as session:
        row = session.scalars(select(AlertDelivery).where(AlertDelivery.channel == "record")).one()
    assert (row.status, row.attempts) == ("failed", 1) and "down" in row.last_error
    channel.failing = False
    assert alerting.notifications.retry_due(paris(9, 15, 40)) == 0  # not due yet
    assert alerting.notifications.retry_due(paris(9, 16, 30)) == 1
    assert _count(registry, AlertDelivery, AlertDelivery.status == "sent") == 2  # web + record
