"""One contract for the reporting ports (``server.ports.reporting``), run against the
registry's adapter (SQLite, or PostgreSQL with CAMPUS_TEST_REGISTRY=postgresql) and
against the in-memory fakes the use cases' unit tests rely on."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from server.domain.alerts import AlertFact, CallPolicy
from server.domain.annual_report import StudentFacts
from server.domain.coordinator_reports import StudentInfo
from server.ports.reporting import AbsenceRecord, CallRecord, ChannelPolicy, ReportingUnitOfWork
from server.registry import models
from server.registry.alert_models import Alert, AlertCall, AlertChannelSettings
from server.registry.reporting_store import reporting_unit_of_work
from tests.integration.registry.conftest import CAMPUS
from tests.unit.reporting.fakes import Stored, units

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
NOTICED = datetime(2026, 11, 23, 8, 20, tzinfo=UTC)
CALLED = NOTICED + timedelta(minutes=25)


def _records(pks: dict[str, int]) -> tuple[list[AbsenceRecord], AlertFact]:
    """What both sides hold: E001's absence, called once."""
    record = AbsenceRecord(
        alert_id="abs-1",
        noticed_at=NOTICED,
        student_id="E001",
        last_name="Durand",
        first_name="Émilie",
        tutor="Tutrice",
        slot_start=NOTICED - timedelta(minutes=20),
        slot_end=NOTICED + timedelta(hours=3),
        acknowledged_at=None,
        acknowledged_by="",
        status="closed",
        resolution="called",
        closed_at=CALLED,
        calls=(CallRecord(CALLED, "reached", "tutrice@campus.fr", False),),
    )
    fact = AlertFact("Tutrice", NOTICED, None, CALLED, arrived_first=False)
    return [record], fact


def _registry_side(registry) -> dict[str, int]:
    with registry() as session, session.begin():
        tutor = models.Tutor(email="tutrice@campus.fr", name="Tutrice")
        session.add(tutor)
        session.flush()
        people = {}
        for sid, last, first, programme, tutor_id in [
            ("E001", "Durand", "Émilie", "BTS SIO", tutor.id),
            ("E002", "Martin", "Noé", "", None),
        ]:
            student = models.Student(
                student_id=sid,
                campus_id=CAMPUS,
                last_name=last,
                first_name=first,
                programme=programme,
                tutor_id=tutor_id,
                institution_type="public" if sid == "E001" else "",
                created_at=NOW,
                updated_at=NOW,
            )
            session.add(student)
            session.flush()
            people[sid] = student.id
        for sid, start, end, replaced in [
            ("E001", date(2026, 9, 1), None, None),
            ("E002", date(2025, 9, 1), date(2026, 6, 30), None),
            ("E002", date(2026, 9, 1), None, NOW),  # replaced: does not count
        ]:
            session.add(
                models.Contract(
                    student_pk=people[sid],
                    weekly_minutes=600,
                    valid_from=start,
                    valid_to=end,
                    created_at=NOW,
                    replaced_at=replaced,
                )
            )
        session.add_all(
            [
                models.Room(campus_id=CAMPUS, name="Salle 1", capacity=12, area_m2=30.0),
                models.Room(campus_id=CAMPUS, name="Salle 2", capacity=8, area_m2=None),
            ]
        )
        session.add(AlertChannelSettings(campus_id=CAMPUS, escalation_minutes=45))
        alert = Alert(
            public_id="abs-1",
            dedupe_key="abs-1",
            kind="absence",
            campus_id=CAMPUS,
            student_pk=people["E001"],
            tutor_id=tutor.id,
            slot_start=NOTICED - timedelta(minutes=20),
            slot_end=NOTICED + timedelta(hours=3),
            status="closed",
            resolution="called",
            noticed_at=NOTICED,
            called_at=CALLED,
            closed_at=CALLED,
        )
        session.add(alert)
        session.flush()
        session.add(
            AlertCall(
                alert_pk=alert.id,
                called_at=CALLED,
                outcome="reached",
                author="tutrice@campus.fr",
                created_at=CALLED,
            )
        )
        return {**people, "tutor": tutor.id}


