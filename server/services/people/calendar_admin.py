"""Use cases: the admin enters a campus's opening hours and closures, and loads the
school holiday periods of the zones from a file (nothing is fetched from the internet).

School holiday file: CSV with a header ``zone;start;end;label`` (or ``,``), dates
``2026-10-17`` or ``17/10/2026``, ``end`` being the last day of holidays (included).
Loading the same file again changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlalchemy import delete, orm, select

from server.domain.accounts import Actor
from server.domain.contracts import parse_slots
from server.domain.errors import DomainError
from server.i18n import _, ngettext
from server.registry import audit
from server.registry.models import Campus, Closure, OpeningHours, SchoolHoliday
from server.services.people.student_import import RowProblem, decode, parse_date, read_rows


def set_opening_hours(
    registry: Callable[[], orm.Session], campus_id: str, text: str, *, actor: Actor
) -> None:
    """Replace the campus's weekly hours, written like slots: ``lun 08:00-19:00; …``."""
    hours = parse_slots(text, merge_overlaps=True)
    with registry() as session, session.begin():
        _campus(session, campus_id)
        before = [
            f"{row.weekday} {row.opens:%H:%M}-{row.closes:%H:%M}"
            for row in session.scalars(
                select(OpeningHours).where(OpeningHours.campus_id == campus_id)
            )
        ]
        session.execute(delete(OpeningHours).where(OpeningHours.campus_id == campus_id))
        for slot in hours:
            session.add(
                OpeningHours(
                    campus_id=campus_id, weekday=slot.weekday, opens=slot.start, closes=slot.end
                )
            )
        audit.record(
            session,
            at=actor.at,
            actor=actor.name,
            action="opening_hours_set",
            entity="campus",
            entity_id=campus_id,
            before={"hours": before},
            after={"hours": [str(slot) for slot in hours]},
        )


def add_closure(
    registry: Callable[[], orm.Session],
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
    with registry() as session, session.begin():
        _campus(session, campus_id)
        row = Closure(campus_id=campus_id, start=start, end=end, label=label[:200])
        session.add(row)
        session.flush()
        after = {"start": start, "end": end, "label": label[:200]}
        audit.record(
            session,
            at=actor.at,
            actor=actor.name,
            action="closure_added",
            entity="campus",
            entity_id=campus_id,
            after=after,
        )
        return row.id


def load_school_holidays(
    registry: Callable[[], orm.Session], data: bytes, *, actor: Actor
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
    with registry() as session, session.begin():
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
            _save_period(session, zone, start, end, values.get("label", ""))
            saved += 1
        audit.record(
            session,
            at=actor.at,
            actor=actor.name,
            action="school_holidays_loaded",
            entity="school_holidays",
            entity_id="-",
            after={"rows": saved},
        )
    return saved, problems


def _save_period(session: orm.Session, zone: str, start: date, end: date, label: str) -> None:
    row = session.scalar(
        select(SchoolHoliday).where(SchoolHoliday.zone == zone, SchoolHoliday.start == start)
    )
    if row is None:
        session.add(SchoolHoliday(zone=zone, start=start, end=end, label=label[:200]))
    else:
        row.end, row.label = end, label[:200]


def set_closes_on_school_holidays(
    registry: Callable[[], orm.Session], campus_id: str, closes: bool, *, actor: Actor
) -> None:
    with registry() as session, session.begin():
        campus = _campus(session, campus_id)
        before = {"closes_on_school_holidays": campus.closes_on_school_holidays}
        campus.closes_on_school_holidays = closes
        audit.record(
            session,
            at=actor.at,
            actor=actor.name,
            action="campus_updated",
            entity="campus",
            entity_id=campus_id,
            before=before,
            after={"closes_on_school_holidays": closes},
        )


def _campus(session: orm.Session, campus_id: str) -> Campus:
    campus = session.get(Campus, campus_id)
    if campus is None:
        raise DomainError("unknown campus {campus}", campus=campus_id)
    return campus
