"""Use case: a campus's alert channel settings (e-mail, webhook, MQTT, escalation), as
the alert channels read them on each use (``server.alerting.campus_channels``). Secrets
are never stored: only the NAME of the environment variable that holds each one."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, fields

from sqlalchemy import orm

from server.registry import audit
from server.registry.alert_models import AlertChannelSettings
from server.registry.student_repository import Actor

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
