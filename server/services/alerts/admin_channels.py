"""Use case: a campus's alert channel settings (e-mail, webhook, MQTT, escalation), as
the alert channels read them on each use (``server.bootstrap.campus_channels``). Secrets
are never stored: only the NAME of the environment variable that holds each one. A test
message checks a channel now (``send_test``)."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

from server.domain.accounts import Actor
from server.domain.deliveries import scrub
from server.domain.notices import Channel, DeliveryFailed, TestMessage
from server.i18n import _
from server.ports.alerts import AlertsUnitOfWork, ChannelSettings

SMTP_SECURITY = ("starttls", "ssl", "none")
TESTABLE = ("email", "webhook", "mqtt")


@dataclass(frozen=True, slots=True)
class TestResult:
    channel: str
    error: str = ""  # empty: sent (scrubbed of addresses and numbers otherwise)

    @property
    def ok(self) -> bool:
        return not self.error


class AlertChannelsAdmin:
    """The admin's page of a campus's alert channels: its settings, saved and audited,
    and a test message through one channel."""

    def __init__(
        self,
        unit_of_work: Callable[[], AlertsUnitOfWork],
        channels: Callable[[str], Mapping[str, Channel]],
    ) -> None:
        self._unit_of_work = unit_of_work
        self._channels = channels  # the campus's enabled channels, as the server sends

    def settings(self, campus: str) -> ChannelSettings:
        """The campus's settings, or the defaults when none were saved."""
        with self._unit_of_work() as uow:
            return uow.channel_settings.get(campus) or ChannelSettings()

    def save(self, campus: str, settings: ChannelSettings, actor: Actor) -> bool:
        """Store the campus's settings (audited); False when nothing changed."""
        with self._unit_of_work() as uow:
            saved = uow.channel_settings.get(campus)
            before = asdict(saved or ChannelSettings())
            after = asdict(settings)
            changed = {name: value for name, value in after.items() if before[name] != value}
            if not changed and saved is not None:
                return False
            uow.channel_settings.save(campus, settings)
            uow.audit.record(
                at=actor.at,
                actor=actor.name,
                action="alert_channels_set",
                entity="campus",
                entity_id=campus,
                before={name: before[name] for name in changed},
                after=changed,
            )
            uow.commit()
            return True

    def send_test(self, campus: str, name: str, actor: Actor) -> TestResult:
        """Send a test message through one of the campus's channels now (in the caller's
        thread, with the channel's own timeout); the outcome counts for the channel's
        health and is audited."""
        channel = self._channels(campus).get(name)
        if channel is None:
            return TestResult(name, _("This channel is not switched on for this campus."))
        settings = self.settings(campus)
        message = TestMessage(
            campus=campus,
            ts=actor.at,
            subject=_("Test message from Campus connecté"),
            text=_(
                "This is a test of the alert channel, sent from the administration page. "
                "Nothing to do."
            ),
            coordinators=_emails(settings.coordinator_emails),
            id=f"test-{secrets.token_hex(8)}",
        )
        error = ""
        try:
            channel.send_test(message)
        except DeliveryFailed as failure:
            error = scrub(str(failure) or "failed")
        with self._unit_of_work() as uow:
            uow.channel_health.record_outcome(campus, name, error, actor.at)
            uow.audit.record(
                at=actor.at,
                actor=actor.name,
                action="alert_channel_tested",
                entity="campus",
                entity_id=campus,
                after={"channel": name, "ok": not error, "error": error},
            )
            uow.commit()
        return TestResult(name, error)


def _emails(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.replace(";", ",").split(",") if item.strip())
