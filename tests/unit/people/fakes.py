"""In-memory fakes of the people ports (``server.ports.people``), for the unit tests of
the people use cases. The same contract suite runs against them and against the
registry's adapter (tests/integration/registry/test_people_store_contract.py)."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from typing import Any

from server.domain.academic_year import AcademicYear
from server.domain.accounts import Actor
from server.domain.calendar import IsoWeek
from server.domain.contracts import Contract, plan_contract_change
from server.domain.errors import DomainError
from server.domain.outcomes import StudentYear
from server.ports.people import (
    SaveOutcome,
    Sighting,
    StudentLine,
    StudentRecord,
    TutorRef,
)


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
class Stored:
    """What the fake registry holds (its committed state)."""

    campuses: set[str] = field(default_factory=set)
    students: dict[int, StudentRecord] = field(default_factory=dict)
    tutors: dict[int, TutorRef] = field(default_factory=dict)
    contracts: dict[int, FakeContract] = field(default_factory=dict)
    badges: dict[int, FakeBadge] = field(default_factory=dict)
    sightings: dict[int, Sighting] = field(default_factory=dict)
    frozen_weeks: dict[tuple[int, str], dict[str, Any]] = field(default_factory=dict)
    years: dict[tuple[int, str], StudentYear] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)
    commits: int = 0

    def actions(self) -> list[str]:
        return [entry["action"] for entry in self.audit]


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


class FakeAuditTrail:
    def __init__(self, entries: list[dict[str, Any]]) -> None:
        self._entries = entries

    def record(
        self,
        *,
        at: datetime,
        actor: str,
        action: str,
        entity: str,
        entity_id: str | int,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
    ) -> None:
        self._entries.append(
            {
                "at": at,
                "actor": actor,
                "action": action,
                "entity": entity,
                "entity_id": str(entity_id),
                "before": dict(before) if before is not None else None,
                "after": dict(after) if after is not None else None,
            }
        )


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
        self.students = FakeStudents(state, audit)
        self.tutors = FakeTutors(state, audit)
        self.contracts = FakeContracts(state, audit)
        self.badges = FakeBadges(state, audit)
        self.weeks = FakeWeeks(state, audit)
        self.years = FakeStudentYears(state, audit)

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
