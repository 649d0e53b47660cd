"""One contract for the people ports (``server.ports.people``), run against the
registry's adapter (SQLite, or PostgreSQL with CAMPUS_TEST_REGISTRY=postgresql) and
against the in-memory fakes the use cases' unit tests rely on: if the fakes drift from
the real store, this fails."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from server.config import PresenceSettings
from server.domain.academic_year import AcademicYear
from server.domain.accounts import Actor
from server.domain.activities import (
    AttendanceSource,
    ExamSession,
    Interview,
    Modality,
    SteeringMeeting,
    Workshop,
)
from server.domain.calendar import Hours, IsoWeek, Period
from server.domain.contracts import Contract, parse_slots
from server.domain.errors import DomainError
from server.domain.outcomes import Result, StudentYear
from server.ports.people import PeopleUnitOfWork, Sighting
from server.registry.models import AuditEntry, UnknownBadge, WeeklyRecord
from server.registry.people_store import people_unit_of_work
from tests.integration.registry.conftest import CAMPUS
from tests.unit.people.fakes import FakeUnitOfWork, Stored

NOW = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
ADMIN = Actor("admin@example.org", NOW)
YEAR = AcademicYear(2026)
SLOTS = parse_slots("lun 09:00-12:00 | mar 14:00-18:00 | jeu 09:00-13:00 | ven 09:00-10:00")
SEPTEMBER = Contract(720, SLOTS, date(2026, 9, 1), date(2027, 6, 30))


class Side:
    """One side of the contract: the unit of work, and what the test puts in the store
    behind the ports' back (a reader's sighting, a frozen week) or reads from it."""

    def __init__(self, factory: Callable[[], PeopleUnitOfWork]) -> None:
        self.unit_of_work = factory

    def see(self, badge: str, campus: str, first: datetime) -> int:
        raise NotImplementedError

    def freeze(self, student_pk: int, week: IsoWeek) -> None:
        raise NotImplementedError

    def actions(self) -> list[str]:
        raise NotImplementedError


class FakeSide(Side):
    def __init__(self) -> None:
        self.stored = Stored.with_campuses(CAMPUS)
        super().__init__(lambda: FakeUnitOfWork(self.stored))

    def see(self, badge: str, campus: str, first: datetime) -> int:
        key = len(self.stored.sightings) + 1
        self.stored.sightings[key] = Sighting(key, badge, campus, "door-1", first, first, 1)
        return key

    def freeze(self, student_pk: int, week: IsoWeek) -> None:
        record = {"status": "met", "attended_s": 3600, "expected_s": 3600}
        self.stored.frozen_weeks[(student_pk, str(week))] = record

    def actions(self) -> list[str]:
        return self.stored.actions()


class RegistrySide(Side):
    def __init__(self, registry) -> None:
        self.registry = registry
        super().__init__(people_unit_of_work(registry, PresenceSettings(school_zone="A")))

    def see(self, badge: str, campus: str, first: datetime) -> int:
        with self.registry() as session, session.begin():
            row = UnknownBadge(
                badge_hash=badge,
                campus_id=campus,
                reader_id="door-1",
                first_seen=first,
                last_seen=first,
                seen_count=1,
            )
            session.add(row)
            session.flush()
            return row.id

    def freeze(self, student_pk: int, week: IsoWeek) -> None:
        with self.registry() as session, session.begin():
            session.add(
                WeeklyRecord(
                    student_pk=student_pk,
                    week=str(week),
                    expected_s=3600,
                    attended_s=3600,
                    unverified_s=0,
                    missed_slots=0,
                    late_arrivals=0,
                    status="met",
                    frozen_at=NOW,
                )
            )

    def actions(self) -> list[str]:
        with self.registry() as session:
            return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


@pytest.fixture(params=["registry", "fake"])
def side(request: pytest.FixtureRequest) -> Side:
    if request.param == "fake":
        return FakeSide()
    return RegistrySide(request.getfixturevalue("registry"))


def _add(side: Side, student_id: str, last_name: str, **values: object) -> int:
    with side.unit_of_work() as uow:
        student, outcome = uow.students.save(
            student_id,
            {"campus_id": CAMPUS, "last_name": last_name, "first_name": "Alex", **values},
            ADMIN,
        )
        uow.commit()
    assert outcome == "created"
    return student.pk


def test_a_saved_student_is_found_updated_only_when_changed_and_audited(side) -> None:
    pk = _add(side, "E001", "Durand", programme="BTS")
    with side.unit_of_work() as uow:
        found = uow.students.by_student_id("E001")
        assert found is not None and found == uow.students.get(pk)
        assert (found.last_name, found.programme, found.campus_id) == ("Durand", "BTS", CAMPUS)
        assert uow.students.by_student_id("E404") is None and uow.students.get(pk + 99) is None
        _same, outcome = uow.students.save("E001", {"programme": "BTS"}, ADMIN)
        assert outcome == "unchanged"
        changed, outcome = uow.students.save("E001", {"programme": "DAEU"}, ADMIN)
        assert outcome == "updated" and changed.programme == "DAEU"
        uow.commit()
    assert side.actions() == ["student_created", "student_updated"]


def test_nothing_is_kept_without_a_commit_and_a_savepoint_undoes_its_block(side) -> None:
    with side.unit_of_work() as uow:
        uow.students.save("E001", {"campus_id": CAMPUS, "last_name": "A", "first_name": "B"}, ADMIN)
    with side.unit_of_work() as uow:
        assert uow.students.by_student_id("E001") is None
        uow.students.save("E002", {"campus_id": CAMPUS, "last_name": "A", "first_name": "B"}, ADMIN)
        with pytest.raises(DomainError), uow.savepoint():
            uow.students.save(
                "E003", {"campus_id": CAMPUS, "last_name": "C", "first_name": "D"}, ADMIN
            )
            raise DomainError("refused")
        assert uow.students.by_student_id("E003") is None
        uow.commit()
    with side.unit_of_work() as uow:
        assert uow.students.by_student_id("E002") is not None
        assert uow.students.by_student_id("E003") is None
    assert side.actions() == ["student_created"]


def test_listing_searching_and_counting_students(side) -> None:
    tutor_pk = _tutor(side, "Tutrice@Campus.fr")
    _add(side, "E002", "Martin", tutor_id=tutor_pk)
    _add(side, "E001", "Durand")
    with side.unit_of_work() as uow:
        listed = uow.students.listing([CAMPUS], "", 10)
        assert [(line.student_id, line.tutor) for line in listed] == [
            ("E001", ""),
            ("E002", "tutrice@campus.fr"),
        ]
        assert [line.student_id for line in uow.students.listing([CAMPUS], "mart", 10)] == ["E002"]
        assert [line.student_id for line in uow.students.listing([CAMPUS], "alex dur", 10)] == [
            "E001"
        ]
        assert [line.student_id for line in uow.students.listing([CAMPUS], "e00", 1)] == ["E001"]
        assert uow.students.listing(["elsewhere"], "", 10) == []
        assert uow.students.count([CAMPUS]) == 2 and uow.students.count(["elsewhere"]) == 0
        assert [row.student_id for row in uow.students.of_campus(CAMPUS)] == ["E001", "E002"]
        assert [row.student_id for row in uow.students.of_tutor(tutor_pk)] == ["E002"]
        assert uow.students.of_tutor(-1) == []
        assert uow.students.campus_exists(CAMPUS) and not uow.students.campus_exists("elsewhere")


def _tutor(side: Side, email: str) -> int:
    with side.unit_of_work() as uow:
        tutor = uow.tutors.by_email(email, ADMIN)
        assert uow.tutors.by_email(email.upper(), ADMIN) == tutor  # found, not made again
        uow.commit()
    return tutor.id


def test_a_tutor_is_made_once_by_email_and_listed(side) -> None:
    first = _tutor(side, " Zoe@Campus.fr")
    second = _tutor(side, "adam@campus.fr")
    with side.unit_of_work() as uow:
        assert [tutor.email for tutor in uow.tutors.listing()] == [
            "adam@campus.fr",
            "zoe@campus.fr",
        ]
        assert uow.tutors.exists(first) and uow.tutors.exists(second)
        assert not uow.tutors.exists(first + second + 1)
    assert side.actions() == ["tutor_created", "tutor_created"]


def test_contracts_keep_their_history(side) -> None:
    pk = _add(side, "E001", "Durand")
    renewal = Contract(900, SLOTS, date(2026, 11, 2), None)
    correction = replace(renewal, weekly_minutes=840)
    with side.unit_of_work() as uow:
        assert uow.contracts.apply(pk, SEPTEMBER, ADMIN)
        assert not uow.contracts.apply(pk, SEPTEMBER, ADMIN)
        assert uow.contracts.apply(pk, renewal, ADMIN)
        assert uow.contracts.apply(pk, correction, ADMIN)  # same start: replaces the renewal
        uow.commit()
    with side.unit_of_work() as uow:
        assert uow.contracts.in_force(pk) == [
            replace(SEPTEMBER, valid_to=date(2026, 11, 1)),
            correction,
        ]
    assert side.actions()[1:] == [
        "contract_created",
        "contract_ended",
        "contract_created",
        "contract_replaced",
        "contract_created",
    ]


def test_a_badge_is_held_by_one_student_at_a_time_and_closes_its_sighting(side) -> None:
    first, second = _add(side, "E001", "Durand"), _add(side, "E002", "Martin")
    seen = side.see("cafe", CAMPUS, NOW - timedelta(days=2))
    side.see("beef", "elsewhere", NOW - timedelta(days=1))
    with side.unit_of_work() as uow:
        assert [s.badge_hash for s in uow.badges.sightings()] == ["beef", "cafe"]
        assert [s.badge_hash for s in uow.badges.sightings(CAMPUS)] == ["cafe"]
        assert uow.badges.seen_unattached("cafe") and not uow.badges.seen_unattached("d00d")
        assert uow.badges.give(first, "cafe", NOW - timedelta(days=2), ADMIN)
        assert not uow.badges.give(first, "cafe", NOW, ADMIN)
        with pytest.raises(DomainError, match="another student"):
            uow.badges.give(second, "cafe", NOW, ADMIN)
        uow.commit()
    with side.unit_of_work() as uow:
        sighting = uow.badges.sighting(seen)
        assert sighting is not None and sighting.attached_at == NOW
        assert not uow.badges.seen_unattached("cafe")
        assert uow.badges.held(first) == 1 and uow.badges.held(second) == 0
        assert uow.badges.revoke_all(first, "lost", ADMIN) == 1
        assert uow.badges.revoke_all(first, "lost", ADMIN) == 0
        assert uow.badges.give(second, "cafe", NOW - timedelta(days=1), ADMIN)  # given back
        uow.commit()
    with side.unit_of_work() as uow:
        assert uow.badges.held(first) == 0 and uow.badges.held(second) == 1
    assert side.actions()[2:] == ["badge_attached", "badge_revoked", "badge_attached"]


def test_reopening_drops_only_the_frozen_weeks_asked_for(side) -> None:
    pk, other = _add(side, "E001", "Durand"), _add(side, "E002", "Martin")
    for week in (IsoWeek(2026, 45), IsoWeek(2026, 47)):
        side.freeze(pk, week)
    side.freeze(other, IsoWeek(2026, 47))
    with side.unit_of_work() as uow:
        asked = [IsoWeek(2026, 47), IsoWeek(2026, 46)]
        assert uow.weeks.reopen(pk, asked, ADMIN, cause="test") == [IsoWeek(2026, 47)]
        assert uow.weeks.reopen(pk, asked, ADMIN, cause="test") == []
        assert uow.weeks.reopen(pk, [], ADMIN, cause="test") == []
        assert uow.weeks.reopen(other, [IsoWeek(2026, 47)], ADMIN, cause="test") == [
            IsoWeek(2026, 47)
        ]
        uow.commit()
    with side.unit_of_work() as uow:
        assert uow.weeks.reopen(pk, [IsoWeek(2026, 45)], ADMIN, cause="t") == [IsoWeek(2026, 45)]
    assert side.actions()[2:] == ["week_reopened", "week_reopened"]


def test_academic_years_are_stored_per_student_and_year(side) -> None:
    pk, other = _add(side, "E001", "Durand"), _add(side, "E002", "Martin")
    record = StudentYear(pk, "E001", CAMPUS, YEAR, programme="BTS", result=Result.PASSED)
    with side.unit_of_work() as uow:
        assert uow.years.get(pk, YEAR) is None and uow.years.years(CAMPUS) == []
        uow.years.put(record, NOW)
        uow.years.put(replace(record, student_pk=other, year=YEAR.previous()), NOW)
        uow.commit()
    with side.unit_of_work() as uow:
        found = uow.years.get(pk, YEAR)
        assert found == replace(record, display_name="Durand Alex")
        assert uow.years.of_students([pk, other], YEAR) == {pk: found}
        assert uow.years.of_students([], YEAR) == {}
        assert uow.years.of_campus(CAMPUS, YEAR) == [found]
        assert uow.years.years(CAMPUS) == [YEAR.previous(), YEAR]
        uow.years.put(replace(record, result=Result.FAILED), NOW)
        uow.commit()
    with side.unit_of_work() as uow:
        changed = uow.years.get(pk, YEAR)
        assert changed is not None and changed.result is Result.FAILED


def test_campuses_their_readers_zones_and_calendar(side) -> None:
    with side.unit_of_work() as uow:
        assert not uow.campuses.exists("campus-z")
        uow.campuses.add("campus-z", "Campus Z", "Europe/Paris", "B")
        uow.campuses.add_reader("campus-z", "door-2", "toggle")
        uow.campuses.add_reader("campus-z", "door-1", "in")
        uow.commit()
    with side.unit_of_work() as uow:
        assert uow.campuses.exists("campus-z")
        assert uow.campuses.readers("campus-z") == ["door-1", "door-2"]
        assert ("campus-z", "Campus Z") in [(c.id, c.name) for c in uow.campuses.listing()]
        ids = [campus.id for campus in uow.campuses.listing()]
        assert ids == sorted(ids) and CAMPUS in ids
        (zones,) = [row for row in uow.campuses.zones() if row.id == "campus-z"]
        assert (zones.timezone, zones.school_zone) == ("Europe/Paris", "B")
        uow.campuses.set_zones("campus-z", "Europe/Paris", "A")
        assert not uow.campuses.closes_on_school_holidays("campus-z")
        uow.campuses.set_closes_on_school_holidays("campus-z", True)
        assert uow.campuses.opening_hours("campus-z") == []
        hours = parse_slots("lun 08:00-12:00 | lun 14:00-18:00 | mar 09:00-17:00")
        uow.campuses.set_opening_hours("campus-z", hours)
        uow.campuses.set_opening_hours("campus-z", hours)  # replaced, not added twice
        closure = uow.campuses.add_closure("campus-z", date(2026, 12, 24), date(2026, 12, 31), "N")
        assert closure > 0
        uow.campuses.put_school_holiday("A", date(2026, 12, 19), date(2027, 1, 3), "Noël")
        uow.campuses.put_school_holiday("A", date(2026, 12, 19), date(2027, 1, 4), "Noël A")
        uow.campuses.put_school_holiday("B", date(2027, 2, 6), date(2027, 2, 21), "Hiver B")
        uow.commit()
    with side.unit_of_work() as uow:
        (zones,) = [row for row in uow.campuses.zones() if row.id == "campus-z"]
        assert zones.school_zone == "A"
        assert sorted(uow.campuses.opening_hours("campus-z")) == sorted(hours)
        calendar = uow.campuses.calendar("campus-z")
        assert calendar.weekly == {
            0: (Hours(hours[0].start, hours[0].end), Hours(hours[1].start, hours[1].end)),
            1: (Hours(hours[2].start, hours[2].end),),
        }
        assert calendar.closures == (Period(date(2026, 12, 24), date(2026, 12, 31), "N"),)
        assert calendar.school_holidays == (Period(date(2026, 12, 19), date(2027, 1, 4), "Noël A"),)
        assert calendar.closes_on_school_holidays and calendar.closes_on_public_holidays
        assert calendar.timezone == "Europe/Paris"


def test_students_on_a_campus_and_the_holdings_of_badges(side) -> None:
    first, second = _add(side, "E001", "Durand"), _add(side, "E002", "Martin")
    with side.unit_of_work() as uow:
        assert uow.students.on_campus(CAMPUS, [first, second, second + 99]) == {first, second}
        assert uow.students.on_campus("elsewhere", [first]) == set()
        assert uow.students.on_campus(CAMPUS, []) == set()
        uow.badges.give(first, "cafe", NOW - timedelta(days=9), ADMIN)
        uow.badges.revoke_all(first, "lost", Actor("admin", NOW - timedelta(days=2)))
        uow.badges.give(second, "cafe", NOW - timedelta(days=1), ADMIN)
        uow.badges.give(second, "beef", NOW, ADMIN)
        uow.commit()
    with side.unit_of_work() as uow:
        held = sorted(uow.badges.holdings(CAMPUS, ["cafe"]), key=lambda h: h.active_from)
        assert [(h.student_pk, h.active_from, h.revoked_at) for h in held] == [
            (first, NOW - timedelta(days=9), NOW - timedelta(days=2)),
            (second, NOW - timedelta(days=1), None),
        ]
        assert uow.badges.holdings("elsewhere", ["cafe"]) == []
        assert uow.badges.holdings(CAMPUS, []) == []


def test_activities_with_their_attendees_and_candidates(side) -> None:
    first, second = _add(side, "E001", "Durand"), _add(side, "E002", "Martin")
    tutor = _tutor(side, "tutrice@campus.fr")
    day = date(2026, 11, 20)
    with side.unit_of_work() as uow:
        workshop = uow.activities.add(Workshop(0, CAMPUS, day, "T", (second, first)))
        interview = uow.activities.add(
            Interview(0, CAMPUS, day, first, Modality.VIDEO, tutor_id=tutor, note="n")
        )
        uow.activities.add(Interview(0, CAMPUS, day - timedelta(days=1), second, Modality.PHONE))
        exam = uow.activities.add(ExamSession(0, CAMPUS, day, "CNED", (first,), candidates=0))
        meeting = uow.activities.add(SteeringMeeting(0, CAMPUS, date(2027, 9, 1), "COPIL"))
        uow.commit()
    with side.unit_of_work() as uow:
        found = uow.activities.get("workshop", workshop)
        assert found == Workshop(workshop, CAMPUS, day, "T", (first, second))
        assert uow.activities.get("interview", interview) == Interview(
            interview, CAMPUS, day, first, Modality.VIDEO, tutor_id=tutor, note="n"
        )
        assert uow.activities.get("exam", exam).student_pks == (first,)
        assert uow.activities.get("meeting", meeting).note == "COPIL"
        log = uow.activities.in_period(CAMPUS, date(2026, 9, 1), date(2027, 8, 31))
        assert [w.id for w in log.workshops] == [workshop] and log.meetings == []
        assert [i.student_pk for i in log.interviews] == [second, first]  # by day
        mine = uow.activities.in_period(CAMPUS, date(2026, 9, 1), date(2027, 8, 31), tutor_id=tutor)
        assert [i.id for i in mine.interviews] == [interview]
        assert uow.activities.in_period("elsewhere", day, day).workshops == []
        uow.activities.replace(
            Workshop(workshop, CAMPUS, day, "U", (second,), AttendanceSource.BADGES)
        )
        uow.activities.replace(ExamSession(exam, CAMPUS, day, "CNED", (), candidates=3))
        uow.activities.delete("meeting", meeting)
        uow.commit()
    with side.unit_of_work() as uow:
        changed = uow.activities.get("workshop", workshop)
        assert (changed.theme, changed.attendee_pks, changed.source) == (
            "U",
            (second,),
            AttendanceSource.BADGES,
        )
        exam_now = uow.activities.get("exam", exam)
        assert (exam_now.student_pks, exam_now.candidates) == ((), 3)
        assert uow.activities.get("meeting", meeting) is None
        uow.activities.delete("workshop", workshop)
        uow.commit()
    with side.unit_of_work() as uow:
        assert uow.activities.get("workshop", workshop) is None
