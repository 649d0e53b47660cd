"""The contrat d'engagement: weekly hours and weekly time slots (pure).

Slots are written the way coordinators type them in a spreadsheet, in French or English,
separated by ``|``, ``/``, ``;``, ``,`` or a new line: ``lun 09:00-12:00 | mar 14h-18h |
Thursday 9:30-13:00``. ``|`` and ``/`` never clash with a CSV file's separator.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from enum import StrEnum
from itertools import pairwise

from server.domain.errors import DomainError

MINIMUM_WEEKLY_MINUTES = 12 * 60  # national rule: at least 12 h a week

_DAY_NAMES = {
    0: ("lun", "lundi", "mon", "monday"),
    1: ("mar", "mardi", "tue", "tues", "tuesday"),
    2: ("mer", "mercredi", "wed", "wednesday"),
    3: ("jeu", "jeudi", "thu", "thur", "thurs", "thursday"),
    4: ("ven", "vendredi", "fri", "friday"),
    5: ("sam", "samedi", "sat", "saturday"),
    6: ("dim", "dimanche", "sun", "sunday"),
}
WEEKDAYS = {name: day for day, names in _DAY_NAMES.items() for name in names}
_SHORT = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = r"(\d{1,2})(?:[:hH](\d{2})?)?"
_SLOT = re.compile(rf"([^\W\d_]+)\.?\s*{_TIME}\s*-\s*{_TIME}")
SLOT_SEPARATORS = re.compile(r"[;,\n|/]")


class ExcuseCategory(StrEnum):
    ILLNESS = "illness"
    EXAM = "exam"
    SPORT = "sport"
    JOB_INTERVIEW = "job_interview"
    FAMILY = "family"
    OTHER = "other"


@dataclass(frozen=True, slots=True, order=True)
class Slot:
    """A weekly time slot: ``weekday`` 0 = Monday, local times, ``end`` after ``start``."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise DomainError("weekday must be 0 (Monday) to 6 (Sunday)")
        if self.end <= self.start:
            raise DomainError("slot {slot} ends before it starts", slot=str(self))

    @property
    def minutes(self) -> int:
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)

    def __str__(self) -> str:
        return f"{_SHORT[self.weekday]} {self.start:%H:%M}-{self.end:%H:%M}"


def parse_slots(text: str, *, merge_overlaps: bool = False) -> tuple[Slot, ...]:
    """``"lun 09:00-12:00 | mar 14:00-18:00"`` -> slots, sorted.

    Overlapping slots of a day are refused (a contract's slots are distinct commitments),
    or merged into one with ``merge_overlaps`` (opening hours). Raises
    :class:`DomainError` naming the first part that cannot be read."""
    parts = [part.strip() for part in SLOT_SEPARATORS.split(text or "") if part.strip()]
    if not parts:
        raise DomainError("no time slot given")
    slots = [parse_slot(part) for part in parts]
    if not merge_overlaps:
        clash = first_overlap(slots)
        if clash is not None:
            raise DomainError(
                "the time slots {first} and {second} overlap: write them as one slot",
                first=str(clash[0]),
                second=str(clash[1]),
            )
    return merge_slots(slots)


def parse_slot(part: str) -> Slot:
    """One slot like ``lun 09:00-12:00`` or ``Thursday 9h30-13h``."""
    part = part.strip()
    match = _SLOT.fullmatch(part)
    if match is None:
        raise DomainError("cannot read the time slot {part!r}", part=part[:40])
    name, start_h, start_m, end_h, end_m = match.groups()
    weekday = WEEKDAYS.get(name.lower())
    if weekday is None:
        raise DomainError("unknown day {day!r} in a time slot", day=name[:20])
    start, end = _clock(start_h, start_m, part), _clock(end_h, end_m, part)
    if end <= start:
        raise DomainError("the time slot {part!r} ends before it starts", part=part[:40])
    return Slot(weekday, start, end)


