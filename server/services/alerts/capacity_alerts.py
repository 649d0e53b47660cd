"""Occupancy's capacity incidents as stored ``capacity`` alerts: the coordinator hears
of a room (or the whole campus) at its hard, fire-safety limit by the campus's alert
channels (e-mail, webhook, MQTT ``events/alerts``), the same way as absences and readers
gone silent. One open alert per campus and room, raised when the count reaches the hard
limit and resolved when it falls back under it (with the hysteresis of
``server.domain.capacity``); the soft limit only warns in the log. No personal data:
counts and room ids."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import orm

from server.domain.alerts import AlertKind, Resolution, incident_over
from server.domain.capacity import CapacityChanged, CapacityLevel
from server.domain.notices import NoticeKind
from server.registry.alert_repository import AlertRepository, apply_state, state_of
from server.services.alerts.alerts import AlertService, Step
from server.services.occupancy.occupancy import LoggingCapacityNotifier


class CapacityAlerts:
    """The occupancy service's :class:`~server.services.occupancy.occupancy.CapacityNotifier`.

    Occupancy calls it in the ingest worker, with its lock held: by default the notices
    are only recorded, and sent by the delivery lanes at their next scan
    (``server.services.alerts.delivery_workers``, every 10 s), so a slow SMTP server never holds
    taps back."""

    def __init__(
        self,
        registry: Callable[[], orm.Session],
        alerts: AlertService,
        *,
        timezone: str,
        send_now: bool = False,
    ) -> None:
        self._registry = registry
        self._alerts = alerts
        self._timezone = timezone
        self._send_now = send_now
        self._log = LoggingCapacityNotifier()

    def capacity_changed(self, event: CapacityChanged) -> None:
        self._log.capacity_changed(event)
        full = event.level is CapacityLevel.FULL
        if full == (event.previous is CapacityLevel.FULL):
            return  # normal <-> warning: the soft limit is only logged
        with self._registry() as session, session.begin():
            repo = AlertRepository(session, timezone=self._timezone)
            row = repo.open_capacity(event.campus, event.room)
            if not full:
                if row is None:
                    return  # closed already, or raised before this alert kind existed
                apply_state(row, incident_over(state_of(row), Resolution.CAPACITY_BACK, event.at))
                step = Step(row.id, NoticeKind.RESOLVED)
            else:
                if row is not None:
                    return  # already alerted (e.g. counts rebuilt after a restart)
                row = repo.add(
                    AlertKind.CAPACITY,
                    f"capacity:{event.campus}:{event.room or '*'}:{event.at.isoformat()}",
                    event.campus,
                    event.at,
                    room_id=event.room,
                    occupancy_count=event.count,
                    occupancy_capacity=event.limit,
                )
                step = Step(row.id, NoticeKind.RAISED)
        self._alerts.announce([step], event.at, send_now=self._send_now)
