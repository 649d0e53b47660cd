"""What the presence engine reads from and writes to the registry, as domain values.

Reads use Core selects (tuples, not ORM objects): the weekly ledger of a whole network
reads thousands of students at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    String,
    Time,
    bindparam,
    cast,
    delete,
    insert,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Result
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import Executable

from server.config import PresenceSettings
from server.domain.calendar import CampusCalendar, Hours, IsoWeek, Period
from server.domain.contracts import Contract, ExcuseCategory, Slot
from server.domain.ledger import Excuse, WeekLine, WeekStatus
from server.domain.sessions import Correction, CorrectionKind, ReaderMode
from server.ports.presence import (
    AlreadyFrozen,
    BadgeHolding,
    CorrectionNote,
    ExcuseRecord,
    FrozenLine,
    FrozenRecord,
    Sighting,
    StudentKey,
    StudentPlan,
)
from server.registry.models import (
    Badge,
    Campus,
    Closure,
    ContractSlot,
    ExcusedAbsence,
    OpeningException,
    OpeningHours,
    PresenceCorrection,
    Reader,
    SchoolHoliday,
    Student,
    UnknownBadge,
    WeeklyRecord,
)
from server.registry.models import Contract as ContractRow


class PresenceRepository:
    """The registry's :class:`server.ports.presence.PresenceStore`."""

    def __init__(
        self, session: Session, *, school_zone: str = "A", timezone: str = "Europe/Paris"
    ) -> None:
        self.session = session
        self.school_zone = school_zone
        self.timezone = timezone
        self._calendars: dict[str, CampusCalendar] = {}
        # Students read in this session, held so that re-opening their weeks
        # (``presence_store.SqlPresenceStudents``) reads them no second time.
        self.students_read: dict[int, Student] = {}

    def _rows(self, statement: Executable, params: dict[str, Any]) -> Result[Any]:
        """Rows of a prepared Core statement (below), on the session's connection: no
        statement built per call, no ORM layer on plain rows. Pending ORM changes are
        flushed first, as ``Session.execute`` would."""
        self.session.flush()
        return self.session.connection().execute(statement, params)

    # ------------------------------------------------------------------ places

    def campus_ids(self) -> list[str]:
        return list(self.session.scalars(select(Campus.id).order_by(Campus.id)))

    @property
    def zone(self) -> ZoneInfo:
        """The deployment's default time zone (a campus without its own)."""
        return ZoneInfo(self.timezone)

    def reader_modes(self) -> dict[tuple[str, str], ReaderMode]:
        rows = self._rows(_READER_MODES, {})
        return {(campus, reader): ReaderMode(mode) for campus, reader, mode in rows}

    def calendar(self, campus_id: str) -> CampusCalendar:
        """The campus's calendar, read once per repository (one unit of work: a page
        asks it for the slots, then for the sessions)."""
        known = self._calendars.get(campus_id)
        if known is None:
            known = self._calendars[campus_id] = self._read_calendar(campus_id)
        return known

    def _read_calendar(self, campus_id: str) -> CampusCalendar:
        # The campus's flags and its weekly hours in one query (outer join: a campus
        # without hours gives one row of NULL hours).
        rows = self._rows(_CAMPUS_HOURS, {"campus": campus_id}).all()
        if not rows:
            return CampusCalendar(timezone=self.timezone)
        school, public, subdivision = rows[0][:3]
        weekly: dict[int, list[Hours]] = defaultdict(list)
        for *_, weekday, opens, closes in rows:
            if weekday is not None:
                weekly[weekday].append(Hours(opens, closes))
        # The time zone and school zone are the settings' (docs/campus-settings.md),
        # never the registry's copy in ``campuses``.
        return CampusCalendar(
            timezone=self.timezone,
            # no hours configured: open at any time
            weekly={day: tuple(hours) for day, hours in weekly.items()} if weekly else None,
            **self._days(campus_id),
            closes_on_school_holidays=school,
            closes_on_public_holidays=public,
            holiday_subdivision=subdivision,
        )

    def _days(self, campus_id: str) -> dict[str, Any]:
        """The campus's exceptional hours and closures and the school holidays of the
        settings' zone, in one query (``UNION ALL``), as ``CampusCalendar`` arguments."""
        rows = self._rows(_CAMPUS_DAYS, {"campus": campus_id, "zone": self.school_zone})
        hours: list[tuple[date, time, time]] = []
        days: dict[date, list[Hours]] = {}
        closures, holidays = [], []
        for kind, _, start, end, opens, closes, label in rows:
            if kind == "x":
                days.setdefault(start, [])  # a day without hours is closed
                if opens is not None and closes is not None:
                    hours.append((start, opens, closes))
            elif kind == "c":
                closures.append(Period(start, end, label))
            else:
                holidays.append(Period(start, end, label))
        for day, opens, closes in sorted(hours):
            days[day].append(Hours(opens, closes))
        return {
            "exceptions": {day: tuple(days[day]) for day in sorted(days)},
            "closures": tuple(closures),
            "school_holidays": tuple(holidays),
        }

    # ------------------------------------------------------------------ badges

    def holdings_for_hashes(self, hashes: Collection[str]) -> list[BadgeHolding]:
        """Holdings of these hashes, and every other badge of the students holding them
        (a student may badge in with one card and out with another)."""
        if not hashes:
            return []
        holders = select(Badge.student_pk).where(Badge.badge_hash.in_(list(hashes)))
        return self._holdings(Badge.student_pk.in_(holders))

    def holdings_for_campus(self, campus_id: str) -> list[BadgeHolding]:
        return [BadgeHolding(*row) for row in self._rows(_CAMPUS_HOLDINGS, {"campus": campus_id})]

    def _holdings(self, condition: ColumnElement[bool]) -> list[BadgeHolding]:
        rows = self.session.execute(
            select(Badge.badge_hash, Badge.student_pk, Badge.active_from, Badge.revoked_at)
            .where(condition)
            .order_by(Badge.active_from)
        )
        return [BadgeHolding(*row) for row in rows]

    def note_unknown(self, sightings: Iterable[Sighting]) -> None:
        """Keep unknown badges seen, one open row per hash, for an admin to attach."""
        latest: dict[str, list[Sighting]] = defaultdict(list)
        for sighting in sightings:
            latest[sighting.badge_hash].append(sighting)
        if not latest:
            return
        open_rows = {
            row.badge_hash: row
            for row in self.session.scalars(
                select(UnknownBadge).where(
                    UnknownBadge.badge_hash.in_(list(latest)), UnknownBadge.attached_at.is_(None)
                )
            )
        }
        for badge_hash, seen in latest.items():
            first = min(seen, key=lambda item: item.ts)
            last = max(seen, key=lambda item: item.ts)
            row = open_rows.get(badge_hash)
            if row is None:
                row = UnknownBadge(
                    badge_hash=badge_hash,
                    campus_id=first.campus_id,
                    reader_id=first.reader_id,
                    first_seen=first.ts,
                    last_seen=last.ts,
                    seen_count=0,
                )
                self.session.add(row)
            row.first_seen = min(row.first_seen, first.ts)
            row.last_seen = max(row.last_seen, last.ts)
            row.campus_id, row.reader_id = last.campus_id, last.reader_id
            row.seen_count += len(seen)

    # ------------------------------------------------------------------ ledger inputs

    def plans(self, campus_id: str | None, first: date, last: date) -> list[StudentPlan]:
        """Students with a contract (not replaced) overlapping ``first``..``last``, with
        the contracts' slots: one query (outer join: a contract may have no slot)."""
        if campus_id is None:
            rows = self._rows(_PLANS, {"first": first, "last": last})
        else:
            rows = self._rows(_CAMPUS_PLANS, {"first": first, "last": last, "campus": campus_id})
        # A contract's rows are consecutive (ordered by contract within a student).
        terms: dict[int, tuple[int, str, str, int, date, date | None]] = {}
        slots: dict[int, list[Slot]] = defaultdict(list)
        for row in rows:
            pk, student_id, campus, contract_id, minutes, start, end, weekday, opens, closes = row
            if contract_id not in terms:
                terms[contract_id] = (pk, student_id, campus, minutes, start, end)
            if weekday is not None:
                slots[contract_id].append(_slot(weekday, opens, closes))
        plans: dict[int, StudentPlan] = {}
        for contract_id, (pk, student_id, campus, minutes, start, end) in terms.items():
            contract = _contract(minutes, tuple(slots.get(contract_id, ())), start, end)
            known = plans.get(pk)
            contracts = (*known.contracts, contract) if known else (contract,)
            plans[pk] = StudentPlan(pk, student_id, campus, contracts)
        return list(plans.values())

    def excuses(
        self, student_pks: Collection[int], start: datetime, end: datetime
    ) -> dict[int, list[Excuse]]:
        found: dict[int, list[Excuse]] = defaultdict(list)
        for chunk in _chunks(list(student_pks)):
            rows = self._rows(_EXCUSES, {"pks": chunk, "start": start, "end": end})
            for pk, begin, finish, category in rows:
                found[pk].append(Excuse(begin, finish, ExcuseCategory(category)))
        return found

    def student_excuses(self, student_pk: int, *, limit: int | None = None) -> list[ExcuseRecord]:
        """A student's excused absences, latest first."""
        query = (
            select(ExcusedAbsence)
            .where(ExcusedAbsence.student_pk == student_pk)
            .order_by(ExcusedAbsence.start.desc())
            .limit(limit)
        )
        return [
            ExcuseRecord(r.start, r.end, r.category, r.note, r.created_by, r.created_at)
            for r in self.session.scalars(query)
        ]

    def corrections(
        self, student_pks: Collection[int], start: datetime, end: datetime
    ) -> dict[int, list[Correction]]:
        """Corrections about presence between ``start`` and ``end``, oldest first."""
        found: dict[int, list[Correction]] = defaultdict(list)
        for chunk in _chunks(list(student_pks)):
            rows = self._rows(_CORRECTIONS, {"pks": chunk, "start": start, "end": end})
            for pk, kind, session_start, begin, finish in rows:
                found[pk].append(Correction(CorrectionKind(kind), session_start, begin, finish))
        return found

    # ------------------------------------------------------------------ frozen weeks

    def frozen(
        self, weeks: Collection[IsoWeek], campus_id: str | None
    ) -> dict[tuple[int, str], WeekLine]:
        by_label = {str(week): week for week in weeks}
        if campus_id is None:
            rows = self._rows(_FROZEN, {"weeks": list(by_label)})
        else:
            rows = self._rows(_CAMPUS_FROZEN, {"weeks": list(by_label), "campus": campus_id})
        statuses = {status.value: status for status in WeekStatus}
        return {
            (pk, week): WeekLine(student_id, by_label[week], *figures, statuses[status])
            for pk, student_id, week, *figures, status in rows
        }

    def frozen_weeks_of(
        self, wanted: Collection[tuple[int, str, str]]
    ) -> dict[StudentKey, list[IsoWeek]]:
        """Of ``(student pk, campus, week label)``, the weeks frozen for a student of that
        campus, by student: one query for the lot."""
        pks = sorted({pk for pk, _, _ in wanted})
        labels = sorted({week for _, _, week in wanted})
        found: dict[StudentKey, list[IsoWeek]] = defaultdict(list)
        for chunk in _chunks(pks):
            rows = self.session.execute(
                select(Student, WeeklyRecord.week)
                .join(WeeklyRecord, WeeklyRecord.student_pk == Student.id)
                .where(Student.id.in_(chunk), WeeklyRecord.week.in_(labels))
            )
            for student, week in rows:
                if (student.id, student.campus_id, week) in wanted:
                    self.students_read[student.id] = student
                    found[StudentKey(student.id, student.student_id)].append(IsoWeek.parse(week))
        return dict(found)

    def unfreeze(self, lines: Iterable[FrozenLine], frozen_at: datetime) -> None:
        """Drop the records ``freeze(lines, frozen_at)`` wrote (still unseen by anyone)."""
        by_week: dict[str, list[int]] = defaultdict(list)
        for student_pk, line, _ in lines:
            by_week[str(line.week)].append(student_pk)
        for week, pks in by_week.items():
            for chunk in _chunks(pks):
                self.session.execute(
                    delete(WeeklyRecord).where(
                        WeeklyRecord.week == week,
                        WeeklyRecord.student_pk.in_(chunk),
                        WeeklyRecord.frozen_at == frozen_at,
                    )
                )

    def freeze(self, lines: Iterable[FrozenLine], frozen_at: datetime) -> int:
        """Store weekly records, each with its breakdown (how it adds up, JSON); raises
        :class:`AlreadyFrozen` when one was stored meanwhile."""
        rows = [
            {
                "student_pk": student_pk,
                "week": str(line.week),
                "expected_s": line.expected_s,
                "attended_s": line.attended_s,
                "unverified_s": line.unverified_s,
                "missed_slots": line.missed_slots,
                "late_arrivals": line.late_arrivals,
                "status": line.status.value,
                "frozen_at": frozen_at,
                "breakdown": kept,
            }
            for student_pk, line, kept in lines
        ]
        if rows:
            try:
                self.session.execute(insert(WeeklyRecord), rows)
            except IntegrityError as error:
                raise AlreadyFrozen("weekly records frozen meanwhile") from error
        return len(rows)

    def frozen_record(self, student_pk: int, week: IsoWeek) -> FrozenRecord | None:
        """The frozen record of one student's week, breakdown included, if frozen."""
        row = self.session.execute(
            select(WeeklyRecord.frozen_at, WeeklyRecord.breakdown).where(
                WeeklyRecord.student_pk == student_pk, WeeklyRecord.week == str(week)
            )
        ).first()
        return FrozenRecord(*row) if row is not None else None

    def correction_notes(
        self, student_pk: int, start: datetime, end: datetime
    ) -> list[CorrectionNote]:
        """The corrections of presence between ``start`` and ``end`` with who, when and
        why, oldest first."""
        rows = self.session.scalars(
            select(PresenceCorrection)
            .where(
                PresenceCorrection.student_pk == student_pk,
                PresenceCorrection.moment >= start,
                PresenceCorrection.moment < end,
            )
            .order_by(PresenceCorrection.created_at, PresenceCorrection.id)
        )
        return [
            CorrectionNote(
                row.kind,
                row.moment,
                row.session_start,
                row.start,
                row.end,
                row.reason,
                row.author,
                row.created_at,
            )
            for row in rows
        ]

    def excuse_notes(self, student_pk: int, start: datetime, end: datetime) -> list[ExcuseRecord]:
        """The excused absences overlapping ``start``..``end``, with their note."""
        rows = self.session.scalars(
            select(ExcusedAbsence)
            .where(
                ExcusedAbsence.student_pk == student_pk,
                ExcusedAbsence.start < end,
                ExcusedAbsence.end > start,
            )
            .order_by(ExcusedAbsence.start)
        )
        return [
            ExcuseRecord(r.start, r.end, r.category, r.note, r.created_by, r.created_at)
            for r in rows
        ]

    def add_correction(self, student_pk: int, note: CorrectionNote) -> int:
        row = PresenceCorrection(
            student_pk=student_pk,
            kind=note.kind,
            moment=note.moment,
            session_start=note.session_start,
            start=note.start,
            end=note.end,
            reason=note.reason,
            author=note.author,
            created_at=note.created_at,
        )
        self.session.add(row)
        self.session.flush()
        return row.id

    def add_excuse(self, student_pk: int, excuse: ExcuseRecord) -> int:
        row = ExcusedAbsence(
            student_pk=student_pk,
            start=excuse.start,
            end=excuse.end,
            category=excuse.category,
            note=excuse.note,
            created_by=excuse.created_by,
            created_at=excuse.created_at,
        )
        self.session.add(row)
        self.session.flush()
        return row.id


