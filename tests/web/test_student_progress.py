"""The pure parts of the student pages: the weekly bar chart and the week's slots."""

from __future__ import annotations

import re
from datetime import date, datetime, time

from server.domain.calendar import CampusCalendar, Hours, IsoWeek, Period
from server.domain.contracts import Contract, Slot
from server.domain.ledger import Excuse, WeekLine, WeekStatus
from server.domain.sessions import Session, SessionState
from server.domain.student_progress import (
    SlotState,
    academic_year_start,
    current_session,
    progress,
    week_slots,
    year_weeks,
)
from server.web.student.chart import HEIGHT, Bar, weekly_bars
from tests.web.conftest import PARIS

WEEK = IsoWeek(2026, 48)
OPEN = {day: (Hours(time(7), time(22)),) for day in range(6)}
CONTRACT = Contract(
    12 * 60,
    (Slot(0, time(9), time(12)), Slot(1, time(14), time(18)), Slot(3, time(9), time(13))),
    date(2026, 9, 1),
)


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23 + day, hour, minute, tzinfo=PARIS)


def test_the_chart_is_one_labelled_image_with_a_bar_per_week() -> None:
    svg = weekly_bars(
        [Bar("16/11", 12, 12), Bar("23/11", 6, 12), Bar("30/11", 0, 0)],
        label='Heures "réalisées" <par semaine>',
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert 'role="img"' in svg
    assert 'aria-label="Heures &#34;réalisées&#34; &lt;par semaine&gt;"' in svg
    heights = [int(h) for h in re.findall(r'<rect [^>]*height="(\d+)"', svg)]
    assert len(heights) == 3
    assert heights[0] == 2 * heights[1] and heights[2] == 0
    assert svg.count('stroke-width="3"') == 2  # an expected mark where hours were expected
    assert f'viewBox="0 0 {48 + 8 + 3 * 36} {HEIGHT}"' in svg


def test_the_chart_labels_at_most_twelve_weeks() -> None:
    svg = weekly_bars([Bar(f"w{i}", 1, 1) for i in range(40)], label="x")
    labels = re.findall(r'text-anchor="middle"[^>]*>(w\d+)<', svg)
    assert len(labels) == 10 and labels[:2] == ["w0", "w4"]


def test_the_slots_of_the_week_and_what_became_of_them() -> None:
    calendar = CampusCalendar(weekly=OPEN)
    sessions = [Session(_at(0, 9, 5), _at(0, 11, 5))]
    excuse = Excuse(_at(3, 8), _at(3, 14))
    visits = week_slots(
        WEEK, calendar, [CONTRACT], sessions=sessions, excuses=[excuse], now=_at(1, 15)
    )
    states = [(visit.day.day, visit.state, visit.today) for visit in visits]
    assert states == [
        (23, SlotState.ATTENDED, False),
        (24, SlotState.NOW, True),  # under way, nobody yet
        (26, SlotState.EXCUSED, False),
    ]


def test_a_closed_day_and_a_missed_slot() -> None:
    calendar = CampusCalendar(
        weekly=OPEN, closures=(Period(date(2026, 11, 24), date(2026, 11, 24), "Travaux"),)
    )
    visits = week_slots(WEEK, calendar, [CONTRACT], sessions=[], excuses=[], now=_at(2, 10))
    assert [(v.state, v.closure) for v in visits] == [
        (SlotState.MISSED, ""),
        (SlotState.CLOSED, "Travaux"),
        (SlotState.UPCOMING, ""),
    ]
    assert [visit.due for visit in visits] == [True, False, True]


def test_what_is_left_counts_verified_hours_and_slots_not_over() -> None:
    calendar = CampusCalendar(weekly=OPEN)
    visits = week_slots(WEEK, calendar, [CONTRACT], sessions=[], excuses=[], now=_at(1, 15))
    line = WeekLine("E001", WEEK, 11 * 3600, 3 * 3600, 3600, 0, 0, WeekStatus.ON_TRACK)
    left = progress(line, visits, _at(1, 15))
    assert (left.to_go_s, left.slots_left, left.on_track) == (9 * 3600, 2, True)
    met = WeekLine("E001", WEEK, 3600, 7200, 0, 0, 0, WeekStatus.MET)
    assert progress(met, visits, _at(1, 15)).slots_left == 0


def test_the_open_session_is_the_current_one() -> None:
    done = Session(_at(0, 9), _at(0, 10))
    assert current_session([done]) is None
    inside = Session(_at(0, 14), _at(0, 15), SessionState.OPEN)
    assert current_session([done, inside]) == inside


def test_the_academic_year_starts_in_september() -> None:
    assert academic_year_start(date(2026, 11, 23)) == date(2026, 9, 1)
    assert academic_year_start(date(2027, 3, 1)) == date(2026, 9, 1)
    assert academic_year_start(date(2026, 9, 1)) == date(2026, 9, 1)
    weeks = year_weeks(date(2026, 11, 23), [CONTRACT])
    assert (str(weeks[0]), str(weeks[-1]), len(weeks)) == ("2026-W36", "2026-W48", 13)
    assert year_weeks(date(2026, 8, 20), [CONTRACT]) == []
