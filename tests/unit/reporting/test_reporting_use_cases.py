"""The reporting use cases (the coordinator's weekly and period reports, the evidence,
the absences export, the annual grid) on in-memory fakes of the reporting and presence
ports; the ledger's taps in a real SQLite event store in a temporary folder."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.adapters.sqlite_events import SqliteEventStore
from server.config import PresenceSettings
from server.domain.activities import ActivityLog
from server.domain.alerts import AlertFact
from server.domain.annual_report import StudentFacts, academic_year
from server.domain.calendar import IsoWeek
from server.domain.contracts import Contract, Slot
from server.domain.coordinator_reports import StudentInfo
from server.domain.events import StoredTap
from server.domain.periods import Period
from server.ports.presence import BadgeHolding
from server.ports.reporting import AbsenceRecord, ChannelPolicy
from server.services.presence.ledger import LedgerService
from server.services.reporting import annual_report, coordinator_reports
from server.services.reporting.coordinator_reports import Reports
from tests.unit.presence import fakes as presence_fakes
from tests.unit.reporting.fakes import Stored, units

PARIS = ZoneInfo("Europe/Paris")
CAMPUS = "campus-a"
W48 = IsoWeek(2026, 48)
NOW = datetime(2026, 12, 7, 12, tzinfo=UTC)
SLOTS = (Slot(0, time(9), time(12)), Slot(1, time(9), time(12)))
PEOPLE = [  # pk, id, last name, first name, programme, tutor id, tutor
    (1, "E001", "Durand", "Émilie", "BTS SIO", 7, "Tutrice"),
    (2, "E002", "Ardent", "Noé", "Licence", None, ""),
    (3, "E003", "Martin", "Zoé", "BTS SIO", 7, "Tutrice"),
]


@pytest.fixture
def events(tmp_path):
    store = SqliteEventStore(tmp_path / "events.sqlite3")
    store.setup()
    yield store
    store.close()


@pytest.fixture
def stored() -> Stored:
    stored = Stored()
    stored.directory[CAMPUS] = {
        sid: StudentInfo(pk, sid, last, first, programme, tutor_id, tutor)
        for pk, sid, last, first, programme, tutor_id, tutor in PEOPLE
    }
    return stored


def _ledger(events) -> LedgerService:
    presence = presence_fakes.Stored()
    for pk, sid, *_ in PEOPLE:
        presence.student(pk, sid, CAMPUS)
        presence.contracts[pk] = [Contract(360, SLOTS, date(2026, 9, 1))]
    presence.student(4, "E004", CAMPUS)  # has a contract, not in the report's directory
    presence.contracts[4] = [Contract(360, SLOTS, date(2026, 9, 1))]
    presence.holdings = [BadgeHolding("b1" * 32, 1, datetime(2026, 9, 1, tzinfo=UTC), None)]
    monday = datetime.combine(W48.monday, time(9), tzinfo=PARIS)
    for seq, moment in enumerate([monday, monday + timedelta(hours=3)]):
        events.write_taps([StoredTap(f"t{seq}", CAMPUS, "door", "b1" * 32, moment, seq, moment)])
    return LedgerService(presence_fakes.units(presence), events, PresenceSettings())


def _reports(stored: Stored, events, **more) -> Reports:
    values = {
        "outcomes": lambda campus, year: [],
        "activities": lambda campus, first, last: ActivityLog(campus, first, last),
        **more,
    }
    return Reports(
        ledger=_ledger(events), units=units(stored), settings=PresenceSettings(), **values
    )


def test_the_weekly_report_names_sorts_and_filters(stored, events) -> None:
    reports = _reports(stored, events)
    report = coordinator_reports.weekly_report(reports, CAMPUS, W48, NOW)
    assert [line.student.student_id for line in report.lines] == ["E002", "E001", "E003"]
    assert report.tutors == [(7, "Tutrice")]
    assert report.programmes == ["BTS SIO", "Licence"]
    assert report.lines[1].student.tutor == "Tutrice"
    assert report.totals == coordinator_reports.totals(report.lines)
    by_tutor = coordinator_reports.weekly_report(reports, CAMPUS, W48, NOW, tutor_id=7)
    assert [line.student.student_id for line in by_tutor.lines] == ["E001", "E003"]
    licence = coordinator_reports.weekly_report(reports, CAMPUS, W48, NOW, programme="Licence")
    assert [line.student.student_id for line in licence.lines] == ["E002"]
    assert coordinator_reports.weekly_report(reports, "campus-z", W48, NOW).lines == []


def test_the_period_report_reads_every_week_once(stored, events) -> None:
    reports = _reports(stored, events)
    span = Period(W48.monday - timedelta(days=7), W48.monday + timedelta(days=6))
    report = coordinator_reports.period_report(reports, CAMPUS, span, NOW)
    assert report.weeks == [W48.shifted(-1), W48]
    assert [(row.week, row.line.student.student_id) for row in report.rows] == [
        (week, sid) for week in report.weeks for sid in ("E002", "E001", "E003")
    ]
    (emilie,) = [item for item in report.students if item.student.student_id == "E001"]
    assert (emilie.expected, emilie.attended) == (12.0, 3.0)


def test_the_evidence_uses_the_campus_escalation_and_local_days(stored, events) -> None:
    stored.channels[CAMPUS] = ChannelPolicy(escalation_minutes=45)
    first, last = date(2026, 11, 23), date(2026, 11, 24)
    start = datetime.combine(first, time(0), tzinfo=PARIS)
    inside = AlertFact("Tutrice", start, None, start + timedelta(minutes=20), False)
    too_late = AlertFact("Tutrice", start + timedelta(days=2), None, None, False)
    stored.facts = [(CAMPUS, inside), (CAMPUS, too_late), ("campus-z", inside)]
    reports = _reports(stored, events)
    report = coordinator_reports.evidence(reports, CAMPUS, first, last, tz=PARIS)
    (policy,) = stored.policies_asked
    assert policy.escalate_after == timedelta(minutes=45)
    assert policy.first_call_within == timedelta(minutes=PresenceSettings().first_call_minutes)
    assert [row.line.tutor for row in report.tutors] == ["Tutrice"]
    assert (report.total.line.noticed, report.total.line.called) == (1, 1)
    assert report.total.line.median_minutes_to_call == 20.0


def _absence(alert_id: str, noticed: datetime) -> AbsenceRecord:
    return AbsenceRecord(
        alert_id, noticed, "E001", "Durand", "Émilie", "Tutrice", None, None, None, "",
        "open", None, None, (),
    )  # fmt: skip


def test_the_absences_export_keeps_to_the_local_days_asked(stored, events) -> None:
    first, last = date(2026, 11, 23), date(2026, 11, 24)
    midnight = datetime.combine(first, time(0), tzinfo=PARIS)
    stored.absences = [
        (CAMPUS, _absence("a2", midnight + timedelta(days=1, hours=23))),
        (CAMPUS, _absence("a1", midnight)),
        (CAMPUS, _absence("out", midnight + timedelta(days=2))),
        ("campus-z", _absence("z1", midnight + timedelta(hours=1))),
    ]
    reports = _reports(stored, events)
    found = coordinator_reports.absences(reports, CAMPUS, first, last, tz=PARIS)
    assert [record.alert_id for record in found] == ["a1", "a2"]
    everywhere = coordinator_reports.absences(reports, None, first, last, tz=PARIS)
    assert [record.alert_id for record in everywhere] == ["a1", "z1", "a2"]


def test_the_annual_grid_gathers_the_store_and_the_peoples_records(stored, events) -> None:
    period = academic_year("2026-2027")
    stored.enrolled[CAMPUS] = [
        (StudentFacts("E001", tutor_id=7), date(2026, 9, 1), None),
        (StudentFacts("E002"), date(2026, 9, 1), date(2027, 6, 30)),
        (StudentFacts("E000"), date(2025, 9, 1), date(2026, 6, 30)),  # last year's
    ]
    stored.places[CAMPUS] = (40, 120.0)
    asked: list[tuple[str, date, date]] = []

    def activities(campus: str, first: date, last: date) -> ActivityLog:
        asked.append((campus, first, last))
        return ActivityLog(campus, first, last)

    reports = _reports(stored, events, activities=activities)
    grid = annual_report.annual_grid(reports, CAMPUS, period, NOW)
    assert (grid.campus, grid.campus_name) == (CAMPUS, CAMPUS)  # no name recorded
    assert asked == [(CAMPUS, period.first, period.last)]
    assert grid.trend[-1] == ("2026-2027", 2)
    assert grid.trend[-2] == ("2025-2026", 1)
    stored.names[CAMPUS] = "Campus A"
    assert annual_report.annual_grid(reports, CAMPUS, period, NOW).campus_name == "Campus A"
