from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from server.domain.accounts import Actor
from server.domain.calendar import IsoWeek
from server.domain.contracts import ExcuseCategory, parse_slots
from server.domain.errors import DomainError
from server.domain.ledger import WeekStatus
from server.domain.sessions import Correction, CorrectionKind
from server.registry.models import (
    AuditEntry,
    Closure,
    OpeningHours,
    Reader,
    Student,
    WeeklyRecord,
)
from server.registry.people_store import people_unit_of_work
from server.registry.presence_store import presence_unit_of_work
from server.services.people import admin_students
from server.services.presence.corrections import CorrectionService
from server.services.presence.ledger import LedgerService
from tests.integration.registry.conftest import (
    ROW_E001,
    ROW_E002,
    SLOTS_12H,
    UID_E001,
    UID_E002,
    csv_bytes,
    run_import,
)

PARIS = ZoneInfo("Europe/Paris")
W48 = IsoWeek.parse("2026-W48")
MON, TUE, WED, THU, FRI = (date(2026, 11, 23) + timedelta(days=n) for n in range(5))
AFTER_W48 = datetime(2026, 12, 1, 12, tzinfo=UTC)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def ledger(registry, events, settings) -> LedgerService:
    run_import(registry, csv_bytes(ROW_E001, ROW_E002))
    with registry() as session, session.begin():
        for weekday in range(5):
            session.add(
                OpeningHours(campus_id="campus-a", weekday=weekday, opens=time(8), closes=time(19))
            )
    return LedgerService(
        presence_unit_of_work(registry, settings.presence), events, settings.presence
    )


def _attend_full_week(writer, uid=UID_E001) -> None:
    for day, start, end in [(MON, 9, 12), (TUE, 14, 18), (THU, 9, 13), (FRI, 9, 10)]:
        writer.tap(uid, at(day, start))
        writer.tap(uid, at(day, end))


def _line(lines, student_id):
    return next(line for line in lines if line.student_id == student_id)


def test_weekly_lines_from_stored_taps(ledger, writer) -> None:
    _attend_full_week(writer)
    writer.tap(UID_E002, at(MON, 9, 40))  # late, and never badges out
    writer.tap("0badbadbad0000", at(MON, 10))  # nobody's badge
    lines = ledger.weekly(W48, AFTER_W48)
    assert [line.student_id for line in lines] == ["E001", "E002"]
    emilie, noe = _line(lines, "E001"), _line(lines, "E002")
    assert emilie.as_dict() == {
        "student_id": "E001",
        "week": "2026-W48",
        "expected_hours": 12.0,
        "attended_hours": 12.0,
        "unverified_hours": 0.0,
        "missed_slots": 0,
        "late_arrivals": 0,
        "status": "met",
    }
    # Friday's slot runs to 20:00, the campus closes at 19:00: 14 of its 15 h are due.
    assert (noe.expected_s, noe.attended_s, noe.unverified_s) == (
        14 * 3600,
        9 * 3600 + 20 * 60,
        9 * 3600 + 20 * 60,
    )
    assert (noe.missed_slots, noe.late_arrivals, noe.status) == (2, 1, WeekStatus.SHORT)


def test_room_readers_and_reader_modes_come_from_the_registry(ledger, writer, registry) -> None:
    with registry() as session, session.begin():
        session.execute(update(Reader).where(Reader.reader_id == "room-1").values(mode="room"))
        session.execute(update(Reader).where(Reader.reader_id == "door-in").values(mode="in"))
        session.execute(update(Reader).where(Reader.reader_id == "door-out").values(mode="out"))
    writer.tap(UID_E001, at(MON, 9), reader="door-in")
    writer.tap(UID_E001, at(MON, 10), reader="room-1")  # moving between rooms: no effect
    writer.tap(UID_E001, at(MON, 11), reader="door-in")  # already in
    writer.tap(UID_E001, at(MON, 12), reader="door-out")
    assert _line(ledger.weekly(W48, AFTER_W48), "E001").attended_s == 3 * 3600


def test_a_campus_closure_lowers_the_expected_hours(ledger, registry) -> None:
    with registry() as session, session.begin():
        session.add(Closure(campus_id="campus-a", start=THU, end=FRI, label="travaux"))
    assert _line(ledger.weekly(W48, AFTER_W48), "E001").expected_s == 7 * 3600


