"""The people use cases (import, contracts, badges, academic years) on in-memory fakes
of their ports: no database, no web."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from server.config import CampusSettings, PresenceSettings, Settings
from server.domain.academic_year import AcademicYear
from server.domain.accounts import Actor
from server.domain.activities import AttendanceSource, Modality
from server.domain.badges import badge_hash
from server.domain.calendar import IsoWeek
from server.domain.contracts import parse_slots
from server.domain.errors import DomainError
from server.domain.events import StoredTap
from server.domain.outcomes import Result
from server.ports.people import Sighting, StudentRecord
from server.services.people import (
    activities,
    admin_badges,
    admin_students,
    calendar_admin,
    campuses,
    coordinator_calendar,
    enrolment,
    outcomes,
)
from server.services.people.student_import import import_students
from server.services.privacy.erasure import ERASED_NAME, ERASED_PREFIX
from tests.unit.people.fakes import FakeUnitOfWork, Stored

CAMPUS = "campus-a"
SECRET = b"a-test-secret-of-32-characters!!"
NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ADMIN = Actor("admin@example.org", NOW)
HEADER = "student_id;last_name;first_name;tutor_email;badge_uid;weekly_hours;slots;contract_start"
SLOTS = '"lun 09:00-12:00 | mar 14:00-18:00 | jeu 09:00-13:00 | ven 09:00-10:00"'
ROW_E001 = f"E001;Durand;Émilie;Tutrice@Campus.fr;04A1B2C3;12;{SLOTS};2026-09-01"
ROW_E002 = f"E002;Martin;Noé;;04112233445566;12;{SLOTS};01/09/2026"


@pytest.fixture
def stored() -> Stored:
    return Stored.with_campuses(CAMPUS, "campus-b")


def uow_of(stored: Stored):
    return lambda: FakeUnitOfWork(stored)


def sheet(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode()


def run_import(stored: Stored, data: bytes, **options: bool):
    return import_students(
        uow_of(stored),
        data,
        campus_id=CAMPUS,
        secret=SECRET,
        timezone="Europe/Paris",
        retention_days=400,
        actor=ADMIN,
        **options,
    )


def _student(stored: Stored, student_id: str) -> StudentRecord:
    (found,) = [row for row in stored.students.values() if row.student_id == student_id]
    return found


# --------------------------------------------------------------------- the import


def test_an_import_saves_students_tutors_contracts_and_only_badge_hashes(stored) -> None:
    report = run_import(stored, sheet(ROW_E001, ROW_E002))
    assert report.ok and report.saved and report.created == ["E001", "E002"]
    e001 = _student(stored, "E001")
    assert (e001.last_name, e001.first_name, e001.campus_id) == ("Durand", "Émilie", CAMPUS)
    (tutor,) = stored.tutors.values()
    assert tutor.email == "tutrice@campus.fr" and e001.tutor_id == tutor.id
    assert _student(stored, "E002").tutor_id is None
    hashes = {badge.badge_hash for badge in stored.badges.values()}
    assert hashes == {badge_hash(SECRET, "04a1b2c3"), badge_hash(SECRET, "04112233445566")}
    assert "04A1B2C3" not in repr(stored) and "04a1b2c3" not in repr(stored)
    (contract,) = [row.contract for row in stored.contracts.values() if row.student_pk == e001.pk]
    assert (contract.weekly_minutes, contract.valid_from) == (720, date(2026, 9, 1))
    assert stored.actions().count("student_created") == 2
    assert stored.commits == 1


def test_importing_the_same_sheet_again_changes_nothing(stored) -> None:
    run_import(stored, sheet(ROW_E001))
    entries = len(stored.audit)
    again = run_import(stored, sheet(ROW_E001))
    assert again.unchanged == ["E001"] and again.created == again.updated == []
    assert len(stored.audit) == entries


def test_a_bad_row_is_reported_with_its_line_and_the_good_ones_are_saved(stored) -> None:
    bad = f"E003;;Zoé;;;12;{SLOTS};2026-09-01"  # no last name
    report = run_import(stored, sheet(ROW_E001, bad, ROW_E002))
    assert report.created == ["E001", "E002"]
    ((line, message),) = [(problem.line, problem.message) for problem in report.errors]
    assert line == 3 and "last_name" in message
    assert {row.student_id for row in stored.students.values()} == {"E001", "E002"}


def test_a_row_refused_by_the_store_leaves_nothing_of_itself_behind(stored) -> None:
    """E002 comes with E001's badge: the badge is refused after the student, the tutor
    and the contract were written; the savepoint takes all of them back."""
    theft = f"E002;Martin;Noé;autre@campus.fr;04A1B2C3;12;{SLOTS};2026-09-01"
    report = run_import(stored, sheet(ROW_E001, theft))
    assert report.created == ["E001"]
    assert [problem.line for problem in report.errors] == [3]
    assert {row.student_id for row in stored.students.values()} == {"E001"}
    assert {tutor.email for tutor in stored.tutors.values()} == {"tutrice@campus.fr"}
    assert len(stored.contracts) == 1
    assert "autre@campus.fr" not in repr(stored.audit)


@pytest.mark.parametrize("options", [{"dry_run": True}, {"strict": True}])
def test_a_dry_run_or_a_strict_import_with_a_bad_row_saves_nothing(stored, options) -> None:
    bad = f"E003;Petit;Zoé;;;abc;{SLOTS};2026-09-01"
    report = run_import(stored, sheet(ROW_E001, bad), **options)
    assert report.created == ["E001"] and not report.saved
    assert stored.students == {} and stored.audit == [] and stored.commits == 0


def test_an_unknown_campus_refuses_the_whole_sheet(stored) -> None:
    del stored.campuses[CAMPUS]
    report = run_import(stored, sheet(ROW_E001))
    assert [problem.line for problem in report.errors] == [1] and stored.students == {}


# --------------------------------------------------------------------- the admin's student


def test_a_new_contract_from_the_past_reopens_the_frozen_weeks_it_changes(stored) -> None:
    run_import(stored, sheet(ROW_E001))
    pk = _student(stored, "E001").pk
    for week in ("2026-W45", "2026-W47", "2026-W49"):
        stored.frozen_weeks[(pk, week)] = {"status": "met", "attended_s": 1, "expected_s": 1}
    reopened = admin_students.change_contract(
        uow_of(stored),
        "E001",
        weekly_minutes=900,
        slots=parse_slots("lun 09:00-14:00 | mar 09:00-14:00 | jeu 09:00-14:00"),
        valid_from=date(2026, 11, 16),  # Monday of W47
        valid_to=None,
        actor=ADMIN,
        timezone="Europe/Paris",
        retention_days=400,
    )
    assert reopened == (IsoWeek(2026, 47), IsoWeek(2026, 49))
    assert list(stored.frozen_weeks) == [(pk, "2026-W45")]
    assert stored.actions().count("week_reopened") == 2
    found = admin_students.student_file(uow_of(stored), "E001", date(2026, 12, 7))
    assert found is not None and found.contract is not None
    assert found.contract.weekly_minutes == 900 and len(found.history) == 2
    assert found.history[0].valid_to == date(2026, 11, 15) and found.badges == 1


def test_the_same_contract_again_is_no_change(stored) -> None:
    run_import(stored, sheet(ROW_E001))
    (current,) = [row.contract for row in stored.contracts.values()]
    again = admin_students.change_contract(
        uow_of(stored),
        "E001",
        weekly_minutes=current.weekly_minutes,
        slots=current.slots,
        valid_from=current.valid_from,
        valid_to=current.valid_to,
        actor=ADMIN,
        timezone="Europe/Paris",
        retention_days=400,
    )
    assert again is None and len(stored.contracts) == 1


def test_a_tutor_must_exist_and_an_erased_student_keeps_no_name(stored) -> None:
    run_import(stored, sheet(ROW_E001))
    with pytest.raises(DomainError, match="no such tutor"):
        admin_students.assign_tutor(uow_of(stored), "E001", 999, ADMIN)
    assert admin_students.assign_tutor(uow_of(stored), "E001", None, ADMIN)
    assert _student(stored, "E001").tutor_id is None
    pk = max(stored.students) + 1
    stored.students[pk] = StudentRecord(pk, f"{ERASED_PREFIX}x", CAMPUS, "", ERASED_NAME)
    with pytest.raises(DomainError, match="erased"):
        admin_students.change_identity(
            uow_of(stored), f"{ERASED_PREFIX}x", {"last_name": "Back"}, ADMIN
        )
    with pytest.raises(ValueError, match="not identity fields"):
        admin_students.change_identity(uow_of(stored), "E001", {"campus_id": "x"}, ADMIN)


def test_the_list_finds_a_student_by_id_or_name_and_counts_held_badges(stored) -> None:
    run_import(stored, sheet(ROW_E001, ROW_E002))
    assert admin_students.list_students(uow_of(stored), [CAMPUS], "durand martin") == []
    (line,) = admin_students.list_students(uow_of(stored), [CAMPUS], "milie Dur")
    assert (line.student_id, line.tutor, line.badges) == ("E001", "tutrice@campus.fr", 1)
    listed = admin_students.list_students(uow_of(stored), [CAMPUS])
    assert [line.student_id for line in listed] == ["E001", "E002"]  # by last name
    assert admin_students.list_students(uow_of(stored), ["campus-b"]) == []
    assert admin_students.student_count(uow_of(stored), [CAMPUS, "campus-b"]) == 2


# --------------------------------------------------------------------- badges


class Taps:
    """The event store's reading of taps, all this use case asks of it."""

    def __init__(self, *taps: StoredTap) -> None:
        self._taps = taps

    def taps(self, start, end, *, campus=None, reader=None) -> list[StoredTap]:
        return [
            tap
            for tap in self._taps
            if start <= tap.ts < end
            and campus in (None, tap.campus)
            and reader in (None, tap.reader)
        ]


