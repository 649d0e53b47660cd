"""The live, one-tap-at-a-time replay gives what ``build_sessions`` gives (issue 16: the
live occupancy and the readers' feedback no longer replay a person's day at each tap)."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from server.domain.sessions import (
    DoorTap,
    ReaderMode,
    SessionReplay,
    SessionRules,
    SessionState,
    build_sessions,
)
from tests.unit.presence.helpers import at, calendar

MONDAY = date(2026, 11, 23)
RULES = SessionRules(debounce=timedelta(seconds=5), max_duration=timedelta(hours=6))
SCHEDULE = calendar().schedule(MONDAY - timedelta(days=1), MONDAY + timedelta(days=2))

# gaps between taps from 1 s (debounced) to 9 h (past closing, past the maximum duration)
gaps = st.lists(st.tuples(st.integers(1, 9 * 3600), st.sampled_from(list(ReaderMode))), max_size=40)


@given(gaps, st.integers(0, 14 * 3600))
def test_replay_fed_tap_by_tap_matches_build_sessions(items, after) -> None:
    moment = at(MONDAY, 6)
    door = []
    for index, (gap, mode) in enumerate(items):
        moment += timedelta(seconds=gap)
        door.append(DoorTap(moment, mode, f"t{index}"))
    replay = SessionReplay(rules=RULES, schedule=SCHEDULE)
    effects = [replay.feed(tap) for tap in door]
    now = moment + timedelta(seconds=after)
    sessions, expected = build_sessions(door, rules=RULES, schedule=SCHEDULE, now=now)
    assert effects == expected
    assert replay.open_at(now) == bool(sessions and sessions[-1].state is SessionState.OPEN)
    # open_at does not change the state: asking again, or later, is consistent
    later = now + timedelta(hours=13)
    sessions_later, _ = build_sessions(door, rules=RULES, schedule=SCHEDULE, now=later)
    assert replay.open_at(later) == bool(
        sessions_later and sessions_later[-1].state is SessionState.OPEN
    )
