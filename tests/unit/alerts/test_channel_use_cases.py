"""The alert channel use cases (the admin's settings and test message, the channels'
health) on in-memory fakes of their ports: no database, no web, no network."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from server.domain.accounts import Actor
from server.domain.deliveries import ChannelHealth
from server.domain.notices import DeliveryFailed
from server.domain.notices import TestMessage as Message
from server.ports.alerts import ChannelSettings
from server.services.alerts.admin_channels import AlertChannelsAdmin
from server.services.alerts.delivery_health import DeliveryHealth
from tests.unit.alerts.fakes import FakeUnitOfWork, Stored, delivery

NOW = datetime(2026, 12, 7, 9, 15, tzinfo=UTC)
ADMIN = Actor("admin@example.org", NOW)
CAMPUS = "saint-marcellin"


class RecordingChannel:
    """A channel of the campus that records its test messages, or refuses them."""

    def __init__(self, refusal: str = "") -> None:
        self.refusal = refusal
        self.tests: list[Message] = []

    def send_test(self, message: Message) -> None:
        if self.refusal:
            raise DeliveryFailed(self.refusal)
        self.tests.append(message)


@pytest.fixture
def stored() -> Stored:
    return Stored()


def _admin(
    stored: Stored, channels: dict[str, RecordingChannel] | None = None
) -> AlertChannelsAdmin:
    found: dict[str, Any] = dict(channels or {})
    return AlertChannelsAdmin(lambda: FakeUnitOfWork(stored), lambda campus: found)


def test_a_campus_without_settings_reads_the_defaults(stored: Stored) -> None:
    assert _admin(stored).settings(CAMPUS) == ChannelSettings()
    assert stored.commits == 0


def test_saving_stores_and_audits_only_what_changed(stored: Stored) -> None:
    admin = _admin(stored)
    settings = replace(ChannelSettings(), email_enabled=True, smtp_host="smtp.example.org")
    assert admin.save(CAMPUS, settings, ADMIN) is True
    assert admin.settings(CAMPUS) == settings
    (entry,) = stored.audit
    assert (entry["action"], entry["entity_id"], entry["actor"]) == (
        "alert_channels_set",
        CAMPUS,
        "admin@example.org",
    )
    assert entry["before"] == {"email_enabled": False, "smtp_host": ""}
    assert entry["after"] == {"email_enabled": True, "smtp_host": "smtp.example.org"}
    assert admin.save(CAMPUS, settings, ADMIN) is False  # the same again: nothing written
    assert len(stored.audit) == 1 and stored.commits == 1


def test_the_defaults_saved_for_the_first_time_are_stored(stored: Stored) -> None:
    assert _admin(stored).save(CAMPUS, ChannelSettings(), ADMIN) is True
    assert stored.channel_settings == {CAMPUS: ChannelSettings()}
    assert stored.audit[0]["after"] == {}


def test_a_test_message_goes_to_the_coordinators_and_counts_for_the_health(
    stored: Stored,
) -> None:
    stored.channel_settings[CAMPUS] = replace(
        ChannelSettings(), coordinator_emails="a@example.org; b@example.org,"
    )
    email = RecordingChannel()
    result = _admin(stored, {"email": email}).send_test(CAMPUS, "email", ADMIN)
    assert result.ok and result.channel == "email"
    (message,) = email.tests
    assert message.coordinators == ("a@example.org", "b@example.org")
    assert (message.campus, message.ts) == (CAMPUS, NOW)
    health = stored.channel_health[(CAMPUS, "email")]
    assert (health.failures, health.last_success_at) == (0, NOW)
    assert stored.audit[-1]["after"] == {"channel": "email", "ok": True, "error": ""}


def test_a_refused_test_is_scrubbed_stored_and_audited(stored: Stored) -> None:
    webhook = RecordingChannel(refusal="gateway said no to +33 6 12 34 56 78")
    result = _admin(stored, {"webhook": webhook}).send_test(CAMPUS, "webhook", ADMIN)
    assert not result.ok and result.error == "gateway said no to <number>"
    health = stored.channel_health[(CAMPUS, "webhook")]
    assert (health.failures, health.last_error, health.failing_since) == (
        1,
        "gateway said no to <number>",
        NOW,
    )
    assert stored.audit[-1]["after"]["ok"] is False


def test_a_channel_switched_off_is_not_tried(stored: Stored) -> None:
    result = _admin(stored).send_test(CAMPUS, "mqtt", ADMIN)
    assert not result.ok and result.error
    assert stored.channel_health == {} and stored.audit == [] and stored.commits == 0


def _failing(campus: str, channel: str, since: datetime) -> ChannelHealth:
    return ChannelHealth(campus, channel, failures=2, failing_since=since, last_error="x")


def test_failing_channels_are_those_of_the_campuses_asked_oldest_failure_first(
    stored: Stored,
) -> None:
    stored.channel_health = {
        ("a", "email"): _failing("a", "email", NOW),
        ("b", "webhook"): _failing("b", "webhook", NOW - timedelta(hours=1)),
        ("b", "email"): ChannelHealth("b", "email", failures=1, failing_since=NOW),
        ("c", "mqtt"): _failing("c", "mqtt", NOW - timedelta(hours=2)),
    }
    health = DeliveryHealth(lambda: FakeUnitOfWork(stored))
    found = health.failing_channels(["a", "b"])
    assert [(item.campus, item.channel) for item in found] == [("b", "webhook"), ("a", "email")]
    assert set(health.campus_channels("b")) == {"webhook", "email"}


def test_the_health_report_names_channel_kinds_not_campuses(stored: Stored) -> None:
    health = DeliveryHealth(lambda: FakeUnitOfWork(stored))
    assert health.health_report() == {
        "status": "ok",
        "channels": [],
        "counters": {"deliveries": {}},
    }
    stored.channel_health = {
        ("a", "email"): _failing("a", "email", NOW),
        ("b", "email"): _failing("b", "email", NOW - timedelta(hours=1)),
    }
    stored.deliveries = {
        1: delivery("email", "sent", None),
        2: delivery("email", "failed", NOW),
        3: delivery("email", "failed", None),
        4: delivery("web", "sent", None),
    }
    report = health.health_report()
    assert report["status"] == "degraded"
    since = (NOW - timedelta(hours=1)).isoformat()
    assert report["channels"] == [{"channel": "email", "campuses": 2, "since": since}]
    assert report["counters"]["deliveries"]["email"] == {
        "sent": 1,
        "pending": 0,
        "retrying": 1,
        "given_up": 1,
    }
