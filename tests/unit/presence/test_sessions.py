from datetime import date, time, timedelta

import pytest

from server.domain.calendar import CampusCalendar, Hours
from server.domain.errors import DomainError
from server.domain.sessions import (
    Correction,
    CorrectionKind,
    ReaderMode,
    Session,
    SessionRules,
    SessionState,
    TapEffect,
    apply_corrections,
    build_sessions,
)
from tests.unit.presence.helpers import at, calendar, taps

MONDAY = date(2026, 11, 23)
RULES = SessionRules()


def _build(door_taps, *, now=None, cal=None, rules=RULES):
    cal = cal if cal is not None else calendar()
    schedule = cal.schedule(MONDAY - timedelta(days=1), MONDAY + timedelta(days=7))
    now = now or at(MONDAY + timedelta(days=6), 23)
    return build_sessions(door_taps, rules=rules, schedule=schedule, now=now)


def test_toggle_reader_lets_in_then_out() -> None:
    sessions, effects = _build(taps(at(MONDAY, 9), at(MONDAY, 12), at(MONDAY, 14), at(MONDAY, 17)))
    assert sessions == [
        Session(at(MONDAY, 9), at(MONDAY, 12), SessionState.CLOSED),
        Session(at(MONDAY, 14), at(MONDAY, 17), SessionState.CLOSED),
    ]
    assert effects == [TapEffect.ENTERED, TapEffect.LEFT] * 2


def test_repeated_taps_within_the_debounce_window_are_one() -> None:
    burst = [at(MONDAY, 9, 0, 0), at(MONDAY, 9, 0, 3), at(MONDAY, 9, 0, 6), at(MONDAY, 9, 0, 9)]
    sessions, effects = _build(taps(*burst, at(MONDAY, 12)))
    assert sessions == [Session(at(MONDAY, 9), at(MONDAY, 12), SessionState.CLOSED)]
    assert effects == [TapEffect.ENTERED, *[TapEffect.REPEATED] * 3, TapEffect.LEFT]


def test_taps_further_apart_than_the_debounce_window_count() -> None:
    sessions, _ = _build(taps(at(MONDAY, 9, 0, 0), at(MONDAY, 9, 0, 6)))
    assert sessions == [Session(at(MONDAY, 9), at(MONDAY, 9, 0, 6), SessionState.CLOSED)]


def test_forgotten_check_out_is_closed_at_closing_time_unverified() -> None:
    sessions, _ = _build(taps(at(MONDAY, 9), at(MONDAY + timedelta(1), 9)))
    assert sessions[0] == Session(at(MONDAY, 9), at(MONDAY, 19), SessionState.UNVERIFIED)
    assert not sessions[0].verified
    assert sessions[1].start == at(MONDAY + timedelta(1), 9)  # next morning: a new entry


def test_an_open_session_is_capped_at_the_maximum_duration() -> None:
    rules = SessionRules(max_duration=timedelta(hours=4))
    sessions, _ = _build(taps(at(MONDAY, 9)), rules=rules)
    assert sessions == [Session(at(MONDAY, 9), at(MONDAY, 13), SessionState.UNVERIFIED)]


def test_a_session_still_running_at_now_is_open_until_now() -> None:
    sessions, _ = _build(taps(at(MONDAY, 9)), now=at(MONDAY, 10, 30))
    assert sessions == [Session(at(MONDAY, 9), at(MONDAY, 10, 30), SessionState.OPEN)]


def test_leaving_just_after_closing_ends_the_session_there() -> None:
    sessions, effects = _build(taps(at(MONDAY, 15), at(MONDAY, 19, 10)))
    assert sessions == [Session(at(MONDAY, 15), at(MONDAY, 19, 10), SessionState.CLOSED)]
    assert effects == [TapEffect.ENTERED, TapEffect.LEFT]


def test_arriving_a_little_before_opening_counts_until_closing() -> None:
    sessions, _ = _build(taps(at(MONDAY, 7, 45)))
    assert sessions == [Session(at(MONDAY, 7, 45), at(MONDAY, 19), SessionState.UNVERIFIED)]


