"""The absence watcher's use case (``AbsenceWatcher``) on in-memory fakes of its ports
(``FakeAbsenceUnitOfWork``: the alert fakes, the presence fakes' store and the checks);
the taps and the readers' statuses in a real SQLite event store in a temporary folder.
No registry database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from server.adapters.sqlite_events import SqliteEventStore
from server.config import PresenceSettings
from server.domain.absences import Verdict
from server.domain.alerts import AlertKind
from server.domain.contracts import Contract, ExcuseCategory, Slot
from server.domain.events import ReaderStatusRecord, StoredTap
from server.domain.notices import NoticeKind
from server.domain.sessions import ReaderMode
from server.ports.alerts import DuplicateAlert, StudentRecord
from server.ports.presence import BadgeHolding, ExcuseRecord
from server.services.alerts.absence_watcher import FIRST_RUN_MARGIN, AbsenceWatcher
from server.services.alerts.alerts import AlertService
from server.services.occupancy.reader_health import ReaderHealthService
from tests.unit.alerts.fakes import Corrections, FakeAbsenceUnitOfWork, Stored, Told
from tests.unit.presence import fakes as presence_fakes

CAMPUS = "saint-marcellin"
DOOR = "porte-1"
SLOT = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)  # Monday 7 December, 09:00 in Paris
GRACE = SLOT + timedelta(minutes=15)  # the check instant (15 min of grace)
SINCE = GRACE - timedelta(minutes=1)
ABSENT, PRESENT, EXCUSED = 1, 2, 3
BADGES = {pk: f"{pk:02d}" * 32 for pk in (ABSENT, PRESENT, EXCUSED)}


@pytest.fixture
def people() -> presence_fakes.Stored:
    """The presence side: three students with a slot on Monday at 09:00, their badges,
    the door reader; the third excused that morning."""
    stored = presence_fakes.Stored()
    slots = (Slot(0, time(9), time(12)),)
    for pk in (ABSENT, PRESENT, EXCUSED):
        stored.student(pk, f"E00{pk}", CAMPUS)
        stored.contracts[pk] = [Contract(180, slots, date(2026, 9, 1))]
        stored.holdings.append(BadgeHolding(BADGES[pk], pk, datetime(2026, 9, 1, tzinfo=UTC), None))
    stored.modes = {(CAMPUS, DOOR): ReaderMode.TOGGLE}
    stored.excuses[EXCUSED] = [
        ExcuseRecord(
            SLOT - timedelta(hours=1),
            SLOT + timedelta(hours=4),
            ExcuseCategory.EXAM.value,
            "",
            "tutrice@example.org",
            SLOT - timedelta(days=1),
        )
    ]
    return stored


@pytest.fixture
def stored() -> Stored:
    """The alert side: the students' tutors."""
    stored = Stored()
    for pk in (ABSENT, PRESENT, EXCUSED):
        stored.students[pk] = StudentRecord(pk, f"E00{pk}", CAMPUS, 5, "Prénom", "Nom")
    stored.tutors = {5: ("Tutrice", "tutrice@example.org")}
    return stored


@pytest.fixture
def events(tmp_path):
    store = SqliteEventStore(tmp_path / "events.sqlite3")
    store.setup()
    moment, beats = SLOT - timedelta(hours=1), []
    while moment <= SLOT + timedelta(hours=2):  # the door reader online throughout
        beats.append(ReaderStatusRecord(CAMPUS, DOOR, "online", moment, moment))
        moment += timedelta(minutes=1)
    store.write_statuses(beats)
    tapped = SLOT - timedelta(minutes=10)
    store.write_taps([StoredTap("t1", CAMPUS, DOOR, BADGES[PRESENT], tapped, 1, tapped)])
    yield store
    store.close()


@pytest.fixture
def told(stored: Stored) -> Told:
    return Told(stored)


@pytest.fixture
def watcher(stored, people, events, told) -> AbsenceWatcher:
    alerts = AlertService(
        lambda: FakeAbsenceUnitOfWork(stored, people),
        told.service,
        Corrections(),  # type: ignore[arg-type]
        PresenceSettings(),
        clock=lambda: GRACE,
    )
    return AbsenceWatcher(
        lambda: FakeAbsenceUnitOfWork(stored, people),
        events,
        ReaderHealthService(events),
        alerts,
        PresenceSettings(),
    )