def repository(session: Session, settings: PresenceSettings) -> PresenceRepository:
    return PresenceRepository(session, school_zone=settings.school_zone, timezone=settings.timezone)


@lru_cache(maxsize=4096)
def _slot(weekday: int, start: time, end: time) -> Slot:
    """Slots repeat across students: build each one once."""
    return Slot(weekday, start, end)


@lru_cache(maxsize=4096)
def _contract(
    minutes: int, slots: tuple[Slot, ...], valid_from: date, valid_to: date | None
) -> Contract:
    """Contracts are values built from every column read: many students share terms, and
    a report asked again rebuilds the same ones (a changed row is a different key)."""
    return Contract(minutes, slots, valid_from, valid_to)


def _chunks(values: list[int], size: int = 500) -> Iterable[list[int]]:
    """``IN`` lists in pieces: SQLite and some drivers limit bound parameters."""
    for index in range(0, len(values), size):
        yield values[index : index + size]


# ---------------------------------------------------------------------- prepared reads
#
# The ledger's reads, built once (a weekly report asked 40 times in a row paid more to
# build and compile its statements than to run them); values come as bound parameters.

_NO_DATE, _NO_TIME = cast(null(), Date), cast(null(), Time)

_READER_MODES = select(Reader.campus_id, Reader.reader_id, Reader.mode)

