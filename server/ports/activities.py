"""What the activity-log use cases (``server.services.people.activities``) need from
storage: the campus's workshops (with their attendees), individual interviews, exam
sessions (with their candidates) and steering-committee meetings, as the domain's
records (``server.domain.activities``). Part of the people unit of work
(``server.ports.people.PeopleUnitOfWork.activities``); the registry's adapter is in
``server.registry.people_store``, the fake in tests/unit/people/fakes.py."""

from __future__ import annotations

from datetime import date
from typing import Literal, Protocol

from server.domain.activities import (
    ActivityLog,
    ExamSession,
    Interview,
    SteeringMeeting,
    Workshop,
)

Kind = Literal["workshop", "interview", "exam", "meeting"]
Activity = Workshop | Interview | ExamSession | SteeringMeeting


class Activities(Protocol):
    def in_period(
        self, campus_id: str, first_day: date, last_day: date, *, tutor_id: int | None = None
    ) -> ActivityLog:
        """The campus's activities from ``first_day`` to ``last_day`` (included), each
        kind by day then id; attendees and candidates by student pk. With ``tutor_id``,
        only the interviews that tutor logged."""
        ...

    def get(self, kind: str, item_id: int) -> Activity | None: ...

    def add(self, record: Activity) -> int:
        """Store a new activity (``record.id`` is not used) with its attendees or
        candidates; its new id."""
        ...

    def replace(self, record: Activity) -> None:
        """Replace the activity ``record.id`` of the same kind, attendees or candidates
        included."""
        ...

    def delete(self, kind: str, item_id: int) -> None:
        """Delete an activity, its attendees or candidates with it."""
        ...