def test_a_tap_while_the_campus_is_closed_makes_an_empty_unverified_session() -> None:
    saturday = MONDAY + timedelta(days=5)
    sessions, effects = _build(taps(at(saturday, 10)))
    assert sessions == [Session(at(saturday, 10), at(saturday, 10), SessionState.UNVERIFIED)]
    assert effects == [TapEffect.ENTERED]


def test_in_and_out_readers_only_do_their_own_job() -> None:
    door = [
        *taps(at(MONDAY, 9), mode=ReaderMode.IN),
        *taps(at(MONDAY, 10), mode=ReaderMode.IN),
        *taps(at(MONDAY, 12), mode=ReaderMode.OUT),
        *taps(at(MONDAY, 13), mode=ReaderMode.OUT),
    ]
    sessions, effects = _build(door)
    assert sessions == [Session(at(MONDAY, 9), at(MONDAY, 12), SessionState.CLOSED)]
    assert effects == [TapEffect.ENTERED, TapEffect.ALREADY_IN, TapEffect.LEFT, TapEffect.NOT_IN]


def test_room_readers_make_no_presence() -> None:
    door = [
        *taps(at(MONDAY, 9)),
        *taps(at(MONDAY, 10), mode=ReaderMode.ROOM),
        *taps(at(MONDAY, 12)),
    ]
    sessions, effects = _build(door)
    assert sessions == [Session(at(MONDAY, 9), at(MONDAY, 12), SessionState.CLOSED)]
    assert effects == [TapEffect.ENTERED, TapEffect.ROOM, TapEffect.LEFT]


def test_a_session_may_cross_midnight_where_the_campus_is_open() -> None:
    always_open = CampusCalendar(closes_on_public_holidays=False)
    sessions, _ = _build(taps(at(MONDAY, 21), at(MONDAY + timedelta(1), 2)), cal=always_open)
    assert sessions == [Session(at(MONDAY, 21), at(MONDAY + timedelta(1), 2), SessionState.CLOSED)]


def test_late_opening_hours_keep_a_session_across_midnight() -> None:
    evenings = CampusCalendar(weekly={day: (Hours(time(14), time(1)),) for day in range(7)})
    sessions, _ = _build(taps(at(MONDAY, 22)), cal=evenings)
    assert sessions == [
        Session(at(MONDAY, 22), at(MONDAY + timedelta(1), 1), SessionState.UNVERIFIED)
    ]


def test_tutor_confirms_amends_adds_and_removes_sessions() -> None:
    forgotten = Session(at(MONDAY, 9), at(MONDAY, 19), SessionState.UNVERIFIED)
    lent = Session(at(MONDAY + timedelta(1), 9), at(MONDAY + timedelta(1), 10))
    other = Session(
        at(MONDAY + timedelta(2), 9), at(MONDAY + timedelta(2), 19), SessionState.UNVERIFIED
    )
    corrections = [
        Correction(CorrectionKind.AMEND, forgotten.start, at(MONDAY, 9), at(MONDAY, 16)),
        Correction(CorrectionKind.REMOVE, lent.start),
        Correction(CorrectionKind.CONFIRM, other.start),
        Correction(
            CorrectionKind.ADD, None, at(MONDAY + timedelta(3), 14), at(MONDAY + timedelta(3), 18)
        ),
        Correction(CorrectionKind.CONFIRM, at(MONDAY, 5)),  # names no session: skipped
    ]
    assert apply_corrections([forgotten, lent, other], corrections) == [
        Session(at(MONDAY, 9), at(MONDAY, 16), SessionState.MANUAL),
        Session(other.start, other.end, SessionState.CONFIRMED),
        Session(at(MONDAY + timedelta(3), 14), at(MONDAY + timedelta(3), 18), SessionState.MANUAL),
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"kind": CorrectionKind.CONFIRM},
        {"kind": CorrectionKind.ADD, "start": at(MONDAY, 9)},
        {"kind": CorrectionKind.ADD, "start": at(MONDAY, 9), "end": at(MONDAY, 8)},
        {"kind": CorrectionKind.AMEND, "session_start": at(MONDAY, 9)},
    ],
)
def test_incomplete_corrections_are_refused(kwargs: dict) -> None:
    with pytest.raises(DomainError):
        Correction(**kwargs)
