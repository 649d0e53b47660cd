"""Deliveries run per campus and channel, each with its own timeout and retries, against
real receivers: an SMTP server (aiosmtpd) that hangs, a webhook receiver that answers at
once, the real registry (SQLite file). No channel and no alert waits for another; claims
in the registry keep two processes from sending one delivery twice; what is pending
survives a restart; a channel that keeps failing is reported, then cleared."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import orm, select

from server.adapters.sqlite_events import SqliteEventStore
from server.bootstrap import Alerting, build_alerting
from server.config import Settings
from server.registry.alert_models import AlertChannelSettings, AlertDelivery
from server.registry.alert_repository import alerts_unit_of_work
from server.registry.presence_store import presence_unit_of_work
from server.services.alerts.delivery_health import DeliveryHealth
from server.services.alerts.notifications import NotificationService
from server.services.presence.ledger import LedgerService
from tests.alert_receivers import (
    ENVIRON,
    MONDAY_0900,
    SmtpServer,
    WebhookReceiver,
    absent_students,
    doors_online,
)
from tests.e2e.helpers import wait_until
from tests.integration.registry.conftest import CAMPUS, SECRET
from tests.services import free_port

ABSENT = 6
# Half the e-mail channel's 10 s timeout: an alert or channel that waited for one hung
# e-mail would take longer than this; a loaded CI machine takes well under it.
WITHIN_S = 5.0
NOTICED = MONDAY_0900 + timedelta(minutes=15, seconds=30)
READERS = ("door-1", "door-in", "door-out", "room-1")


class Clock:
    """The server's clock: 09:15:30 plus the real time elapsed since the test began."""

    def __init__(self, start: datetime) -> None:
        self.start, self._origin = start, time.monotonic()

    def __call__(self) -> datetime:
        return self.start + timedelta(seconds=time.monotonic() - self._origin)


def _alerting(settings, registry, events) -> Alerting:
    ledger = LedgerService(
        presence_unit_of_work(registry, settings.presence), events, settings.presence
    )
    built = build_alerting(settings, registry, events, ledger, publish=None, environ=ENVIRON)
    built.watcher.catch_up = timedelta(hours=3)
    return built


@pytest.fixture
def smtp_hanging() -> Iterator[SmtpServer]:
    server = SmtpServer(hang=True)
    yield server
    server.close()


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()


def _deliveries(registry, channel: str, *where) -> list[AlertDelivery]:
    with registry() as session:
        return list(
            session.scalars(select(AlertDelivery).where(AlertDelivery.channel == channel, *where))
        )


def test_a_hanging_smtp_server_holds_back_neither_the_webhook_nor_the_web(
    settings: Settings,
    registry: orm.sessionmaker[orm.Session],
    events: SqliteEventStore,
    smtp_hanging: SmtpServer,
    webhook: WebhookReceiver,
) -> None:
    absent_students(
        registry,
        CAMPUS,
        ABSENT,
        secret=SECRET.encode(),
        smtp_port=smtp_hanging.port,
        webhook_url=webhook.url,
    )
    doors_online(events, CAMPUS, READERS, NOTICED)
    alerting = _alerting(settings, registry, events)
    clock = Clock(NOTICED)
    workers = alerting.delivery_workers(clock)
    workers.start()
    try:
        began = time.monotonic()
        report = alerting.watcher.check(clock())
        checked = time.monotonic() - began
        assert len(report.noticed) == ABSENT
        # The web list has every alert as soon as the check returns.
        assert len(_deliveries(registry, "web", AlertDelivery.status == "sent")) == ABSENT
        wait_until(lambda: len(webhook.received) == ABSENT, timeout=WITHIN_S, what="every webhook")
        webhook_delays = [arrived - began for arrived, _ in webhook.received]
        # Meanwhile the SMTP server holds the e-mails unanswered (10 s timeout each).
        wait_until(
            lambda: smtp_hanging.waiting >= 1, timeout=WITHIN_S, what="an e-mail held unanswered"
        )
        emails = _deliveries(registry, "email")
        assert len(emails) == ABSENT and all(row.status != "sent" for row in emails)
    finally:
        workers.stop()
        workers.stop()  # idempotent
    assert checked < WITHIN_S
    assert max(webhook_delays) < WITHIN_S, webhook_delays
    hooks = _deliveries(registry, "webhook", AlertDelivery.status == "sent")
    assert len(hooks) == ABSENT and all(row.claimed_by is None for row in hooks)


def test_a_delivery_is_claimed_by_one_process_until_its_claim_runs_out(
    settings: Settings,
    registry: orm.sessionmaker[orm.Session],
    events: SqliteEventStore,
    webhook: WebhookReceiver,
) -> None:
    absent_students(
        registry, CAMPUS, 1, secret=SECRET.encode(), smtp_port=1, webhook_url=webhook.url
    )
    doors_online(events, CAMPUS, READERS, NOTICED)
    alerting = _alerting(settings, registry, events)
    alerting.watcher.check(NOTICED)  # recorded; no worker runs: both stay pending
    first = alerting.notifications
    second = NotificationService(first.unit_of_work, first.channels, owner="other")
    claimed = first.claim_next(NOTICED, CAMPUS, "webhook")
    assert claimed is not None
    assert second.claim_next(NOTICED, CAMPUS, "webhook") is None
    assert second.claim_next(NOTICED + timedelta(minutes=4)) is not None  # the e-mail one
    # The first process dies while sending: its claim runs out, the other one sends.
    later = NOTICED + timedelta(minutes=6)
    assert second.claim_next(later, CAMPUS, "webhook") == claimed
    assert second.send_claimed(claimed, lambda: later)
    assert len(webhook.received) == 1
    assert first.claim_next(later, CAMPUS, "webhook") is None  # sent: nobody sends it again