def _seen(stored: Stored, badge: str, first: datetime, campus: str = CAMPUS) -> int:
    key = len(stored.sightings) + 1
    stored.sightings[key] = Sighting(key, badge, campus, "door-1", first, first, 1)
    return key


def _tap(badge: str, ts: datetime, campus: str = CAMPUS) -> StoredTap:
    return StoredTap(f"t-{ts.isoformat()}", campus, "door-1", badge, ts, 1, ts)


def test_a_badge_with_past_taps_asks_whether_they_count_then_reopens_their_week(stored) -> None:
    run_import(stored, sheet(ROW_E002.replace("04112233445566", "")))
    pk = _student(stored, "E002").pk
    first = NOW - timedelta(days=10)
    sighting = _seen(stored, "cafe", first)
    events = Taps(_tap("cafe", first), _tap("other", first), _tap("cafe", first, "campus-b"))
    stored.frozen_weeks[(pk, str(IsoWeek.of(first.date())))] = {"status": "missed"}
    with pytest.raises(enrolment.PastTapsChoice) as question:
        admin_badges.attach(uow_of(stored), events, sighting, "E002", actor=ADMIN, zone=UTC)
    assert [tap.ts for tap in question.value.taps] == [first]
    assert not any(badge.badge_hash == "cafe" for badge in stored.badges.values())
    admin_badges.attach(
        uow_of(stored), events, sighting, "E002", actor=ADMIN, zone=UTC, credit_past=True
    )
    (badge,) = [badge for badge in stored.badges.values() if badge.badge_hash == "cafe"]
    assert badge.active_from == first and stored.sightings[sighting].attached_at == NOW
    assert stored.frozen_weeks == {}
    (entry,) = [e for e in stored.audit if e["action"] == "badge_past_taps_credited"]
    assert entry["after"]["past_taps"] == 1
    assert entry["after"]["weeks_reopened"] == [str(IsoWeek.of(first.date()))]
    assert enrolment.unknown_badges(uow_of(stored)) == []


