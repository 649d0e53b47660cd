"""The reader watch's incidents as stored ``reader_down`` alerts: the coordinator hears of
a door reader gone silent during opening hours by the campus's alert channels (e-mail,
webhook, MQTT ``events/alerts``), the same way the absence watcher reports a door that
makes its checks untrustworthy. One open alert per reader, whichever noticed it first."""

from __future__ import annotations

from collections.abc import Callable

from server.domain.alerts import AlertKind, Resolution, incident_over
from server.domain.notices import NoticeKind
from server.ports.alerts import AlertsUnitOfWork, apply_state, new_alert, state_of
from server.services.alerts.alerts import AlertService, Step
from server.services.occupancy.reader_watch import LoggingReaderNotifier, ReaderDown


class ReaderDownAlerts:
    def __init__(self, unit_of_work: Callable[[], AlertsUnitOfWork], alerts: AlertService) -> None:
        self._unit_of_work = unit_of_work
        self._alerts = alerts
        self._log = LoggingReaderNotifier()

    def reader_down(self, event: ReaderDown) -> None:
        self._log.reader_down(event)
        with self._unit_of_work() as uow:
            alert = uow.alerts.open_reader_down(event.campus, event.reader)
            if event.resolved:
                if alert is None:
                    return  # closed already (the absence watcher saw the reader back)
                apply_state(alert, incident_over(state_of(alert), Resolution.READER_BACK, event.at))
                uow.alerts.save(alert)
            else:
                if alert is not None:
                    return  # already alerted
                alert = uow.alerts.add(
                    new_alert(
                        AlertKind.READER_DOWN,
                        f"reader_down:{event.campus}:{event.reader}:{event.at.isoformat()}",
                        event.campus,
                        event.at,
                        reader_id=event.reader,
                        reader_state=event.reader_state,
                        reader_last_seen=event.last_seen,
                    )
                )
            uow.commit()
        assert alert.id is not None
        step = Step(alert.id, NoticeKind.RESOLVED if event.resolved else NoticeKind.RAISED)
        self._alerts.announce([step], event.at)
