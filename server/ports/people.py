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

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Any, Literal, Protocol

from server.domain.academic_year import AcademicYear
from server.domain.accounts import Actor
from server.domain.calendar import CampusCalendar, IsoWeek
from server.domain.contracts import Contract, Slot
from server.domain.outcomes import StudentYear
from server.ports.activities import Activities

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
class HeldBadge:
    """One holding of a badge: by whom, from when, until when (None: still held)."""

    badge_hash: str
    student_pk: int
    active_from: datetime
    revoked_at: datetime | None


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


@dataclass(frozen=True, slots=True)
class CampusRef:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class CampusZones:
    """A campus row's copy of the configured time zone and school-holiday zone."""

    id: str
    timezone: str
    school_zone: str | None


class Campuses(Protocol):
    """The campuses, their readers, and what the admin enters of their calendar."""

    def listing(self) -> list[CampusRef]:
        """Every campus, by id (``name`` as stored, maybe empty)."""
        ...

    def exists(self, campus_id: str) -> bool: ...

    def add(self, campus_id: str, name: str, timezone: str, school_zone: str | None) -> None: ...

    def readers(self, campus_id: str) -> list[str]:
        """The campus's reader ids, sorted."""
        ...

    def add_reader(self, campus_id: str, reader_id: str, mode: str) -> None: ...

    def zones(self) -> list[CampusZones]:
        """Every campus's stored zones, by id."""
        ...

    def set_zones(self, campus_id: str, timezone: str, school_zone: str | None) -> None: ...

    def calendar(self, campus_id: str) -> CampusCalendar:
        """The campus's calendar as the ledger reads it (the configured zones)."""
        ...

    def opening_hours(self, campus_id: str) -> list[Slot]: ...

    def set_opening_hours(self, campus_id: str, hours: Sequence[Slot]) -> None:
        """Replace the campus's weekly hours."""
        ...

    def add_closure(self, campus_id: str, start: date, end: date, label: str) -> int: ...

    def closes_on_school_holidays(self, campus_id: str) -> bool: ...

    def set_closes_on_school_holidays(self, campus_id: str, closes: bool) -> None: ...

    def put_school_holiday(self, zone: str, start: date, end: date, label: str) -> None:
        """Add the period of ``zone`` starting on ``start``, or change its end and label."""
        ...


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

    def of_tutor(self, tutor_id: int) -> list[StudentRecord]:
        """The students the tutor follows, by last name, first name, pk."""
        ...

    def on_campus(self, campus_id: str, pks: Iterable[int]) -> set[int]:
        """Which of these students are of the campus."""
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

    def holdings(self, campus_id: str, badge_hashes: Iterable[str]) -> list[HeldBadge]:
        """Every holding, past or present, of these badges by students of the campus."""
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

    campuses: Campuses
    students: Students
    tutors: Tutors
    contracts: Contracts
    badges: Badges
    weeks: Weeks
    years: StudentYears
    activities: Activities
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
