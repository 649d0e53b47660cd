"""The weekly shortfall alerts on in-memory fakes of the alert ports: last week's short
students and this week's at-risk ones each get one alert for their tutor, once."""

from __future__ import annotations

from datetime import UTC, datetime

from server.config import PresenceSettings
from server.domain.alerts import AlertKind
from server.domain.calendar import IsoWeek
from server.domain.ledger import WeekLine, WeekStatus
from server.domain.notices import NoticeKind
from server.ports.alerts import StudentRecord
from server.services.alerts.alerts import AlertService
from server.services.alerts.shortfalls import ShortfallWatcher
from tests.unit.alerts.fakes import Corrections, FakeUnitOfWork, Stored, Told

CAMPUS = "saint-marcellin"
NOW = datetime(2026, 12, 8, 9, 0, tzinfo=UTC)  # a Tuesday
THIS_WEEK = IsoWeek(2026, 50)
LAST_WEEK = IsoWeek(2026, 49)
HOUR = 3600


class Ledger:
    """The weeks' lines the ledger would give (the ledger's part)."""

    def __init__(self, lines: dict[IsoWeek, list[WeekLine]]) -> None:
        self.settings = PresenceSettings()
        self.lines = lines
        self.asked: list[list[IsoWeek]] = []

    def weeks(self, weeks: list[IsoWeek], now: datetime) -> dict[IsoWeek, list[WeekLine]]:
        self.asked.append(list(weeks))
        return {week: self.lines.get(week, []) for week in weeks}


def _line(student_id: str, week: IsoWeek, status: WeekStatus) -> WeekLine:
    return WeekLine(student_id, week, 10 * HOUR, 6 * HOUR, HOUR, 2, 0, status)


def test_short_and_at_risk_students_get_one_alert_each_once() -> None:
    stored = Stored()
    stored.students[1] = StudentRecord(1, "E001", CAMPUS, 5, "Émilie", "Durand")
    stored.students[2] = StudentRecord(2, "E002", CAMPUS, None, "Noé", "Martin")
    ledger = Ledger(
        {
            LAST_WEEK: [
                _line("E001", LAST_WEEK, WeekStatus.SHORT),
                _line("E002", LAST_WEEK, WeekStatus.MET),
            ],
            THIS_WEEK: [
                _line("E002", THIS_WEEK, WeekStatus.AT_RISK),
                _line("E999", THIS_WEEK, WeekStatus.AT_RISK),  # gone from the registry
            ],
        }
    )
    notifications = Told(stored)
    alerts = AlertService(
        lambda: FakeUnitOfWork(stored),
        notifications.service,
        Corrections(),  # type: ignore[arg-type]
        PresenceSettings(),
    )
    watcher = ShortfallWatcher(lambda: FakeUnitOfWork(stored), ledger, alerts)  # type: ignore[arg-type]
    noticed = watcher.run(NOW)
    assert ledger.asked == [[LAST_WEEK, THIS_WEEK]]
    assert [(n.student_id, n.week, n.early) for n in noticed] == [
        ("E001", str(LAST_WEEK), False),
        ("E002", str(THIS_WEEK), True),
    ]
    short, early = sorted(stored.alerts.values(), key=lambda alert: alert.id or 0)
    assert (short.kind, short.student_pk, short.tutor_id, short.week) == (
        AlertKind.SHORTFALL.value,
        1,
        5,
        str(LAST_WEEK),
    )
    assert (short.expected_minutes, short.recorded_minutes) == (600, 300)  # verified only
    assert (early.kind, early.student_pk, early.tutor_id) == (
        AlertKind.EARLY_WARNING.value,
        2,
        None,
    )
    assert notifications.steps == [
        (short.id, NoticeKind.RAISED),
        (early.id, NoticeKind.RAISED),
    ]
    assert watcher.run(NOW) == []  # once a student, week and kind
    assert len(stored.alerts) == 2 and len(notifications.steps) == 2