# A campus's flags and its weekly hours (outer join: a campus without hours gives one row
# of NULL hours).
_CAMPUS_HOURS = (
    select(
        Campus.closes_on_school_holidays,
        Campus.closes_on_public_holidays,
        Campus.holiday_subdivision,
        OpeningHours.weekday,
        OpeningHours.opens,
        OpeningHours.closes,
    )
    .outerjoin(OpeningHours, OpeningHours.campus_id == Campus.id)
    .where(Campus.id == bindparam("campus"))
    .order_by(OpeningHours.weekday, OpeningHours.opens)
)

# Exceptional hours, closures and the zone's school holidays, in one ``UNION ALL``.
_CAMPUS_DAYS = union_all(
    select(
        literal_column("'x'", String).label("kind"),
        OpeningException.id,
        OpeningException.day,
        _NO_DATE,
        OpeningException.opens,
        OpeningException.closes,
        OpeningException.label,
    ).where(OpeningException.campus_id == bindparam("campus")),
    select(
        literal_column("'c'", String),
        Closure.id,
        Closure.start,
        Closure.end,
        _NO_TIME,
        _NO_TIME,
        Closure.label,
    ).where(Closure.campus_id == bindparam("campus")),
    select(
        literal_column("'h'", String),
        SchoolHoliday.id,
        SchoolHoliday.start,
        SchoolHoliday.end,
        _NO_TIME,
        _NO_TIME,
        SchoolHoliday.label,
    ).where(SchoolHoliday.zone == bindparam("zone")),
).order_by("kind", "id")

