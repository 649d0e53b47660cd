"""One contract for the alert ports (``server.ports.alerts``), run against the registry's
adapter (SQLite, or PostgreSQL with CAMPUS_TEST_REGISTRY=postgresql) and against the
in-memory fakes the use cases' unit tests rely on: if the fakes drift from the real
store, this fails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from server.domain.alerts import AlertKind
from server.ports.alerts import AlertsUnitOfWork, ChannelSettings
from server.registry.alert_models import AlertDelivery
from server.registry.alert_repository import AlertRepository, alerts_unit_of_work
from tests.integration.registry.conftest import CAMPUS
from tests.unit.alerts.fakes import Delivery, FakeUnitOfWork, Stored

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
OTHER = "campus-b"


@dataclass
class Side:
    unit_of_work: Callable[[], AlertsUnitOfWork]
    deliveries: Callable[[list[Delivery]], None]  # stores deliveries as they are


@pytest.fixture(params=["registry", "fake"])
def side(request: pytest.FixtureRequest) -> Side:
    if request.param == "fake":
        stored = Stored()

        def fake_deliveries(items: list[Delivery]) -> None:
            stored.deliveries.extend(items)

        return Side(lambda: FakeUnitOfWork(stored), fake_deliveries)
    registry = request.getfixturevalue("registry")

    def deliveries(items: list[Delivery]) -> None:
        with registry() as session, session.begin():
            repo = AlertRepository(session)
            for index, item in enumerate(items):
                alert = repo.add(AlertKind.CAPACITY, f"capacity-{index}", CAMPUS, NOW)
                session.add(
                    AlertDelivery(
                        alert_pk=alert.id,
                        notice="raised",
                        channel=item.channel,
                        status=item.status,
                        attempts=0,
                        last_error="",
                        created_at=NOW,
                        next_attempt_at=item.next_attempt_at,
                    )
                )

    return Side(alerts_unit_of_work(registry), deliveries)


def test_settings_saved_are_read_back_and_none_before(side: Side) -> None:
    chosen = replace(ChannelSettings(), webhook_enabled=True, webhook_url="https://sms.example")
    with side.unit_of_work() as uow:
        assert uow.channel_settings.get(CAMPUS) is None
        uow.channel_settings.save(CAMPUS, chosen)
        uow.commit()
    with side.unit_of_work() as uow:
        assert uow.channel_settings.get(CAMPUS) == chosen
        uow.channel_settings.save(CAMPUS, ChannelSettings())  # saved again over it
        uow.commit()
    with side.unit_of_work() as uow:
        assert uow.channel_settings.get(CAMPUS) == ChannelSettings()


def test_nothing_is_kept_without_commit(side: Side) -> None:
    with side.unit_of_work() as uow:
        uow.channel_settings.save(CAMPUS, ChannelSettings(email_enabled=True))
        uow.channel_health.record_outcome(CAMPUS, "email", "refused", NOW)
    with side.unit_of_work() as uow:
        assert uow.channel_settings.get(CAMPUS) is None
        assert uow.channel_health.states() == []


def test_outcomes_make_the_health_of_each_channel_by_campus_and_channel(side: Side) -> None:
    later = NOW + timedelta(minutes=1)
    with side.unit_of_work() as uow:
        uow.channel_health.record_outcome(CAMPUS, "webhook", "", NOW)
        uow.channel_health.record_outcome(CAMPUS, "email", "550 <a@b.fr> refused", NOW)
        failing = uow.channel_health.record_outcome(CAMPUS, "email", "timed out", later)
        uow.channel_health.record_outcome(OTHER, "email", "timed out", NOW)
        uow.commit()
    assert failing.failing and failing.failing_since == NOW
    with side.unit_of_work() as uow:
        every = uow.channel_health.states()
        mine = uow.channel_health.states([CAMPUS])
    assert [(item.campus, item.channel) for item in every] == [
        (CAMPUS, "email"),
        (CAMPUS, "webhook"),
        (OTHER, "email"),
    ]
    email, webhook = mine
    assert (email.failures, email.failing_since, email.last_error, email.last_failure_at) == (
        2,
        NOW,
        "timed out",
        later,
    )
    assert (webhook.failures, webhook.last_success_at) == (0, NOW)


def test_deliveries_are_counted_by_channel_and_state(side: Side) -> None:
    side.deliveries(
        [
            Delivery("email", "pending", NOW),
            Delivery("email", "failed", NOW),
            Delivery("email", "failed", None),
            Delivery("web", "sent", None),
            Delivery("web", "sent", None),
        ]
    )
    with side.unit_of_work() as uow:
        counts = uow.channel_health.delivery_counts()
    assert counts == {
        "email": {"sent": 0, "pending": 1, "retrying": 1, "given_up": 1},
        "web": {"sent": 2, "pending": 0, "retrying": 0, "given_up": 0},
    }
