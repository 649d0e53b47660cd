"""The login throttle (``server.services.accounts.login_throttle``) on in-memory fakes of
its port: waits that grow, a count that is forgotten, a burst audited once, a right
password clearing the login's count only, and a concurrent write tried again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.ports.accounts import ConcurrentUpdate, LoginFailureRecord
from server.services.accounts.login_throttle import (
    LoginThrottle,
    ThrottlePolicy,
    address_key,
    login_key,
)
from tests.unit.accounts.fakes import FakeLoginThrottleUnitOfWork, Stored

START = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def stored() -> Stored:
    return Stored()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def throttle(stored: Stored, clock: Clock) -> LoginThrottle:
    return LoginThrottle(
        lambda: FakeLoginThrottleUnitOfWork(stored),
        by_address=ThrottlePolicy(free=5, cap=timedelta(minutes=5)),
        by_login=ThrottlePolicy(free=2, cap=timedelta(seconds=60)),
        clock=clock,
    )


def test_free_failures_then_a_wait_that_doubles(throttle, stored, clock) -> None:
    throttle.failed("10.0.0.1", "Alice")
    assert throttle.blocked_until("10.0.0.1", "alice") is None  # one free failure left
    throttle.failed("10.0.0.1", "alice ")
    assert throttle.blocked_until("10.0.0.2", "ALICE") == START + timedelta(seconds=1)
    throttle.failed("10.0.0.1", "alice")
    assert throttle.blocked_until("10.0.0.3", "alice") == START + timedelta(seconds=2)
    assert stored.login_failures[address_key("10.0.0.1")].failures == 3
    clock.now = START + timedelta(seconds=3)
    assert throttle.blocked_until("10.0.0.1", "alice") is None  # the wait is over


def test_a_burst_is_audited_once_with_the_address_never_the_login(throttle, stored) -> None:
    for _ in range(4):
        throttle.failed("10.0.0.1", "alice")
    bursts = [entry for entry in stored.audit if entry["action"] == "login_failures_burst"]
    assert [entry["entity_id"] for entry in bursts] == [login_key("alice")]
    assert bursts[0]["after"] == {"failures": 2, "address": "10.0.0.1"}
    assert "alice" not in str(bursts)


def test_a_quiet_key_starts_again(throttle, stored, clock) -> None:
    throttle.failed("10.0.0.1", "alice")
    throttle.failed("10.0.0.1", "alice")
    clock.now = START + timedelta(minutes=16)
    throttle.failed("10.0.0.1", "alice")
    assert stored.login_failures[login_key("alice")].failures == 1
    assert throttle.blocked_until("10.0.0.1", "alice") is None


def test_the_right_password_clears_the_login_not_the_address(throttle, stored) -> None:
    for _ in range(3):
        throttle.failed("10.0.0.1", "alice")
    throttle.succeeded("Alice")
    assert login_key("alice") not in stored.login_failures
    assert stored.login_failures[address_key("10.0.0.1")].failures == 3


def test_a_concurrent_write_is_tried_again(throttle, stored) -> None:
    stored.collisions = 2  # the address's first two commits lose the race
    throttle.failed("10.0.0.1", "alice")
    assert stored.login_failures[address_key("10.0.0.1")].failures == 1
    assert stored.login_failures[login_key("alice")].failures == 1


def test_three_lost_races_give_up_on_that_key_only(throttle, stored) -> None:
    stored.collisions = 3
    throttle.failed("10.0.0.1", "alice")
    assert address_key("10.0.0.1") not in stored.login_failures
    assert stored.login_failures[login_key("alice")].failures == 1


def test_a_fake_insert_of_a_known_key_is_a_concurrent_update(stored) -> None:
    with FakeLoginThrottleUnitOfWork(stored) as uow:
        assert uow.failures.get("k") is None
    stored.login_failures["k"] = LoginFailureRecord("k", 1, START)
    with pytest.raises(ConcurrentUpdate), FakeLoginThrottleUnitOfWork(stored) as uow:
        uow.failures.add(LoginFailureRecord("k", 1, START))
