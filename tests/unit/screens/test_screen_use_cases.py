"""What the tutor's, the student's and the admin's pages show, composed from in-memory
fakes of the screens' ports (no database, no event store)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from server.config import PresenceSettings
from server.domain.absences import Verdict
from server.domain.accounts import Actor, Principal, Role
from server.domain.alerts import AlertState, AlertStatus, Stage
from server.domain.calendar import CampusCalendar, Hours, IsoWeek
from server.domain.contracts import Contract, Slot
from server.domain.errors import DomainError
from server.domain.ledger import WeekLine, WeekStatus
from server.domain.reader_health import Health, ReaderHealth
from server.domain.sessions import CorrectionKind, Session, SessionState
from server.domain.tutor_roster import RosterState
from server.ports.screens import (
    AlertFacts,
    CallLine,
    ContractView,
    Escalation,
    NoteView,
    Scope,
)
from server.services.accounts.accounts import AccountView
from server.services.screens.admin_overview import overview
from server.services.screens.student_space import NotAStudent, StudentSpace
from server.services.screens.tutor_board import TutorBoard
from server.services.screens.tutor_corrections import TutorCorrections
from server.services.screens.tutor_students import MAX_NOTE_CHARS, TutorStudents
from tests.unit.screens.fakes import (
    FakeCorrections,
    FakeLedger,
    FakePlan,
    FakeScreenReads,
    FakeSessions,
    Stored,
)

PARIS = ZoneInfo("Europe/Paris")
MONDAY = date(2026, 11, 23)
SETTINGS = PresenceSettings()
TUTOR = Scope(campus_id="c1", tutor_id=7)


def at(hour: int, minute: int = 0, day: date = MONDAY) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC)


def _contract(valid_to: date | None = None) -> Contract:
    return Contract(
        180, (Slot(0, time(9), time(12)),), valid_from=date(2026, 9, 1), valid_to=valid_to
    )


def _alert(pk: int, student_pk: int, *, kind: str = "absence", status: str = "open") -> AlertFacts:
    noticed = at(9, 16)
    state = AlertState(AlertStatus(status), noticed_at=noticed)
    return AlertFacts(
        id=pk,
        public_id=f"a-{pk}",
        kind=kind,
        campus_id="c1",
        student_pk=student_pk,
        status=status,
        resolution=None,
        slot_start=at(9),
        slot_end=at(12),
        week="2026-W48",
        noticed_at=noticed,
        acknowledged_at=None,
        called_at=None,
        arrived_at=None,
        state=state,
    )


@pytest.fixture
def stored() -> Stored:
    found = Stored()
    found.presence.calendars["c1"] = CampusCalendar(
        weekly={day: (Hours(time(8), time(19)),) for day in range(5)}
    )
    found.add_student(1, "E001", "Alice", "Martin", tutor_id=7, tutor="M. Tuteur")
    found.add_student(2, "E002", "Bruno", "Durand", tutor_id=7, phone="06 12 34 56 78")
    found.add_student(3, "E003", "Chloé", "Petit", tutor_id=8)
    found.presence.plans_by_campus["c1"] = [
        FakePlan(pk, f"E00{pk}", "c1", (_contract(),)) for pk in (1, 2, 3)
    ]
    return found


def _board(stored: Stored, sessions: FakeSessions | None = None) -> TutorBoard:
    return TutorBoard(lambda: FakeScreenReads(stored), sessions or FakeSessions(), SETTINGS)


# ---------------------------------------------------------------------- the Now board


def test_the_board_puts_the_absent_student_first_with_the_open_alert_of_the_slot(stored) -> None:
    stored.alerts += [_alert(10, 2), _alert(11, 1, status="closed"), _alert(12, 3)]
    sessions = FakeSessions({1: [Session(at(9, 5), at(9, 40), SessionState.OPEN)]})

    board = _board(stored, sessions).board(TUTOR, at(9, 40))

    assert [(line.student.name, line.state) for line in board.roster] == [
        ("Bruno Durand", RosterState.ABSENT),
        ("Alice Martin", RosterState.PRESENT),
    ]
    absent, present = board.roster
    assert absent.alert_id == "a-10" and absent.tel == "tel:+33612345678"
    assert present.alert_id is None and present.arrived_at == at(9, 5)
    assert [card.public_id for card in board.alerts] == ["a-10"]  # not closed, not others'
    assert sessions.asked == [("c1", frozenset({1, 2}), (at(9), at(12)))]


def test_a_coordinator_sees_every_student_of_the_campus(stored) -> None:
    board = _board(stored).board(Scope.of(_principal(Role.COORDINATOR)), at(9, 40))
    assert sorted(line.student.student_id for line in board.roster) == ["E001", "E002", "E003"]


def test_an_indeterminate_check_shows_unchecked_not_absent(stored) -> None:
    stored.verdicts[(2, at(9))] = Verdict.INDETERMINATE
    states = {line.student.pk: line.state for line in _board(stored).board(TUTOR, at(9, 40)).roster}
    assert states == {1: RosterState.ABSENT, 2: RosterState.UNCHECKED}


def test_no_slot_running_no_roster_and_no_session_read(stored) -> None:
    sessions = FakeSessions()
    board = _board(stored, sessions).board(TUTOR, at(14))
    assert board.roster == [] and sessions.asked == []


def test_the_campus_escalation_delay_decides_when_the_coordinator_must_be_told(stored) -> None:
    stored.alerts.append(_alert(10, 2))
    now = at(9, 40)  # 24 minutes after the notice
    assert _board(stored).board(TUTOR, now).alerts[0].life.escalate_now is False  # 30 min
    stored.escalations["c1"] = Escalation(escalation_minutes=20)
    assert _board(stored).board(TUTOR, now).alerts[0].life.escalate_now is True


def test_an_alert_card_has_its_calls_and_their_count(stored) -> None:
    stored.alerts += [_alert(10, 2), _alert(20, 2, kind="reader_down")]
    stored.calls[10] = [
        CallLine(at(9, 20), "no_answer", None, "", False, "tutor"),
        CallLine(at(9, 30), "no_answer", None, "", False, "tutor"),
    ]
    card = _board(stored).alert("a-10", at(9, 35))
    assert card is not None and card.student.student_id == "E002"
    assert [call.called_at for call in card.calls] == [at(9, 20), at(9, 30)]
    assert card.life is not None and card.life.attempts == 2
    assert card.life.stage is Stage.NO_ANSWER  # next call at 10:00
    assert _board(stored).alert("a-20", at(9, 35)) is None  # an incident: not a student card
    assert _board(stored).alert("nope", at(9, 35)) is None


# ---------------------------------------------------------------------- the students


def _line(student_id: str, week: IsoWeek, attended_h: int) -> WeekLine:
    return WeekLine(student_id, week, 3 * 3600, attended_h * 3600, 0, 0, 0, WeekStatus.MET)


def _students(stored: Stored, ledger: FakeLedger, sessions: FakeSessions) -> TutorStudents:
    return TutorStudents(lambda: FakeScreenReads(stored), ledger, sessions, SETTINGS)


def test_the_listing_gives_each_student_their_line_or_none(stored) -> None:
    week = IsoWeek.of(MONDAY)
    ledger = FakeLedger({("c1", week): [_line("E002", week, 3)]})
    listing = _students(stored, ledger, FakeSessions()).listing(TUTOR, week, at(10))
    assert [(ref.student_id, row and row.attended) for ref, row in listing] == [
        ("E002", 3.0),  # Durand before Martin
        ("E001", None),
    ]


def test_the_student_page_composes_history_contracts_alerts_and_notes(stored) -> None:
    week = IsoWeek.of(MONDAY)
    ledger = FakeLedger(
        {
            ("c1", week): [_line("E002", week, 1), _line("E001", week, 3)],
            ("c1", week.shifted(-1)): [_line("E002", week.shifted(-1), 2)],
        }
    )
    stored.contracts[2] = [
        ContractView(2.0, date(2026, 1, 1), date(2026, 6, 30), ()),  # over: not shown
        ContractView(3.0, date(2026, 9, 1), None, ()),
    ]
    stored.alerts.append(_alert(10, 2))
    stored.calls[10] = [CallLine(at(9, 20), "reached", "illness", "flu", True, "tutor")]
    stored.notes[2] = [NoteView(at(8), "tutor", "older"), NoteView(at(9), "tutor", "newer")]
    sessions = FakeSessions({2: [Session(at(13), at(15))]})
    screen = _students(stored, ledger, sessions)

    page = screen.page(screen.ref("E002"), at(16))  # type: ignore[arg-type]

    assert page.this_week is not None and page.this_week.attended == 1.0
    assert [row.week for row in page.history] == [str(week), str(week.shifted(-1))]
    assert [c.weekly_hours for c in page.contracts] == [3.0]
    assert [card.calls[0].reason for card in page.alerts] == ["flu"]
    assert [note.body for note in page.notes] == ["newer", "older"]
    assert page.sessions == [Session(at(13), at(15))]
    assert page.email == "" and page.programme == "Licence"


def test_a_note_is_kept_with_an_audit_entry_that_has_its_length_not_its_text(stored) -> None:
    screen = _students(stored, FakeLedger(), FakeSessions())
    ref = screen.ref("E001")
    assert ref is not None
    screen.add_note(ref, "  a talk about the timetable  ", Actor("tutor", at(10)))
    assert [note.body for note in stored.notes[1]] == ["a talk about the timetable"]
    assert stored.audit == [{"action": "note_added", "entity_id": 1, "chars": 26, "actor": "tutor"}]


@pytest.mark.parametrize("body", ["   ", "x" * (MAX_NOTE_CHARS + 1)])
def test_an_empty_or_too_long_note_is_refused(stored, body: str) -> None:
    screen = _students(stored, FakeLedger(), FakeSessions())
    with pytest.raises(DomainError):
        screen.add_note(screen.ref("E001"), body, Actor("tutor", at(10)))  # type: ignore[arg-type]
    assert stored.notes == {} and stored.audit == []


# ---------------------------------------------------------------------- corrections


def _corrections(
    stored: Stored, sessions: FakeSessions
) -> tuple[TutorCorrections, FakeCorrections]:
    done = FakeCorrections()
    return TutorCorrections(lambda: FakeScreenReads(stored), sessions, done), done


def test_only_an_unverified_session_can_be_confirmed(stored) -> None:
    sessions = FakeSessions(
        {1: [Session(at(9), at(19), SessionState.UNVERIFIED), Session(at(8), at(8, 30))]}
    )
    screen, done = _corrections(stored, sessions)
    ref = stored.refs[1]
    screen.confirm(ref, at(9), Actor("tutor", at(20)))
    assert [(d[0], d[2].kind, d[2].session_start) for d in done.done] == [
        ("correct", CorrectionKind.CONFIRM, at(9))
    ]
    with pytest.raises(DomainError):
        screen.confirm(ref, at(8), Actor("tutor", at(20)))  # closed by a tap already
    with pytest.raises(DomainError):
        screen.confirm(ref, at(11), Actor("tutor", at(20)))  # no such session
    assert len(done.done) == 1


def test_a_session_cannot_be_added_in_the_future(stored) -> None:
    screen, done = _corrections(stored, FakeSessions())
    with pytest.raises(DomainError):
        screen.fix(
            stored.refs[1],
            session_start=None,
            start=at(11),
            end=at(12),
            reason="forgot",
            actor=Actor("tutor", at(10)),
        )
    screen.fix(
        stored.refs[1],
        session_start=None,
        start=at(8),
        end=at(9),
        reason="forgot",
        actor=Actor("tutor", at(10)),
    )
    assert [(d[2].kind, d[3]) for d in done.done] == [(CorrectionKind.ADD, "forgot")]


# ---------------------------------------------------------------------- student, admin


def test_an_account_linked_to_no_student_is_not_a_student(stored) -> None:
    space = StudentSpace(lambda: FakeScreenReads(stored), None, FakeLedger(), SETTINGS)  # type: ignore[arg-type]
    assert space.me(2).student_id == "E002" and space.me(2).first_name == "Bruno"
    with pytest.raises(NotAStudent):
        space.me(99)


class _Accounts:
    def accounts(self) -> list[AccountView]:
        return [
            AccountView(1, "a", "", Role.ADMIN, "", None, None, True, None, None),
            AccountView(2, "b", "", Role.TUTOR, "c1", 7, None, False, None, None),
        ]


class _Readers:
    def current(self, now, *, known=(), campus=None) -> list[ReaderHealth]:
        return [
            ReaderHealth("c1", "door", Health.OFFLINE, None),
            ReaderHealth("c1", "hall", Health.ONLINE, now),
            ReaderHealth("c2", "door", Health.OFFLINE, None),
        ]


def test_the_admin_overview_counts_only_the_visible_campuses(stored) -> None:
    stored.add_student(4, "F001", "Dan", "Roy", campus="c2")
    stored.unknown_badges += [("c1", False), ("c1", True), ("c2", False)]
    counts = overview(
        lambda: FakeScreenReads(stored),
        accounts=_Accounts(),
        reader_health=_Readers(),
        known_readers=[],
        campus_ids=["c1"],
        now=at(10),
    )
    assert (counts.students, counts.unknown_badges) == (3, 1)
    assert (counts.accounts, counts.active_accounts) == (2, 1)
    assert (counts.readers, counts.readers_offline) == (2, ("c1/door",))


def _principal(role: Role) -> Principal:
    return Principal("someone", role, campus_id="c1")
