"""What the screens (``server.services.screens``) read from storage, as ports: the read
models of the tutor's, the student's and the admin's pages, in bulk (one call for many
students or alerts), and the one thing a screen writes itself (a tutor's note).

The registry's adapter is ``server.registry.screen_reads`` (SQLite and PostgreSQL); the
unit tests of the screens use in-memory fakes of these ports. Records are plain values."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from types import TracebackType
from typing import Protocol

from server.domain.absences import Verdict
from server.domain.accounts import Principal, Role
from server.domain.alerts import AlertKind, AlertState, CallLog, CallOutcome, ReasonCategory
from server.domain.calendar import CampusCalendar, IsoWeek
from server.domain.contracts import Contract
from server.domain.ledger import WeekLine
from server.domain.sessions import Correction, ReaderMode, Session
from server.domain.slots import Excuse

# The alerts about one student a tutor's page shows (not the incidents: readers, capacity).
STUDENT_ALERTS = (AlertKind.ABSENCE.value, AlertKind.SHORTFALL.value, AlertKind.EARLY_WARNING.value)


@dataclass(frozen=True, slots=True)
class Scope:
    """``campus_id`` / ``tutor_id`` None: no restriction on it."""

    campus_id: str | None
    tutor_id: int | None

    @classmethod
    def of(cls, who: Principal) -> Scope:
        campus = who.campus_id or None
        if who.role is Role.TUTOR:
            # A tutor account without its tutor row sees nobody (-1 matches no tutor).
            return cls(campus, who.tutor_id if who.tutor_id is not None else -1)
        return cls(campus, None)


@dataclass(frozen=True, slots=True)
class StudentRef:
    """A student as the tutor pages name them, with what access checks need."""

    pk: int
    student_id: str
    campus_id: str
    tutor_id: int | None
    name: str
    phone: str
    tutor: str  # the tutor's name (``Tutor.label``), "" without a tutor


@dataclass(frozen=True, slots=True)
class StudentDetails:
    """A student's record as the follow-up page and the student's own pages show it."""

    pk: int
    student_id: str
    campus_id: str
    tutor_id: int | None
    first_name: str
    email: str
    programme: str
    institution: str


@dataclass(frozen=True, slots=True)
class SlotView:
    weekday: int  # 0 = Monday
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class ContractView:
    weekly_hours: float
    valid_from: date
    valid_to: date | None
    slots: tuple[SlotView, ...]


@dataclass(frozen=True, slots=True)
class ExcuseView:
    start: datetime
    end: datetime
    category: str
    note: str
    by: str


@dataclass(frozen=True, slots=True)
class NoteView:
    at: datetime
    author: str
    body: str


@dataclass(frozen=True, slots=True)
class CallLine:
    called_at: datetime
    outcome: str
    reason_category: str | None
    reason: str
    excused: bool
    author: str

    def log(self) -> CallLog:
        """The call as the domain's value (``domain.alerts.life`` reads it)."""
        category = ReasonCategory(self.reason_category) if self.reason_category else None
        return CallLog(
            self.called_at, CallOutcome(self.outcome), category, self.reason, self.excused
        )


@dataclass(frozen=True, slots=True)
class AlertFacts:
    """An alert about a student as stored: what its card shows, and its state."""

    id: int
    public_id: str
    kind: str
    campus_id: str
    student_pk: int
    status: str
    resolution: str | None
    slot_start: datetime | None
    slot_end: datetime | None
    week: str | None
    noticed_at: datetime
    acknowledged_at: datetime | None
    called_at: datetime | None
    arrived_at: datetime | None
    state: AlertState


@dataclass(frozen=True, slots=True)
class Escalation:
    """A campus's alert channel settings, as far as the call policy reads them."""

    escalation_minutes: int


class Plan(Protocol):
    """A student and their contracts over some days (the presence repository's)."""

    @property
    def student_pk(self) -> int: ...

    @property
    def student_id(self) -> str: ...

    @property
    def contracts(self) -> Sequence[Contract]: ...


