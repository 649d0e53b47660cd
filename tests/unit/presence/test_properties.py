"""Property-based tests of the presence rules (hypothesis)."""

import itertools
from datetime import date, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from server.domain.calendar import CampusCalendar, IsoWeek
from server.domain.contracts import Contract, ExcuseCategory, Slot
from server.domain.ledger import Excuse, week_line
from server.domain.sessions import DoorTap, ReaderMode, Session, SessionRules, build_sessions
from tests.unit.presence.helpers import PARIS, at, calendar, frame

MONDAY = date(2026, 11, 23)
WEEK_START = at(MONDAY, 0)

offsets = st.integers(min_value=0, max_value=7 * 24 * 3600 - 1)
modes = st.sampled_from(list(ReaderMode))
tap_lists = st.lists(st.tuples(offsets, modes), max_size=40).map(
    lambda items: [
        DoorTap(WEEK_START + timedelta(seconds=offset), mode, f"t{index}")
        for index, (offset, mode) in enumerate(sorted(items, key=lambda item: item[0]))
    ]
)
calendars = st.sampled_from([calendar(), CampusCalendar(closes_on_public_holidays=False)])
rules = st.builds(
    SessionRules,
    debounce=st.integers(0, 30).map(lambda s: timedelta(seconds=s)),
    max_duration=st.integers(1, 16).map(lambda h: timedelta(hours=h)),
)


@given(tap_lists, calendars, rules, offsets)
def test_sessions_are_ordered_disjoint_bounded_and_never_exceed_wall_clock(
    door_taps, cal, session_rules, now_offset
) -> None:
    now = WEEK_START + timedelta(seconds=now_offset)
    door_taps = [tap for tap in door_taps if tap.ts <= now]
    schedule = cal.schedule(MONDAY - timedelta(days=1), MONDAY + timedelta(days=8))
    sessions, effects = build_sessions(door_taps, rules=session_rules, schedule=schedule, now=now)
    assert len(effects) == len(door_taps)
    for session in sessions:
        assert session.start <= session.end <= now
        assert session.end - session.start <= session_rules.max_duration
    for first, second in itertools.pairwise(sessions):
        assert first.end <= second.start
    if door_taps:
        total = sum((s.end - s.start for s in sessions), timedelta())
        assert total <= now - door_taps[0].ts


@st.composite
def week_inputs(draw):
    year = draw(st.integers(2025, 2028))
    week = draw(st.integers(1, 52))
    iso = IsoWeek(year, week)
    days = draw(st.lists(st.integers(0, 6), min_size=1, max_size=5, unique=True))
    slots = []
    for day in days:
        start = draw(st.integers(6, 18))
        length = draw(st.integers(1, 5))
        slots.append(Slot(day, time(start), time(min(start + length, 23))))
    weekly = draw(st.integers(60, 40 * 60))
    starts = draw(st.integers(-10, 10))
    contract = Contract(weekly, tuple(slots), iso.monday + timedelta(days=starts))
    sessions = draw(
        st.lists(st.tuples(st.integers(-24, 7 * 24 + 12), st.integers(1, 14)), max_size=12)
    )
    return iso, contract, sessions


@settings(max_examples=200)
@given(week_inputs(), st.integers(-24, 8 * 24))
def test_a_week_line_is_consistent(inputs, now_hours) -> None:
    iso, contract, spans = inputs
    start, end = iso.bounds(PARIS)
    sessions = sorted(
        Session(start + timedelta(hours=a), start + timedelta(hours=a + length))
        for a, length in spans
    )
    week_frame = frame(str(iso))
    now = start + timedelta(hours=now_hours)
    line = week_line("s", week_frame, contracts=[contract], sessions=sessions, now=now)
    assert 0 <= line.unverified_s <= line.attended_s <= (end - start).total_seconds()
    assert 0 <= line.expected_s <= contract.weekly_minutes * 60 + 30
    assert line.missed_slots + line.late_arrivals <= len(contract.slots)
    excuse = Excuse(
        start + timedelta(hours=30), start + timedelta(hours=80), ExcuseCategory.ILLNESS
    )
    excused = week_line(
        "s", week_frame, contracts=[contract], sessions=sessions, excuses=[excuse], now=now
    )
    assert excused.expected_s <= line.expected_s
    fewer = week_line("s", week_frame, contracts=[contract], sessions=sessions[1:], now=now)
    assert fewer.attended_s <= line.attended_s


@given(st.integers(2020, 2035), st.integers(1, 52))
def test_every_week_lasts_its_real_hours(year, week) -> None:
    iso = IsoWeek(year, week)
    start, end = iso.bounds(PARIS)
    assert end - start in {timedelta(hours=167), timedelta(hours=168), timedelta(hours=169)}
    always_open = CampusCalendar(closes_on_public_holidays=False)
    whole = [Session(start - timedelta(hours=3), end + timedelta(hours=3))]
    line = week_line("s", frame(str(iso), always_open), contracts=[], sessions=whole, now=end)
    assert line.attended_s == (end - start).total_seconds()