def _fake_side() -> tuple[Stored, dict[str, int]]:
    pks = {"E001": 1, "E002": 2, "tutor": 7}
    stored = Stored()
    stored.directory[CAMPUS] = {
        "E001": StudentInfo(1, "E001", "Durand", "Émilie", "BTS SIO", 7, "Tutrice"),
        "E002": StudentInfo(2, "E002", "Martin", "Noé", "", None, ""),
    }
    stored.names[CAMPUS] = "Campus A"
    stored.places[CAMPUS] = (20, 30.0)
    stored.enrolled[CAMPUS] = [
        (StudentFacts("E001", 7, "public"), date(2026, 9, 1), None),
        (StudentFacts("E002"), date(2025, 9, 1), date(2026, 6, 30)),
    ]
    stored.channels[CAMPUS] = ChannelPolicy(45)
    records, fact = _records(pks)
    stored.absences = [(CAMPUS, record) for record in records]
    stored.facts = [(CAMPUS, fact)]
    return stored, pks


@pytest.fixture(params=["registry", "fake"])
def unit_of_work(request: pytest.FixtureRequest) -> Callable[[], ReportingUnitOfWork]:
    if request.param == "fake":
        stored, pks = _fake_side()
        factory = units(stored)
    else:
        registry = request.getfixturevalue("registry")
        pks = _registry_side(registry)
        factory = reporting_unit_of_work(registry, "Europe/Paris")
    factory.pks = pks
    return factory


def test_who_is_who_and_the_campus(unit_of_work) -> None:
    pks = unit_of_work.pks
    with unit_of_work() as uow:
        assert uow.reports.directory(CAMPUS) == {
            "E001": StudentInfo(
                pks["E001"], "E001", "Durand", "Émilie", "BTS SIO", pks["tutor"], "Tutrice"
            ),
            "E002": StudentInfo(pks["E002"], "E002", "Martin", "Noé", "", None, ""),
        }
        assert uow.reports.directory("campus-z") == {}
        assert uow.reports.campus_name(CAMPUS) == "Campus A"
        assert uow.reports.campus_name("campus-z") is None
        assert uow.reports.place(CAMPUS) == (20, 30.0)  # the rooms' sums
        assert uow.reports.place("campus-z") == (None, None)
        assert uow.reports.channel_policy(CAMPUS) == ChannelPolicy(45)
        assert uow.reports.channel_policy("campus-z") is None


def test_the_headcount_of_a_span(unit_of_work) -> None:
    with unit_of_work() as uow:
        this_year = uow.reports.headcount(CAMPUS, date(2026, 9, 1), date(2027, 8, 31))
        assert this_year == [StudentFacts("E001", unit_of_work.pks["tutor"], "public")]
        last_year = uow.reports.headcount(CAMPUS, date(2025, 9, 1), date(2026, 8, 31))
        assert [facts.student_id for facts in last_year] == ["E002"]
        assert uow.reports.headcount(CAMPUS, date(2024, 9, 1), date(2025, 8, 31)) == []


def test_absences_and_their_calls(unit_of_work) -> None:
    records, fact = _records(unit_of_work.pks)
    day = (NOTICED - timedelta(hours=8), NOTICED + timedelta(hours=16))
    with unit_of_work() as uow:
        assert uow.reports.absence_records(CAMPUS, *day) == records
        assert uow.reports.absence_records(None, *day) == records
        assert uow.reports.absence_records("campus-z", *day) == []
        assert uow.reports.absence_records(CAMPUS, NOTICED + timedelta(seconds=1), day[1]) == []
        assert uow.reports.alert_facts(*day, CAMPUS, CallPolicy()) == [fact]
        assert uow.reports.alert_facts(*day, "campus-z", CallPolicy()) == []