class Holding(Protocol):
    """A student holding a badge (by its hash) for a while."""

    @property
    def badge_hash(self) -> str: ...

    @property
    def student_pk(self) -> int: ...

    def holds_at(self, moment: datetime) -> bool: ...


class PresenceReads(Protocol):
    """The presence reads a screen makes itself or hands to the presence use cases
    (``SessionReader``, ``corrected_sessions``) on the same transaction."""

    def calendar(self, campus_id: str) -> CampusCalendar: ...

    def plans(self, campus_id: str | None, first: date, last: date) -> Sequence[Plan]: ...

    def excuses(
        self, student_pks: Collection[int], start: datetime, end: datetime
    ) -> dict[int, list[Excuse]]: ...

    # read by the presence use cases the screens hand this to (``corrected_sessions``)
    def holdings_for_campus(self, campus_id: str) -> Sequence[Holding]: ...

    def reader_modes(self) -> dict[tuple[str, str], ReaderMode]: ...

    def corrections(
        self, student_pks: Collection[int], start: datetime, end: datetime
    ) -> dict[int, list[Correction]]: ...


class SessionSource(Protocol):
    """Presence sessions of some students of one campus over a span, corrections
    applied (``server.services.presence.tutor_sessions.SessionReader``)."""

    def sessions(
        self,
        repo: PresenceReads,
        campus_id: str,
        student_pks: Collection[int],
        span: tuple[datetime, datetime],
        now: datetime,
    ) -> dict[int, list[Session]]: ...


class WeekLedger(Protocol):
    """The weekly ledger's figures (``server.services.presence.ledger.LedgerService``)."""

    def weekly(
        self, week: IsoWeek, now: datetime, *, campus: str | None = None
    ) -> list[WeekLine]: ...

    def weeks(
        self, weeks: Sequence[IsoWeek], now: datetime, *, campus: str | None = None
    ) -> dict[IsoWeek, list[WeekLine]]: ...


class ScreenReads(Protocol):
    """One transaction of a screen: ``with reads: ...``; the one write (``add_note``)
    is kept only after ``commit``."""

    presence: PresenceReads

    def __enter__(self) -> ScreenReads: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    # students
    def students(self, scope: Scope) -> list[StudentRef]:
        """The scope's students, by name."""
        ...

    def student_ref(self, student_id: str) -> StudentRef | None: ...

    def student(self, student_pk: int) -> StudentDetails | None: ...

    def current_contracts(self, student_pk: int) -> list[ContractView]:
        """Contracts not replaced by a correction, by start day, slots in week order."""
        ...

    def student_excuses(self, student_pk: int, *, limit: int) -> list[ExcuseView]:
        """Latest first."""
        ...

    def notes(self, student_pk: int, *, limit: int) -> list[NoteView]:
        """Latest first."""
        ...

    def add_note(self, ref: StudentRef, *, author: str, body: str, at: datetime) -> int:
        """A note and its audit entry (the length, never the text); the note's id."""
        ...

    # alerts about students (absence, shortfall, early warning)
    def open_alerts(self, student_pks: Collection[int]) -> list[AlertFacts]:
        """Not closed, oldest noticed first."""
        ...

    def student_alerts(self, student_pk: int, *, limit: int) -> list[AlertFacts]:
        """Latest noticed first."""
        ...

    def alert(self, public_id: str) -> tuple[AlertFacts, StudentRef] | None: ...

    def calls(self, alert_ids: Collection[int]) -> dict[int, list[CallLine]]:
        """Every given alert's calls, oldest first (an empty list without calls)."""
        ...

    def escalations(self, campus_ids: Collection[str]) -> dict[str, Escalation]:
        """The campuses that have alert channel settings."""
        ...

    def verdicts(
        self, slots: Collection[tuple[int, datetime]]
    ) -> dict[tuple[int, datetime], Verdict]:
        """The absence watcher's verdicts on these (student, slot start)."""
        ...

    # the admin's overview
    def student_count(self, campus_ids: Collection[str]) -> int: ...

    def unknown_badges_waiting(self, campus_ids: Collection[str]) -> int:
        """Unknown badges seen on these campuses and not attached yet."""
        ...
