"""Live occupancy counts (pure), with properties checked by hypothesis."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.occupancy import CampusOccupancy
from server.domain.sessions import DoorTap, ReaderMode, SessionRules
from tests.unit.presence.helpers import at, calendar

MONDAY = date(2026, 11, 23)
OPEN = at(MONDAY, 8)
RULES = SessionRules(debounce=timedelta(seconds=5))
SCHEDULE = calendar().schedule(MONDAY - timedelta(days=1), MONDAY + timedelta(days=1))

# (person, in?, room) events at least a minute apart, during opening hours (8:00-19:00)
events = st.lists(
    st.tuples(st.integers(0, 7), st.sampled_from(["in", "out", "room"]), st.sampled_from("ab")),
    max_size=60,
)


def play(items, occupancy: CampusOccupancy) -> list[tuple[dict, dict]]:
    """Feed the events; after each, (the counts, an independent oracle's counts)."""
    inside: set[int] = set()
    room_of: dict[int, str] = {}
    steps = []
    for index, (person, kind, room) in enumerate(items):
        ts = OPEN + timedelta(minutes=index + 1)
        if kind == "room":
            occupancy.room_tap(f"p{person}", room, ts)
            room_of[person] = room
        else:
            mode = ReaderMode.IN if kind == "in" else ReaderMode.OUT
            occupancy.door_tap(f"p{person}", DoorTap(ts, mode, f"t{index}"), ts)
            if kind == "in":
                inside.add(person)
            elif person in inside:
                inside.discard(person)
                room_of.pop(person, None)
        oracle = {None: len(inside)}
        oracle.update({r: sum(1 for held in room_of.values() if held == r) for r in "ab"})
        steps.append((dict(occupancy.values()), oracle))
    return steps


@given(events)
def test_counts_are_ins_minus_outs_and_never_negative(items) -> None:
    for values, oracle in play(items, CampusOccupancy(rules=RULES, schedule=SCHEDULE, rooms="ab")):
        assert values == oracle
        assert min(values.values()) >= 0


@given(events, st.integers(0, 5))
def test_everything_is_reset_at_closing(items, extra) -> None:
    occupancy = CampusOccupancy(rules=RULES, schedule=SCHEDULE, rooms="ab")
    play(items, occupancy)
    occupancy.correct(None, len(items) + extra)
    occupancy.correct("a", extra)
    occupancy.tick(at(MONDAY, 19, 0, 1))
    assert set(occupancy.values().values()) == {0}


@given(st.lists(st.integers(0, 3), min_size=1, max_size=30), st.randoms())
def test_toggle_taps_in_any_order_give_the_same_count(people, random) -> None:
    taps = [
        (f"p{p}", DoorTap(OPEN + timedelta(minutes=i), ReaderMode.TOGGLE, f"t{i}"))
        for i, p in enumerate(people)
    ]
    now = OPEN + timedelta(hours=2)
    in_order = CampusOccupancy(rules=RULES, schedule=SCHEDULE)
    for person, tap in taps:
        in_order.door_tap(person, tap, now)
    shuffled = list(taps)
    random.shuffle(shuffled)
    any_order = CampusOccupancy(rules=RULES, schedule=SCHEDULE)
    for person, tap in shuffled:
        any_order.door_tap(person, tap, now)
    toggles = {p: people.count(p) % 2 for p in set(people)}
    assert in_order.values()[None] == any_order.values()[None] == sum(toggles.values())


def test_a_person_badging_into_a_room_leaves_the_previous_one() -> None:
    occupancy = CampusOccupancy(rules=RULES, schedule=SCHEDULE, rooms=["calme", "groupe"])
    occupancy.door_tap("ana", DoorTap(OPEN, ReaderMode.TOGGLE, "t1"), OPEN)
    occupancy.room_tap("ana", "calme", OPEN + timedelta(minutes=1))
    occupancy.room_tap("ana", "groupe", OPEN + timedelta(minutes=30))
    occupancy.room_tap("ana", "calme", OPEN + timedelta(minutes=10))  # delivered late
    assert occupancy.values() == {None: 1, "calme": 0, "groupe": 1}
    occupancy.door_tap("ana", DoorTap(OPEN + timedelta(hours=1), ReaderMode.TOGGLE, "t2"), OPEN)
    assert occupancy.values() == {None: 0, "calme": 0, "groupe": 0}


def test_repeated_taps_within_the_debounce_are_one() -> None:
    occupancy = CampusOccupancy(rules=RULES, schedule=SCHEDULE)
    for second in (0, 2, 4):
        tap = DoorTap(OPEN + timedelta(seconds=second), ReaderMode.TOGGLE, f"t{second}")
        occupancy.door_tap("ana", tap, OPEN + timedelta(seconds=second))
    assert occupancy.values()[None] == 1


def test_a_forgotten_exit_ends_at_closing_time() -> None:
    occupancy = CampusOccupancy(rules=RULES, schedule=SCHEDULE, rooms=["calme"])
    occupancy.door_tap("ana", DoorTap(at(MONDAY, 17), ReaderMode.TOGGLE, "t1"), at(MONDAY, 17))
    occupancy.room_tap("ana", "calme", at(MONDAY, 17, 5))
    occupancy.tick(at(MONDAY, 18, 59))
    assert occupancy.values() == {None: 1, "calme": 1}
    occupancy.tick(at(MONDAY, 19))
    assert occupancy.values() == {None: 0, "calme": 0}


def test_a_correction_adjusts_and_never_goes_negative() -> None:
    occupancy = CampusOccupancy(rules=RULES, schedule=None)
    for person in ("ana", "bob"):
        occupancy.door_tap(person, DoorTap(OPEN, ReaderMode.IN, person), OPEN)
    fixed = occupancy.correct(None, 1)  # bob left without badging
    assert (fixed.count, fixed.computed, fixed.adjustment) == (1, 2, -1)
    later = OPEN + timedelta(minutes=5)
    occupancy.door_tap("ana", DoorTap(later, ReaderMode.OUT, "ana-out"), later)
    occupancy.door_tap("bob", DoorTap(later, ReaderMode.OUT, "bob-out"), later)
    assert occupancy.count(None).count == 0
    with pytest.raises(ValueError):
        occupancy.correct(None, -1)