def test_a_badge_not_credited_counts_from_now_and_a_campus_must_match(stored) -> None:
    run_import(stored, sheet(ROW_E001))
    first = NOW - timedelta(days=3)
    elsewhere = _seen(stored, "beef", first, "campus-b")
    with pytest.raises(DomainError, match="another campus"):
        admin_badges.attach(uow_of(stored), Taps(), elsewhere, "E001", actor=ADMIN, zone=UTC)
    here = _seen(stored, "f00d", first)
    events = Taps(_tap("f00d", first))
    admin_badges.attach(
        uow_of(stored), events, here, "E001", actor=ADMIN, zone=UTC, credit_past=False
    )
    (badge,) = [badge for badge in stored.badges.values() if badge.badge_hash == "f00d"]
    assert badge.active_from == NOW
    assert "badge_past_taps_not_credited" in stored.actions()
    assert [seen.id for seen in enrolment.unknown_badges(uow_of(stored))] == [elsewhere]


def test_a_badge_seen_at_a_reader_is_given_only_from_the_page_of_badges_seen(stored) -> None:
    run_import(stored, sheet(ROW_E002.replace("04112233445566", "")))
    _seen(stored, "cafe", NOW - timedelta(days=1))
    with pytest.raises(DomainError, match="already seen at a reader"):
        admin_students.give_badge(uow_of(stored), "E002", "cafe", ADMIN)
    assert admin_students.give_badge(uow_of(stored), "E002", "d00d", ADMIN)
    assert not admin_students.give_badge(uow_of(stored), "E002", "d00d", ADMIN)  # held already
    later = Actor("admin@example.org", NOW + timedelta(hours=1))
    assert enrolment.revoke_badges(uow_of(stored), "E002", reason="lost", actor=later) == 1
    assert enrolment.revoke_badges(uow_of(stored), "E002", reason="lost", actor=later) == 0
    with pytest.raises(DomainError, match="unknown student"):
        enrolment.revoke_badges(uow_of(stored), "E404", reason="lost", actor=later)