def test_the_absent_student_gets_one_alert_and_one_evaluation_at_the_grace_instant(
    watcher: AbsenceWatcher, stored: Stored, told: Told
) -> None:
    report = watcher.check(GRACE, since=SINCE)

    assert [(n.student_id, n.slot_start) for n in report.noticed] == [("E001", SLOT)]
    (alert,) = stored.alerts.values()
    assert (alert.kind, alert.student_pk, alert.tutor_id) == (AlertKind.ABSENCE.value, ABSENT, 5)
    assert (alert.slot_start, alert.noticed_at, alert.status) == (SLOT, GRACE, "open")
    assert alert.public_id == report.noticed[0].alert_id
    absent = stored.evaluations[(ABSENT, SLOT)]
    assert (absent.verdict, absent.check_at, absent.campus_id) == (Verdict.ABSENT, GRACE, CAMPUS)
    assert told.steps == [(alert.id, NoticeKind.RAISED)]  # its delivery, same transaction
    assert told.woken == [(CAMPUS, "email")]
    assert stored.commits == 1  # one transaction for the instant


def test_a_present_student_is_evaluated_present_and_gets_no_alert(
    watcher: AbsenceWatcher, stored: Stored
) -> None:
    watcher.check(GRACE, since=SINCE)

    assert stored.evaluations[(PRESENT, SLOT)].verdict is Verdict.PRESENT
    assert {alert.student_pk for alert in stored.alerts.values()} == {ABSENT}


def test_an_excused_student_is_not_expected_so_neither_evaluated_nor_alerted(
    watcher: AbsenceWatcher, stored: Stored
) -> None:
    report = watcher.check(GRACE, since=SINCE)

    assert report.evaluated == 2
    assert sorted(stored.evaluations) == [(ABSENT, SLOT), (PRESENT, SLOT)]
    assert EXCUSED not in {alert.student_pk for alert in stored.alerts.values()}


def test_a_second_run_neither_evaluates_nor_alerts_again(
    watcher: AbsenceWatcher, stored: Stored, told: Told
) -> None:
    watcher.check(GRACE, since=SINCE)
    alerts, evaluations, commits = dict(stored.alerts), dict(stored.evaluations), stored.commits

    again = watcher.check(GRACE + timedelta(minutes=5), since=SINCE)

    assert (again.evaluated, again.noticed) == (0, [])
    assert stored.alerts == alerts
    assert stored.evaluations == evaluations
    assert stored.commits == commits  # nothing to write: no transaction
    assert len(told.steps) == 1


def test_the_first_sweep_marks_the_campus_and_checks_only_after_its_mark(
    watcher: AbsenceWatcher, stored: Stored
) -> None:
    late = GRACE + FIRST_RUN_MARGIN + timedelta(minutes=1)  # started after the instant

    report = watcher.run(late)

    assert stored.marks == {CAMPUS: late - FIRST_RUN_MARGIN}
    assert (report.evaluated, stored.alerts) == (0, {})
    again = watcher.run(late + timedelta(days=7))  # next Monday's slots are after the mark

    assert stored.marks == {CAMPUS: late - FIRST_RUN_MARGIN}
    assert again.evaluated == 3


def test_a_silent_door_holds_the_check_and_its_return_settles_it(
    watcher: AbsenceWatcher, stored: Stored, events: SqliteEventStore, told: Told
) -> None:
    week = timedelta(days=7)  # next Monday: no heartbeat of the door reader yet

    held = watcher.check(GRACE + week, since=SINCE + week)

    assert [item.student_id for item in held.held] == ["E001", "E002", "E003"]
    (down,) = stored.alerts.values()
    assert (down.kind, down.reader_id, down.status) == (AlertKind.READER_DOWN.value, DOOR, "open")
    assert {row.verdict for row in stored.evaluations.values()} == {Verdict.INDETERMINATE}
    moment, beats = GRACE + week, []
    while moment <= GRACE + week + timedelta(minutes=10):  # back, its queue empty
        beats.append(ReaderStatusRecord(CAMPUS, DOOR, "online", moment, moment))
        moment += timedelta(minutes=1)
    events.write_statuses(beats)

    settled = watcher.check(GRACE + week + timedelta(minutes=10), since=SINCE + week)

    assert settled.evaluated == 3 and settled.held == []
    assert stored.alerts[down.id].status == "closed"  # the reader-down alert, resolved
    verdicts = {pk: row.verdict for (pk, _start), row in stored.evaluations.items()}
    assert verdicts == {ABSENT: Verdict.ABSENT, PRESENT: Verdict.ABSENT, EXCUSED: Verdict.ABSENT}
    assert len(settled.noticed) == 3
    assert (down.id, NoticeKind.RESOLVED) in told.steps


def test_an_instant_is_stored_whole_or_not_at_all(watcher: AbsenceWatcher, stored: Stored) -> None:
    watcher.check(GRACE, since=SINCE)
    stored.evaluations.clear()  # the alert is there, its evaluation not (e.g. erased since)

    with pytest.raises(DuplicateAlert):  # refused, tried again once, refused again
        watcher.check(GRACE, since=SINCE)

    assert len(stored.alerts) == 1
    assert stored.evaluations == {}  # the present student's evaluation was not kept either
