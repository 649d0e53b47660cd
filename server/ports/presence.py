"""What the presence use cases (``server.services.presence``: the ledger, the doors'
verdicts, the week's story, corrections and excuses) need from storage, as ports: a unit
of work holding the presence store and the students it names, with the audit trail.

The registry's adapter is ``server.registry.presence_repository.PresenceRepository``
with the unit of work of ``server.registry.presence_store``; the unit tests use in-memory
fakes (``tests/unit/presence/fakes.py``) and one contract suite runs against both. Reads
come in bulk (a whole campus's plans, holdings, corrections and excuses in one call each):
the ledger of a network reads thousands of students at once. Records are plain values."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Protocol
from zoneinfo import ZoneInfo

from server.domain.accounts import Actor
from server.domain.calendar import CampusCalendar, IsoWeek
from server.domain.contracts import Contract
from server.domain.errors import Conflict
from server.domain.ledger import Excuse, WeekLine
from server.domain.sessions import Correction, ReaderMode
from server.ports.accounts import AuditTrail

# The audit log's names for the records a tutor adds (``entity`` of an audit entry).
CORRECTIONS_ENTITY = "presence_corrections"
EXCUSES_ENTITY = "excused_absences"


class AlreadyFrozen(Conflict):
    """A weekly record of these lines was stored meanwhile (by another worker)."""


@dataclass(frozen=True, slots=True)
class BadgeHolding:
    """A student holding a badge (by its hash) from ``active_from`` to ``revoked_at``."""

    badge_hash: str
    student_pk: int
    active_from: datetime
    revoked_at: datetime | None

    def holds_at(self, moment: datetime) -> bool:
        return self.active_from <= moment and (self.revoked_at is None or moment < self.revoked_at)


@dataclass(frozen=True, slots=True)
class StudentPlan:
    """A student and the contracts that matter for a span of days."""

    student_pk: int
    student_id: str
    campus_id: str
    contracts: tuple[Contract, ...]


@dataclass(frozen=True, slots=True)
class Sighting:
    badge_hash: str
    campus_id: str
    reader_id: str
    ts: datetime


@dataclass(frozen=True, slots=True)
class ExcuseRecord:
    """An excused absence as recorded (the tutor's page, the student's data export)."""

    start: datetime
    end: datetime
    category: str
    note: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class CorrectionNote:
    """A correction of presence as recorded: what (``domain.sessions.CorrectionKind``
    value and times), who, when and why."""

    kind: str
    moment: datetime
    session_start: datetime | None
    start: datetime | None
    end: datetime | None
    reason: str
    author: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class FrozenRecord:
    """What a frozen week keeps besides its figures: when, and how it adds up (the
    ``domain.week_story`` breakdown, JSON; None for weeks frozen before it was kept)."""

    frozen_at: datetime
    breakdown: str | None


@dataclass(frozen=True, slots=True)
class StudentKey:
    pk: int
    student_id: str


@dataclass(frozen=True, slots=True)
class StudentCard:
    """A student as the pages name them, with what access checks need."""

    pk: int
    student_id: str
    campus_id: str
    tutor_id: int | None
    name: str
    phone: str
    tutor: str  # the tutor's label, "" without a tutor


# One frozen line to store: (student pk, line, its breakdown JSON or None).
FrozenLine = tuple[int, WeekLine, str | None]


class PresenceStore(Protocol):
    """The presence engine's reads and writes (one unit of work)."""

    @property
    def zone(self) -> ZoneInfo:
        """The deployment's time zone (``[presence] timezone``)."""
        ...

    def campus_ids(self) -> list[str]: ...

    def reader_modes(self) -> dict[tuple[str, str], ReaderMode]:
        """Every registered reader's mode, by (campus, reader)."""
        ...

    def calendar(self, campus_id: str) -> CampusCalendar:
        """The campus's calendar, read once per unit of work."""
        ...

    def holdings_for_hashes(self, hashes: Collection[str]) -> list[BadgeHolding]:
        """Holdings of these hashes, and every other badge of the students holding them,
        by ``active_from``."""
        ...

    def holdings_for_campus(self, campus_id: str) -> list[BadgeHolding]:
        """Every holding of the campus's students, by ``active_from``."""
        ...

    def note_unknown(self, sightings: Iterable[Sighting]) -> None:
        """Keep unknown badges seen, one open entry per hash, for an admin to attach."""
        ...

    def plans(self, campus_id: str | None, first: date, last: date) -> list[StudentPlan]:
        """Students (of the campus; every campus when None) with a contract not replaced
        overlapping ``first``..``last``, by student id, contracts by start."""
        ...

    def excuses(
        self, student_pks: Collection[int], start: datetime, end: datetime
    ) -> dict[int, list[Excuse]]:
        """Excused absences overlapping ``start``..``end``, by student."""
        ...

    def corrections(
        self, student_pks: Collection[int], start: datetime, end: datetime
    ) -> dict[int, list[Correction]]:
        """Corrections whose moment is in ``start``..``end``, oldest first, by student."""
        ...

    def frozen(
        self, weeks: Collection[IsoWeek], campus_id: str | None
    ) -> dict[tuple[int, str], WeekLine]:
        """Frozen lines of these weeks by (student pk, week label)."""
        ...

    def frozen_weeks_of(
        self, wanted: Collection[tuple[int, str, str]]
    ) -> dict[StudentKey, list[IsoWeek]]:
        """Of ``(student pk, campus, week label)``, the weeks frozen for a student of
        that campus, by student."""
        ...

    def freeze(self, lines: Iterable[FrozenLine], frozen_at: datetime) -> int:
        """Store weekly records; raises :class:`AlreadyFrozen` when one exists."""
        ...

    def unfreeze(self, lines: Iterable[FrozenLine], frozen_at: datetime) -> None:
        """Drop the records ``freeze(lines, frozen_at)`` stored."""
        ...

    def frozen_record(self, student_pk: int, week: IsoWeek) -> FrozenRecord | None: ...

    def correction_notes(
        self, student_pk: int, start: datetime, end: datetime
    ) -> list[CorrectionNote]:
        """Corrections whose moment is in ``start``..``end``, in the order made."""
        ...

    def excuse_notes(self, student_pk: int, start: datetime, end: datetime) -> list[ExcuseRecord]:
        """Excused absences overlapping ``start``..``end``, by start."""
        ...

    def add_correction(self, student_pk: int, note: CorrectionNote) -> int:
        """Stored; returns its id."""
        ...

    def add_excuse(self, student_pk: int, excuse: ExcuseRecord) -> int:
        """Stored; returns its id."""
        ...


class PresenceStudents(Protocol):
    """The students the presence use cases name, and their frozen weeks re-opened."""

    def key(self, student_id: str) -> StudentKey | None: ...

    def card(self, student_id: str) -> StudentCard | None: ...

    def reopen_weeks(
        self, student: StudentKey, weeks: Iterable[IsoWeek], actor: Actor, *, cause: str
    ) -> list[IsoWeek]:
        """Drop the frozen records of ``weeks`` (each with an audit entry ``week_reopened``
        holding what it said and ``cause``); returns the weeks re-opened, by label."""
        ...


class PresenceUnitOfWork(Protocol):
    """One transaction: ``with uow: ...; uow.commit()``; leaving without ``commit``
    discards every change."""

    presence: PresenceStore
    students: PresenceStudents
    audit: AuditTrail

    def __enter__(self) -> PresenceUnitOfWork: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...


class PresenceUnits(Protocol):
    """What a presence use case is built with: a new unit of work on each call.
    ``reads_only``: the caller will not write (a report): the registry may then read
    without taking its write lock (SQLite's ``BEGIN IMMEDIATE``), so that several report
    processes and the ingest go on at the same time; committing it is an error."""

    def __call__(self, *, reads_only: bool = False) -> PresenceUnitOfWork: ...