def test_an_excused_absence_and_a_tutor_correction(ledger, writer, registry, settings) -> None:
    writer.tap(UID_E001, at(MON, 9))  # forgot to badge out
    corrections = CorrectionService(
        presence_unit_of_work(registry, settings.presence), settings.presence, retention_days=400
    )
    actor = Actor("tutor@campus.fr", datetime(2026, 11, 24, 8, tzinfo=UTC))
    corrections.excuse(
        "E001", at(THU, 0), at(FRI, 23), ExcuseCategory.EXAM, note="partiels", actor=actor
    )
    before = _line(ledger.weekly(W48, AFTER_W48), "E001")
    assert (before.expected_s, before.attended_s, before.unverified_s) == (
        7 * 3600,
        10 * 3600,
        10 * 3600,
    )
    amend = Correction(CorrectionKind.AMEND, at(MON, 9), at(MON, 9), at(MON, 12))
    corrections.correct("E001", amend, reason="left at noon, forgot to badge", actor=actor)
    after = _line(ledger.weekly(W48, AFTER_W48), "E001")
    assert (after.attended_s, after.unverified_s, after.status) == (3 * 3600, 0, WeekStatus.SHORT)
    with registry() as session:
        actions = session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions[-2:] == ["absence_excused", "presence_corrected"]


def test_a_correction_needs_a_reason_and_a_known_student(registry, settings, ledger) -> None:
    corrections = CorrectionService(
        presence_unit_of_work(registry, settings.presence), settings.presence, retention_days=400
    )
    actor = Actor("tutor", AFTER_W48)
    add = Correction(CorrectionKind.ADD, None, at(MON, 9), at(MON, 12))
    with pytest.raises(DomainError, match="reason"):
        corrections.correct("E001", add, reason=" ", actor=actor)
    with pytest.raises(DomainError, match="unknown student"):
        corrections.correct("E999", add, reason="x", actor=actor)


def test_a_week_is_frozen_after_the_correction_window_and_survives_the_purge(
    ledger, writer, events, registry
) -> None:
    _attend_full_week(writer)
    ledger.weekly(W48, AFTER_W48)  # within the window: nothing frozen
    with registry() as session:
        assert session.scalars(select(WeeklyRecord)).all() == []
    frozen_at = datetime(2026, 12, 15, 0, tzinfo=UTC)  # Sunday 29 Nov 24:00 + 14 days
    first = ledger.weekly(W48, frozen_at)
    with registry() as session:  # a read never freezes, even past the window
        assert session.scalars(select(WeeklyRecord)).all() == []
    assert ledger.freeze_due(frozen_at, weeks_back=1) == 2  # the job does
    assert ledger.weekly(W48, frozen_at) == first
    with registry() as session:
        records = session.scalars(select(WeeklyRecord).order_by(WeeklyRecord.student_pk)).all()
    assert [(r.week, r.attended_s, r.status) for r in records] == [
        ("2026-W48", 12 * 3600, "met"),
        ("2026-W48", 0, "short"),
    ]
    events.purge(datetime(2026, 12, 14, tzinfo=UTC))
    assert events.count_taps(datetime(2026, 1, 1, tzinfo=UTC), frozen_at) == 0
    assert ledger.weekly(W48, frozen_at + timedelta(days=30)) == first


def test_a_late_correction_reopens_a_frozen_week(ledger, writer, registry, settings) -> None:
    writer.tap(UID_E001, at(MON, 9))
    frozen_at = datetime(2026, 12, 20, tzinfo=UTC)
    ledger.freeze_due(frozen_at, weeks_back=1)
    assert _line(ledger.weekly(W48, frozen_at), "E001").unverified_s == 10 * 3600
    corrections = CorrectionService(
        presence_unit_of_work(registry, settings.presence), settings.presence, retention_days=400
    )
    confirm = Correction(CorrectionKind.CONFIRM, at(MON, 9))
    corrections.correct(
        "E001", confirm, reason="was there all day", actor=Actor("tutor", frozen_at)
    )
    with registry() as session:
        reopened = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "week_reopened")
        ).one()
        assert session.scalars(select(WeeklyRecord)).all() == [_frozen(session, "E002")]
    assert '"week": "2026-W48"' in reopened.before and '"status": "short"' in reopened.before
    reopened_line = _line(ledger.weekly(W48, frozen_at), "E001")
    assert (reopened_line.attended_s, reopened_line.unverified_s) == (10 * 3600, 0)
    assert ledger.freeze_due(frozen_at, weeks_back=1) == 1
    assert _line(ledger.weekly(W48, frozen_at), "E001") == reopened_line
    with registry() as session:
        assert len(session.scalars(select(WeeklyRecord)).all()) == 2


def _frozen(session, student_id):
    return session.scalars(
        select(WeeklyRecord)
        .join(Student, Student.id == WeeklyRecord.student_pk)
        .where(Student.student_id == student_id)
    ).one()


def test_weeks_whose_taps_are_purged_cannot_be_corrected(registry, settings, ledger) -> None:
    corrections = CorrectionService(
        presence_unit_of_work(registry, settings.presence), settings.presence, retention_days=30
    )
    add = Correction(CorrectionKind.ADD, None, at(MON, 9), at(MON, 12))
    with pytest.raises(DomainError, match="purged"):
        corrections.correct(
            "E001",
            add,
            reason="forgot badge",
            actor=Actor("tutor", datetime(2027, 2, 1, tzinfo=UTC)),
        )


