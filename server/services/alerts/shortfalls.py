"""Use case: weekly shortfall alerts. Once a week is over, each student whose ledger
line is ``short`` gets a shortfall alert to their tutor; during the week, a student
``at_risk`` (the remaining slots can no longer make up the hours) gets one early warning.
One alert per student, week and kind (a unique key). A periodic job (hourly)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from server.domain.alerts import AlertKind, ShortfallNoticed, shortfall_kind
from server.domain.calendar import IsoWeek
from server.domain.ledger import WeekLine
from server.domain.notices import NoticeKind
from server.ports.alerts import AlertsUnitOfWork, DuplicateAlert, new_alert
from server.services.alerts.alerts import AlertService, Step
from server.services.presence.ledger import LedgerService

log = logging.getLogger(__name__)


class ShortfallWatcher:
    def __init__(
        self,
        unit_of_work: Callable[[], AlertsUnitOfWork],
        ledger: LedgerService,
        alerts: AlertService,
    ) -> None:
        self.unit_of_work = unit_of_work
        self.ledger = ledger
        self.alerts = alerts
        self.tz = ledger.settings.zone

    def run(self, now: datetime) -> list[ShortfallNoticed]:
        """Last week's shortfalls and this week's early warnings, not raised yet."""
        this_week = IsoWeek.of(now.astimezone(self.tz).date())
        weeks = self.ledger.weeks([this_week.shifted(-1), this_week], now)
        noticed: list[ShortfallNoticed] = []
        steps: list[Step] = []
        for lines in weeks.values():
            for line in lines:
                kind = shortfall_kind(line.status)
                if kind is not None:
                    self._raise(line, kind, now, noticed, steps)
        self.alerts.announce(steps, now)
        return noticed

    def _raise(
        self,
        line: WeekLine,
        kind: AlertKind,
        now: datetime,
        noticed: list[ShortfallNoticed],
        steps: list[Step],
    ) -> None:
        key = f"{kind.value}:{line.student_id}:{line.week}"

        def write() -> tuple[int, str, str] | None:
            with self.unit_of_work() as uow:
                student = uow.people.student_by_id(line.student_id)
                if uow.alerts.by_key(key) is not None or student is None:
                    return None
                alert = uow.alerts.add(
                    new_alert(
                        kind,
                        key,
                        student.campus_id,
                        now,
                        student_pk=student.pk,
                        tutor_id=student.tutor_id,
                        week=str(line.week),
                        expected_minutes=line.expected_s // 60,
                        recorded_minutes=(line.attended_s - line.unverified_s) // 60,
                    )
                )
                uow.commit()
                assert alert.id is not None
                return alert.id, alert.public_id, alert.campus_id

        try:
            raised = write()
        except DuplicateAlert:
            return  # raised meanwhile by another worker
        if raised is None:
            return
        pk, public_id, campus = raised
        early = kind is AlertKind.EARLY_WARNING
        noticed.append(ShortfallNoticed(public_id, campus, line.student_id, str(line.week), early))
        steps.append(Step(pk, NoticeKind.RAISED))


EVERY = timedelta(hours=1)
