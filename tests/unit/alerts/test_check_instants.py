"""When the absence watcher wakes: ``domain.absences.check_instants`` over the due slot
occurrences (``expected_slots``, i.e. ``domain.slots``'s check instant), with holidays,
closures, excuses, a contract change and the weeks of the daylight-saving changes."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta

from server.domain.absences import check_instants, expected_slots
from server.domain.calendar import CampusCalendar, Hours, Period
from server.domain.contracts import Contract, Slot
from server.domain.slots import Excuse
from tests.unit.presence.helpers import PARIS, at, calendar

MONDAY = date(2026, 11, 23)
MON_9_12 = Slot(0, time(9), time(12))
TUE_14_18 = Slot(1, time(14), time(18))
FRI_9_12 = Slot(4, time(9), time(12))
CONTRACT = Contract(12 * 60, (MON_9_12, TUE_14_18, FRI_9_12), date(2026, 9, 1))


def instants(
    first: date,
    last: date,
    *,
    students: Sequence[tuple[Sequence[Contract], Sequence[Excuse]]] = (((CONTRACT,), ()),),
    cal: CampusCalendar | None = None,
    after: datetime | None = None,
    until: datetime | None = None,
) -> list[datetime]:
    cal = cal or calendar()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    schedule = cal.schedule(first - timedelta(days=1), last + timedelta(days=1))
    slots = [
        item
        for pk, (contracts, excuses) in enumerate(students, start=1)
        for item in expected_slots(
            pk,
            f"E{pk:03d}",
            contracts,
            days=days,
            schedule=schedule,
            tz=PARIS,
            excuses=excuses,
            grace=timedelta(minutes=15),
        )
    ]
    after = after or at(first, 0)
    until = until or at(last, 23, 59)
    return check_instants(slots, after, until)


def test_one_instant_per_distinct_check_time_in_order() -> None:
    late = Contract(12 * 60, (Slot(0, time(10), time(12)),), date(2026, 9, 1))
    found = instants(
        MONDAY,
        MONDAY + timedelta(days=1),
        students=[((CONTRACT,), ()), ((CONTRACT,), ()), ((late,), ())],
    )
    assert found == [at(MONDAY, 9, 15), at(MONDAY, 10, 15), at(MONDAY + timedelta(days=1), 14, 15)]


def test_the_window_excludes_its_start_and_includes_its_end() -> None:
    tuesday = MONDAY + timedelta(days=1)
    assert instants(MONDAY, tuesday, after=at(MONDAY, 9, 15)) == [at(tuesday, 14, 15)]
    assert instants(MONDAY, tuesday, until=at(MONDAY, 9, 15)) == [at(MONDAY, 9, 15)]
    assert instants(MONDAY, tuesday, until=at(MONDAY, 9, 14, 59)) == []


def test_a_campus_opening_later_moves_the_instant() -> None:
    cal = calendar(weekly={0: (Hours(time(9, 30), time(19)),)})
    assert instants(MONDAY, MONDAY, cal=cal) == [at(MONDAY, 9, 45)]


def test_no_instant_on_a_public_holiday() -> None:
    easter_monday = date(2027, 3, 29)
    assert instants(easter_monday, easter_monday + timedelta(days=1)) == [
        at(easter_monday + timedelta(days=1), 14, 15)
    ]


def test_no_instant_during_a_campus_closure() -> None:
    cal = calendar(closures=(Period(MONDAY, MONDAY + timedelta(days=1), "travaux"),))
    friday = MONDAY + timedelta(days=4)
    assert instants(MONDAY, friday, cal=cal) == [at(friday, 9, 15)]


def test_an_excuse_removes_or_moves_the_instant() -> None:
    whole = Excuse(at(MONDAY, 8), at(MONDAY, 13))
    assert instants(MONDAY, MONDAY, students=[((CONTRACT,), (whole,))]) == []
    first_part = Excuse(at(MONDAY, 9), at(MONDAY, 10, 30))
    assert instants(MONDAY, MONDAY, students=[((CONTRACT,), (first_part,))]) == [at(MONDAY, 10, 45)]
    # Another student's slot at 09:00 still makes 09:15 an instant.
    both = [((CONTRACT,), (whole,)), ((CONTRACT,), ())]
    assert instants(MONDAY, MONDAY, students=both) == [at(MONDAY, 9, 15)]


def test_a_contract_change_mid_week() -> None:
    """The old contract ends on Tuesday; from Wednesday the student comes at 14:00."""
    tuesday, wednesday = MONDAY + timedelta(days=1), MONDAY + timedelta(days=2)
    old = Contract(12 * 60, (MON_9_12, TUE_14_18, FRI_9_12), date(2026, 9, 1), tuesday)
    new = Contract(12 * 60, (Slot(2, time(14), time(18)), Slot(4, time(14), time(18))), wednesday)
    friday = MONDAY + timedelta(days=4)
    assert instants(MONDAY, friday, students=[((old, new), ())]) == [
        at(MONDAY, 9, 15),
        at(tuesday, 14, 15),
        at(wednesday, 14, 15),
        at(friday, 14, 15),
    ]


def test_the_weeks_of_the_daylight_saving_changes_in_paris() -> None:
    """Local 09:15 every time: 07:15 UTC in summer time, 08:15 UTC in winter time."""
    friday, monday = date(2026, 10, 23), date(2026, 10, 26)  # summer time ends on 25 Oct
    assert [moment.astimezone(UTC) for moment in instants(friday, monday)] == [
        datetime(2026, 10, 23, 7, 15, tzinfo=UTC),
        datetime(2026, 10, 26, 8, 15, tzinfo=UTC),
    ]
    # Summer time starts on Sunday 28 March 2027 (and the Monday is Easter Monday).
    friday, tuesday = date(2027, 3, 26), date(2027, 3, 30)
    assert [moment.astimezone(UTC) for moment in instants(friday, tuesday)] == [
        datetime(2027, 3, 26, 8, 15, tzinfo=UTC),
        datetime(2027, 3, 30, 12, 15, tzinfo=UTC),
    ]
    sunday = date(2026, 10, 25)  # a campus open on Sundays, a Sunday slot that day
    cal = calendar(weekly={6: (Hours(time(8), time(19)),)})
    sundays = Contract(12 * 60, (Slot(6, time(9), time(12)),), date(2026, 9, 1))
    assert instants(sunday, sunday, cal=cal, students=[((sundays,), ())]) == [
        datetime(2026, 10, 25, 8, 15, tzinfo=UTC)
    ]
