"""Why a week adds up as it does (pure): the slot outcomes (``domain.slots``), the
sessions, and the week's figures, in one plain shape that a frozen week stores and
reads back once its raw taps are purged.

The *breakdown* is what a frozen weekly record keeps: its slot outcomes and its
sessions (times and state only, never a badge). Everything else that explains a week
(corrections with who, when and why; excuses; closures) lives in the registry.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from server.domain.calendar import IsoWeek
from server.domain.errors import NotFound
from server.domain.sessions import Session, SessionState
from server.domain.slots import NotDue, SlotOutcome, SlotState

BREAKDOWN_VERSION = 1


@dataclass(frozen=True, slots=True)
class SlotLine:
    """One slot occurrence as the explanation shows it (from an outcome or a frozen
    breakdown)."""

    day: date
    slot: str
    start: datetime
    end: datetime
    state: SlotState
    reason: NotDue | None
    detail: str
    expected_from: datetime | None
    expected_minutes: int
    attended_minutes: int
    excused_minutes: int
    arrived_at: datetime | None
    late_minutes: int

    @classmethod
    def of(cls, outcome: SlotOutcome) -> SlotLine:
        return cls.parse(outcome.as_dict())

    @classmethod
    def parse(cls, item: dict[str, Any]) -> SlotLine:
        reason = item.get("reason")
        return cls(
            date.fromisoformat(item["day"]),
            str(item["slot"]),
            datetime.fromisoformat(item["start"]),
            datetime.fromisoformat(item["end"]),
            SlotState(item["state"]),
            NotDue(reason) if reason else None,
            str(item.get("detail") or ""),
            _instant(item.get("expected_from")),
            int(item.get("expected_minutes") or 0),
            int(item.get("attended_minutes") or 0),
            int(item.get("excused_minutes") or 0),
            _instant(item.get("arrived_at")),
            int(item.get("late_minutes") or 0),
        )

    @property
    def is_due(self) -> bool:
        return self.reason is None


def _instant(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def week_sessions(sessions: Iterable[Session], start: datetime, end: datetime) -> list[Session]:
    """The sessions overlapping ``start``..``end``."""
    return [session for session in sessions if session.start < end and session.end > start]


def breakdown(outcomes: Sequence[SlotOutcome], sessions: Sequence[Session]) -> str:
    """The JSON a frozen week keeps to explain itself."""
    return json.dumps(
        {
            "v": BREAKDOWN_VERSION,
            "slots": [outcome.as_dict() for outcome in outcomes],
            "sessions": [
                {"start": s.start.isoformat(), "end": s.end.isoformat(), "state": s.state.value}
                for s in sessions
            ],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def read_breakdown(text: str | None) -> tuple[list[SlotLine], list[Session]] | None:
    """Slot lines and sessions of a stored breakdown; None when there is none or it
    cannot be read (a record frozen before breakdowns were kept)."""
    if not text:
        return None
    try:
        data = json.loads(text)
        slots = [SlotLine.parse(item) for item in data["slots"]]
        sessions = [
            Session(
                datetime.fromisoformat(item["start"]),
                datetime.fromisoformat(item["end"]),
                SessionState(item["state"]),
            )
            for item in data["sessions"]
        ]
    except (ValueError, KeyError, TypeError):
        return None
    return slots, sessions


@dataclass(frozen=True, slots=True)
class Totals:
    """How the slots add up to the week's expected hours: the contract's weekly hours,
    pro rata on the due slot time (``due_minutes`` of ``slot_minutes``)."""

    weekly_minutes: int
    slot_minutes: int
    due_minutes: int
    not_due_minutes: int
    attended_in_slots_minutes: int


def totals(slots: Sequence[SlotLine], weekly_minutes: int, slot_minutes: int) -> Totals:
    due = sum(line.expected_minutes for line in slots if line.is_due)
    listed = sum(
        int((line.end - line.start).total_seconds()) // 60
        for line in slots
        if line.reason is not NotDue.OUTSIDE_CONTRACT
    )
    return Totals(
        weekly_minutes,
        slot_minutes,
        due,
        max(0, listed - due),
        sum(line.attended_minutes for line in slots),
    )


def is_future(week: IsoWeek, today: date) -> bool:
    """A week that has not begun yet has nothing to explain."""
    return week.monday > today


class Problem(StrEnum):
    BAD_WEEK = "bad_week"  # not an ISO week, or one that does not exist
    UNKNOWN_STUDENT = "unknown_student"
    FORBIDDEN = "forbidden"  # a student of another campus or tutor, someone else's week
    FUTURE_WEEK = "future_week"


class WeekStoryError(NotFound):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.value)
        self.problem = problem
