"""One contract for the presence ports (``server.ports.presence``), run against the
registry's adapter (SQLite, or PostgreSQL with CAMPUS_TEST_REGISTRY=postgresql) and
against the in-memory fakes the use cases' unit tests rely on: if the fakes drift from
the real store, this fails."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest

from server.config import PresenceSettings
from server.domain.accounts import Actor
from server.domain.calendar import IsoWeek
from server.domain.contracts import Contract, ExcuseCategory, Slot
from server.domain.ledger import Excuse, WeekLine, WeekStatus
from server.domain.sessions import Correction, CorrectionKind, ReaderMode
from server.ports.presence import (
    AlreadyFrozen,
    BadgeHolding,
    CorrectionNote,
    ExcuseRecord,
    PresenceUnitOfWork,
    StudentCard,
    StudentKey,
    StudentPlan,
)
from server.registry import models
from server.registry.presence_store import presence_unit_of_work
from tests.integration.registry.conftest import CAMPUS
from tests.unit.presence.fakes import Stored, units

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
W48, W49 = IsoWeek(2026, 48), IsoWeek(2026, 49)
SEPT, JUNE = date(2026, 9, 1), date(2027, 6, 30)
SLOTS = (Slot(0, time(9), time(12)), Slot(3, time(14), time(18)))
A, B, C = "aa" * 32, "bb" * 32, "cc" * 32
SINCE = datetime(2026, 9, 1, 8, tzinfo=UTC)
SWAPPED = datetime(2026, 10, 1, 8, tzinfo=UTC)


def _registry_side(registry) -> dict[str, int]:
    """E001 (with a tutor; badge A, then B from October) and E002 (badge C, an old
    contract replaced by its correction); a room reader."""
    with registry() as session, session.begin():
        tutor = models.Tutor(email="tutrice@campus.fr", name="Tutrice")
        session.add(tutor)
        session.flush()
        first = models.Student(
            student_id="E001",
            campus_id=CAMPUS,
            last_name="Durand",
            first_name="Émilie",
            phone="+33612345678",
            tutor_id=tutor.id,
            created_at=NOW,
            updated_at=NOW,
        )
        second = models.Student(
            student_id="E002",
            campus_id=CAMPUS,
            last_name="Martin",
            first_name="Noé",
            created_at=NOW,
            updated_at=NOW,
        )
        session.add_all([first, second])
        session.flush()
        for pk, minutes, replaced in [
            (first.id, 420, None),
            (second.id, 300, NOW),
            (second.id, 360, None),
        ]:
            contract = models.Contract(
                student_pk=pk,
                weekly_minutes=minutes,
                valid_from=SEPT,
                valid_to=JUNE,
                created_at=NOW,
                replaced_at=replaced,
            )
            session.add(contract)
            session.flush()
            for slot in SLOTS:
                session.add(
                    models.ContractSlot(
                        contract_id=contract.id,
                        weekday=slot.weekday,
                        start=slot.start,
                        end=slot.end,
                    )
                )
        session.add_all(
            [
                models.Badge(
                    student_pk=first.id, badge_hash=A, active_from=SINCE, revoked_at=SWAPPED
                ),
                models.Badge(student_pk=first.id, badge_hash=B, active_from=SWAPPED),
                models.Badge(student_pk=second.id, badge_hash=C, active_from=SINCE),
            ]
        )
        session.add(models.Reader(campus_id=CAMPUS, reader_id="room-9", mode="room"))
        return {"E001": first.id, "E002": second.id, "tutor": tutor.id}


def _fake_side() -> tuple[Stored, dict[str, int]]:
    stored = Stored()
    stored.student(
        11, "E001", CAMPUS, tutor_id=5, name="Émilie Durand", phone="+33612345678", tutor="Tutrice"
    )
    stored.student(12, "E002", CAMPUS, name="Noé Martin")
    stored.contracts = {
        11: [Contract(420, SLOTS, SEPT, JUNE)],
        12: [Contract(360, SLOTS, SEPT, JUNE)],
    }
    stored.holdings = [
        BadgeHolding(A, 11, SINCE, SWAPPED),
        BadgeHolding(C, 12, SINCE, None),
        BadgeHolding(B, 11, SWAPPED, None),
    ]
    stored.modes = {(CAMPUS, "room-9"): ReaderMode.ROOM}
    return stored, {"E001": 11, "E002": 12, "tutor": 5}


@pytest.fixture(params=["registry", "fake"])
def unit_of_work(request: pytest.FixtureRequest) -> Callable[[], PresenceUnitOfWork]:
    """Two students on each side; their pks in ``unit_of_work.pks``."""
    if request.param == "fake":
        stored, pks = _fake_side()
        factory = units(stored)
    else:
        registry = request.getfixturevalue("registry")
        pks = _registry_side(registry)
        factory = presence_unit_of_work(registry, PresenceSettings())
    factory.pks = pks
    return factory


def test_plans_holdings_and_reader_modes(unit_of_work) -> None:
    e1, e2 = unit_of_work.pks["E001"], unit_of_work.pks["E002"]
    with unit_of_work() as uow:
        plans = uow.presence.plans(CAMPUS, W48.monday, W48.monday + timedelta(days=6))
        assert plans == [
            StudentPlan(e1, "E001", CAMPUS, (Contract(420, SLOTS, SEPT, JUNE),)),
            StudentPlan(e2, "E002", CAMPUS, (Contract(360, SLOTS, SEPT, JUNE),)),
        ]
        assert uow.presence.plans(None, W48.monday, W48.monday) == plans
        assert uow.presence.plans("campus-z", W48.monday, W48.monday) == []
        assert uow.presence.plans(CAMPUS, date(2027, 7, 1), date(2027, 7, 7)) == []
        both = [BadgeHolding(A, e1, SINCE, SWAPPED), BadgeHolding(B, e1, SWAPPED, None)]
        assert uow.presence.holdings_for_hashes({A}) == both  # every badge of the holder
        assert uow.presence.holdings_for_hashes({"dd" * 32}) == []
        campus = uow.presence.holdings_for_campus(CAMPUS)
        assert sorted(campus, key=lambda h: h.badge_hash) == sorted(
            [*both, BadgeHolding(C, e2, SINCE, None)], key=lambda h: h.badge_hash
        )
        assert [h.active_from for h in campus] == sorted(h.active_from for h in campus)
        modes = uow.presence.reader_modes()
        assert modes[(CAMPUS, "room-9")] is ReaderMode.ROOM
        assert modes.get((CAMPUS, "door-1"), ReaderMode.TOGGLE) is ReaderMode.TOGGLE
        assert CAMPUS in uow.presence.campus_ids()
        assert str(uow.presence.zone) == "Europe/Paris"


def test_students_are_named_by_key_and_card(unit_of_work) -> None:
    e1 = unit_of_work.pks["E001"]
    with unit_of_work() as uow:
        assert uow.students.key("E001") == StudentKey(e1, "E001")
        assert uow.students.key("E999") is None and uow.students.card("E999") is None
        assert uow.students.card("E001") == StudentCard(
            pk=e1,
            student_id="E001",
            campus_id=CAMPUS,
            tutor_id=unit_of_work.pks["tutor"],
            name="Émilie Durand",
            phone="+33612345678",
            tutor="Tutrice",
        )
        assert uow.students.card("E002").tutor == ""


def _note(moment: datetime, created: datetime, reason: str) -> CorrectionNote:
    return CorrectionNote(
        kind=CorrectionKind.ADD.value,
        moment=moment,
        session_start=None,
        start=moment,
        end=moment + timedelta(hours=2),
        reason=reason,
        author="tutrice@campus.fr",
        created_at=created,
    )


def test_corrections_and_excuses_are_kept_when_committed_only(unit_of_work) -> None:
    e1, e2 = unit_of_work.pks["E001"], unit_of_work.pks["E002"]
    monday = datetime(2026, 11, 23, 8, tzinfo=UTC)
    excuse = ExcuseRecord(monday, monday + timedelta(days=1), "exam", "partiels", "t", NOW)
    with unit_of_work() as uow:
        uow.presence.add_correction(e1, _note(monday + timedelta(days=1), NOW, "second"))
        uow.presence.add_correction(e1, _note(monday, NOW - timedelta(hours=1), "first"))
        uow.presence.add_excuse(e1, excuse)
    with unit_of_work() as uow:  # not committed: gone
        assert uow.presence.corrections([e1], monday, monday + timedelta(days=7)) == {}
        ids = [
            uow.presence.add_correction(e1, _note(monday + timedelta(days=1), NOW, "second")),
            uow.presence.add_correction(e1, _note(monday, NOW - timedelta(hours=1), "first")),
            uow.presence.add_correction(e2, _note(monday + timedelta(days=20), NOW, "later")),
            uow.presence.add_excuse(e1, excuse),
        ]
        assert all(isinstance(found, int) for found in ids)
        uow.commit()
    week = (monday, monday + timedelta(days=7))
    with unit_of_work() as uow:
        notes = uow.presence.correction_notes(e1, *week)
        assert [note.reason for note in notes] == ["first", "second"]  # in the order made
        assert notes[1] == _note(monday + timedelta(days=1), NOW, "second")
        assert uow.presence.corrections([e1, e2], *week) == {
            e1: [
                Correction(CorrectionKind.ADD, None, monday, monday + timedelta(hours=2)),
                Correction(
                    CorrectionKind.ADD,
                    None,
                    monday + timedelta(days=1),
                    monday + timedelta(days=1, hours=2),
                ),
            ]
        }
        assert uow.presence.excuse_notes(e1, *week) == [excuse]
        assert uow.presence.excuses([e1, e2], *week) == {
            e1: [Excuse(excuse.start, excuse.end, ExcuseCategory.EXAM)]
        }
        assert uow.presence.excuse_notes(e2, *week) == []
        later = (monday + timedelta(days=3), monday + timedelta(days=4))
        assert uow.presence.excuses([e1], *later) == {}


def _line(student_id: str, week: IsoWeek) -> WeekLine:
    return WeekLine(student_id, week, 25200, 18000, 0, 1, 0, WeekStatus.SHORT)


def test_frozen_weeks_are_stored_read_and_reopened(unit_of_work) -> None:
    e1, e2 = unit_of_work.pks["E001"], unit_of_work.pks["E002"]
    lines = [(e1, _line("E001", W48), '{"slots": []}'), (e2, _line("E002", W48), None)]
    with unit_of_work() as uow:
        assert uow.presence.freeze(lines, NOW) == 2
        uow.commit()
    with unit_of_work() as uow, pytest.raises(AlreadyFrozen):
        uow.presence.freeze([(e1, _line("E001", W48), None)], NOW)
    with unit_of_work() as uow:
        assert uow.presence.frozen([W48, W49], CAMPUS) == {
            (e1, "2026-W48"): _line("E001", W48),
            (e2, "2026-W48"): _line("E002", W48),
        }
        assert uow.presence.frozen([W48], None) == uow.presence.frozen([W48], CAMPUS)
        assert uow.presence.frozen([W48], "campus-z") == {}
        record = uow.presence.frozen_record(e1, W48)
        assert record is not None and (record.frozen_at, record.breakdown) == (NOW, '{"slots": []}')
        assert uow.presence.frozen_record(e1, W49) is None
        wanted = {(e1, CAMPUS, "2026-W48"), (e2, "campus-z", "2026-W48"), (e2, CAMPUS, "2026-W49")}
        assert uow.presence.frozen_weeks_of(wanted) == {StudentKey(e1, "E001"): [W48]}
        key = uow.students.key("E001")
        actor = Actor("tutrice@campus.fr", NOW)
        assert uow.students.reopen_weeks(key, [W48, W49], actor, cause="test") == [W48]
        uow.commit()
    with unit_of_work() as uow:
        assert uow.presence.frozen_record(e1, W48) is None
        uow.presence.unfreeze([(e2, _line("E002", W48), None)], NOW - timedelta(days=1))
        assert uow.presence.frozen_record(e2, W48) is not None  # frozen at another time
        uow.presence.unfreeze([(e2, _line("E002", W48), None)], NOW)
        assert uow.presence.frozen_record(e2, W48) is None
