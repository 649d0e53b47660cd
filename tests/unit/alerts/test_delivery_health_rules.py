"""The rule of a channel that keeps failing, and what an error may show."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from server.domain.deliveries import ChannelHealth, after_failure, after_success, scrub

T0 = datetime(2026, 11, 23, 8, 15, tzinfo=UTC)


def test_failing_after_two_failures_in_a_row_since_the_first_cleared_by_a_success() -> None:
    health = after_failure(ChannelHealth("c1", "email"), "SMTP: TimeoutError: timed out", T0)
    assert not health.failing and health.failing_since == T0
    later = T0 + timedelta(seconds=30)
    health = after_failure(health, "SMTP: TimeoutError: timed out", later)
    assert health.failing and health.failing_since == T0 and health.last_failure_at == later
    health = after_success(health, later + timedelta(minutes=1))
    assert not health.failing and health.failing_since is None and health.failures == 0
    assert health.last_error == "SMTP: TimeoutError: timed out"  # kept, for the record
    again = after_failure(health, "x", later + timedelta(minutes=2))
    assert again.failing_since == later + timedelta(minutes=2)


def test_errors_lose_addresses_and_phone_numbers_but_keep_hosts_and_codes() -> None:
    text = "550 <tutrice@campus.fr> refused\n for +33 6 12 34 56 78 / 06.12.34.56.78"
    assert scrub(text) == "550 <<address>> refused for <number>"
    assert scrub("[Errno 111] Connection refused to 192.168.100.200:2525") == (
        "[Errno 111] Connection refused to 192.168.100.200:2525"
    )
    assert scrub("HTTP 503 after 3 attempts") == "HTTP 503 after 3 attempts"
    assert len(scrub("x" * 1000)) == 300
