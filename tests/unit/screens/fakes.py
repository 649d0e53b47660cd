"""In-memory fakes of the screens' ports (``server.ports.screens``) and of the use cases
they compose (sessions, the weekly ledger, corrections), for fast tests of what a page
shows. The fakes keep the port's promises (orders, filters, nothing kept before
``commit``); the contract suite checks the registry adapter does the same."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from types import TracebackType

from server.domain.absences import Verdict
from server.domain.accounts import Actor
from server.domain.calendar import CampusCalendar, IsoWeek
from server.domain.contracts import Contract, ExcuseCategory
from server.domain.ledger import WeekLine
from server.domain.sessions import Correction, ReaderMode, Session
from server.domain.slots import Excuse
from server.ports.screens import (
    STUDENT_ALERTS,
    AlertFacts,
    CallLine,
    ContractView,
    Escalation,
    ExcuseView,
    Holding,
    NoteView,
    Scope,
    StudentDetails,
    StudentRef,
)


@dataclass(frozen=True, slots=True)
class FakePlan:
    student_pk: int
    student_id: str
    campus_id: str
    contracts: tuple[Contract, ...]


@dataclass
class FakePresence:
    """``PresenceReads``: calendars, contracts and excuses held in memory."""

    calendars: dict[str, CampusCalendar] = field(default_factory=dict)
    plans_by_campus: dict[str, list[FakePlan]] = field(default_factory=dict)
    excused: dict[int, list[Excuse]] = field(default_factory=lambda: defaultdict(list))

    def calendar(self, campus_id: str) -> CampusCalendar:
        return self.calendars.get(campus_id) or CampusCalendar()

    def plans(self, campus_id: str | None, first: date, last: date) -> list[FakePlan]:
        campuses = [campus_id] if campus_id is not None else list(self.plans_by_campus)
        found = []
        for campus in campuses:
            for plan in self.plans_by_campus.get(campus, []):
                wanted = tuple(c for c in plan.contracts if _overlaps(c, first, last))
                if wanted:
                    found.append(replace(plan, contracts=wanted))
        return found

    def excuses(
        self, student_pks: Collection[int], start: datetime, end: datetime
    ) -> dict[int, list[Excuse]]:
        return {
            pk: [e for e in self.excused.get(pk, []) if e.start < end and e.end > start]
            for pk in student_pks
            if self.excused.get(pk)
        }

    def holdings_for_campus(self, campus_id: str) -> Sequence[Holding]:
        return []

    def reader_modes(self) -> dict[tuple[str, str], ReaderMode]:
        return {}

    def corrections(
        self, student_pks: Collection[int], start: datetime, end: datetime
    ) -> dict[int, list[Correction]]:
        return {}


def _overlaps(contract: Contract, first: date, last: date) -> bool:
    return contract.valid_from <= last and (contract.valid_to is None or contract.valid_to >= first)


@dataclass
class Stored:
    """What the fake registry holds, shared by every unit of work."""

    students: dict[int, StudentDetails] = field(default_factory=dict)
    refs: dict[int, StudentRef] = field(default_factory=dict)
    last_names: dict[int, str] = field(default_factory=dict)
    contracts: dict[int, list[ContractView]] = field(default_factory=dict)
    excuses: dict[int, list[ExcuseView]] = field(default_factory=dict)
    notes: dict[int, list[NoteView]] = field(default_factory=dict)
    audit: list[dict[str, object]] = field(default_factory=list)
    alerts: list[AlertFacts] = field(default_factory=list)
    calls: dict[int, list[CallLine]] = field(default_factory=dict)
    escalations: dict[str, Escalation] = field(default_factory=dict)
    verdicts: dict[tuple[int, datetime], Verdict] = field(default_factory=dict)
    unknown_badges: list[tuple[str, bool]] = field(default_factory=list)  # (campus, attached)
    presence: FakePresence = field(default_factory=FakePresence)
    units: int = 0  # units of work opened

    def add_student(
        self,
        pk: int,
        student_id: str,
        first: str,
        last: str,
        *,
        campus: str = "c1",
        tutor_id: int | None = None,
        tutor: str = "",
        phone: str = "",
        email: str = "",
    ) -> StudentRef:
        ref = StudentRef(pk, student_id, campus, tutor_id, f"{first} {last}", phone, tutor)
        self.refs[pk] = ref
        self.last_names[pk] = last
        self.students[pk] = StudentDetails(
            pk, student_id, campus, tutor_id, first, email, "Licence", "Université"
        )
        return ref


class FakeScreenReads:
    """``ScreenReads`` over :class:`Stored`; notes written are kept only on ``commit``."""

    def __init__(self, stored: Stored) -> None:
        self.stored = stored
        self.presence = stored.presence
        self._notes: list[tuple[int, NoteView]] = []
        self._audit: list[dict[str, object]] = []
        self.committed = False

    def __enter__(self) -> FakeScreenReads:
        self.stored.units += 1
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._notes, self._audit = [], []

    def commit(self) -> None:
        for pk, note in self._notes:
            self.stored.notes.setdefault(pk, []).append(note)
        self.stored.audit.extend(self._audit)
        self._notes, self._audit = [], []

    def students(self, scope: Scope) -> list[StudentRef]:
        found = [
            ref
            for ref in self.stored.refs.values()
            if (scope.campus_id is None or ref.campus_id == scope.campus_id)
            and (scope.tutor_id is None or ref.tutor_id == scope.tutor_id)
        ]
        return sorted(
            found,
            key=lambda r: (
                self.stored.last_names[r.pk],
                self.stored.students[r.pk].first_name,
                r.pk,
            ),
        )

    def student_ref(self, student_id: str) -> StudentRef | None:
        return next((r for r in self.stored.refs.values() if r.student_id == student_id), None)

    def student(self, student_pk: int) -> StudentDetails | None:
        return self.stored.students.get(student_pk)

    def current_contracts(self, student_pk: int) -> list[ContractView]:
        return sorted(self.stored.contracts.get(student_pk, []), key=lambda c: c.valid_from)

    def student_excuses(self, student_pk: int, *, limit: int) -> list[ExcuseView]:
        rows = sorted(self.stored.excuses.get(student_pk, []), key=lambda e: e.start, reverse=True)
        return rows[:limit]

    def notes(self, student_pk: int, *, limit: int) -> list[NoteView]:
        rows = sorted(self.stored.notes.get(student_pk, []), key=lambda n: n.at, reverse=True)
        return rows[:limit]

    def add_note(self, ref: StudentRef, *, author: str, body: str, at: datetime) -> int:
        self._notes.append((ref.pk, NoteView(at, author, body)))
        note_id = sum(len(notes) for notes in self.stored.notes.values()) + len(self._notes)
        self._audit.append(
            {"action": "note_added", "entity_id": note_id, "chars": len(body), "actor": author}
        )
        return note_id

    def _about_students(self) -> list[AlertFacts]:
        return [a for a in self.stored.alerts if a.kind in STUDENT_ALERTS]

    def open_alerts(self, student_pks: Collection[int]) -> list[AlertFacts]:
        wanted = set(student_pks)
        found = [
            a for a in self._about_students() if a.status != "closed" and a.student_pk in wanted
        ]
        return sorted(found, key=lambda a: (a.noticed_at, a.id))

    def student_alerts(self, student_pk: int, *, limit: int) -> list[AlertFacts]:
        found = [a for a in self._about_students() if a.student_pk == student_pk]
        return sorted(found, key=lambda a: (a.noticed_at, a.id), reverse=True)[:limit]

    def alert(self, public_id: str) -> tuple[AlertFacts, StudentRef] | None:
        for facts in self._about_students():
            if facts.public_id == public_id:
                return facts, self.stored.refs[facts.student_pk]
        return None

    def calls(self, alert_ids: Collection[int]) -> dict[int, list[CallLine]]:
        return {pk: list(self.stored.calls.get(pk, [])) for pk in alert_ids}

    def escalations(self, campus_ids: Collection[str]) -> dict[str, Escalation]:
        return {c: self.stored.escalations[c] for c in campus_ids if c in self.stored.escalations}

    def verdicts(
        self, slots: Collection[tuple[int, datetime]]
    ) -> dict[tuple[int, datetime], Verdict]:
        return {key: self.stored.verdicts[key] for key in slots if key in self.stored.verdicts}

    def student_count(self, campus_ids: Collection[str]) -> int:
        return sum(1 for ref in self.stored.refs.values() if ref.campus_id in campus_ids)

    def unknown_badges_waiting(self, campus_ids: Collection[str]) -> int:
        return sum(
            1 for c, attached in self.stored.unknown_badges if c in campus_ids and not attached
        )


@dataclass
class FakeSessions:
    """``SessionSource``: each student's sessions, given by the test; records the spans
    it was asked about."""

    by_student: dict[int, list[Session]] = field(default_factory=dict)
    asked: list[tuple[str, frozenset[int], tuple[datetime, datetime]]] = field(default_factory=list)

    def sessions(
        self,
        repo: object,
        campus_id: str,
        student_pks: Collection[int],
        span: tuple[datetime, datetime],
        now: datetime,
    ) -> dict[int, list[Session]]:
        self.asked.append((campus_id, frozenset(student_pks), span))
        first, last = span
        return {
            pk: [s for s in self.by_student.get(pk, []) if s.start < last and s.end > first]
            for pk in student_pks
        }


@dataclass
class FakeLedger:
    """``WeekLedger``: the lines of each (campus, week), given by the test."""

    lines: dict[tuple[str, IsoWeek], list[WeekLine]] = field(default_factory=dict)

    def weekly(self, week: IsoWeek, now: datetime, *, campus: str | None = None) -> list[WeekLine]:
        return [
            line
            for (where, when), lines in self.lines.items()
            if when == week and campus in (None, where)
            for line in lines
        ]

    def weeks(
        self, weeks: Sequence[IsoWeek], now: datetime, *, campus: str | None = None
    ) -> dict[IsoWeek, list[WeekLine]]:
        return {week: self.weekly(week, now, campus=campus) for week in weeks}


@dataclass
class FakeCorrections:
    """``Corrections``: what was asked, in order."""

    done: list[tuple[object, ...]] = field(default_factory=list)

    def correct(self, student_id: str, correction: Correction, *, reason: str, actor: Actor) -> int:
        self.done.append(("correct", student_id, correction, reason))
        return len(self.done)

    def excuse(
        self,
        student_id: str,
        start: datetime,
        end: datetime,
        category: ExcuseCategory,
        *,
        note: str,
        actor: Actor,
    ) -> int:
        self.done.append(("excuse", student_id, start, end, category, note))
        return len(self.done)
