"""Use cases: the admin enters a campus's opening hours and closures, and loads the
school holiday periods of the zones from a file (nothing is fetched from the internet).

School holiday file: CSV with a header ``zone;start;end;label`` (or ``,``), dates
``2026-10-17`` or ``17/10/2026``, ``end`` being the last day of holidays (included).
Loading the same file again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from server.domain.accounts import Actor
from server.domain.contracts import parse_slots
from server.domain.errors import DomainError
from server.i18n import _, ngettext
from server.ports.people import PeopleUnitOfWork
from server.services.people.student_import import RowProblem, decode, parse_date, read_rows

UnitOfWork = Callable[[], PeopleUnitOfWork]


def set_opening_hours(unit_of_work: UnitOfWork, campus_id: str, text: str, *, actor: Actor) -> None:
    """Replace the campus's weekly hours, written like slots: ``lun 08:00-19:00; …``."""
    hours = parse_slots(text, merge_overlaps=True)
    with unit_of_work() as uow:
        _check_campus(uow, campus_id)
        before = [
            f"{slot.weekday} {slot.start:%H:%M}-{slot.end:%H:%M}"
            for slot in uow.campuses.opening_hours(campus_id)
        ]
        uow.campuses.set_opening_hours(campus_id, hours)
        uow.audit.record(
            at=actor.at,
            actor=actor.name,
            action="opening_hours_set",
            entity="campus",
            entity_id=campus_id,
            before={"hours": before},
            after={"hours": [str(slot) for slot in hours]},
        )
        uow.commit()


def add_closure(
    unit_of_work: UnitOfWork,
    campus_id: str,
    start: date,
    end: date,
    *,
    label: str,
    actor: Actor,
) -> int:
    """Close the campus on whole days from ``start`` to ``end`` (included)."""
    if end < start:
        raise DomainError("a closure cannot end before it starts")
    with unit_of_work() as uow:
        _check_campus(uow, campus_id)
        closure = uow.campuses.add_closure(campus_id, start, end, label[:200])
        after = {"start": start, "end": end, "label": label[:200]}
        uow.audit.record(
            at=actor.at,
            actor=actor.name,
            action="closure_added",
            entity="campus",
            entity_id=campus_id,
            after=after,
        )
        uow.commit()
        return closure


def load_school_holidays(
    unit_of_work: UnitOfWork, data: bytes, *, actor: Actor
) -> tuple[int, list[RowProblem]]:
    """Add or update school holiday periods from a file; returns (rows saved, problems)."""
    header, rows = read_rows(decode(data))
    if not {"zone", "start", "end"} <= set(header):
        return 0, [
            RowProblem(
                1,
                ngettext(
                    "missing column: {names}",
                    "missing columns: {names}",
                    3,
                    names="zone, start, end",
                ),
            )
        ]
    saved, problems = 0, []
    with unit_of_work() as uow:
        for line, values, _extra in rows:
            try:
                zone = values.get("zone", "").strip()
                start = parse_date(values.get("start", ""), "start")
                end = parse_date(values.get("end", ""), "end")
                if not zone or end < start:
                    raise DomainError(
                        "a holiday period needs a zone and cannot end before it starts"
                    )
            except DomainError as error:
                problems.append(RowProblem(line, _(error.message, **error.values)))
                continue
            uow.campuses.put_school_holiday(zone, start, end, values.get("label", "")[:200])
            saved += 1
        uow.audit.record(
            at=actor.at,
            actor=actor.name,
            action="school_holidays_loaded",
            entity="school_holidays",
            entity_id="-",
            after={"rows": saved},
        )
        uow.commit()
    return saved, problems


def set_closes_on_school_holidays(
    unit_of_work: UnitOfWork, campus_id: str, closes: bool, *, actor: Actor
) -> None:
    with unit_of_work() as uow:
        _check_campus(uow, campus_id)
        before = {"closes_on_school_holidays": uow.campuses.closes_on_school_holidays(campus_id)}
        uow.campuses.set_closes_on_school_holidays(campus_id, closes)
        uow.audit.record(
            at=actor.at,
            actor=actor.name,
            action="campus_updated",
            entity="campus",
            entity_id=campus_id,
            before=before,
            after={"closes_on_school_holidays": closes},
        )
        uow.commit()


def _check_campus(uow: PeopleUnitOfWork, campus_id: str) -> None:
    if not uow.campuses.exists(campus_id):
        raise DomainError("unknown campus {campus}", campus=campus_id)