_CAMPUS_HOLDINGS = (
    select(Badge.badge_hash, Badge.student_pk, Badge.active_from, Badge.revoked_at)
    .where(Badge.student_pk.in_(select(Student.id).where(Student.campus_id == bindparam("campus"))))
    .order_by(Badge.active_from)
)

# Students with a contract (not replaced) overlapping ``first``..``last``, with the
# contracts' slots (outer join: a contract may have no slot); a contract's rows are
# consecutive.
_PLANS = (
    select(
        Student.id,
        Student.student_id,
        Student.campus_id,
        ContractRow.id,
        ContractRow.weekly_minutes,
        ContractRow.valid_from,
        ContractRow.valid_to,
        ContractSlot.weekday,
        ContractSlot.start,
        ContractSlot.end,
    )
    .join(ContractRow, ContractRow.student_pk == Student.id)
    .outerjoin(ContractSlot, ContractSlot.contract_id == ContractRow.id)
    .where(
        ContractRow.replaced_at.is_(None),
        ContractRow.valid_from <= bindparam("last"),
        or_(ContractRow.valid_to.is_(None), ContractRow.valid_to >= bindparam("first")),
    )
    .order_by(Student.student_id, ContractRow.valid_from, ContractRow.id)
)
_CAMPUS_PLANS = _PLANS.where(Student.campus_id == bindparam("campus"))