# --------------------------------------------------------------------- academic years

YEAR = AcademicYear(2026)


def test_a_year_is_saved_once_audited_and_listed_by_name(stored) -> None:
    run_import(stored, sheet(ROW_E002, ROW_E001))
    pk = _student(stored, "E001").pk
    blank, exists = outcomes.student_year(uow_of(stored), pk, YEAR)
    assert not exists and blank.display_name == "Durand Émilie"
    record = replace(blank, result=Result.PASSED)
    assert outcomes.save_student_year(uow_of(stored), record, actor=ADMIN)
    assert not outcomes.save_student_year(uow_of(stored), record, actor=ADMIN)
    assert stored.actions().count("student_year_saved") == 1
    (found,) = outcomes.outcomes_for(uow_of(stored), CAMPUS, YEAR)
    assert (found.student_id, found.result) == ("E001", Result.PASSED)
    assert outcomes.outcome_years(uow_of(stored), CAMPUS) == [YEAR]
    roster = outcomes.year_roster(uow_of(stored), CAMPUS, YEAR)
    assert [(rec is not None, s.student_id) for rec, s in roster.entries] == [
        (True, "E001"),
        (False, "E002"),
    ]


# --------------------------------------------------------------------- campuses and calendar


def _settings(*campuses: CampusSettings, school_zone: str = "A") -> Settings:
    return Settings(
        data_dir=Path("/nonexistent"),
        badge_secret=SECRET.decode(),
        api_token="t",
        presence=PresenceSettings(school_zone=school_zone),
        campuses=campuses,
    )


def test_syncing_adds_the_configured_campuses_and_readers_once_and_fixes_zones(stored) -> None:
    stored.campuses["campus-b"].school_zone = "C"
    settings = _settings(
        CampusSettings(CAMPUS, "Campus A", ("door-1", "door-2")),
        CampusSettings("campus-c", "Campus C", ("door-1",)),
    )
    assert campuses.sync_campuses(uow_of(stored), settings) == 4  # C, and 3 readers
    assert sorted(stored.campuses) == [CAMPUS, "campus-b", "campus-c"]
    assert stored.campuses[CAMPUS].readers == {"door-1": "toggle", "door-2": "toggle"}
    assert stored.campuses["campus-b"].school_zone == "A"  # the configured one
    assert campuses.sync_campuses(uow_of(stored), settings) == 0
    names = [(ref.id, ref.name) for ref in campuses.campus_list(uow_of(stored))]
    assert names == [(CAMPUS, CAMPUS), ("campus-b", "campus-b"), ("campus-c", "Campus C")]


