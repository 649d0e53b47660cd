"""Occupancy's capacity incidents as stored ``capacity`` alerts: the coordinator hears
of a room (or the whole campus) at its hard, fire-safety limit by the campus's alert
channels (e-mail, webhook, MQTT ``events/alerts``), the same way as absences and readers
gone silent. One open alert per campus and room, raised when the count reaches the hard
limit and resolved when it falls back under it (with the hysteresis of
``server.domain.capacity``); the soft limit only warns in the log. No personal data:
counts and room ids."""

from __future__ import annotations

from collections.abc import Callable

from server.domain.alerts import AlertKind, Resolution, incident_over
from server.domain.capacity import CapacityChanged, CapacityLevel
from server.domain.notices import NoticeKind
from server.ports.alerts import AlertsUnitOfWork, apply_state, new_alert, state_of
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
        unit_of_work: Callable[[], AlertsUnitOfWork],
        alerts: AlertService,
        *,
        send_now: bool = False,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._alerts = alerts
        self._send_now = send_now
        self._log = LoggingCapacityNotifier()

    def capacity_changed(self, event: CapacityChanged) -> None:
        self._log.capacity_changed(event)
        full = event.level is CapacityLevel.FULL
        if full == (event.previous is CapacityLevel.FULL):
            return  # normal <-> warning: the soft limit is only logged
        with self._unit_of_work() as uow:
            alert = uow.alerts.open_capacity(event.campus, event.room)
            if not full:
                if alert is None:
                    return  # closed already, or raised before this alert kind existed
                over = incident_over(state_of(alert), Resolution.CAPACITY_BACK, event.at)
                apply_state(alert, over)
                uow.alerts.save(alert)
            else:
                if alert is not None:
                    return  # already alerted (e.g. counts rebuilt after a restart)
                alert = uow.alerts.add(
                    new_alert(
                        AlertKind.CAPACITY,
                        f"capacity:{event.campus}:{event.room or '*'}:{event.at.isoformat()}",
                        event.campus,
                        event.at,
                        room_id=event.room,
                        occupancy_count=event.count,
                        occupancy_capacity=event.limit,
                    )
                )
            uow.commit()
        assert alert.id is not None
        step = Step(alert.id, NoticeKind.RAISED if full else NoticeKind.RESOLVED)
        self._alerts.announce([step], event.at, send_now=self._send_now)
