"""In-memory fakes of the presence ports (``server.ports.presence``), for the unit tests
of the presence use cases. The same contract suite runs against them and against the
registry's adapter (tests/integration/registry/test_presence_store_contract.py)."""

from __future__ import annotations

import copy
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from types import TracebackType
from typing import Any
from zoneinfo import ZoneInfo

from server.domain.accounts import Actor
from server.domain.calendar import CampusCalendar, IsoWeek
from server.domain.contracts import Contract, ExcuseCategory
from server.domain.ledger import Excuse, WeekLine
from server.domain.sessions import Correction, CorrectionKind, ReaderMode
from server.ports.presence import (
    AlreadyFrozen,
    BadgeHolding,
    CorrectionNote,
    ExcuseRecord,
    FrozenLine,
    FrozenRecord,
    Sighting,
    StudentCard,
    StudentKey,
    StudentPlan,
)
from tests.unit.accounts.fakes import FakeAuditTrail


@dataclass
class Frozen:
    line: WeekLine
    frozen_at: datetime
    breakdown: str | None


@dataclass
class Unknown:
    campus_id: str
    reader_id: str
    first_seen: datetime
    last_seen: datetime
    seen_count: int


@dataclass
class Stored:
    """What the fake registry holds (committed state)."""

    timezone: str = "Europe/Paris"
    campuses: list[str] = field(default_factory=list)
    calendars: dict[str, CampusCalendar] = field(default_factory=dict)
    modes: dict[tuple[str, str], ReaderMode] = field(default_factory=dict)
    students: dict[int, StudentCard] = field(default_factory=dict)
    contracts: dict[int, list[Contract]] = field(default_factory=dict)
    holdings: list[BadgeHolding] = field(default_factory=list)
    corrections: dict[int, list[CorrectionNote]] = field(default_factory=dict)
    excuses: dict[int, list[ExcuseRecord]] = field(default_factory=dict)
    weekly: dict[tuple[int, str], Frozen] = field(default_factory=dict)
    unknown: dict[str, Unknown] = field(default_factory=dict)
    audit: list[dict[str, Any]] = field(default_factory=list)
    next_id: int = 1
    commits: int = 0

    def student(self, pk: int, student_id: str, campus_id: str, **more: Any) -> StudentCard:
        """Add a student (name, tutor... in ``more``)."""
        values = {"tutor_id": None, "name": "", "phone": "", "tutor": "", **more}
        card = StudentCard(pk=pk, student_id=student_id, campus_id=campus_id, **values)
        self.students[pk] = card
        if campus_id not in self.campuses:
            self.campuses.append(campus_id)
        return card


def _overlaps(contract: Contract, first: date, last: date) -> bool:
    return contract.valid_from <= last and (contract.valid_to is None or contract.valid_to >= first)


