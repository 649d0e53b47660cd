"""The academic year, September to August (``2026-2027``), as French higher education
and the national report count it. Pure: no clock; bounds in the campus's time zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

FIRST_MONTH = 9  # September
_TEXT = re.compile(r"^\s*(\d{4})\s*[-/]\s*(\d{4})\s*$")


@dataclass(frozen=True, order=True)
class AcademicYear:
    """The academic year starting on 1 September of ``start_year``."""

    start_year: int

    def __post_init__(self) -> None:
        if not 1900 <= self.start_year <= 9998:
            raise ValueError(f"academic year out of range: {self.start_year}")

    @classmethod
    def parse(cls, text: str) -> AcademicYear:
        """``2026-2027`` (or ``2026/2027``); the second year must follow the first."""
        match = _TEXT.match(text or "")
        if not match or int(match[2]) != int(match[1]) + 1:
            raise ValueError(f"an academic year is written like 2026-2027, not {text!r}")
        return cls(int(match[1]))

    @classmethod
    def of(cls, day: date) -> AcademicYear:
        """The academic year ``day`` falls in."""
        return cls(day.year if day.month >= FIRST_MONTH else day.year - 1)

    def __str__(self) -> str:
        return f"{self.start_year}-{self.start_year + 1}"

    @property
    def first_day(self) -> date:
        return date(self.start_year, FIRST_MONTH, 1)

    @property
    def last_day(self) -> date:
        """31 August of the next calendar year (included)."""
        return date(self.start_year + 1, FIRST_MONTH - 1, 31)

    def contains(self, day: date) -> bool:
        return self.first_day <= day <= self.last_day

    def bounds(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) instants: local midnight of 1 September to that of the next."""
        start = datetime.combine(self.first_day, time(0), tzinfo=zone)
        end = datetime.combine(self.following().first_day, time(0), tzinfo=zone)
        return start, end

    def previous(self) -> AcademicYear:
        return AcademicYear(self.start_year - 1)

    def following(self) -> AcademicYear:
        return AcademicYear(self.start_year + 1)
