"""Use cases: badges that no student holds yet, attaching them, revoking badges.

An unknown badge tapped at a reader is kept as a sighting (keyed hash, campus, reader,
first and last time seen). Its taps are stored like any other. When an admin attaches
it to a student and it already has taps, they are listed and the admin chooses: credit
them to the student (the badge counts from the first time it was seen: the taps of the
day it was handed out are not lost), or not (it counts from the attachment instant: a
visitor's taps never make a student present). The choice is the badge holding's
``active_from`` (``badges.active_from``), and it is audited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from server.adapters.event_store import EventStore
from server.domain.accounts import Actor
from server.domain.calendar import IsoWeek
from server.domain.errors import DomainError
from server.ports.people import PeopleUnitOfWork

UnitOfWork = Callable[[], PeopleUnitOfWork]


@dataclass(frozen=True, slots=True)
class UnknownBadgeSeen:
    id: int
    campus_id: str
    reader_id: str
    first_seen: datetime
    last_seen: datetime
    seen_count: int
    badge_hash: str

    @property
    def short_hash(self) -> str:
        """Enough of the hash to tell two cards apart on a screen."""
        return self.badge_hash[:10]


def unknown_badges(
    unit_of_work: UnitOfWork, *, campus: str | None = None
) -> list[UnknownBadgeSeen]:
    """Unknown badges not attached yet, most recently seen first."""
    with unit_of_work() as uow:
        rows = uow.badges.sightings(campus)
        return [
            UnknownBadgeSeen(
                row.id,
                row.campus_id,
                row.reader_id,
                row.first_seen,
                row.last_seen,
                row.seen_count,
                row.badge_hash,
            )
            for row in rows
        ]


@dataclass(frozen=True, slots=True)
class PastTap:
    """A tap of an unknown badge before it is attached: when, and at which reader."""

    ts: datetime
    reader: str


class PastTapsChoice(DomainError):
    """The badge already has taps: the admin must say whether they count."""

    def __init__(self, taps: Sequence[PastTap]) -> None:
        super().__init__(
            "This badge already has taps: say whether they count for the student.",
            count=len(taps),
        )
        self.taps = tuple(taps)


def past_taps(
    unit_of_work: UnitOfWork, events: EventStore, sighting_id: int, now: datetime
) -> list[PastTap]:
    """The stored taps of a sighting's badge at its campus, from the first time it was
    seen until ``now``, oldest first (empty once attached)."""
    with unit_of_work() as uow:
        sighting = uow.badges.sighting(sighting_id)
    if sighting is None or sighting.attached_at is not None:
        return []
    badge, campus, first = sighting.badge_hash, sighting.campus_id, sighting.first_seen
    found = events.taps(first, now + timedelta(microseconds=1), campus=campus)
    return [PastTap(tap.ts, tap.reader) for tap in found if tap.badge == badge]


def attach_unknown_badge(
    unit_of_work: UnitOfWork,
    events: EventStore,
    sighting_id: int,
    student_id: str,
    *,
    actor: Actor,
    zone: ZoneInfo,
    credit_past: bool | None = None,
) -> None:
    """Give the badge of sighting ``sighting_id`` to ``student_id``. When it already has
    taps (:func:`past_taps`) the choice is required (:class:`PastTapsChoice`, with the
    taps, otherwise): ``credit_past`` counts the badge from when it was first seen, else
    from ``actor.at``. The choice and the taps it concerns are audited. Credited taps of
    a week already frozen re-open it (local weeks in ``zone``), as a late tap does."""
    taps = past_taps(unit_of_work, events, sighting_id, actor.at)
    if taps and credit_past is None:
        raise PastTapsChoice(taps)
    with unit_of_work() as uow:
        sighting = uow.badges.sighting(sighting_id)
        if sighting is None or sighting.attached_at is not None:
            raise DomainError(
                "no unknown badge {number} waiting to be attached", number=sighting_id
            )
        student = uow.students.by_student_id(student_id)
        if student is None:
            raise DomainError("unknown student {student_id}", student_id=student_id)
        credited = credit_past is not False
        active_from = sighting.first_seen if credited else max(actor.at, sighting.first_seen)
        uow.badges.give(student.pk, sighting.badge_hash, active_from, actor)
        if not taps and credit_past is None:
            uow.commit()
            return
        reopened: list[IsoWeek] = []
        if credited:
            weeks = {IsoWeek.of(tap.ts.astimezone(zone).date()) for tap in taps}
            reopened = uow.weeks.reopen(student.pk, weeks, actor, cause="badge_credited")
        uow.audit.record(
            at=actor.at,
            actor=actor.name,
            action="badge_past_taps_credited" if credited else "badge_past_taps_not_credited",
            entity="student",
            entity_id=student.student_id,
            before=None,
            after={
                "sighting": sighting_id,
                "past_taps": len(taps),
                "first_tap": taps[0].ts if taps else None,
                "last_tap": taps[-1].ts if taps else None,
                "active_from": active_from,
                "weeks_reopened": [str(week) for week in reopened],
            },
        )
        uow.commit()


def revoke_badges(unit_of_work: UnitOfWork, student_id: str, *, reason: str, actor: Actor) -> int:
    """Revoke every badge the student holds now (lost card, end of contract)."""
    with unit_of_work() as uow:
        student = uow.students.by_student_id(student_id)
        if student is None:
            raise DomainError("unknown student {student_id}", student_id=student_id)
        count = uow.badges.revoke_all(student.pk, reason, actor)
        uow.commit()
        return count
