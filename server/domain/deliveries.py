"""The health of an alert channel of a campus (e-mail, webhook, MQTT), from the outcomes
of its deliveries: one rule for "this channel keeps failing", read by the admin's and the
coordinator's pages and by ``/healthz``. Pure: the caller gives the instants."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime

FAILING_AFTER = 2  # consecutive failed attempts: one failure retried at once is no news
_EMAIL = re.compile(r"[^\s<>()\[\]\"',;:@]+@[^\s<>()\[\]\"',;:@]+")
_NUMBER = re.compile(r"\+?\d[\d .\-/]{6,}\d")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    """What the last attempts of one channel of one campus said."""

    campus: str
    channel: str
    failures: int = 0  # consecutive failed attempts since the last success
    failing_since: datetime | None = None  # the first of those failures
    last_error: str = ""
    last_failure_at: datetime | None = None
    last_success_at: datetime | None = None

    @property
    def failing(self) -> bool:
        return self.failures >= FAILING_AFTER


def after_success(health: ChannelHealth, now: datetime) -> ChannelHealth:
    return replace(health, failures=0, failing_since=None, last_success_at=now)


def after_failure(health: ChannelHealth, error: str, now: datetime) -> ChannelHealth:
    return replace(
        health,
        failures=health.failures + 1,
        failing_since=health.failing_since or now,
        last_error=scrub(error),
        last_failure_at=now,
    )


def scrub(error: str, limit: int = 300) -> str:
    """An error as it may be shown and stored: e-mail addresses and phone numbers out
    (an SMTP server may quote a recipient back), on one line, at most ``limit`` chars."""
    line = " ".join(error.split())
    line = _EMAIL.sub("<address>", line)
    line = _NUMBER.sub(_number_or_address, line)
    return line[:limit]


def _number_or_address(match: re.Match[str]) -> str:
    text = match[0]
    if _IPV4.fullmatch(text.strip()) or sum(char.isdigit() for char in text) < 8:
        return text  # an IP address, a port, an error code: not a phone number
    return "<number>"
