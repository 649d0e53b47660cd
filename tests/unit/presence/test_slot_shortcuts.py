"""The shortcuts of ``domain.slots`` answer as the general computations do (hypothesis).

``_cross`` walks a single slot in one pass; ``attend`` crosses the due time with the
presence once when no session is open; a schedule remembers open parts. Each is checked
against the general computation it replaces.
"""

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from server.domain.calendar import Schedule, intersect, merge, seconds
from server.domain.slots import Presence, SlotState, _cross, _open_parts, attend

BASE = datetime(2026, 11, 23, 7, tzinfo=UTC)


def _intervals(minutes: list[tuple[int, int]]) -> tuple:
    return merge(
        (BASE + timedelta(minutes=start), BASE + timedelta(minutes=start + length))
        for start, length in minutes
    )


interval_lists = st.lists(st.tuples(st.integers(0, 2000), st.integers(1, 300)), max_size=12).map(
    _intervals
)
one_interval = st.tuples(st.integers(0, 2000), st.integers(1, 600)).map(lambda x: _intervals([x]))


@given(one_interval, interval_lists)
def test_crossing_one_slot_is_the_intersection(slot, presence) -> None:
    assert _cross(slot, presence) == intersect(slot, presence)


@given(interval_lists, interval_lists)
def test_crossing_lists_is_the_intersection(left, right) -> None:
    assert _cross(left, right) == intersect(left, right)


@given(interval_lists, one_interval, st.integers(0, 3000))
def test_a_schedule_remembers_the_open_parts_it_computed(opening, slot, probe) -> None:
    schedule = Schedule(opening)
    first = _open_parts(schedule, slot[0])
    assert first == intersect(slot, opening)
    assert _open_parts(schedule, slot[0]) == first  # from the memo
    other = (BASE + timedelta(minutes=probe), BASE + timedelta(minutes=probe + 90))
    assert _open_parts(schedule, other) == intersect((other,), opening)


def _general_attend(due, check_at, presence: Presence, now):
    """attend() as it was written before the shortcut: presence reached twice."""
    expected_from, due_end = due[0][0], due[-1][1]
    near = presence.near(expected_from, due_end)
    attended_s = seconds(intersect(due, near)) if near else 0
    reach = presence.reach(expected_from, due_end + timedelta(days=2))
    met = intersect(due, reach) if reach else ()
    if met:
        first = met[0][0]
        arrived_at = next(start for start, end in reach if start <= first < end)
        state = SlotState.PRESENT if first <= check_at else SlotState.LATE
        return state, arrived_at, first - expected_from, attended_s
    return None, None, timedelta(), attended_s


@given(
    one_interval,
    interval_lists,
    st.integers(0, 60),
    st.integers(0, 3000),
    st.one_of(st.none(), st.integers(0, 3000)),
)
def test_attend_with_or_without_an_open_session(due, sessions, grace, now_m, open_m) -> None:
    now = BASE + timedelta(minutes=now_m)
    open_since = None if open_m is None else BASE + timedelta(minutes=open_m)
    presence = Presence(sessions, open_since)
    check_at = min(due[0][0] + timedelta(minutes=grace), due[-1][1])
    seen = attend(due, check_at, presence, now)
    state, arrived_at, late_by, attended_s = _general_attend(due, check_at, presence, now)
    assert (seen.arrived_at, seen.late_by, seen.attended_s) == (arrived_at, late_by, attended_s)
    if state is not None:
        assert seen.state is state
    else:
        assert not seen.state.arrived
