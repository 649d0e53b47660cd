"""Use cases: which alert channels keep failing (the admin's and the coordinator's
banner, the admin's channel page) and the health report of ``/healthz``. Errors are
shown as stored: scrubbed of addresses and numbers (``server.domain.deliveries``)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any

from server.domain.deliveries import ChannelHealth
from server.ports.alerts import AlertsUnitOfWork

_LATEST = datetime.max.replace(tzinfo=UTC)


class DeliveryHealth:
    def __init__(self, unit_of_work: Callable[[], AlertsUnitOfWork]) -> None:
        self._unit_of_work = unit_of_work

    def failing_channels(self, campuses: Collection[str]) -> list[ChannelHealth]:
        """The channels of these campuses that keep failing, oldest failure first."""
        with self._unit_of_work() as uow:
            found = [health for health in uow.channel_health.states(campuses) if health.failing]
        return sorted(found, key=lambda health: (health.failing_since or _LATEST, health.campus))

    def campus_channels(self, campus: str) -> dict[str, ChannelHealth]:
        """Every channel of the campus that was ever tried, by name."""
        with self._unit_of_work() as uow:
            return {health.channel: health for health in uow.channel_health.states([campus])}

    def health_report(self) -> dict[str, Any]:
        """``{"status": "ok"|"degraded", "channels": [...], "counters": {...}}``: the
        failing channel kinds (with the earliest failure and how many campuses), and
        deliveries by channel and state. No campus names, no people, no error texts."""
        with self._unit_of_work() as uow:
            states = uow.channel_health.states()
            counts = uow.channel_health.delivery_counts()
        failing: dict[str, dict[str, Any]] = {}
        for health in states:
            if not health.failing or health.failing_since is None:
                continue
            entry = failing.setdefault(health.channel, {"channel": health.channel, "campuses": 0})
            entry["campuses"] += 1
            since = health.failing_since.isoformat()
            entry["since"] = min(entry.get("since", since), since)
        return {
            "status": "degraded" if failing else "ok",
            "channels": [failing[name] for name in sorted(failing)],
            "counters": {"deliveries": counts},
        }
