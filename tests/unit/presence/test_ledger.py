from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from server.domain.calendar import CampusCalendar, Hours, Period
from server.domain.contracts import Contract, ExcuseCategory, parse_slots
from server.domain.ledger import Excuse, WeekStatus, week_line, weeks_to_recompute
from server.domain.sessions import Session, SessionState
from tests.unit.presence.helpers import at, calendar, frame, hours

W48 = "2026-W48"  # Monday 23 to Sunday 29 November 2026, no holiday
MON, TUE, WED, THU, FRI = (date(2026, 11, 23) + timedelta(days=n) for n in range(5))
SLOTS = parse_slots("lun 09:00-12:00; mar 14:00-18:00; jeu 09:00-13:00; ven 09:00-10:00")  # 12 h
CONTRACT = Contract(12 * 60, SLOTS, date(2026, 9, 1), date(2027, 6, 30))
END_OF_WEEK = at(date(2026, 11, 30), 12)


def _line(sessions, *, week=W48, cal=None, contracts=(CONTRACT,), excuses=(), now=END_OF_WEEK):
    return week_line(
        "e1", frame(week, cal), contracts=contracts, sessions=sessions, excuses=excuses, now=now
    )


def _present(day: date, start: int, end: int, state=SessionState.CLOSED) -> Session:
    return Session(at(day, start), at(day, end), state)


FULL_WEEK = [
    _present(MON, 9, 12),
    _present(TUE, 14, 18),
    _present(THU, 9, 13),
    _present(FRI, 9, 10),
]


def test_attending_every_slot_meets_the_commitment() -> None:
    line = _line(FULL_WEEK)
    assert (line.expected_s, line.attended_s, line.unverified_s) == (hours(12), hours(12), 0)
    assert (line.missed_slots, line.late_arrivals, line.status) == (0, 0, WeekStatus.MET)
    assert line.as_dict()["expected_hours"] == 12.0


def test_hours_outside_the_slots_count() -> None:
    sessions = [_present(MON, 13, 19), _present(WED, 8, 14)]
    line = _line(sessions)
    assert line.attended_s == hours(12)
    assert line.status is WeekStatus.MET
    assert line.missed_slots == 4


def test_short_week_with_missed_slots_and_a_late_arrival() -> None:
    sessions = [_present(MON, 9, 12), Session(at(TUE, 14, 40), at(TUE, 18))]
    line = _line(sessions)
    assert line.attended_s == hours(3) + hours(3) + 20 * 60
    assert (line.missed_slots, line.late_arrivals, line.status) == (2, 1, WeekStatus.SHORT)


def test_arriving_within_the_grace_time_is_not_late() -> None:
    sessions = [Session(at(MON, 9, 14), at(MON, 12))]
    assert _line(sessions).late_arrivals == 0
    assert _line([Session(at(MON, 9, 16), at(MON, 12))]).late_arrivals == 1


def test_unverified_hours_are_shown_but_do_not_meet_the_commitment() -> None:
    sessions = [*FULL_WEEK[:3], _present(FRI, 9, 10, SessionState.UNVERIFIED)]
    line = _line(sessions)
    assert (line.attended_s, line.unverified_s) == (hours(12), hours(1))
    assert line.status is WeekStatus.SHORT
    confirmed = [*FULL_WEEK[:3], _present(FRI, 9, 10, SessionState.CONFIRMED)]
    assert _line(confirmed).status is WeekStatus.MET


def test_a_public_holiday_on_a_slot_day_lowers_the_expected_hours() -> None:
    # 2026-W46: Wednesday 11 November (Armistice). Make it a slot day.
    contract = Contract(
        12 * 60, parse_slots("lun 09:00-13:00; mer 09:00-13:00; ven 09:00-13:00"), date(2026, 9, 1)
    )
    line = _line([], week="2026-W46", contracts=(contract,))
    assert line.expected_s == hours(8)
    assert line.missed_slots == 2  # the holiday is not missed


def test_school_holidays_when_the_campus_closes_excuse_the_whole_week() -> None:
    holidays = (Period(date(2026, 12, 19), date(2027, 1, 3), "Noël"),)
    cal = calendar(school_holidays=holidays, closes_on_school_holidays=True)
    line = _line([], week="2026-W52", cal=cal)
    assert (line.expected_s, line.missed_slots, line.status) == (0, 0, WeekStatus.EXCUSED)


def test_an_excused_absence_removes_its_share_of_the_slot() -> None:
    exam = Excuse(at(TUE, 14), at(TUE, 16), ExcuseCategory.EXAM)
    line = _line(FULL_WEEK[:1] + FULL_WEEK[2:] + [_present(TUE, 16, 18)], excuses=(exam,))
    assert line.expected_s == hours(10)
    assert (line.late_arrivals, line.status) == (0, WeekStatus.MET)


def test_a_contract_starting_mid_week_expects_its_share_only() -> None:
    contract = Contract(12 * 60, SLOTS, WED)  # Monday and Tuesday slots are before it
    line = _line([], contracts=(contract,))
    assert line.expected_s == hours(5)


