"""The campus's activity log, which the national report counts: collective workshops
(theme, who attended), individual interviews (modality), exams held on site and
steering-committee (COPIL) meetings. Pure: no clock, no database.

A workshop's attendance is an explicit purpose: either ticked by a tutor or a
coordinator, or taken from the badges tapped at a room reader set to "workshop mode"
during the workshop's time (:func:`attendees_from_taps`). Room readers otherwise never
follow a person from room to room (CNIL): only a workshop's own list keeps names."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from server.domain.errors import DomainError

MAX_NOTE_CHARS = 1000
MAX_EXAM_CANDIDATES = 500


class Modality(StrEnum):
    """How an individual interview was held."""

    ON_SITE = "on_site"
    PHONE = "phone"
    VIDEO = "video"


class AttendanceSource(StrEnum):
    TICKED = "ticked"  # by a tutor or the coordinator
    BADGES = "badges"  # taps at a room reader in workshop mode


@dataclass(frozen=True)
class Workshop:
    id: int
    campus_id: str
    day: date
    theme: str
    attendee_pks: tuple[int, ...] = ()
    source: AttendanceSource = AttendanceSource.TICKED
    note: str = ""

    @property
    def attendance(self) -> int:
        return len(self.attendee_pks)


@dataclass(frozen=True)
class Interview:
    id: int
    campus_id: str
    day: date
    student_pk: int
    modality: Modality
    tutor_id: int | None = None
    note: str = ""


@dataclass(frozen=True)
class ExamSession:
    """Exams held on site on one day for one institution: the students if known, else a
    count of candidates."""

    id: int
    campus_id: str
    day: date
    institution: str
    student_pks: tuple[int, ...] = ()
    candidates: int = 0
    note: str = ""

    @property
    def headcount(self) -> int:
        return len(self.student_pks) if self.student_pks else self.candidates


@dataclass(frozen=True)
class SteeringMeeting:
    id: int
    campus_id: str
    day: date
    note: str = ""


@dataclass(frozen=True)
class ActivityLog:
    """A campus's activities over a period (days included), with the report's counts."""

    campus_id: str
    first_day: date
    last_day: date
    workshops: list[Workshop] = field(default_factory=list)
    interviews: list[Interview] = field(default_factory=list)
    exams: list[ExamSession] = field(default_factory=list)
    meetings: list[SteeringMeeting] = field(default_factory=list)

    @property
    def workshop_count(self) -> int:
        return len(self.workshops)

    @property
    def themes(self) -> list[str]:
        """Distinct themes, in the order first held."""
        return list(dict.fromkeys(workshop.theme for workshop in self.workshops))

    @property
    def workshop_attendance(self) -> int:
        """Attendances summed over the workshops (one student at two workshops: 2)."""
        return sum(workshop.attendance for workshop in self.workshops)

    @property
    def interview_count(self) -> int:
        return len(self.interviews)

    @property
    def interviews_by_modality(self) -> dict[Modality, int]:
        counts = Counter(interview.modality for interview in self.interviews)
        return {modality: counts.get(modality, 0) for modality in Modality}

    @property
    def exam_count(self) -> int:
        return len(self.exams)

    @property
    def exam_candidates(self) -> int:
        return sum(exam.headcount for exam in self.exams)

    @property
    def meeting_count(self) -> int:
        return len(self.meetings)


def check_note(note: str) -> None:
    if len(note) > MAX_NOTE_CHARS:
        raise DomainError("At most {count} characters.", count=MAX_NOTE_CHARS)


def check_theme(theme: str) -> None:
    if not theme.strip():
        raise DomainError("A workshop needs a theme.")
    if len(theme) > 200:
        raise DomainError("At most {count} characters.", count=200)


def check_exam(institution: str, student_pks: Iterable[int], candidates: int) -> None:
    if not institution.strip():
        raise DomainError("Name the institution whose exam is held.")
    if not 0 <= candidates <= MAX_EXAM_CANDIDATES:
        raise DomainError(
            "A number from {minimum} to {maximum} is expected.",
            minimum=0,
            maximum=MAX_EXAM_CANDIDATES,
        )
    if not list(student_pks) and candidates == 0:
        raise DomainError("Tick the students who sat the exam, or give their number.")


def attendees_from_taps(
    taps: Iterable[tuple[datetime, int]], start: datetime, end: datetime
) -> tuple[int, ...]:
    """The students (pks) whose badge was tapped at the workshop's reader from ``start``
    to ``end`` (``end`` excluded), each once, in the order they first tapped. ``taps``
    are (instant, student pk) pairs at that reader; nothing else is kept of them."""
    if end <= start:
        raise DomainError("A workshop must end after it starts.")
    seen: dict[int, datetime] = {}
    for at, student_pk in sorted(taps):
        if start <= at < end and student_pk not in seen:
            seen[student_pk] = at
    return tuple(seen)
