"""The notification use cases (record a notice's deliveries once, claim them, send them,
retry them, keep each channel's health) on in-memory fakes of their ports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.domain.alerts import AlertKind
from server.domain.notices import ChannelUnavailable, DeliveryFailed, NoticeKind
from server.ports.alerts import StudentRecord, new_alert
from server.services.alerts.notifications import (
    FIRST_RETRY,
    MAX_ATTEMPTS,
    NotificationService,
    backoff,
)
from tests.unit.alerts.fakes import FakeUnitOfWork, Outbox, Stored

CAMPUS = "saint-marcellin"
NOW = datetime(2026, 12, 7, 8, 15, tzinfo=UTC)


@pytest.fixture
def stored() -> Stored:
    stored = Stored()
    stored.students[1] = StudentRecord(1, "E001", CAMPUS, None, "Émilie", "Durand")
    alert = new_alert(AlertKind.ABSENCE, "absence:1", CAMPUS, NOW, student_pk=1)
    alert.id = 1
    stored.alerts[1] = alert
    return stored


@pytest.fixture
def email() -> Outbox:
    return Outbox()


@pytest.fixture
def service(stored: Stored, email: Outbox) -> NotificationService:
    channels = {"email": email, "mqtt": Outbox(handles=False)}
    return NotificationService(
        lambda: FakeUnitOfWork(stored), lambda campus: channels, owner="here"
    )


def _states(stored: Stored) -> dict[str, tuple[str, int]]:
    return {row.channel: (row.status, row.attempts) for row in stored.deliveries.values()}


def test_a_notice_is_recorded_once_web_as_sent_and_its_lanes_woken(service, stored) -> None:
    woken: list[tuple[str, str]] = []
    service.wake = lambda campus, channel: woken.append((campus, channel))
    assert service.notify(1, NoticeKind.RAISED, NOW) == 1
    assert _states(stored) == {"web": ("sent", 1), "email": ("pending", 0)}  # not mqtt
    assert woken == [(CAMPUS, "email")]
    assert service.notify(1, NoticeKind.RAISED, NOW, send_now=False) == 0  # once
    assert len(stored.deliveries) == 2 and woken == [(CAMPUS, "email")]


def test_due_deliveries_are_sent_and_counted_for_the_channel(service, stored, email) -> None:
    service.notify(1, NoticeKind.RAISED, NOW)
    assert service.due_lanes(NOW) == {(CAMPUS, "email")}
    assert service.retry_due(NOW) == 1
    (notice,) = email.sent
    assert (notice.alert_id, notice.student_id) == (stored.alerts[1].public_id, "E001")
    assert _states(stored)["email"] == ("sent", 1)
    assert stored.channel_health[(CAMPUS, "email")].last_success_at == NOW
    assert service.retry_due(NOW + timedelta(hours=1)) == 0  # nothing more to send


def test_a_failure_is_retried_later_with_a_growing_delay_then_given_up(
    service, stored, email
) -> None:
    email.failure = DeliveryFailed("550 refused <tutrice@example.org>")
    service.notify(1, NoticeKind.RAISED, NOW)
    assert service.retry_due(NOW) == 0
    (row,) = [row for row in stored.deliveries.values() if row.channel == "email"]
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 1, NOW + FIRST_RETRY)
    assert row.last_error == "550 refused <<address>>" and row.claimed_by is None
    assert service.retry_due(NOW + timedelta(seconds=10)) == 0  # not due yet
    assert row.attempts == 1
    moment = NOW
    for attempts in range(1, MAX_ATTEMPTS):
        moment += backoff(attempts)
        service.retry_due(moment)
    (row,) = [row for row in stored.deliveries.values() if row.channel == "email"]
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", MAX_ATTEMPTS, None)
    assert stored.channel_health[(CAMPUS, "email")].failing


def test_a_channel_unavailable_here_is_not_an_attempt(service, stored, email) -> None:
    email.failure = ChannelUnavailable("no broker in this process")
    service.notify(1, NoticeKind.RAISED, NOW)
    service.retry_due(NOW)
    (row,) = [row for row in stored.deliveries.values() if row.channel == "email"]
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 0, NOW + FIRST_RETRY)
    assert stored.channel_health == {}


def test_a_channel_switched_off_after_the_notice_gives_it_up(stored, email) -> None:
    channels: dict[str, Outbox] = {"email": email}
    service = NotificationService(lambda: FakeUnitOfWork(stored), lambda campus: channels)
    service.notify(1, NoticeKind.RAISED, NOW)
    channels.clear()
    assert service.retry_due(NOW) == 0
    (row,) = [row for row in stored.deliveries.values() if row.channel == "email"]
    assert (row.status, row.next_attempt_at, row.last_error) == (
        "failed",
        None,
        "channel disabled for this campus",
    )


def test_one_claimant_at_a_time(service, stored) -> None:
    service.notify(1, NoticeKind.RAISED, NOW)
    other = NotificationService(service.unit_of_work, service.channels, owner="there")
    claimed = service.claim_next(NOW, CAMPUS, "email")
    assert claimed is not None and other.claim_next(NOW) is None
    later = NOW + timedelta(minutes=6)  # the claim ran out (a crash mid-send)
    assert other.claim_next(later) == claimed
    assert other.send_claimed(claimed, lambda: later)
    assert service.claim_next(later + timedelta(minutes=6)) is None  # sent


def test_many_steps_are_recorded_in_the_callers_unit_of_work(service, stored, email) -> None:
    second = new_alert(AlertKind.ABSENCE, "absence:2", CAMPUS, NOW)
    second.id = 2
    stored.alerts[2] = second
    channels = {CAMPUS: {"email": email}}
    steps = [(1, NoticeKind.RAISED), (2, NoticeKind.RAISED)]
    with service.unit_of_work() as uow:
        lanes = service.record(uow, steps, NOW, channels)
        assert service.record(uow, steps, NOW, channels) == set()  # once
    assert lanes == {(CAMPUS, "email")} and stored.deliveries == {}  # not committed
    with service.unit_of_work() as uow:
        service.record(uow, steps, NOW, channels)
        uow.commit()
    assert sorted((row.alert_pk, row.channel) for row in stored.deliveries.values()) == [
        (1, "email"),
        (1, "web"),
        (2, "email"),
        (2, "web"),
    ]
