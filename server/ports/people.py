"""What the people use cases (students, tutors, contracts, badges, academic years) need
from storage, as ports: one unit of work holding the students, their contracts and
badges, the badges seen at readers that nobody holds yet, the frozen weeks a change
re-opens, the academic years, and the audit log.

The registry's adapter is ``server.registry.people_store`` (SQLite and PostgreSQL; its
writes of students, contracts and badges are those of
``server.registry.student_repository``, audited the same way); the unit tests of
``server.services.people`` use in-memory fakes of these ports
(tests/unit/people/fakes.py), and one contract suite runs against both. Records are
plain values; nothing is written until the unit of work commits."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Literal, Protocol

from server.domain.academic_year import AcademicYear
from server.domain.accounts import Actor
from server.domain.calendar import IsoWeek
from server.domain.contracts import Contract
from server.domain.outcomes import StudentYear

SaveOutcome = Literal["created", "updated", "unchanged"]


@dataclass(frozen=True, slots=True)
class StudentRecord:
    pk: int
    student_id: str
    campus_id: str
    last_name: str
    first_name: str
    email: str = ""
    phone: str = ""
    programme: str = ""
    institution: str = ""
    institution_type: str = ""
    tutor_id: int | None = None


@dataclass(frozen=True, slots=True)
class TutorRef:
    id: int
    email: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.name} ({self.email})" if self.name else self.email


@dataclass(frozen=True, slots=True)
class StudentLine:
    """A row of the admin's list: no phone number (the admin does not call students)."""

    pk: int
    student_id: str
    last_name: str
    first_name: str
    campus_id: str
    programme: str
    tutor: str  # e-mail, '' if nobody follows the student
    badges: int  # held now


@dataclass(frozen=True, slots=True)
class Sighting:
    """A badge tapped at a reader that no student held then."""

    id: int
    badge_hash: str
    campus_id: str
    reader_id: str
    first_seen: datetime
    last_seen: datetime
    seen_count: int
    attached_at: datetime | None = None


class Students(Protocol):
    def get(self, pk: int) -> StudentRecord | None: ...

    def by_student_id(self, student_id: str) -> StudentRecord | None: ...

    def save(
        self, student_id: str, values: Mapping[str, Any], actor: Actor
    ) -> tuple[StudentRecord, SaveOutcome]:
        """Create or update the student with these field values (audited
        ``student_created`` / ``student_updated`` with the fields that changed)."""
        ...

    def count(self, campus_ids: Iterable[str]) -> int: ...

    def listing(self, campus_ids: Iterable[str], search: str, limit: int) -> list[StudentLine]:
        """Students of these campuses whose id or name contains ``search`` (any case),
        by name, at most ``limit``."""
        ...

    def of_campus(self, campus_id: str) -> list[StudentRecord]:
        """Every student of the campus, by last name, first name, pk."""
        ...

    def campus_exists(self, campus_id: str) -> bool: ...


class Tutors(Protocol):
    def listing(self) -> list[TutorRef]:
        """Every tutor, by name then e-mail."""
        ...

    def exists(self, tutor_id: int) -> bool: ...

    def by_email(self, email: str, actor: Actor) -> TutorRef:
        """The tutor with this e-mail (lower-cased), created if new (audited)."""
        ...


class Contracts(Protocol):
    def in_force(self, student_pk: int) -> list[Contract]:
        """The versions not replaced by a correction, in the order they were recorded."""
        ...

    def apply(self, student_pk: int, contract: Contract, actor: Actor) -> bool:
        """Record ``contract`` as the student's, history kept, each replaced or ended
        version audited; False when it was already in force as it is."""
        ...


class Badges(Protocol):
    def held(self, student_pk: int) -> int:
        """How many badges the student holds now."""
        ...

    def give(self, student_pk: int, badge_hash: str, active_from: datetime, actor: Actor) -> bool:
        """Attach a badge (by its keyed hash) from ``active_from`` (not before another
        holder gave it back), close its open sighting; False if the student already
        holds it; :class:`~server.domain.errors.DomainError` if someone else does."""
        ...

    def revoke_all(self, student_pk: int, reason: str, actor: Actor) -> int:
        """Revoke every badge the student holds now, each audited; how many."""
        ...

    def sighting(self, sighting_id: int) -> Sighting | None: ...

    def sightings(self, campus_id: str | None = None) -> list[Sighting]:
        """Sightings not attached yet, most recently seen first."""
        ...

    def seen_unattached(self, badge_hash: str) -> bool:
        """Whether a reader saw this badge and it is not attached yet."""
        ...


class Weeks(Protocol):
    def reopen(
        self, student_pk: int, weeks: Iterable[IsoWeek], actor: Actor, *, cause: str
    ) -> list[IsoWeek]:
        """Drop the student's frozen records of ``weeks`` (each audited
        ``week_reopened`` with what it said); the weeks dropped, in order."""
        ...


class StudentYears(Protocol):
    def get(self, student_pk: int, year: AcademicYear) -> StudentYear | None: ...

    def of_students(self, student_pks: Iterable[int], year: AcademicYear) -> dict[int, StudentYear]:
        """The records of ``year`` of these students, by student pk (one query)."""
        ...

    def of_campus(self, campus_id: str, year: AcademicYear) -> list[StudentYear]:
        """The campus's records of ``year``, by the student's name."""
        ...

    def years(self, campus_id: str) -> list[AcademicYear]:
        """The years with a record on the campus, oldest first."""
        ...

    def put(self, record: StudentYear, at: datetime) -> None:
        """Create or replace the record of ``record.student_pk`` for ``record.year``."""
        ...


class AuditTrail(Protocol):
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
    ) -> None: ...


class PeopleUnitOfWork(Protocol):
    """One transaction: ``with uow: ...; uow.commit()``; leaving without ``commit``
    discards every change. ``with uow.savepoint(): ...`` undoes what its block wrote
    when the block raises (one imported row), and lets the error through."""

    students: Students
    tutors: Tutors
    contracts: Contracts
    badges: Badges
    weeks: Weeks
    years: StudentYears
    audit: AuditTrail

    def __enter__(self) -> PeopleUnitOfWork: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...

    def savepoint(self) -> AbstractContextManager[None]: ...

    def commit(self) -> None: ...
