"""The taps a fault scenario makes at the door, and the weekly hours they must give.

Each student of the plan comes on the week's open days (at most five) and makes one
session a day: in at 08:00 + a few seconds (one student after the other), out between
1.00 h and 1.99 h later, a whole number of 36 s steps, so that each day's hours are exact
at the report's two decimals and differ from one student to the next. Losing or doubling
any one tap changes its student's figure.

:func:`expected_seconds` predicts a student's attended seconds from the taps that were
recorded, with the two documented door rules it needs (docs/domain.md): a toggle door lets a
person in when out and out when in, and a session left open is closed after the maximum
duration (12 h, unverified, still attended).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from server.domain.calendar import CampusCalendar, IsoWeek

ZONE = "Europe/Paris"
MAX_SESSION = timedelta(hours=12)
HEADER = (
    "student_id;last_name;first_name;email;phone;tutor_email;badge_uid;weekly_hours;slots;"
    "contract_start;contract_end;programme;institution;institution_type"
)
SLOTS = '"lun 09:00-12:00; mar 14:00-18:00; jeu 09:00-13:00; ven 09:00-10:00"'


@dataclass(frozen=True, slots=True)
class PlannedTap:
    index: int  # order in which the door makes it
    student: str
    uid: str
    ts: datetime  # aware, UTC


@dataclass(frozen=True)
class Plan:
    week: IsoWeek
    students: tuple[str, ...]
    taps: tuple[PlannedTap, ...]

    def uid_of(self, student: str) -> str:
        return _uid(self.students.index(student))

    def csv(self, *, contract_start: date, contract_end: date) -> bytes:
        """The coordinator's spreadsheet: one 12 h contract per student."""
        rows = [HEADER]
        for number, student in enumerate(self.students):
            rows.append(
                f"{student};Faute{number};Test;{student.lower()}@example.org;"
                f"06{number:08d};tutrice@campus.fr;{_uid(number)};12;{SLOTS};"
                f"{contract_start.isoformat()};{contract_end.isoformat()};"
                "Licence;Université Grenoble Alpes;public"
            )
        return ("\n".join(rows) + "\n").encode()

    def expected_seconds(self, indices: Iterable[int] | None = None) -> dict[str, int]:
        """Attended seconds per student from the planned taps numbered ``indices``
        (default: all of them), the week being over."""
        chosen = set(range(len(self.taps))) if indices is None else set(indices)
        by_student: dict[str, list[datetime]] = defaultdict(list)
        for tap in self.taps:
            if tap.index in chosen:
                by_student[tap.student].append(tap.ts)
        result = dict.fromkeys(self.students, 0)
        for student, moments in by_student.items():
            result[student] = _toggle_seconds(sorted(moments))
        return result

    def to_json(self) -> str:
        return json.dumps(
            {
                "week": str(self.week),
                "students": list(self.students),
                "taps": [[t.index, t.student, t.uid, t.ts.isoformat()] for t in self.taps],
            }
        )

    @classmethod
    def load(cls, path: Path) -> Plan:
        raw = json.loads(path.read_text())
        taps = tuple(PlannedTap(i, s, u, datetime.fromisoformat(ts)) for i, s, u, ts in raw["taps"])
        return cls(IsoWeek.parse(raw["week"]), tuple(raw["students"]), taps)


def _uid(number: int) -> str:
    return f"04{number + 1:012x}"


def _toggle_seconds(moments: list[datetime]) -> int:
    total = timedelta()
    opened: datetime | None = None
    for moment in moments:
        if opened is not None and moment - opened >= MAX_SESSION:
            total += MAX_SESSION
            opened = None
        if opened is None:
            opened = moment
        else:
            total += moment - opened
            opened = None
    if opened is not None:
        total += MAX_SESSION
    return int(total.total_seconds())


def open_days(week: IsoWeek, *, limit: int = 5) -> list[date]:
    """The week's first ``limit`` days a campus with default settings is open (public
    holidays closed, open at any hour)."""
    calendar = CampusCalendar(timezone=ZONE)
    return [day for day in week.days() if calendar.closure(day) is None][:limit]


def make_plan(taps: int, week: IsoWeek) -> Plan:
    """About ``taps`` taps (rounded down to whole student-weeks, at least one) in
    ``week``, in time order."""
    zone = ZoneInfo(ZONE)
    days = open_days(week)
    per_student = 2 * len(days)
    count = max(1, taps // per_student)
    students = tuple(f"F{number:04d}" for number in range(count))
    moments: list[tuple[datetime, str, str]] = []
    for number, student in enumerate(students):
        for day_number, day in enumerate(days):
            start = datetime.combine(day, time(8), tzinfo=zone) + timedelta(seconds=10 * number)
            steps = (7 * number + 13 * day_number) % 100
            end = start + timedelta(hours=1, seconds=36 * steps)
            moments += [(start, student, _uid(number)), (end, student, _uid(number))]
    moments.sort()
    planned = tuple(
        PlannedTap(index, student, uid, moment.astimezone(UTC))
        for index, (moment, student, uid) in enumerate(moments)
    )
    return Plan(week, students, planned)


def last_week(now: datetime) -> IsoWeek:
    """Over, and still inside the correction window: not frozen."""
    return IsoWeek.of(now.astimezone(ZoneInfo(ZONE)).date()).shifted(-1)


def frozen_week(now: datetime) -> IsoWeek:
    """Three weeks back: past the 14-day correction window, so the job freezes it."""
    return IsoWeek.of(now.astimezone(ZoneInfo(ZONE)).date()).shifted(-3)