_EXCUSES = select(
    ExcusedAbsence.student_pk,
    ExcusedAbsence.start,
    ExcusedAbsence.end,
    ExcusedAbsence.category,
).where(
    ExcusedAbsence.student_pk.in_(bindparam("pks", expanding=True)),
    ExcusedAbsence.start < bindparam("end"),
    ExcusedAbsence.end > bindparam("start"),
)

_CORRECTIONS = (
    select(
        PresenceCorrection.student_pk,
        PresenceCorrection.kind,
        PresenceCorrection.session_start,
        PresenceCorrection.start,
        PresenceCorrection.end,
    )
    .where(
        PresenceCorrection.student_pk.in_(bindparam("pks", expanding=True)),
        PresenceCorrection.moment >= bindparam("start"),
        PresenceCorrection.moment < bindparam("end"),
    )
    .order_by(PresenceCorrection.created_at, PresenceCorrection.id)
)

_FROZEN = (
    select(
        WeeklyRecord.student_pk,
        Student.student_id,
        WeeklyRecord.week,
        WeeklyRecord.expected_s,
        WeeklyRecord.attended_s,
        WeeklyRecord.unverified_s,
        WeeklyRecord.missed_slots,
        WeeklyRecord.late_arrivals,
        WeeklyRecord.status,
    )
    .join(Student, Student.id == WeeklyRecord.student_pk)
    .where(WeeklyRecord.week.in_(bindparam("weeks", expanding=True)))
)
_CAMPUS_FROZEN = _FROZEN.where(Student.campus_id == bindparam("campus"))
