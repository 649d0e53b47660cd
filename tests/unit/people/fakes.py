"""In-memory fakes of the people ports (``server.ports.people``), for the unit tests of
the people use cases. The same contract suite runs against them and against the
registry's adapter (tests/integration/registry/test_people_store_contract.py)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import TracebackType
from typing import Any

from server.domain.academic_year import AcademicYear
from server.domain.accounts import Actor
from server.domain.activities import (
    ActivityLog,
    ExamSession,
    Interview,
    SteeringMeeting,
    Workshop,
)
from server.domain.calendar import CampusCalendar, Hours, IsoWeek, Period
from server.domain.contracts import Contract, Slot, plan_contract_change
from server.domain.errors import DomainError
from server.domain.outcomes import StudentYear
from server.ports.activities import Activity
from server.ports.people import (
    CampusRef,
    CampusZones,
    HeldBadge,
    SaveOutcome,
    Sighting,
    StudentLine,
    StudentRecord,
    TutorRef,
)
from tests.unit.accounts.fakes import FakeAuditTrail


@dataclass
class FakeContract:
    student_pk: int
    contract: Contract
    replaced_at: datetime | None = None


@dataclass
class FakeBadge:
    student_pk: int
    badge_hash: str
    active_from: datetime
    revoked_at: datetime | None = None
    reason: str = ""


@dataclass
class FakeCampus:
    name: str = ""
    timezone: str = "Europe/Paris"
    school_zone: str | None = "A"
    readers: dict[str, str] = field(default_factory=dict)  # reader id -> mode
    hours: list[Slot] = field(default_factory=list)
    closes_on_school_holidays: bool = False
    closes_on_public_holidays: bool = True
    holiday_subdivision: str | None = None


@dataclass
class Stored:
    """What the fake registry holds (its committed state). ``timezone`` and
    ``school_zone``: the configured ones a calendar is read with."""

    campuses: dict[str, FakeCampus] = field(default_factory=dict)
    closures: dict[int, tuple[str, Period]] = field(default_factory=dict)  # id -> campus
    school_holidays: dict[tuple[str, date], Period] = field(default_factory=dict)
    timezone: str = "Europe/Paris"
    school_zone: str = "A"
    students: dict[int, StudentRecord] = field(default_factory=dict)
    tutors: dict[int, TutorRef] = field(default_factory=dict)
    contracts: dict[int, FakeContract] = field(default_factory=dict)
    badges: dict[int, FakeBadge] = field(default_factory=dict)
    sightings: dict[int, Sighting] = field(default_factory=dict)
    frozen_weeks: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    years: dict[tuple[int, str], StudentYear] = field(default_factory=dict)
    activities: dict[tuple[str, int], Activity] = field(default_factory=dict)  # (kind, id)
    audit: list[dict[str, Any]] = field(default_factory=list)
    commits: int = 0

    def actions(self) -> list[str]:
        return [entry["action"] for entry in self.audit]

    @classmethod
    def with_campuses(cls, *ids: str) -> Stored:
        return cls(campuses={campus_id: FakeCampus() for campus_id in ids})


def _next(rows: Mapping[int, object]) -> int:
    return max(rows, default=0) + 1


class _Part:
    def __init__(self, state: Stored, audit: FakeAuditTrail) -> None:
        self._state = state
        self._audit = audit

    def _record(self, actor: Actor, action: str, entity: str, entity_id: str | int, **kw: Any):
        self._audit.record(
            at=actor.at, actor=actor.name, action=action, entity=entity, entity_id=entity_id, **kw
        )


class FakeCampuses(_Part):
    def listing(self) -> list[CampusRef]:
        return [CampusRef(key, row.name) for key, row in sorted(self._state.campuses.items())]

    def exists(self, campus_id: str) -> bool:
        return campus_id in self._state.campuses

    def add(self, campus_id: str, name: str, timezone: str, school_zone: str | None) -> None:
        assert campus_id not in self._state.campuses
        self._state.campuses[campus_id] = FakeCampus(name, timezone, school_zone)

    def readers(self, campus_id: str) -> list[str]:
        return sorted(self._state.campuses[campus_id].readers)

    def add_reader(self, campus_id: str, reader_id: str, mode: str) -> None:
        readers = self._state.campuses[campus_id].readers
        assert reader_id not in readers
        readers[reader_id] = mode

    def zones(self) -> list[CampusZones]:
        return [
            CampusZones(key, row.timezone, row.school_zone)
            for key, row in sorted(self._state.campuses.items())
        ]

    def set_zones(self, campus_id: str, timezone: str, school_zone: str | None) -> None:
        row = self._state.campuses[campus_id]
        row.timezone, row.school_zone = timezone, school_zone

    def calendar(self, campus_id: str) -> CampusCalendar:
        row = self._state.campuses.get(campus_id)
        if row is None:
            return CampusCalendar(timezone=self._state.timezone)
        weekly: dict[int, list[Hours]] = {}
        for slot in sorted(row.hours, key=lambda slot: (slot.weekday, slot.start)):
            weekly.setdefault(slot.weekday, []).append(Hours(slot.start, slot.end))
        closures = [
            period
            for key, (campus, period) in sorted(self._state.closures.items())
            if campus == campus_id
        ]
        holidays = [
            period
            for (zone, _start), period in self._state.school_holidays.items()
            if zone == self._state.school_zone
        ]
        return CampusCalendar(
            timezone=self._state.timezone,
            weekly={day: tuple(hours) for day, hours in weekly.items()} if weekly else None,
            closures=tuple(closures),
            school_holidays=tuple(holidays),
            closes_on_school_holidays=row.closes_on_school_holidays,
            closes_on_public_holidays=row.closes_on_public_holidays,
            holiday_subdivision=row.holiday_subdivision,
        )

    def opening_hours(self, campus_id: str) -> list[Slot]:
        return list(self._state.campuses[campus_id].hours)

    def set_opening_hours(self, campus_id: str, hours: Sequence[Slot]) -> None:
        self._state.campuses[campus_id].hours = list(hours)

    def add_closure(self, campus_id: str, start: date, end: date, label: str) -> int:
        assert campus_id in self._state.campuses and start <= end
        key = _next(self._state.closures)
        self._state.closures[key] = (campus_id, Period(start, end, label))
        return key

    def closes_on_school_holidays(self, campus_id: str) -> bool:
        return self._state.campuses[campus_id].closes_on_school_holidays

    def set_closes_on_school_holidays(self, campus_id: str, closes: bool) -> None:
        self._state.campuses[campus_id].closes_on_school_holidays = closes

    def put_school_holiday(self, zone: str, start: date, end: date, label: str) -> None:
        self._state.school_holidays[(zone, start)] = Period(start, end, label)


class FakeStudents(_Part):
    def get(self, pk: int) -> StudentRecord | None:
        return self._state.students.get(pk)

    def by_student_id(self, student_id: str) -> StudentRecord | None:
        found = [row for row in self._state.students.values() if row.student_id == student_id]
        return found[0] if found else None

    def save(
        self, student_id: str, values: Mapping[str, Any], actor: Actor
    ) -> tuple[StudentRecord, SaveOutcome]:
        student = self.by_student_id(student_id)
        if student is None:
            pk = _next(self._state.students)
            fields = {"last_name": "", "first_name": "", **values}
            student = StudentRecord(pk=pk, student_id=student_id, **fields)
            self._state.students[pk] = student
            self._record(actor, "student_created", "student", student_id, after=dict(values))
            return student, "created"
        before = {name: getattr(student, name) for name in values}
        changed = {name: value for name, value in values.items() if before[name] != value}
        if not changed:
            return student, "unchanged"
        student = replace(student, **changed)
        self._state.students[student.pk] = student
        before = {name: before[name] for name in changed}
        self._record(actor, "student_updated", "student", student_id, before=before, after=changed)
        return student, "updated"

    def count(self, campus_ids: Iterable[str]) -> int:
        wanted = set(campus_ids)
        return sum(1 for row in self._state.students.values() if row.campus_id in wanted)

    def listing(self, campus_ids: Iterable[str], search: str, limit: int) -> list[StudentLine]:
        wanted, words = set(campus_ids), search.strip().lower()

        def matches(row: StudentRecord) -> bool:
            texts = (
                row.student_id,
                row.last_name,
                row.first_name,
                f"{row.first_name} {row.last_name}",
            )
            return not words or any(words in text.lower() for text in texts)

        rows = sorted(
            (row for row in self._state.students.values() if row.campus_id in wanted),
            key=lambda row: (row.last_name, row.first_name),
        )
        tutors = self._state.tutors
        return [
            StudentLine(
                row.pk,
                row.student_id,
                row.last_name,
                row.first_name,
                row.campus_id,
                row.programme,
                tutors[row.tutor_id].email if row.tutor_id in tutors else "",
                _held(self._state, row.pk),
            )
            for row in rows
            if matches(row)
        ][:limit]

    def of_campus(self, campus_id: str) -> list[StudentRecord]:
        rows = [row for row in self._state.students.values() if row.campus_id == campus_id]
        return sorted(rows, key=lambda row: (row.last_name, row.first_name, row.pk))

    def of_tutor(self, tutor_id: int) -> list[StudentRecord]:
        rows = [row for row in self._state.students.values() if row.tutor_id == tutor_id]
        return sorted(rows, key=lambda row: (row.last_name, row.first_name, row.pk))

    def on_campus(self, campus_id: str, pks: Iterable[int]) -> set[int]:
        students = self._state.students
        return {pk for pk in pks if pk in students and students[pk].campus_id == campus_id}

    def campus_exists(self, campus_id: str) -> bool:
        return campus_id in self._state.campuses


def _held(state: Stored, student_pk: int) -> int:
    return sum(
        1
        for badge in state.badges.values()
        if badge.student_pk == student_pk and badge.revoked_at is None
    )


class FakeTutors(_Part):
    def listing(self) -> list[TutorRef]:
        return sorted(self._state.tutors.values(), key=lambda row: (row.name, row.email))

    def exists(self, tutor_id: int) -> bool:
        return tutor_id in self._state.tutors

    def by_email(self, email: str, actor: Actor) -> TutorRef:
        email = email.strip().lower()
        for tutor in self._state.tutors.values():
            if tutor.email == email:
                return tutor
        tutor = TutorRef(_next(self._state.tutors), email, "")
        self._state.tutors[tutor.id] = tutor
        self._record(actor, "tutor_created", "tutor", tutor.id, after={"email": email})
        return tutor


def _terms(contract: Contract) -> dict[str, Any]:
    return {
        "weekly_minutes": contract.weekly_minutes,
        "slots": [str(slot) for slot in contract.slots],
        "valid_from": contract.valid_from,
        "valid_to": contract.valid_to,
    }


class FakeContracts(_Part):
    def in_force(self, student_pk: int) -> list[Contract]:
        return [
            row.contract
            for _key, row in sorted(self._state.contracts.items())
            if row.student_pk == student_pk and row.replaced_at is None
        ]

    def apply(self, student_pk: int, contract: Contract, actor: Actor) -> bool:
        assert student_pk in self._state.students
        current = {
            key: row
            for key, row in self._state.contracts.items()
            if row.student_pk == student_pk and row.replaced_at is None
        }
        change = plan_contract_change({k: row.contract for k, row in current.items()}, contract)
        if change.unchanged:
            return False
        for key in change.replaced:
            current[key].replaced_at = actor.at
            before = _terms(current[key].contract)
            self._record(actor, "contract_replaced", "contract", key, before=before)
        for key, last_day in change.ended:
            before = _terms(current[key].contract)
            current[key].contract = replace(current[key].contract, valid_to=last_day)
            after = _terms(current[key].contract)
            self._record(actor, "contract_ended", "contract", key, before=before, after=after)
        key = _next(self._state.contracts)
        self._state.contracts[key] = FakeContract(student_pk, contract)
        self._record(actor, "contract_created", "contract", key, after=_terms(contract))
        return True


class FakeBadges(_Part):
    def held(self, student_pk: int) -> int:
        return _held(self._state, student_pk)

    def give(self, student_pk: int, badge_hash: str, active_from: datetime, actor: Actor) -> bool:
        student = self._state.students[student_pk]
        for holding in self._state.badges.values():
            if holding.badge_hash != badge_hash:
                continue
            if holding.revoked_at is None and holding.student_pk == student_pk:
                return False
            if holding.revoked_at is None:
                raise DomainError("this badge already belongs to another student")
            active_from = max(active_from, holding.revoked_at)
        key = _next(self._state.badges)
        self._state.badges[key] = FakeBadge(student_pk, badge_hash, active_from)
        for sighting in list(self._state.sightings.values()):
            if sighting.badge_hash == badge_hash and sighting.attached_at is None:
                self._state.sightings[sighting.id] = replace(sighting, attached_at=actor.at)
        after = {"student_id": student.student_id, "active_from": active_from}
        self._record(actor, "badge_attached", "badge", key, after=after)
        return True

    def revoke_all(self, student_pk: int, reason: str, actor: Actor) -> int:
        held = [
            (key, badge)
            for key, badge in sorted(self._state.badges.items())
            if badge.student_pk == student_pk and badge.revoked_at is None
        ]
        for key, badge in held:
            badge.revoked_at, badge.reason = actor.at, reason[:200]
            after = {"revoked_at": actor.at, "reason": reason[:200]}
            self._record(actor, "badge_revoked", "badge", key, after=after)
        return len(held)

    def sighting(self, sighting_id: int) -> Sighting | None:
        return self._state.sightings.get(sighting_id)

    def sightings(self, campus_id: str | None = None) -> list[Sighting]:
        rows = [
            row
            for row in self._state.sightings.values()
            if row.attached_at is None and campus_id in (None, row.campus_id)
        ]
        return sorted(rows, key=lambda row: row.last_seen, reverse=True)

    def seen_unattached(self, badge_hash: str) -> bool:
        return any(
            row.badge_hash == badge_hash and row.attached_at is None
            for row in self._state.sightings.values()
        )

    def holdings(self, campus_id: str, badge_hashes: Iterable[str]) -> list[HeldBadge]:
        wanted, students = set(badge_hashes), self._state.students
        return [
            HeldBadge(badge.badge_hash, badge.student_pk, badge.active_from, badge.revoked_at)
            for badge in self._state.badges.values()
            if badge.badge_hash in wanted and students[badge.student_pk].campus_id == campus_id
        ]


_KIND = {
    Workshop: "workshop",
    Interview: "interview",
    ExamSession: "exam",
    SteeringMeeting: "meeting",
}


class FakeActivities(_Part):
    def in_period(
        self, campus_id: str, first_day: date, last_day: date, *, tutor_id: int | None = None
    ) -> ActivityLog:
        found: dict[str, list[Any]] = {kind: [] for kind in _KIND.values()}
        for (kind, _id), item in sorted(self._state.activities.items()):
            if item.campus_id != campus_id or not first_day <= item.day <= last_day:
                continue
            if kind == "interview" and tutor_id is not None and item.tutor_id != tutor_id:
                continue
            found[kind].append(item)
        by_day = {
            kind: sorted(items, key=lambda item: (item.day, item.id))
            for kind, items in found.items()
        }
        return ActivityLog(
            campus_id,
            first_day,
            last_day,
            workshops=by_day["workshop"],
            interviews=by_day["interview"],
            exams=by_day["exam"],
            meetings=by_day["meeting"],
        )

    def get(self, kind: str, item_id: int) -> Activity | None:
        return self._state.activities.get((kind, item_id))

    def add(self, record: Activity) -> int:
        kind = _KIND[type(record)]
        key = max((key for other, key in self._state.activities if other == kind), default=0) + 1
        self._state.activities[(kind, key)] = self._sorted(replace(record, id=key))
        return key

    def replace(self, record: Activity) -> None:
        kind = _KIND[type(record)]
        old = self._state.activities[(kind, record.id)]
        assert old.campus_id == record.campus_id
        self._state.activities[(kind, record.id)] = self._sorted(record)

    @staticmethod
    def _sorted(record: Activity) -> Activity:
        if isinstance(record, Workshop):
            return replace(record, attendee_pks=tuple(sorted(record.attendee_pks)))
        if isinstance(record, ExamSession):
            return replace(record, student_pks=tuple(sorted(record.student_pks)))
        return record

    def delete(self, kind: str, item_id: int) -> None:
        del self._state.activities[(kind, item_id)]


class FakeWeeks(_Part):
    def reopen(
        self, student_pk: int, weeks: Iterable[IsoWeek], actor: Actor, *, cause: str
    ) -> list[IsoWeek]:
        student = self._state.students[student_pk]
        dropped = []
        for week in sorted(set(weeks), key=str):
            record = self._state.frozen_weeks.pop((student_pk, str(week)), None)
            if record is None:
                continue
            before = {"student_id": student.student_id, "week": str(week), **record}
            entity_id = f"{student.student_id}/{week}"
            self._record(
                actor,
                "week_reopened",
                "weekly_record",
                entity_id,
                before=before,
                after={"cause": cause},
            )
            dropped.append(week)
        return dropped


class FakeStudentYears(_Part):
    def _named(self, record: StudentYear) -> StudentYear:
        student = self._state.students[record.student_pk]
        return replace(
            record,
            student_id=student.student_id,
            campus_id=student.campus_id,
            display_name=f"{student.last_name} {student.first_name}".strip(),
        )

    def get(self, student_pk: int, year: AcademicYear) -> StudentYear | None:
        found = self._state.years.get((student_pk, str(year)))
        return self._named(found) if found is not None else None

    def of_students(self, student_pks: Iterable[int], year: AcademicYear) -> dict[int, StudentYear]:
        found = {pk: self.get(pk, year) for pk in student_pks}
        return {pk: record for pk, record in found.items() if record is not None}

    def of_campus(self, campus_id: str, year: AcademicYear) -> list[StudentYear]:
        students = FakeStudents(self._state, self._audit).of_campus(campus_id)
        found = self.of_students([student.pk for student in students], year)
        return [found[student.pk] for student in students if student.pk in found]

    def years(self, campus_id: str) -> list[AcademicYear]:
        texts = {
            text
            for pk, text in self._state.years
            if self._state.students[pk].campus_id == campus_id
        }
        return sorted(AcademicYear.parse(text) for text in texts)

    def put(self, record: StudentYear, at: datetime) -> None:
        assert record.student_pk in self._state.students
        self._state.years[(record.student_pk, str(record.year))] = record


class FakeUnitOfWork:
    """A transaction on a copy of the stored state: ``commit`` puts it back; a
    ``savepoint`` block that raises restores the copy as it was before the block."""

    def __init__(self, stored: Stored) -> None:
        self._stored = stored

    def __enter__(self) -> FakeUnitOfWork:
        self._bind(copy.deepcopy(self._stored))
        return self

    def _bind(self, state: Stored) -> None:
        self._state = state
        audit = self.audit = FakeAuditTrail(state.audit)
        self.campuses = FakeCampuses(state, audit)
        self.students = FakeStudents(state, audit)
        self.tutors = FakeTutors(state, audit)
        self.contracts = FakeContracts(state, audit)
        self.badges = FakeBadges(state, audit)
        self.weeks = FakeWeeks(state, audit)
        self.years = FakeStudentYears(state, audit)
        self.activities = FakeActivities(state, audit)

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        del self._state  # no use after the transaction

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        before = copy.deepcopy(self._state)
        try:
            yield
        except BaseException:
            self._bind(before)
            raise

    def commit(self) -> None:
        commits = self._stored.commits
        self._stored.__dict__.update(copy.deepcopy(self._state).__dict__)
        self._stored.commits = commits + 1