def test_opening_hours_are_replaced_and_audited_with_what_they_were(stored) -> None:
    calendar_admin.set_opening_hours(uow_of(stored), CAMPUS, "lun 08:00-12:00", actor=ADMIN)
    calendar_admin.set_opening_hours(
        uow_of(stored), CAMPUS, "lun 08:00-12:00; lun 11:00-19:00; mar 09:00-17:00", actor=ADMIN
    )
    assert [str(slot) for slot in stored.campuses[CAMPUS].hours] == [
        "mon 08:00-19:00",
        "tue 09:00-17:00",
    ]
    last = stored.audit[-1]
    assert last["action"] == "opening_hours_set" and last["before"] == {"hours": ["0 08:00-12:00"]}
    with pytest.raises(DomainError, match="unknown campus"):
        calendar_admin.set_opening_hours(uow_of(stored), "nowhere", "lun 08:00-12:00", actor=ADMIN)


def test_closures_and_school_holidays_show_in_the_coming_months(stored) -> None:
    with pytest.raises(DomainError, match="cannot end before"):
        calendar_admin.add_closure(
            uow_of(stored), CAMPUS, date(2026, 12, 2), date(2026, 12, 1), label="x", actor=ADMIN
        )
    calendar_admin.add_closure(
        uow_of(stored), CAMPUS, date(2026, 12, 24), date(2026, 12, 31), label="Noël", actor=ADMIN
    )
    calendar_admin.add_closure(
        uow_of(stored), "campus-b", date(2027, 1, 4), date(2027, 1, 4), label="B", actor=ADMIN
    )
    data = (
        "zone;start;end;label\nA;19/12/2026;03/01/2027;Noël A\nB;2027-02-06;2027-02-21;Hiver B\n"
        "A;2027-02-13;2027-02-01;à l'envers\n"
    ).encode()
    saved, problems = calendar_admin.load_school_holidays(uow_of(stored), data, actor=ADMIN)
    assert saved == 2 and [problem.line for problem in problems] == [4]
    again, _ = calendar_admin.load_school_holidays(uow_of(stored), data, actor=ADMIN)
    assert again == 2 and len(stored.school_holidays) == 2  # the same periods, not new ones
    calendar_admin.set_closes_on_school_holidays(uow_of(stored), CAMPUS, True, actor=ADMIN)
    assert stored.audit[-1]["before"] == {"closes_on_school_holidays": False}
    seen = coordinator_calendar.upcoming(uow_of(stored), CAMPUS, date(2026, 12, 7))
    assert [entry.label for entry in seen.closures] == ["Noël"]
    assert [entry.label for entry in seen.school_holidays] == ["Noël A"]
    assert seen.closes_on_school_holidays and seen.school_holidays[0].closes
    assert "Jour de l'an" in [entry.label for entry in seen.public_holidays]
    assert all(date(2026, 12, 7) <= entry.start for entry in seen.public_holidays)


# --------------------------------------------------------------------- the activity log


def test_a_workshop_names_only_students_of_its_campus_and_is_audited_when_changed(stored) -> None:
    run_import(stored, sheet(ROW_E001, ROW_E002))
    e001, e002 = _student(stored, "E001").pk, _student(stored, "E002").pk
    stored.students[99] = StudentRecord(99, "B001", "campus-b", "Autre", "Campus")
    day = date(2026, 11, 20)
    with pytest.raises(DomainError, match="not a student of this campus"):
        activities.save_workshop(
            uow_of(stored), CAMPUS, day=day, theme="Méthodes", attendee_pks=[e001, 99], actor=ADMIN
        )
    workshop = activities.save_workshop(
        uow_of(stored), CAMPUS, day=day, theme=" Méthodes ", attendee_pks=[e002, e001], actor=ADMIN
    )
    activities.save_workshop(
        uow_of(stored),
        CAMPUS,
        day=day,
        theme="Méthodes",
        attendee_pks=[e002],
        actor=ADMIN,
        item_id=workshop,
    )
    changed = [entry for entry in stored.audit if entry["action"] == "workshop_saved"]
    assert changed[0]["after"]["attendees"] == [e001, e002] and changed[0]["before"] is None
    assert changed[1]["before"]["attendees"] == [e001, e002]
    assert changed[1]["after"]["attendees"] == [e002]
    found = activities.activity(uow_of(stored), "workshop", workshop)
    assert (found.theme, found.attendee_pks) == ("Méthodes", (e002,))
    with pytest.raises(DomainError, match="no longer exists"):
        activities.delete_activity(uow_of(stored), "workshop", workshop, "campus-b", actor=ADMIN)
    activities.delete_activity(uow_of(stored), "workshop", workshop, CAMPUS, actor=ADMIN)
    assert activities.activity(uow_of(stored), "workshop", workshop) is None
    assert stored.actions()[-1] == "workshop_deleted"