def test_many_weeks_at_once_equal_one_week_at_a_time(ledger, writer) -> None:
    _attend_full_week(writer)
    writer.tap(UID_E002, at(MON + timedelta(days=7), 9))
    weeks = [W48.shifted(offset) for offset in range(-2, 3)]
    now = datetime(2026, 12, 9, 12, tzinfo=UTC)
    together = ledger.weeks(weeks, now)
    for week in weeks:
        assert together[week] == ledger.weekly(week, now)
    noe_next_week = _line(together[W48.shifted(1)], "E002")
    assert (noe_next_week.unverified_s, noe_next_week.status) == (10 * 3600, WeekStatus.SHORT)


def test_the_periodic_job_freezes_the_weeks_whose_window_closed(ledger, writer, registry) -> None:
    _attend_full_week(writer)
    # 13 December: W48's window is still open, W47's closed (two students each).
    assert ledger.freeze_due(datetime(2026, 12, 13, tzinfo=UTC), weeks_back=1) == 2
    assert ledger.freeze_due(datetime(2026, 12, 16, tzinfo=UTC), weeks_back=2) == 2  # W48 now
    assert ledger.freeze_due(datetime(2026, 12, 16, tzinfo=UTC), weeks_back=2) == 0
    with registry() as session:
        weeks = sorted(set(session.scalars(select(WeeklyRecord.week))))
    assert weeks == ["2026-W47", "2026-W48"]


SLOTS_15H = parse_slots(
    "lun 09:00-12:00; mar 14:00-18:00; mer 09:00-12:00; jeu 09:00-13:00; ven 09:00-10:00"
)


def _freeze_w48_with_a_full_week(ledger, writer) -> datetime:
    _attend_full_week(writer)
    frozen_at = datetime(2026, 12, 20, tzinfo=UTC)
    assert ledger.freeze_due(frozen_at, weeks_back=1) == 2
    frozen = _line(ledger.weekly(W48, frozen_at), "E001")
    assert (frozen.expected_s, frozen.status) == (12 * 3600, WeekStatus.MET)
    return frozen_at


def _change_e001_to_15_hours(
    registry, settings, when: datetime, *, retention_days: int
) -> tuple[IsoWeek, ...]:
    reopened = admin_students.change_contract(
        people_unit_of_work(registry),
        "E001",
        weekly_minutes=15 * 60,
        slots=SLOTS_15H,
        valid_from=date(2026, 11, 1),
        valid_to=None,
        actor=Actor("admin", when),
        timezone=settings.presence.timezone,
        retention_days=retention_days,
    )
    assert reopened is not None
    return reopened


def test_a_contract_changed_from_a_past_day_reopens_the_frozen_weeks_it_alters(
    ledger, writer, registry, settings
) -> None:
    frozen_at = _freeze_w48_with_a_full_week(ledger, writer)
    assert _change_e001_to_15_hours(registry, settings, frozen_at, retention_days=400) == (W48,)

    with registry() as session:
        reopened = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "week_reopened")
        ).one()
        assert session.scalars(select(WeeklyRecord)).all() == [_frozen(session, "E002")]
    assert reopened.entity_id == "E001/2026-W48"
    assert '"contract_changed"' in reopened.after and '"status": "met"' in reopened.before
    recomputed = _line(ledger.weekly(W48, frozen_at), "E001")
    assert (recomputed.expected_s, recomputed.attended_s, recomputed.status) == (
        15 * 3600,
        12 * 3600,
        WeekStatus.SHORT,
    )


def test_a_contract_change_leaves_the_weeks_whose_taps_are_purged_as_stored(
    ledger, writer, registry, settings
) -> None:
    frozen_at = _freeze_w48_with_a_full_week(ledger, writer)
    # 20 days of taps kept: W48 is purged
    assert _change_e001_to_15_hours(registry, settings, frozen_at, retention_days=20) == ()
    with registry() as session:
        assert len(session.scalars(select(WeeklyRecord)).all()) == 2
    assert _line(ledger.weekly(W48, frozen_at), "E001").expected_s == 12 * 3600


def test_a_reimported_row_with_new_hours_reopens_the_frozen_weeks(ledger, writer, registry) -> None:
    frozen_at = _freeze_w48_with_a_full_week(ledger, writer)
    row = ROW_E001.replace(";12;", ";15;").replace(
        SLOTS_12H,
        '"lun 09:00-12:00; mar 14:00-18:00; mer 09:00-12:00; jeu 09:00-13:00; ven 09:00-10:00"',
    )
    report = run_import(registry, csv_bytes(row, ROW_E002), now=frozen_at)
    assert report.updated == ["E001"] and report.errors == []
    assert _line(ledger.weekly(W48, frozen_at), "E001").expected_s == 15 * 3600
    assert _line(ledger.weekly(W48, frozen_at), "E002").expected_s == 14 * 3600  # untouched
