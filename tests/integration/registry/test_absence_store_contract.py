"""One contract for the absence watcher's ports (``server.ports.alerts.AbsenceUnitOfWork``:
the checks, the bulk alerts, the savepoint), run against the registry's adapter
(``server.registry.absence_store``; SQLite, or PostgreSQL with
CAMPUS_TEST_REGISTRY=postgresql) and against the in-memory fakes of the watcher's unit
tests: if the fakes drift from the real store, this fails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from server.config import PresenceSettings
from server.domain.absences import Verdict
from server.domain.alerts import AlertKind
from server.ports.alerts import (
    AbsenceUnitOfWork,
    AlertRecord,
    DuplicateAlert,
    DuplicateEvaluation,
    EvaluationRecord,
    StudentRecord,
    new_alert,
)
from server.registry.absence_store import absence_unit_of_work
from server.registry.models import Student, Tutor
from tests.integration.registry.conftest import CAMPUS
from tests.unit.alerts.fakes import FakeAbsenceUnitOfWork, Stored
from tests.unit.presence import fakes as presence_fakes

SLOT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
CHECK = SLOT + timedelta(minutes=15)


@dataclass
class Side:
    unit_of_work: Callable[[], AbsenceUnitOfWork]
    students: tuple[int, int]  # E001 (with a tutor), E002 (without)
    tutor: int


@pytest.fixture(params=["registry", "fake"])
def side(request: pytest.FixtureRequest) -> Side:
    if request.param == "fake":
        stored = Stored()
        stored.students = {
            1: StudentRecord(1, "E001", CAMPUS, 7, "Émilie", "Durand"),
            2: StudentRecord(2, "E002", CAMPUS, None, "Noé", "Martin"),
        }
        people = presence_fakes.Stored()
        return Side(lambda: FakeAbsenceUnitOfWork(stored, people), (1, 2), 7)
    registry = request.getfixturevalue("registry")
    with registry() as session, session.begin():
        tutor = Tutor(email="tutrice@campus.fr", name="Tutrice")
        session.add(tutor)
        session.flush()
        rows = [
            Student(
                student_id=student_id,
                campus_id=CAMPUS,
                last_name="Nom",
                first_name="Prénom",
                tutor_id=tutor_id,
                created_at=SLOT,
                updated_at=SLOT,
            )
            for student_id, tutor_id in (("E001", tutor.id), ("E002", None))
        ]
        session.add_all(rows)
        session.flush()
        pks, tutor_id = (rows[0].id, rows[1].id), tutor.id
    return Side(absence_unit_of_work(registry, PresenceSettings()), pks, tutor_id)  # type: ignore[arg-type]


def _absence(student_pk: int, start: datetime = SLOT) -> AlertRecord:
    return new_alert(
        AlertKind.ABSENCE,
        f"absence:{student_pk}:{start.isoformat()}",
        CAMPUS,
        start + timedelta(minutes=15),
        student_pk=student_pk,
        slot_start=start,
        slot_end=start + timedelta(hours=3),
    )


def _evaluation(student_pk: int, verdict: Verdict, check_at: datetime = CHECK) -> EvaluationRecord:
    return EvaluationRecord(
        student_pk, CAMPUS, SLOT, SLOT + timedelta(hours=3), check_at, verdict, check_at
    )


def test_alerts_added_at_once_get_their_ids_in_order(side: Side) -> None:
    first, second = side.students
    records = [_absence(first), _absence(second)]
    with side.unit_of_work() as uow:
        ids = uow.alerts.add_many(records)
        uow.commit()
    assert ids == [record.id for record in records] and len(set(ids)) == 2
    with side.unit_of_work() as uow:
        found = [uow.alerts.by_public_id(record.public_id) for record in records]
        assert [item.id if item else None for item in found] == ids
        assert uow.alerts.add_many([]) == []


def test_a_duplicate_among_alerts_added_at_once_stores_none_of_them(side: Side) -> None:
    first, second = side.students
    with side.unit_of_work() as uow:
        uow.alerts.add_many([_absence(first)])
        uow.commit()
    with side.unit_of_work() as uow, pytest.raises(DuplicateAlert):
        uow.alerts.add_many([_absence(second), _absence(first)])  # same student and slot
    with side.unit_of_work() as uow:
        assert uow.alerts.by_key(f"absence:{second}:{SLOT.isoformat()}") is None


def test_open_readers_down_by_campus_and_reader(side: Side) -> None:
    down = new_alert(AlertKind.READER_DOWN, "down-1", CAMPUS, SLOT, reader_id="porte-1")
    closed = new_alert(AlertKind.READER_DOWN, "down-2", CAMPUS, SLOT, reader_id="porte-2")
    closed.status = "closed"
    with side.unit_of_work() as uow:
        uow.alerts.add_many([down, closed])
        uow.commit()
    with side.unit_of_work() as uow:
        found = uow.alerts.open_readers_down([CAMPUS])
        assert list(found) == [(CAMPUS, "porte-1")]
        assert found[(CAMPUS, "porte-1")].id == down.id
        assert uow.alerts.open_readers_down(["ailleurs"]) == {}


def test_each_students_tutor_is_read_in_bulk(side: Side) -> None:
    first, second = side.students
    with side.unit_of_work() as uow:
        assert uow.people.tutors_of([first, second]) == {first: side.tutor, second: None}


def test_evaluations_are_stored_at_once_read_by_window_and_checked_again(side: Side) -> None:
    first, second = side.students
    with side.unit_of_work() as uow:
        uow.checks.add(
            [_evaluation(first, Verdict.INDETERMINATE), _evaluation(second, Verdict.PRESENT)]
        )
        uow.commit()
    with side.unit_of_work() as uow:
        assert uow.checks.verdicts(CAMPUS, CHECK - timedelta(minutes=1), CHECK) == {
            (first, SLOT): Verdict.INDETERMINATE,
            (second, SLOT): Verdict.PRESENT,
        }
        assert uow.checks.verdicts(CAMPUS, CHECK, CHECK + timedelta(hours=1)) == {}
        assert uow.checks.verdicts("ailleurs", SLOT, CHECK) == {}
        later = CHECK + timedelta(minutes=30)
        uow.checks.recheck(_evaluation(first, Verdict.ABSENT, later))
        uow.commit()
    with side.unit_of_work() as uow:
        assert uow.checks.verdicts(CAMPUS, CHECK, later) == {(first, SLOT): Verdict.ABSENT}


def test_an_occurrence_evaluated_twice_is_refused(side: Side) -> None:
    first, _ = side.students
    with side.unit_of_work() as uow:
        uow.checks.add([_evaluation(first, Verdict.ABSENT)])
        uow.commit()
    with side.unit_of_work() as uow, pytest.raises(DuplicateEvaluation):
        uow.checks.add([_evaluation(first, Verdict.PRESENT)])


def test_a_mark_is_made_once(side: Side) -> None:
    with side.unit_of_work() as uow:
        assert uow.checks.marks([CAMPUS]) == {}
        assert uow.checks.mark(CAMPUS, SLOT) == SLOT
        uow.commit()
    with side.unit_of_work() as uow:
        assert uow.checks.mark(CAMPUS, CHECK) == SLOT  # kept
        assert uow.checks.marks([CAMPUS, "ailleurs"]) == {CAMPUS: SLOT}


def test_a_failed_savepoint_undoes_only_what_was_done_in_it(side: Side) -> None:
    first, second = side.students
    with side.unit_of_work() as uow:
        uow.alerts.add_many([_absence(first)])
        with pytest.raises(DuplicateAlert), uow.savepoint():
            uow.alerts.add_many([_absence(second)])
            uow.alerts.add_many([_absence(second)])
        uow.commit()
    with side.unit_of_work() as uow:
        assert uow.alerts.by_key(f"absence:{first}:{SLOT.isoformat()}") is not None
        assert uow.alerts.by_key(f"absence:{second}:{SLOT.isoformat()}") is None