def test_a_tutor_sees_only_their_interviews_and_ticks_only_their_students(stored) -> None:
    run_import(stored, sheet(ROW_E001, ROW_E002))
    e001, e002 = _student(stored, "E001").pk, _student(stored, "E002").pk
    tutor = _student(stored, "E001").tutor_id
    for pk, by in ((e001, tutor), (e002, None)):
        activities.save_interview(
            uow_of(stored),
            CAMPUS,
            day=date(2026, 10, 1),
            student_pk=pk,
            modality=Modality.PHONE,
            tutor_id=by,
            actor=ADMIN,
        )
    activities.save_meeting(uow_of(stored), CAMPUS, day=date(2027, 9, 1), actor=ADMIN)  # next year
    year = AcademicYear(2026)
    log = activities.activities_for(uow_of(stored), CAMPUS, year.first_day, year.last_day)
    assert len(log.interviews) == 2 and log.meetings == []
    mine = activities.activities_for(
        uow_of(stored), CAMPUS, year.first_day, year.last_day, tutor_id=tutor
    )
    assert [item.student_pk for item in mine.interviews] == [e001]
    workshop = activities.save_workshop(
        uow_of(stored), CAMPUS, day=date(2026, 11, 20), theme="T", attendee_pks=[e002], actor=ADMIN
    )
    with pytest.raises(DomainError, match="not a student"):
        activities.tick_attendees(
            uow_of(stored), workshop, CAMPUS, among=[e001], ticked=[e002], actor=ADMIN
        )
    ticked = activities.tick_attendees(
        uow_of(stored), workshop, CAMPUS, among=[e001], ticked=[e001], actor=ADMIN
    )
    assert ticked == tuple(sorted((e001, e002)))
    assert activities.campus_students(uow_of(stored), CAMPUS, tutor) == [(e001, "Durand Émilie")]


def test_a_workshops_attendance_is_taken_from_the_badges_held_at_the_time(stored) -> None:
    run_import(stored, sheet(ROW_E001, ROW_E002))
    stored.campuses[CAMPUS].readers["room-1"] = "workshop"
    e001 = _student(stored, "E001").pk
    start = datetime(2026, 11, 20, 14, 0, tzinfo=UTC)
    workshop = activities.save_workshop(
        uow_of(stored), CAMPUS, day=start.date(), theme="T", attendee_pks=[], actor=ADMIN
    )
    e001_badge = badge_hash(SECRET, "04a1b2c3")
    stranger = "0" * 64
    events = Taps(
        StoredTap("a", CAMPUS, "room-1", e001_badge, start + timedelta(minutes=5), 1, start),
        StoredTap("b", CAMPUS, "room-1", stranger, start + timedelta(minutes=6), 2, start),
        StoredTap("c", CAMPUS, "door-1", badge_hash(SECRET, "04112233445566"), start, 3, start),
    )
    end = start + timedelta(hours=2)
    with pytest.raises(DomainError, match="Unknown reader"):
        activities.attendance_from_badges(
            uow_of(stored),
            events,
            workshop,
            CAMPUS,
            reader="door-9",
            start=start,
            end=end,
            actor=ADMIN,
        )
    count = activities.attendance_from_badges(
        uow_of(stored),
        events,
        workshop,
        CAMPUS,
        reader="room-1",
        start=start,
        end=end,
        actor=ADMIN,
    )
    found = activities.activity(uow_of(stored), "workshop", workshop)
    assert count == 1 and found.attendee_pks == (e001,)
    assert found.source is AttendanceSource.BADGES