def test_pending_deliveries_survive_a_restart(
    settings: Settings,
    registry: orm.sessionmaker[orm.Session],
    events: SqliteEventStore,
    webhook: WebhookReceiver,
) -> None:
    absent_students(
        registry,
        CAMPUS,
        3,
        secret=SECRET.encode(),
        smtp_port=1,
        webhook_url=webhook.url,
        email=False,
    )
    doors_online(events, CAMPUS, READERS, NOTICED)
    before = _alerting(settings, registry, events)
    assert len(before.watcher.check(NOTICED).noticed) == 3  # the process stops here
    assert webhook.received == []
    after = _alerting(settings, registry, events)  # a new process on the same registry
    workers = after.delivery_workers(Clock(NOTICED + timedelta(minutes=1)))
    workers.start()
    try:
        wait_until(lambda: len(webhook.received) == 3, timeout=5, what="the pending webhooks")
        assert workers.wait_idle(5)
    finally:
        workers.stop()
    assert len(_deliveries(registry, "webhook", AlertDelivery.status == "sent")) == 3


def test_a_channel_that_keeps_failing_is_reported_then_cleared(
    settings: Settings,
    registry: orm.sessionmaker[orm.Session],
    events: SqliteEventStore,
    webhook: WebhookReceiver,
) -> None:
    absent_students(
        registry,
        CAMPUS,
        1,
        secret=SECRET.encode(),
        smtp_port=_closed_port(),
        webhook_url=webhook.url,
    )
    doors_online(events, CAMPUS, READERS, NOTICED)
    alerting = _alerting(settings, registry, events)
    alerting.watcher.check(NOTICED)
    notifications = alerting.notifications
    health = DeliveryHealth(alerts_unit_of_work(registry))
    assert notifications.retry_due(NOTICED) == 1  # the webhook; the e-mail is refused
    assert health.failing_channels([CAMPUS]) == []  # one failure is no news yet
    assert notifications.retry_due(NOTICED + timedelta(seconds=40)) == 0
    (email,) = health.failing_channels([CAMPUS])
    assert (email.channel, email.failing_since, email.failures) == ("email", NOTICED, 2)
    assert "Connection" in email.last_error and "@" not in email.last_error
    report = health.health_report()
    assert report["status"] == "degraded"
    assert report["channels"] == [
        {"channel": "email", "campuses": 1, "since": NOTICED.astimezone(UTC).isoformat()}
    ]
    assert report["counters"]["deliveries"]["email"]["retrying"] == 1
    assert report["counters"]["deliveries"]["webhook"]["sent"] == 1
    # The SMTP server comes back on that port: the retry goes through, the report clears.
    server = SmtpServer()
    try:
        _point_email_at(registry, server.port)
        assert notifications.retry_due(NOTICED + timedelta(minutes=5)) == 1
    finally:
        server.close()
    assert len(server.received) == 1
    assert health.failing_channels([CAMPUS]) == []
    assert health.health_report()["status"] == "ok"


def _closed_port() -> int:
    return free_port()  # nothing listens there: the connection is refused


def _point_email_at(registry, port: int) -> None:
    with registry() as session, session.begin():
        session.get(AlertChannelSettings, CAMPUS).smtp_port = port


def test_two_server_processes_send_each_delivery_once(
    settings: Settings,
    registry: orm.sessionmaker[orm.Session],
    events: SqliteEventStore,
    webhook: WebhookReceiver,
) -> None:
    absent_students(
        registry,
        CAMPUS,
        ABSENT,
        secret=SECRET.encode(),
        smtp_port=1,
        webhook_url=webhook.url,
        email=False,
    )
    doors_online(events, CAMPUS, READERS, NOTICED)
    one, two = _alerting(settings, registry, events), _alerting(settings, registry, events)
    assert one.notifications.owner != two.notifications.owner
    clock = Clock(NOTICED)
    assert len(one.watcher.check(clock()).noticed) == ABSENT  # recorded, not sent yet
    lanes = [one.delivery_workers(clock), two.delivery_workers(clock)]
    for workers in lanes:  # both scan at start and race for the same due deliveries
        workers.start()
    try:
        for workers in lanes:
            workers.wait_idle(5)
        wait_until(lambda: len(webhook.received) >= ABSENT, timeout=5, what="the webhooks")
        time.sleep(0.3)  # a second copy would arrive now
    finally:
        for workers in lanes:
            workers.stop()
    ids = [json.loads(body)["id"] for _, body in webhook.received]
    assert len(ids) == ABSENT and len(set(ids)) == ABSENT