def looks_like_slot(text: str) -> bool:
    """Whether a text reads as one slot (the import's hint for unquoted ``;`` slots)."""
    try:
        parse_slot(text)
    except DomainError:
        return False
    return True


def first_overlap(slots: Iterable[Slot]) -> tuple[Slot, Slot] | None:
    """The first two slots of a day that overlap (touching ones do not), if any."""
    ordered = sorted(slots)
    for earlier, later in pairwise(ordered):
        if earlier.weekday == later.weekday and later.start < earlier.end:
            return earlier, later
    return None


def _clock(hours: str, minutes: str | None, part: str) -> time:
    hour, minute = int(hours), int(minutes or 0)
    if hour > 23 or minute > 59:
        raise DomainError("impossible time in the time slot {part!r}", part=part[:40])
    return time(hour, minute)


def merge_slots(slots: Iterable[Slot]) -> tuple[Slot, ...]:
    """Sorted slots where overlapping slots of the same day become one."""
    merged: list[Slot] = []
    for slot in sorted(slots):
        last = merged[-1] if merged else None
        if last is not None and last.weekday == slot.weekday and slot.start < last.end:
            merged[-1] = Slot(last.weekday, last.start, max(last.end, slot.end))
        else:
            merged.append(slot)
    return tuple(merged)


def format_slots(slots: Iterable[Slot]) -> str:
    return "; ".join(str(slot) for slot in slots)


@dataclass(frozen=True, slots=True)
class Contract:
    """What a student committed to, from ``valid_from`` to ``valid_to`` (included;
    None = open-ended)."""

    weekly_minutes: int
    slots: tuple[Slot, ...]
    valid_from: date
    valid_to: date | None = None
    _by_day: tuple[tuple[Slot, ...], ...] = field(init=False, repr=False, compare=False)
    _minutes: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.weekly_minutes <= 0:
            raise DomainError("the weekly hours must be more than zero")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise DomainError("the contract ends before it starts")
        slots = merge_slots(self.slots)
        object.__setattr__(self, "slots", slots)
        by_day = tuple(tuple(s for s in slots if s.weekday == day) for day in range(7))
        object.__setattr__(self, "_by_day", by_day)
        object.__setattr__(self, "_minutes", sum(slot.minutes for slot in slots))

    def covers(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    def slots_on(self, day: date) -> tuple[Slot, ...]:
        return self._by_day[day.weekday()] if self.covers(day) else ()

    def weekday_slots(self, weekday: int) -> tuple[Slot, ...]:
        """The slots of a weekday (0 = Monday), in order, whatever the validity."""
        return self._by_day[weekday]

    @property
    def week_slots(self) -> tuple[tuple[Slot, ...], ...]:
        """:meth:`weekday_slots` of each weekday, Monday first."""
        return self._by_day

    @property
    def slot_minutes(self) -> int:
        return self._minutes

    def overlaps(self, first: date, last: date) -> bool:
        return self.valid_from <= last and (self.valid_to is None or first <= self.valid_to)


@dataclass(frozen=True, slots=True)
class ContractChange:
    """How to record a new version of a student's contract without losing history:
    ``replaced`` versions are superseded (same or later start: a correction), ``ended``
    ones are cut short the day before the new one starts (a renewal or a change)."""

    unchanged: bool
    replaced: tuple[int, ...] = ()
    ended: tuple[tuple[int, date], ...] = ()


def plan_contract_change(current: Mapping[int, Contract], new: Contract) -> ContractChange:
    """``current``: the versions in force (by id); ``new``: the contract as it is now."""
    if any(contract == new for contract in current.values()):
        return ContractChange(unchanged=True)
    replaced, ended = [], []
    for key, contract in sorted(current.items()):
        if contract.valid_from >= new.valid_from:
            replaced.append(key)
        elif contract.valid_to is None or contract.valid_to >= new.valid_from:
            ended.append((key, new.valid_from - timedelta(days=1)))
    return ContractChange(False, tuple(replaced), tuple(ended))
