"""The alert use cases (acknowledge, calls, arrivals, escalation, incidents, the
coordinator's board) on in-memory fakes of their ports: no database, no web."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from server.config import PresenceSettings
from server.domain.accounts import Actor
from server.domain.alerts import (
    AlertClosed,
    AlertKind,
    CallLog,
    CallOutcome,
    ReasonCategory,
    Stage,
)
from server.domain.capacity import CapacityChanged, CapacityLevel
from server.domain.events import StoredTap
from server.domain.notices import NoticeKind
from server.domain.sessions import ReaderMode
from server.ports.alerts import AlertRecord, StudentRecord, new_alert
from server.services.alerts.alert_board import AlertBoard
from server.services.alerts.alerts import AlertNotFound, AlertService, CallNotFound
from server.services.alerts.capacity_alerts import CapacityAlerts
from server.services.alerts.reader_alerts import ReaderDownAlerts
from server.services.occupancy.reader_watch import ReaderDown
from tests.unit.alerts.fakes import Corrections, FakeHolding, FakeUnitOfWork, Stored, Told

CAMPUS = "saint-marcellin"
SLOT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # 09:00 in Paris
NOTICED = SLOT + timedelta(minutes=15)
TUTOR = Actor("tutrice@example.org", NOTICED + timedelta(minutes=5))


@pytest.fixture
def stored() -> Stored:
    stored = Stored()
    stored.students[1] = StudentRecord(1, "E001", CAMPUS, 5, "Émilie", "Durand")
    stored.students[2] = StudentRecord(2, "E002", CAMPUS, 6, "Noé", "Martin")
    stored.tutors = {5: ("Tutrice", "tutrice@example.org"), 6: ("Tuteur", "tuteur@example.org")}
    return stored


@pytest.fixture
def notifications(stored: Stored) -> Told:
    return Told(stored)


@pytest.fixture
def corrections() -> Corrections:
    return Corrections()


@pytest.fixture
def service(stored: Stored, notifications: Told, corrections: Corrections):
    return AlertService(
        lambda: FakeUnitOfWork(stored),
        notifications.service,
        corrections,  # type: ignore[arg-type]
        PresenceSettings(),
        clock=lambda: NOTICED + timedelta(minutes=10),
    )


def _absence(stored: Stored, student_pk: int = 1, *, at: datetime = NOTICED) -> AlertRecord:
    student = stored.students[student_pk]
    record = new_alert(
        AlertKind.ABSENCE,
        f"absence:{student_pk}:{SLOT.isoformat()}",
        CAMPUS,
        at,
        student_pk=student_pk,
        tutor_id=student.tutor_id,
        slot_start=SLOT,
        slot_end=SLOT + timedelta(hours=3),
    )
    record.id = max(stored.alerts, default=0) + 1
    stored.alerts[record.id] = record
    return record


def test_acknowledging_marks_who_saw_it_once_and_audits(service, stored) -> None:
    alert = _absence(stored)
    view = service.acknowledge(alert.public_id, TUTOR)
    assert (view["status"], view["stage"], view["student_id"]) == ("acknowledged", "seen", "E001")
    assert (view["tutor"], view["tutor_name"]) == ("tutrice@example.org", "Tutrice")
    saved = stored.alerts[alert.id]
    assert (saved.acknowledged_by, saved.acknowledged_at) == (TUTOR.name, TUTOR.at)
    later = Actor("autre@example.org", TUTOR.at + timedelta(minutes=1))
    service.acknowledge(alert.public_id, later)
    assert stored.alerts[alert.id].acknowledged_by == TUTOR.name  # the first one kept
    assert [entry["action"] for entry in stored.audit] == ["alert_acknowledged"] * 2
    assert stored.audit[0]["after"] == {"status": "acknowledged", "resolution": None}


def test_an_unknown_alert_is_not_found_and_nothing_is_written(service, stored) -> None:
    with pytest.raises(AlertNotFound):
        service.acknowledge("alert-nope", TUTOR)
    assert stored.commits == 0


def test_a_call_that_reaches_the_student_closes_the_alert_and_tells_people(
    service, stored, notifications
) -> None:
    alert = _absence(stored)
    call = CallLog(TUTOR.at, CallOutcome.REACHED, ReasonCategory.TRANSPORT, "bus en retard")
    view = service.log_call(alert.public_id, call, TUTOR)
    assert (view["status"], view["resolution"], view["stage"]) == ("closed", "called", "closed")
    assert view["calls"] == [
        {
            "called_at": TUTOR.at.isoformat(),
            "outcome": "reached",
            "reason_category": "transport",
            "reason": "bus en retard",
            "excused": False,
            "by": TUTOR.name,
        }
    ]
    assert notifications.steps == [(alert.id, NoticeKind.RESOLVED)]
    assert notifications.woken == [(CAMPUS, "email")]  # sent now
    with pytest.raises(AlertClosed):  # a closed alert refuses another call
        service.log_call(alert.public_id, call, TUTOR)


def test_an_unanswered_call_keeps_it_open_and_tells_nobody(service, stored, notifications):
    alert = _absence(stored)
    view = service.log_call(alert.public_id, CallLog(TUTOR.at, CallOutcome.NO_ANSWER), TUTOR)
    assert (view["status"], view["stage"], view["attempts"]) == ("acknowledged", "no_answer", 1)
    assert notifications.steps == [] and notifications.woken == []


def test_an_excused_call_records_the_excuse_over_the_slot(service, stored, corrections):
    alert = _absence(stored)
    call = CallLog(TUTOR.at, CallOutcome.REACHED, ReasonCategory.ILLNESS, "fièvre", excused=True)
    service.log_call(alert.public_id, call, TUTOR)
    ((student_id, start, end, _category),) = corrections.excuses
    assert (student_id, start, end) == ("E001", SLOT, SLOT + timedelta(hours=3))
    (stored_call,) = stored.calls.values()
    assert stored_call.excused and stored_call.excused_absence_id == 77


def test_an_incident_cannot_be_excused(service, stored, corrections) -> None:
    record = new_alert(AlertKind.READER_DOWN, "reader_down:x", CAMPUS, NOTICED, reader_id="d1")
    record.id = 9
    stored.alerts[9] = record
    call = CallLog(TUTOR.at, CallOutcome.REACHED, ReasonCategory.ILLNESS, excused=True)
    with pytest.raises(Exception, match="only an alert about a student"):
        service.log_call(record.public_id, call, TUTOR)
    assert corrections.excuses == [] and stored.calls == {}


def test_correcting_the_only_reaching_call_opens_the_alert_again(service, stored) -> None:
    alert = _absence(stored)
    service.log_call(alert.public_id, CallLog(TUTOR.at, CallOutcome.REACHED), TUTOR)
    unanswered = CallLog(TUTOR.at, CallOutcome.NO_ANSWER)
    with pytest.raises(CallNotFound):
        service.correct_call(alert.public_id, 1, unanswered, "", TUTOR)
    view = service.correct_call(alert.public_id, 0, unanswered, "wrong button", TUTOR)
    assert (view["status"], view["resolution"]) == ("acknowledged", None)
    assert [call.outcome for call in stored.calls.values()] == ["no_answer"]
    entry = stored.audit[-1]
    assert (entry["action"], entry["after"]["note"]) == ("alert_call_corrected", "wrong button")
    assert entry["after"]["call_before"]["outcome"] == "reached"


def _tap(badge: str, at: datetime, reader: str = "porte") -> StoredTap:
    return StoredTap(f"t-{at}", CAMPUS, reader, badge, at, 1, received_at=at)


def test_a_door_tap_within_the_slot_before_any_call_closes_the_absence(service, stored):
    alert = _absence(stored)
    other = _absence(stored, 2)
    stored.holdings = [FakeHolding("h1", 1, SLOT - timedelta(days=30))]
    stored.holdings.append(FakeHolding("h2", 2, SLOT - timedelta(days=30)))
    stored.reader_modes = {(CAMPUS, "salle"): ReaderMode.ROOM}
    now = NOTICED + timedelta(minutes=5)
    steps = service.taps_stored(
        [
            _tap("h1", SLOT + timedelta(minutes=20)),
            _tap("h1", SLOT + timedelta(minutes=18)),  # the first one counts
            _tap("h2", SLOT + timedelta(minutes=19), reader="salle"),  # a room: not an arrival
            _tap("unknown", SLOT + timedelta(minutes=19)),
        ],
        now,
    )
    assert [(step.alert_pk, step.notice) for step in steps] == [(alert.id, NoticeKind.ARRIVED)]
    saved = stored.alerts[alert.id]
    assert (saved.status, saved.resolution, saved.arrived_at, saved.closed_at) == (
        "closed",
        "arrived",
        SLOT + timedelta(minutes=18),
        now,
    )
    assert stored.alerts[other.id].status == "open"


def test_escalation_tells_the_coordinator_once_about_absences_only(
    service, stored, notifications
) -> None:
    alert = _absence(stored)
    stored.alerts[50] = new_alert(AlertKind.READER_DOWN, "rd", CAMPUS, NOTICED, reader_id="d")
    stored.alerts[50].id = 50
    assert service.escalate_due(NOTICED + timedelta(minutes=29)) == 0
    assert service.escalate_due(NOTICED + timedelta(minutes=31)) == 1
    assert stored.alerts[alert.id].escalated_at == NOTICED + timedelta(minutes=31)
    assert stored.alerts[50].escalated_at is None
    assert service.escalate_due(NOTICED + timedelta(minutes=40)) == 0  # once
    assert notifications.steps == [(alert.id, NoticeKind.ESCALATED)]


def test_a_reader_down_is_raised_once_then_resolved(service, stored, notifications) -> None:
    bridge = ReaderDownAlerts(lambda: FakeUnitOfWork(stored), service)
    down = ReaderDown(CAMPUS, "porte", NOTICED, NOTICED - timedelta(minutes=5), "offline")
    bridge.reader_down(down)
    bridge.reader_down(down)  # already alerted
    (alert,) = stored.alerts.values()
    assert (alert.kind, alert.reader_id, alert.reader_state) == ("reader_down", "porte", "offline")
    back = ReaderDown(CAMPUS, "porte", NOTICED + timedelta(hours=1), None, "online", resolved=True)
    bridge.reader_down(back)
    assert (stored.alerts[alert.id].status, stored.alerts[alert.id].resolution) == (
        "closed",
        "reader_back",
    )
    assert notifications.steps == [
        (alert.id, NoticeKind.RAISED),
        (alert.id, NoticeKind.RESOLVED),
    ]


def _capacity(level: CapacityLevel, previous: CapacityLevel, at: datetime) -> CapacityChanged:
    return CapacityChanged(CAMPUS, "salle-1", at, level, previous, 30, 30)


def test_capacity_is_an_alert_at_the_hard_limit_only(service, stored, notifications) -> None:
    bridge = CapacityAlerts(lambda: FakeUnitOfWork(stored), service)
    bridge.capacity_changed(_capacity(CapacityLevel.WARNING, CapacityLevel.NORMAL, NOTICED))
    assert stored.alerts == {}
    bridge.capacity_changed(_capacity(CapacityLevel.FULL, CapacityLevel.WARNING, NOTICED))
    (alert,) = stored.alerts.values()
    assert (alert.kind, alert.room_id, alert.occupancy_count) == ("capacity", "salle-1", 30)
    later = NOTICED + timedelta(minutes=30)
    bridge.capacity_changed(_capacity(CapacityLevel.WARNING, CapacityLevel.FULL, later))
    assert (stored.alerts[alert.id].status, stored.alerts[alert.id].closed_at) == ("closed", later)
    assert notifications.steps == [(alert.id, NoticeKind.RAISED), (alert.id, NoticeKind.RESOLVED)]
    assert notifications.woken == []  # recorded only: the lanes send them at their scan


def test_the_board_groups_a_campus_alerts_by_where_they_stand(service, stored) -> None:
    escalated = _absence(stored)
    escalated.escalated_at = NOTICED + timedelta(minutes=31)
    waiting = _absence(stored, 2, at=NOTICED + timedelta(minutes=1))
    waiting.slot_start = SLOT + timedelta(days=1)  # another slot
    old = new_alert(AlertKind.CAPACITY, "c", CAMPUS, NOTICED - timedelta(days=3), room_id="s")
    old.status, old.closed_at, old.id = "closed", NOTICED - timedelta(days=2), 30
    stored.alerts[30] = old
    now = NOTICED + timedelta(minutes=40)
    board = AlertBoard(service).campus(CAMPUS, now)
    assert [item.public_id for item in board.escalated] == [escalated.public_id]
    assert [item.public_id for item in board.open] == [waiting.public_id]
    assert board.closed == []  # closed more than a day ago
    assert board.tutors == [(6, "Tuteur"), (5, "Tutrice")]
    (item,) = board.open
    assert (item.student_name, item.tutor, item.life.stage) == ("Noé Martin", "Tuteur", Stage.NEW)
    mine = AlertBoard(service).campus(CAMPUS, now, tutor_id=5, recent=timedelta(days=3))
    assert [item.public_id for item in mine.escalated + mine.open + mine.closed] == [
        escalated.public_id
    ]
