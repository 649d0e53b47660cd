"""Use case: a campus's alert channel settings (e-mail, webhook, MQTT, escalation), as
the alert channels read them on each use (``server.bootstrap.campus_channels``). Secrets
are never stored: only the NAME of the environment variable that holds each one. A test
message checks a channel now (``send_test``)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, fields

from sqlalchemy import orm

from server.domain.accounts import Actor
from server.domain.deliveries import scrub
from server.domain.notices import Channel, DeliveryFailed, TestMessage
from server.i18n import _
from server.registry import audit, channel_health
from server.registry.alert_models import AlertChannelSettings

Registry = Callable[[], orm.Session]
SMTP_SECURITY = ("starttls", "ssl", "none")


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    """The columns of :class:`AlertChannelSettings`, with the same defaults."""

    base_url: str = ""
    coordinator_emails: str = ""  # comma-separated
    escalation_minutes: int = 30
    email_enabled: bool = False
    smtp_host: str = ""
    smtp_port: int = 587
    smtp_security: str = "starttls"
    smtp_username: str = ""
    smtp_password_env: str = "CAMPUS_SMTP_PASSWORD"  # noqa: S105 - a variable's name
    from_address: str = ""
    webhook_enabled: bool = False
    webhook_url: str = ""
    webhook_secret_env: str = "CAMPUS_WEBHOOK_SECRET"  # noqa: S105 - a variable's name
    mqtt_enabled: bool = True


_NAMES = tuple(item.name for item in fields(ChannelSettings))


def channel_settings(registry: Registry, campus: str) -> ChannelSettings:
    """The campus's settings, or the defaults when none were saved."""
    with registry() as session:
        row = session.get(AlertChannelSettings, campus)
        if row is None:
            return ChannelSettings()
        return ChannelSettings(**{name: getattr(row, name) for name in _NAMES})


def save_channel_settings(
    registry: Registry, campus: str, settings: ChannelSettings, actor: Actor
) -> bool:
    """Store the campus's settings (audited); False when nothing changed."""
    with registry() as session, session.begin():
        row = session.get(AlertChannelSettings, campus)
        before = (
            asdict(ChannelSettings())
            if row is None
            else {name: getattr(row, name) for name in _NAMES}
        )
        after = asdict(settings)
        changed = {name: value for name, value in after.items() if before[name] != value}
        if not changed and row is not None:
            return False
        if row is None:
            row = AlertChannelSettings(campus_id=campus)
            session.add(row)
        for name, value in after.items():
            setattr(row, name, value)
        audit.record(
            session,
            at=actor.at,
            actor=actor.name,
            action="alert_channels_set",
            entity="campus",
            entity_id=campus,
            before={name: before[name] for name in changed},
            after=changed,
        )
        return True


TESTABLE = ("email", "webhook", "mqtt")


@dataclass(frozen=True, slots=True)
class TestResult:
    channel: str
    error: str = ""  # empty: sent (scrubbed of addresses and numbers otherwise)

    @property
    def ok(self) -> bool:
        return not self.error


def send_test(
    registry: Registry,
    channels: Callable[[str], Mapping[str, Channel]],
    campus: str,
    name: str,
    actor: Actor,
) -> TestResult:
    """Send a test message through one of the campus's channels now (in the caller's
    thread, with the channel's own timeout); the outcome counts for the channel's health
    and is audited."""
    channel = channels(campus).get(name)
    if channel is None:
        return TestResult(name, _("This channel is not switched on for this campus."))
    settings = channel_settings(registry, campus)
    message = TestMessage(
        campus=campus,
        ts=actor.at,
        subject=_("Test message from Campus connecté"),
        text=_(
            "This is a test of the alert channel, sent from the administration page. Nothing to do."
        ),
        coordinators=_emails(settings.coordinator_emails),
        id=f"test-{secrets.token_hex(8)}",
    )
    error = ""
    try:
        channel.send_test(message)
    except DeliveryFailed as failure:
        error = scrub(str(failure) or "failed")
    with registry() as session, session.begin():
        channel_health.record_outcome(session, campus, name, error, actor.at)
        audit.record(
            session,
            at=actor.at,
            actor=actor.name,
            action="alert_channel_tested",
            entity="campus",
            entity_id=campus,
            after={"channel": name, "ok": not error, "error": error},
        )
    return TestResult(name, error)


def _emails(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.replace(";", ",").split(",") if item.strip())
