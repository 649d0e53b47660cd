"""What the alert use cases need from storage, as ports: a unit of work holding each
campus's alert channel settings, the channels' health and the delivery counters, and
the audit log.

The registry's adapter is in ``server.registry.alert_repository`` (the unit of work,
the settings) and ``server.registry.channel_health`` (the health); the unit tests of
:mod:`server.services.alerts` use in-memory fakes of these ports
(``tests/unit/alerts/fakes.py``), and one contract suite runs against both. Records are
plain values; nothing is written until the unit of work commits."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Protocol

from server.domain.deliveries import ChannelHealth
from server.ports.accounts import AuditTrail


@dataclass(frozen=True, slots=True)
class ChannelSettings:
    """How a campus's alerts are sent (the admin's *Alert channels* page), with the
    defaults of a campus that saved none. Secrets are never stored: only the NAME of the
    environment variable holding each one."""

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


# Deliveries by channel and state: {"email": {"sent": 3, "pending": 0, "retrying": 1,
# "given_up": 0}, ...}
DeliveryCounts = dict[str, dict[str, int]]


class ChannelSettingsStore(Protocol):
    def get(self, campus: str) -> ChannelSettings | None:
        """The campus's saved settings; None when it saved none."""
        ...

    def save(self, campus: str, settings: ChannelSettings) -> None: ...


class ChannelHealthLog(Protocol):
    """Each campus's channels' health (``server.domain.deliveries``), shared by every
    server process, and the counters of the deliveries."""

    def states(self, campuses: Collection[str] | None = None) -> list[ChannelHealth]:
        """The channels' health (of these campuses, or all), by campus and channel."""
        ...

    def record_outcome(self, campus: str, channel: str, error: str, now: datetime) -> ChannelHealth:
        """One attempt on the channel ended (``error`` empty: it worked)."""
        ...

    def delivery_counts(self) -> DeliveryCounts:
        """Deliveries by channel and state: ``sent``, ``pending`` (never tried yet),
        ``retrying`` (failed, tried again later) and ``given_up``."""
        ...


class AlertsUnitOfWork(Protocol):
    """One transaction: ``with uow: ...; uow.commit()``; leaving without ``commit``
    discards every change."""

    channel_settings: ChannelSettingsStore
    channel_health: ChannelHealthLog
    audit: AuditTrail

    def __enter__(self) -> AlertsUnitOfWork: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...
