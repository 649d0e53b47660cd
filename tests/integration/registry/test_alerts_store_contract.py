"""One contract for the alert ports (``server.ports.alerts``), run against the registry's
adapter (SQLite, or PostgreSQL with CAMPUS_TEST_REGISTRY=postgresql) and against the
in-memory fakes the use cases' unit tests rely on: if the fakes drift from the real
store, this fails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import pytest

from server.domain.alerts import AlertKind, CallOutcome, CallPolicy
from server.domain.notices import NoticeKind
from server.ports.alerts import (
    AlertsUnitOfWork,
    CallRecord,
    ChannelSettings,
    DeliveryState,
    DuplicateAlert,
    DuplicateDelivery,
    StudentRecord,
    new_alert,
)
from server.registry.alert_models import AlertDelivery
from server.registry.alert_repository import AlertRepository, alerts_unit_of_work
from server.registry.models import Student, Tutor
from tests.integration.registry.conftest import CAMPUS
from tests.unit.alerts.fakes import FakeUnitOfWork, Stored, delivery

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
OTHER = "campus-b"


@dataclass
class Side:
    unit_of_work: Callable[[], AlertsUnitOfWork]
    deliveries: Callable[[list[DeliveryState]], None]  # stores deliveries as they are
    students: tuple[StudentRecord, StudentRecord] | None = None  # E001, E002 of CAMPUS


@pytest.fixture(params=["registry", "fake"])
def side(request: pytest.FixtureRequest) -> Side:
    if request.param == "fake":
        stored = Stored()

        def fake_deliveries(items: list[DeliveryState]) -> None:
            for index, item in enumerate(items, start=len(stored.deliveries) + 1):
                item.id = index
                stored.deliveries[index] = item

        students = (
            StudentRecord(1, "E001", CAMPUS, 1, "Émilie", "Durand"),
            StudentRecord(2, "E002", CAMPUS, None, "Noé", "Martin"),
        )
        stored.students = {student.pk: student for student in students}
        stored.tutors = {1: ("Tutrice", "tutrice@campus.fr")}
        return Side(lambda: FakeUnitOfWork(stored), fake_deliveries, students)
    registry = request.getfixturevalue("registry")
    with registry() as session, session.begin():
        tutor = Tutor(email="tutrice@campus.fr", name="Tutrice")
        session.add(tutor)
        session.flush()
        rows = [
            Student(
                student_id=student_id,
                campus_id=CAMPUS,
                last_name=last,
                first_name=first,
                tutor_id=tutor_id,
                created_at=NOW,
                updated_at=NOW,
            )
            for student_id, first, last, tutor_id in (
                ("E001", "Émilie", "Durand", tutor.id),
                ("E002", "Noé", "Martin", None),
            )
        ]
        session.add_all(rows)
        session.flush()
        found = tuple(
            StudentRecord(r.id, r.student_id, CAMPUS, r.tutor_id, r.first_name, r.last_name)
            for r in rows
        )

    def deliveries(items: list[DeliveryState]) -> None:
        with registry() as session, session.begin():
            repo = AlertRepository(session)
            for index, item in enumerate(items):
                alert = repo.add(AlertKind.CAPACITY, f"capacity-{index}", CAMPUS, NOW)
                session.add(
                    AlertDelivery(
                        alert_pk=alert.id,
                        notice="raised",
                        channel=item.channel,
                        status=item.status,
                        attempts=0,
                        last_error="",
                        created_at=NOW,
                        next_attempt_at=item.next_attempt_at,
                    )
                )

    return Side(alerts_unit_of_work(registry), deliveries, found)  # type: ignore[arg-type]


def test_settings_saved_are_read_back_and_none_before(side: Side) -> None:
    chosen = replace(ChannelSettings(), webhook_enabled=True, webhook_url="https://sms.example")
    with side.unit_of_work() as uow:
        assert uow.channel_settings.get(CAMPUS) is None
        uow.channel_settings.save(CAMPUS, chosen)
        uow.commit()
    with side.unit_of_work() as uow:
        assert uow.channel_settings.get(CAMPUS) == chosen
        uow.channel_settings.save(CAMPUS, ChannelSettings())  # saved again over it
        uow.commit()
    with side.unit_of_work() as uow:
        assert uow.channel_settings.get(CAMPUS) == ChannelSettings()


def test_nothing_is_kept_without_commit(side: Side) -> None:
    with side.unit_of_work() as uow:
        uow.channel_settings.save(CAMPUS, ChannelSettings(email_enabled=True))
        uow.channel_health.record_outcome(CAMPUS, "email", "refused", NOW)
    with side.unit_of_work() as uow:
        assert uow.channel_settings.get(CAMPUS) is None
        assert uow.channel_health.states() == []


def test_outcomes_make_the_health_of_each_channel_by_campus_and_channel(side: Side) -> None:
    later = NOW + timedelta(minutes=1)
    with side.unit_of_work() as uow:
        uow.channel_health.record_outcome(CAMPUS, "webhook", "", NOW)
        uow.channel_health.record_outcome(CAMPUS, "email", "550 <a@b.fr> refused", NOW)
        failing = uow.channel_health.record_outcome(CAMPUS, "email", "timed out", later)
        uow.channel_health.record_outcome(OTHER, "email", "timed out", NOW)
        uow.commit()
    assert failing.failing and failing.failing_since == NOW
    with side.unit_of_work() as uow:
        every = uow.channel_health.states()
        mine = uow.channel_health.states([CAMPUS])
    assert [(item.campus, item.channel) for item in every] == [
        (CAMPUS, "email"),
        (CAMPUS, "webhook"),
        (OTHER, "email"),
    ]
    email, webhook = mine
    assert (email.failures, email.failing_since, email.last_error, email.last_failure_at) == (
        2,
        NOW,
        "timed out",
        later,
    )
    assert (webhook.failures, webhook.last_success_at) == (0, NOW)


def test_deliveries_are_counted_by_channel_and_state(side: Side) -> None:
    side.deliveries(
        [
            delivery("email", "pending", NOW),
            delivery("email", "failed", NOW),
            delivery("email", "failed", None),
            delivery("web", "sent", None),
            delivery("web", "sent", None),
        ]
    )
    with side.unit_of_work() as uow:
        counts = uow.channel_health.delivery_counts()
    assert counts == {
        "email": {"sent": 0, "pending": 1, "retrying": 1, "given_up": 1},
        "web": {"sent": 2, "pending": 0, "retrying": 0, "given_up": 0},
    }


def _absence(student: StudentRecord, at: datetime = NOW, **values: object):
    return new_alert(
        AlertKind.ABSENCE,
        f"absence:{student.pk}:{at.isoformat()}",
        CAMPUS,
        at,
        student_pk=student.pk,
        tutor_id=student.tutor_id,
        slot_start=at - timedelta(minutes=15),
        slot_end=at + timedelta(hours=2),
        **values,
    )


def test_an_alert_added_is_found_by_its_ids_and_saved_changes_are_kept(side: Side) -> None:
    assert side.students is not None
    emilie, _noe = side.students
    with side.unit_of_work() as uow:
        alert = uow.alerts.add(_absence(emilie))
        assert alert.id is not None
        uow.commit()
    with side.unit_of_work() as uow:
        found = uow.alerts.by_public_id(alert.public_id)
        assert found == alert
        assert uow.alerts.by_key(alert.dedupe_key) == alert
        assert uow.alerts.by_public_id("alert-none") is None
        found.status, found.acknowledged_by = "acknowledged", "tutrice@campus.fr"
        found.acknowledged_at = NOW + timedelta(minutes=1)
        uow.alerts.save(found)
        uow.commit()
    with side.unit_of_work() as uow:
        assert uow.alerts.by_key(alert.dedupe_key) == found
        with pytest.raises(DuplicateAlert):
            uow.alerts.add(_absence(emilie))  # the same key


def test_alerts_are_listed_newest_first_with_their_filters(side: Side) -> None:
    assert side.students is not None
    emilie, noe = side.students
    later = NOW + timedelta(hours=1)
    with side.unit_of_work() as uow:
        first = uow.alerts.add(_absence(emilie))
        closed = uow.alerts.add(
            _absence(
                noe, later, status="closed", closed_at=later, resolution="arrived", arrived_at=later
            )
        )
        down = uow.alerts.add(
            new_alert(AlertKind.READER_DOWN, "rd", CAMPUS, NOW, reader_id="door-1")
        )
        full = uow.alerts.add(new_alert(AlertKind.CAPACITY, "cap", CAMPUS, NOW, room_id=None))
        uow.commit()

    def ids(found: list) -> list:
        return [alert.public_id for alert in found]

    with side.unit_of_work() as uow:
        every = uow.alerts.listing(open_only=False, since=None)
        assert ids(every) == ids([closed, full, down, first])  # by time, then newest id
        assert ids(uow.alerts.listing(open_only=True, since=None)) == ids([full, down, first])
        recent = uow.alerts.listing(open_only=True, since=None, closed_since=later)
        assert ids(recent) == ids([closed, full, down, first])
        assert ids(uow.alerts.listing(open_only=False, since=later)) == ids([closed])
        assert ids(uow.alerts.listing(open_only=False, since=None, campus=OTHER)) == []
        mine = uow.alerts.listing(open_only=False, since=None, tutor_id=emilie.tutor_id)
        assert ids(mine) == ids([first])
        kind = uow.alerts.listing(open_only=False, since=None, kind=AlertKind.READER_DOWN)
        assert ids(kind) == ids([down])
        assert sorted(ids(uow.alerts.open_alerts())) == sorted(ids([full, down, first]))
        assert uow.alerts.open_reader_down(CAMPUS, "door-1") == down
        assert uow.alerts.open_reader_down(CAMPUS, "door-2") is None
        assert uow.alerts.open_capacity(CAMPUS, None) == full
        assert uow.alerts.open_capacity(CAMPUS, "room-1") is None
        unresolved = uow.alerts.unresolved_absences([emilie.pk, noe.pk])
        assert ids(unresolved) == ids([first])
        assert uow.alerts.tutor_ids(CAMPUS) == {emilie.tutor_id}


def test_calls_are_kept_in_order_and_corrected(side: Side) -> None:
    assert side.students is not None
    emilie, _noe = side.students
    with side.unit_of_work() as uow:
        alert = uow.alerts.add(_absence(emilie))
        assert alert.id is not None

        def call(minutes: int, outcome: CallOutcome) -> CallRecord:
            return CallRecord(
                alert.id,  # type: ignore[arg-type]
                NOW + timedelta(minutes=minutes),
                outcome.value,
                None,
                "",
                False,
                "tutrice@campus.fr",
                NOW + timedelta(minutes=minutes),
            )

        uow.calls.add(call(5, CallOutcome.NO_ANSWER))
        second = uow.calls.add(call(35, CallOutcome.REACHED))
        uow.commit()
    with side.unit_of_work() as uow:
        calls = uow.calls.of(alert.id)
        assert [c.outcome for c in calls] == ["no_answer", "reached"] and calls[1] == second
        second.outcome = CallOutcome.VOICEMAIL.value
        uow.calls.save(second)
        logs = uow.calls.logs_of([alert.id, 999])
        uow.commit()
    assert [log.outcome for log in logs[alert.id]] == [CallOutcome.NO_ANSWER, CallOutcome.VOICEMAIL]
    assert logs[999] == []
    with side.unit_of_work() as uow:
        assert [c.outcome for c in uow.calls.of(alert.id)] == ["no_answer", "voicemail"]


def test_people_and_notices(side: Side) -> None:
    assert side.students is not None
    emilie, noe = side.students
    with side.unit_of_work() as uow:
        assert uow.people.student(emilie.pk) == emilie
        assert uow.people.student_by_id("E002") == noe
        assert uow.people.student_by_id("E999") is None
        assert uow.people.students([emilie.pk, noe.pk]) == {emilie.pk: emilie, noe.pk: noe}
        assert uow.people.tutor_names([emilie.tutor_id]) == {emilie.tutor_id: "Tutrice"}
        alert = uow.alerts.add(_absence(emilie))
        assert alert.id is not None
        (notice,) = uow.alerts.notices([(alert.id, NoticeKind.RAISED)])
    assert (notice.alert_id, notice.campus, notice.notice, notice.student_id) == (
        alert.public_id,
        CAMPUS,
        NoticeKind.RAISED,
        "E001",
    )
    assert notice.student is not None and notice.student.name == "Émilie Durand"
    assert notice.tutor is not None and notice.tutor.email == "tutrice@campus.fr"


def test_facts_of_the_evidence_report(side: Side) -> None:
    assert side.students is not None
    emilie, noe = side.students
    with side.unit_of_work() as uow:
        uow.alerts.add(_absence(emilie))
        uow.alerts.add(_absence(noe, NOW + timedelta(days=2)))
        uow.alerts.add(new_alert(AlertKind.READER_DOWN, "rd", CAMPUS, NOW, reader_id="d"))
        uow.commit()
    with side.unit_of_work() as uow:
        (fact,) = uow.alerts.facts(NOW, NOW + timedelta(days=1), CAMPUS, CallPolicy())
        assert uow.alerts.facts(NOW, NOW + timedelta(days=1), OTHER, CallPolicy()) == []
    assert (fact.tutor, fact.noticed_at, fact.called_at, fact.excused) == (
        "Tutrice",
        NOW,
        None,
        False,
    )


def test_deliveries_are_recorded_once_claimed_by_one_and_released(side: Side) -> None:
    assert side.students is not None
    emilie, _noe = side.students
    soon = NOW + timedelta(seconds=30)
    with side.unit_of_work() as uow:
        alert = uow.alerts.add(_absence(emilie))
        assert alert.id is not None
        uow.deliveries.add(
            [
                delivery("web", "sent", None, alert_pk=alert.id, created_at=NOW),
                delivery("email", "pending", soon, alert_pk=alert.id, created_at=NOW),
                delivery("webhook", "pending", NOW, alert_pk=alert.id, created_at=NOW),
            ]
        )
        uow.commit()
    with side.unit_of_work() as uow:
        assert uow.deliveries.known([alert.id, 999]) == {
            (alert.id, "raised", "web"),
            (alert.id, "raised", "email"),
            (alert.id, "raised", "webhook"),
        }
        with pytest.raises(DuplicateDelivery):
            uow.deliveries.add([delivery("email", "pending", NOW, alert_pk=alert.id)])
    with side.unit_of_work() as uow:
        assert uow.deliveries.count_due(NOW) == 1
        assert uow.deliveries.due_lanes(soon) == {(CAMPUS, "email"), (CAMPUS, "webhook")}
        first = uow.deliveries.next_due(soon)  # the earliest due
        email = uow.deliveries.next_due(soon, CAMPUS, "email")
        assert uow.deliveries.next_due(soon, OTHER) is None
        assert first is not None and email is not None and first != email
        assert uow.deliveries.claim(first, soon, "one", soon + timedelta(minutes=5))
        assert not uow.deliveries.claim(first, soon, "two", soon + timedelta(minutes=5))
        uow.commit()
    with side.unit_of_work() as uow:
        assert uow.deliveries.next_due(soon) == email  # the claimed one is not due
        assert uow.deliveries.due_lanes(soon) == {(CAMPUS, "email")}
        uow.deliveries.release(first, "two")  # not the claimant: nothing
        assert uow.deliveries.count_due(soon) == 1
        uow.deliveries.release(first, "one")
        assert uow.deliveries.count_due(soon) == 2
        found = uow.deliveries.get(first)
        assert found is not None and found.channel == "webhook" and found.claimed_by is None
        found.status, found.sent_at, found.next_attempt_at, found.attempts = "sent", soon, None, 1
        uow.deliveries.save(found)
        uow.commit()
    with side.unit_of_work() as uow:
        assert uow.deliveries.get(first) == found
        assert uow.deliveries.get(12345) is None
        assert uow.deliveries.count_due(soon) == 1
