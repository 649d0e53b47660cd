"""The reader watch's incidents as stored ``reader_down`` alerts: the coordinator hears of
a door reader gone silent during opening hours by the campus's alert channels (e-mail,
webhook, MQTT ``events/alerts``), the same way the absence watcher reports a door that
makes its checks untrustworthy. One open alert per reader, whichever noticed it first."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import orm

from server.domain.alerts import AlertKind, Resolution, incident_over
from server.domain.notices import NoticeKind
from server.registry.alert_repository import AlertRepository, apply_state, state_of
from server.services.alerts.alerts import AlertService, Step
from server.services.occupancy.reader_watch import LoggingReaderNotifier, ReaderDown


class ReaderDownAlerts:
    def __init__(
        self, registry: Callable[[], orm.Session], alerts: AlertService, *, timezone: str
    ) -> None:
        self._registry = registry
        self._alerts = alerts
        self._timezone = timezone
        self._log = LoggingReaderNotifier()

    def reader_down(self, event: ReaderDown) -> None:
        self._log.reader_down(event)
        with self._registry() as session, session.begin():
            repo = AlertRepository(session, timezone=self._timezone)
            row = repo.open_reader_down(event.campus, event.reader)
            if event.resolved:
                if row is None:
                    return  # closed already (the absence watcher saw the reader back)
                apply_state(row, incident_over(state_of(row), Resolution.READER_BACK, event.at))
                step = Step(row.id, NoticeKind.RESOLVED)
            else:
                if row is not None:
                    return  # already alerted
                row = repo.add(
                    AlertKind.READER_DOWN,
                    f"reader_down:{event.campus}:{event.reader}:{event.at.isoformat()}",
                    event.campus,
                    event.at,
                    reader_id=event.reader,
                    reader_state=event.reader_state,
                    reader_last_seen=event.last_seen,
                )
                step = Step(row.id, NoticeKind.RAISED)
        self._alerts.announce([step], event.at)