class FakePresenceStore:
    def __init__(self, stored: Stored) -> None:
        self._s = stored

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self._s.timezone)

    def campus_ids(self) -> list[str]:
        return sorted(self._s.campuses)

    def reader_modes(self) -> dict[tuple[str, str], ReaderMode]:
        return dict(self._s.modes)

    def calendar(self, campus_id: str) -> CampusCalendar:
        return self._s.calendars.get(campus_id) or CampusCalendar(timezone=self._s.timezone)

    def holdings_for_hashes(self, hashes: Collection[str]) -> list[BadgeHolding]:
        holders = {h.student_pk for h in self._s.holdings if h.badge_hash in hashes}
        found = [h for h in self._s.holdings if h.student_pk in holders]
        return sorted(found, key=lambda h: h.active_from)

    def holdings_for_campus(self, campus_id: str) -> list[BadgeHolding]:
        pks = {pk for pk, card in self._s.students.items() if card.campus_id == campus_id}
        found = [h for h in self._s.holdings if h.student_pk in pks]
        return sorted(found, key=lambda h: h.active_from)

    def note_unknown(self, sightings: Iterable[Sighting]) -> None:
        by_hash: dict[str, list[Sighting]] = defaultdict(list)
        for sighting in sightings:
            by_hash[sighting.badge_hash].append(sighting)
        for badge_hash, seen in by_hash.items():
            first = min(seen, key=lambda s: s.ts)
            last = max(seen, key=lambda s: s.ts)
            row = self._s.unknown.get(badge_hash)
            if row is None:
                row = self._s.unknown[badge_hash] = Unknown(
                    first.campus_id, first.reader_id, first.ts, last.ts, 0
                )
            row.first_seen = min(row.first_seen, first.ts)
            row.last_seen = max(row.last_seen, last.ts)
            row.campus_id, row.reader_id = last.campus_id, last.reader_id
            row.seen_count += len(seen)

    def plans(self, campus_id: str | None, first: date, last: date) -> list[StudentPlan]:
        plans = []
        for pk, card in sorted(self._s.students.items(), key=lambda item: item[1].student_id):
            if campus_id is not None and card.campus_id != campus_id:
                continue
            contracts = sorted(
                (c for c in self._s.contracts.get(pk, []) if _overlaps(c, first, last)),
                key=lambda c: c.valid_from,
            )
            if contracts:
                plans.append(StudentPlan(pk, card.student_id, card.campus_id, tuple(contracts)))
        return plans

    def excuses(
        self, student_pks: Collection[int], start: datetime, end: datetime
    ) -> dict[int, list[Excuse]]:
        found: dict[int, list[Excuse]] = defaultdict(list)
        for pk in student_pks:
            for row in self._s.excuses.get(pk, []):
                if row.start < end and row.end > start:
                    found[pk].append(Excuse(row.start, row.end, ExcuseCategory(row.category)))
        return found

    def corrections(
        self, student_pks: Collection[int], start: datetime, end: datetime
    ) -> dict[int, list[Correction]]:
        found: dict[int, list[Correction]] = defaultdict(list)
        for pk in student_pks:
            for note in self.correction_notes(pk, start, end):
                found[pk].append(
                    Correction(CorrectionKind(note.kind), note.session_start, note.start, note.end)
                )
        return found

    def frozen(
        self, weeks: Collection[IsoWeek], campus_id: str | None
    ) -> dict[tuple[int, str], WeekLine]:
        labels = {str(week) for week in weeks}
        return {
            (pk, label): row.line
            for (pk, label), row in self._s.weekly.items()
            if label in labels
            and (campus_id is None or self._s.students[pk].campus_id == campus_id)
        }

    def frozen_weeks_of(
        self, wanted: Collection[tuple[int, str, str]]
    ) -> dict[StudentKey, list[IsoWeek]]:
        found: dict[StudentKey, list[IsoWeek]] = defaultdict(list)
        for pk, campus, label in sorted(wanted):
            card = self._s.students.get(pk)
            if card is not None and card.campus_id == campus and (pk, label) in self._s.weekly:
                found[StudentKey(pk, card.student_id)].append(IsoWeek.parse(label))
        return dict(found)

    def freeze(self, lines: Iterable[FrozenLine], frozen_at: datetime) -> int:
        lines = list(lines)
        if any((pk, str(line.week)) in self._s.weekly for pk, line, _ in lines):
            raise AlreadyFrozen("weekly records frozen meanwhile")
        for pk, line, kept in lines:
            self._s.weekly[(pk, str(line.week))] = Frozen(line, frozen_at, kept)
        return len(lines)

    def unfreeze(self, lines: Iterable[FrozenLine], frozen_at: datetime) -> None:
        for pk, line, _ in lines:
            key = (pk, str(line.week))
            row = self._s.weekly.get(key)
            if row is not None and row.frozen_at == frozen_at:
                del self._s.weekly[key]

    def frozen_record(self, student_pk: int, week: IsoWeek) -> FrozenRecord | None:
        row = self._s.weekly.get((student_pk, str(week)))
        return FrozenRecord(row.frozen_at, row.breakdown) if row is not None else None

    def correction_notes(
        self, student_pk: int, start: datetime, end: datetime
    ) -> list[CorrectionNote]:
        # kept in the order made (ids increase): the registry's order by created_at, id
        notes = [n for n in self._s.corrections.get(student_pk, []) if start <= n.moment < end]
        return sorted(notes, key=lambda note: note.created_at)

    def excuse_notes(self, student_pk: int, start: datetime, end: datetime) -> list[ExcuseRecord]:
        rows = [r for r in self._s.excuses.get(student_pk, []) if r.start < end and r.end > start]
        return sorted(rows, key=lambda row: row.start)

    def add_correction(self, student_pk: int, note: CorrectionNote) -> int:
        self._s.corrections.setdefault(student_pk, []).append(note)
        return self._new_id()

    def add_excuse(self, student_pk: int, excuse: ExcuseRecord) -> int:
        self._s.excuses.setdefault(student_pk, []).append(excuse)
        return self._new_id()

    def _new_id(self) -> int:
        self._s.next_id += 1
        return self._s.next_id - 1


class FakePresenceStudents:
    def __init__(self, stored: Stored, audit: FakeAuditTrail) -> None:
        self._s = stored
        self._audit = audit

    def _card(self, student_id: str) -> StudentCard | None:
        found = [card for card in self._s.students.values() if card.student_id == student_id]
        return found[0] if found else None

    def key(self, student_id: str) -> StudentKey | None:
        card = self._card(student_id)
        return StudentKey(card.pk, card.student_id) if card is not None else None

    def card(self, student_id: str) -> StudentCard | None:
        return self._card(student_id)

    def reopen_weeks(
        self, student: StudentKey, weeks: Iterable[IsoWeek], actor: Actor, *, cause: str
    ) -> list[IsoWeek]:
        labels = sorted({str(week) for week in weeks})
        reopened = []
        for label in labels:
            row = self._s.weekly.pop((student.pk, label), None)
            if row is None:
                continue
            before = {
                "student_id": student.student_id,
                "week": label,
                "status": row.line.status.value,
                "attended_s": row.line.attended_s,
                "expected_s": row.line.expected_s,
            }
            self._audit.record(
                at=actor.at,
                actor=actor.name,
                action="week_reopened",
                entity="weekly_record",
                entity_id=f"{student.student_id}/{label}",
                before=before,
                after={"cause": cause},
            )
            reopened.append(IsoWeek.parse(label))
        return reopened


class FakePresenceUnitOfWork:
    """Works on a copy of the stored state; ``commit`` makes it the stored state."""

    def __init__(self, stored: Stored) -> None:
        self._stored = stored

    def __enter__(self) -> FakePresenceUnitOfWork:
        self._work = copy.deepcopy(self._stored)
        self.presence = FakePresenceStore(self._work)
        self.audit = FakeAuditTrail(self._work.audit)
        self.students = FakePresenceStudents(self._work, self.audit)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        del self._work

    def commit(self) -> None:
        self._work.commits += 1
        for name, value in vars(self._work).items():
            setattr(self._stored, name, copy.deepcopy(value))


def units(stored: Stored) -> Any:
    """The factory a presence use case is built with (``ports.presence.PresenceUnits``)."""
    return lambda *, reads_only=False: FakePresenceUnitOfWork(stored)