def test_a_renewal_mid_week_counts_each_contract_for_its_days() -> None:
    old = Contract(12 * 60, SLOTS, date(2026, 9, 1), TUE)  # 7 h of slots until Tuesday
    new = Contract(24 * 60, SLOTS, WED)  # twice the hours: 5 h of slots from Wednesday
    line = _line([], contracts=(old, new))
    assert line.expected_s == hours(7) + hours(10)


def test_exceptional_hours_cut_the_slot_they_overlap() -> None:
    cal = calendar(exceptions={MON: (Hours(time(10), time(19)),)})
    assert _line([], cal=cal).expected_s == hours(11)


def test_a_contract_with_more_hours_than_slots_expects_its_hours() -> None:
    contract = Contract(15 * 60, SLOTS, date(2026, 9, 1))
    assert _line([], contracts=(contract,)).expected_s == hours(15)


def test_expected_hours_are_rounded_to_the_minute() -> None:
    contract = Contract(12 * 60 + 20, SLOTS, WED)  # 740 min × 5/12 = 308.33 min
    assert _line([], contracts=(contract,)).expected_s == 308 * 60


def test_sessions_are_clipped_to_the_week_and_overlaps_count_once() -> None:
    sunday_night = Session(at(date(2026, 11, 22), 22), at(MON, 2))
    overlapping = [_present(MON, 9, 12), _present(MON, 11, 13, SessionState.MANUAL)]
    line = _line([sunday_night, *overlapping])
    assert line.attended_s == hours(2) + hours(4)


def test_the_october_change_week_counts_real_hours() -> None:
    # 2026-W43: the clocks go back on Sunday 25 October at 03:00.
    sunday = date(2026, 10, 25)
    always_open = CampusCalendar(closes_on_public_holidays=False)
    night = Session(at(sunday, 0), at(sunday, 6))  # 00:00 to 06:00 local lasts 7 h
    line = _line([night], week="2026-W43", cal=always_open)
    assert line.attended_s == hours(7)
    whole = Session(at(date(2026, 10, 19), 0), at(date(2026, 10, 26), 0))
    assert _line([whole], week="2026-W43", cal=always_open).attended_s == hours(169)


def test_the_march_change_week_counts_real_hours() -> None:
    sunday = date(2026, 3, 29)  # clocks go forward at 02:00
    always_open = CampusCalendar(closes_on_public_holidays=False)
    night = Session(at(sunday, 0), at(sunday, 6))
    assert _line([night], week="2026-W13", cal=always_open).attended_s == hours(5)
    whole = Session(at(date(2026, 3, 23), 0), at(date(2026, 3, 30), 0))
    assert _line([whole], week="2026-W13", cal=always_open).attended_s == hours(167)


def test_mid_week_the_commitment_can_still_be_made() -> None:
    line = _line([_present(MON, 9, 12)], now=at(TUE, 8))
    assert line.status is WeekStatus.ON_TRACK
    assert line.missed_slots == 0


def test_mid_week_the_opening_hours_left_can_still_make_up_the_hours() -> None:
    # Tuesday 18:00, nothing attended: the slots left hold 5 h of the 12, but the campus
    # is open 34 h more this week (Tue 18-19, Wed-Fri 8-19): hours outside the slots count.
    line = _line([], now=at(TUE, 18))
    assert (line.status, line.reachable_s) == (WeekStatus.ON_TRACK, hours(34))
    assert line.missed_slots == 2


def test_mid_week_warning_when_the_time_left_cannot_make_up_the_hours() -> None:
    # Friday 12:00, 3 h attended: 9 h missing, the campus is open 7 h more (12-19).
    line = _line([_present(MON, 9, 12)], now=at(FRI, 12))
    assert (line.status, line.reachable_s) == (WeekStatus.AT_RISK, hours(7))


def test_mid_week_met_as_soon_as_the_hours_are_there() -> None:
    line = _line([_present(MON, 8, 19), _present(TUE, 8, 9)], now=at(TUE, 9, 30))
    assert line.status is WeekStatus.MET


def test_a_slot_in_progress_is_neither_missed_nor_late_yet() -> None:
    line = _line([], now=at(MON, 9, 10))
    assert (line.missed_slots, line.late_arrivals) == (0, 0)


def test_a_change_from_a_past_day_recomputes_its_weeks_up_to_this_one() -> None:
    paris = ZoneInfo("Europe/Paris")
    now = datetime(2026, 11, 25, 10, tzinfo=UTC)  # Wednesday of W48
    weeks = weeks_to_recompute(date(2026, 11, 12), now, paris, timedelta(days=400))
    assert [str(week) for week in weeks] == ["2026-W46", "2026-W47", "2026-W48"]
    assert weeks_to_recompute(date(2026, 12, 1), now, paris, timedelta(days=400)) == []


def test_weeks_whose_taps_are_purged_are_not_recomputed() -> None:
    paris = ZoneInfo("Europe/Paris")
    now = datetime(2026, 11, 25, 10, tzinfo=UTC)
    # 16 days kept: from Monday 9 November 11:00 (Paris); W46 starts that day at 00:00.
    weeks = weeks_to_recompute(date(2026, 9, 1), now, paris, timedelta(days=16))
    assert [str(week) for week in weeks] == ["2026-W47", "2026-W48"]
