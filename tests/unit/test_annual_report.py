"""The annual grid and the eligibility criteria, from plain inputs (domain.annual_report)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.domain import annual_report as rules
from server.domain.annual_report import (
    AbsenceFacts,
    ActivityFacts,
    GridFormatError,
    GridInputs,
    OccupancyFacts,
    PeriodError,
    StudentFacts,
    StudentHours,
)

PARIS = ZoneInfo("Europe/Paris")
YEAR = rules.academic_year("2026-2027")


def students(count: int, *, public: int, tutors: int) -> list[StudentFacts]:
    return [
        StudentFacts(
            f"E{n:03}",
            tutor_id=n % tutors if tutors else None,
            institution_type="public" if n < public else "privé",
        )
        for n in range(count)
    ]


def inputs(**changes: object) -> GridInputs:
    base: dict[str, object] = {
        "campus": "c",
        "campus_name": "Campus",
        "period": YEAR,
        "tz": PARIS,
    }
    return GridInputs(**{**base, **changes})  # type: ignore[arg-type]


def test_academic_year_runs_from_september_to_august() -> None:
    assert (YEAR.first, YEAR.last) == (date(2026, 9, 1), date(2027, 8, 31))
    assert YEAR.previous_year().label == "2025-2026"


@pytest.mark.parametrize("text", ["2026", "2026-2028", "26-27", "2026-2025", ""])
def test_a_malformed_year_is_refused(text: str) -> None:
    with pytest.raises(PeriodError):
        rules.academic_year(text)


def test_a_range_of_five_years_passes_and_one_day_more_is_refused() -> None:
    assert rules.date_range(date(2022, 9, 1), date(2027, 8, 31)).first == date(2022, 9, 1)
    with pytest.raises(PeriodError, match="at most 5 years"):
        rules.date_range(date(2022, 9, 1), date(2027, 9, 1))
    with pytest.raises(PeriodError, match="before"):
        rules.date_range(date(2027, 1, 2), date(2027, 1, 1))


def test_report_period_takes_a_year_or_a_range_not_both() -> None:
    assert rules.report_period("2026-2027", None, None) == YEAR
    assert rules.report_period(None, "2027-01-01", "2027-03-31").last == date(2027, 3, 31)
    for args in [("2026-2027", "2027-01-01", None), (None, "2027-01-01", None), (None, "x", "y")]:
        with pytest.raises(PeriodError):
            rules.report_period(*args)


def test_criteria_met_at_their_thresholds() -> None:
    grid = rules.grid(inputs(students=students(20, public=14, tutors=1)))
    verdicts = {c.key: (c.figure, c.met) for c in grid.criteria}
    assert verdicts == {
        "min_students": (20, True),
        "public_share": (0.7, True),
        "students_per_tutor": (20.0, True),
    }


def test_criteria_not_met_just_past_their_thresholds() -> None:
    grid = rules.grid(inputs(students=students(14, public=9, tutors=1)))
    verdicts = {c.key: c.met for c in grid.criteria}
    assert verdicts == {"min_students": False, "public_share": False, "students_per_tutor": True}
    crowded = rules.grid(inputs(students=students(21, public=21, tutors=1)))
    assert [c.met for c in crowded.criteria] == [True, True, False]
    assert crowded.indicators["students_per_tutor"] == 21.0


def test_an_empty_year_is_a_valid_grid_with_nothing_judged_but_the_headcount() -> None:
    grid = rules.grid(inputs())
    assert grid.indicators["headcount"] == 0
    assert grid.indicators["public_share"] is None
    assert grid.indicators["success_rate"] is None
    assert grid.indicators["workshops"] is None  # the activity log: not recorded
    assert [c.met for c in grid.criteria] == [False, None, None]
    assert json.loads(json.dumps(grid.as_dict()))["indicators"]["headcount"] == 0


def test_trend_average_and_change_over_past_years() -> None:
    grid = rules.grid(
        inputs(
            students=students(18, public=18, tutors=2),
            past_headcounts=[("2024-2025", 10), ("2025-2026", 14)],
        )
    )
    assert grid.trend == [("2024-2025", 10), ("2025-2026", 14), ("2026-2027", 18)]
    assert grid.indicators["headcount_average"] == 14.0
    assert grid.indicators["headcount_change"] == 4


def test_outcome_rates_are_over_recorded_results() -> None:
    facts = [
        StudentFacts("A", outcome="success"),
        StudentFacts("B", outcome="success"),
        StudentFacts("C", outcome="dropped_out"),
        StudentFacts("D", outcome="reoriented"),
        StudentFacts("E"),  # not recorded
    ]
    grid = rules.grid(inputs(students=facts))
    assert grid.indicators["outcomes_recorded"] == 4
    assert grid.indicators["success_rate"] == 0.5
    assert grid.indicators["dropped_out_rate"] == 0.25
    assert grid.indicators["failed_rate"] == 0.0
    assert grid.breakdowns["programme_type"] == {"not_recorded": 5}


def test_hours_total_and_distribution_per_student() -> None:
    hours = [
        StudentHours("A", 100 * 3600, 40 * 3600),  # 40 %
        StudentHours("B", 100 * 3600, 60 * 3600),  # 60 %
        StudentHours("C", 100 * 3600, 90 * 3600),  # 90 %
        StudentHours("D", 100 * 3600, 100 * 3600),  # 100 %
    ]
    grid = rules.grid(inputs(hours=hours))
    assert grid.indicators["hours_committed"] == 400.0
    assert grid.indicators["hours_attended"] == 290.0
    assert grid.indicators["hours_ratio"] == 0.725
    assert grid.breakdowns["hours_distribution"] == {
        "under_50": 1,
        "50_80": 1,
        "80_100": 1,
        "100_plus": 1,
    }


def test_absences_share_called_the_same_day() -> None:
    grid = rules.grid(inputs(absences=AbsenceFacts(10, 8, 6, 12.5)))
    assert grid.indicators["called_same_day_share"] == 0.75
    assert grid.indicators["median_minutes_to_call"] == 12.5


def test_surface_per_place_and_per_learner_at_the_peak() -> None:
    facts = OccupancyFacts(peak=20, average=8.0, utilisation=0.32, capacity=25, area_m2=150.0)
    grid = rules.grid(inputs(occupancy=facts))
    assert grid.indicators["m2_per_place"] == 6.0
    assert grid.indicators["m2_per_person_at_peak"] == 7.5
    assert rules.grid(inputs()).indicators["m2_per_place"] is None


def test_hours_open_of_which_evenings_and_weekends() -> None:
    friday, saturday = date(2026, 11, 27), date(2026, 11, 28)

    def span(day: date, start: int, end: int) -> tuple[datetime, datetime]:
        return (
            datetime(day.year, day.month, day.day, start, tzinfo=PARIS).astimezone(UTC),
            datetime(day.year, day.month, day.day, end, tzinfo=PARIS).astimezone(UTC),
        )

    grid = rules.grid(inputs(open_intervals=[span(friday, 9, 21), span(saturday, 10, 14)]))
    assert grid.indicators["days_open"] == 2
    assert grid.indicators["hours_open"] == 16.0
    assert grid.indicators["hours_open_evenings"] == 3.0
    assert grid.indicators["hours_open_weekends"] == 4.0


def test_activity_log_counts_workshops_themes_interviews_exams_copil() -> None:
    activity = ActivityFacts(
        workshops=[("stress", 8), ("anglais", 5), ("stress", 6)],
        interviews={"on_site": 10, "phone": 3},
        exams=2,
        copil=3,
    )
    grid = rules.grid(inputs(activity=activity))
    assert grid.indicators["workshops"] == 3
    assert grid.indicators["workshop_attendance"] == 19
    assert grid.indicators["interviews"] == 13
    assert grid.indicators["exams_on_site"] == 2
    assert grid.indicators["copil"] == 3
    assert grid.breakdowns["workshop_themes"] == {"anglais": 1, "stress": 2}


def test_reader_online_share_over_open_time() -> None:
    start = datetime(2026, 11, 23, 8, tzinfo=UTC)
    hour = timedelta(hours=1)
    opened = [(start, start + 4 * hour)]
    statuses = [
        (start - hour, True, 2 * hour),  # online until its silence limit: start + 1 h
        (start + 2 * hour, False, 2 * hour),
        (start + 3 * hour, True, 2 * hour),
    ]
    assert rules.online_share(statuses, opened) == 0.5
    assert rules.online_share([], opened) == 0.0
    assert rules.online_share(statuses, []) is None


def test_an_exported_grid_reads_back_and_another_version_is_refused() -> None:
    grid = rules.grid(inputs(students=students(16, public=16, tutors=1)))
    exported = json.loads(json.dumps(grid.as_dict()))
    again = rules.from_dict(exported)
    assert again.indicators == grid.indicators
    assert again.criteria == grid.criteria
    with pytest.raises(GridFormatError, match="another format version"):
        rules.from_dict({**exported, "version": 2})
    with pytest.raises(GridFormatError, match="not an annual grid"):
        rules.from_dict({"format": "something-else", "version": 1})
    with pytest.raises(GridFormatError, match="incomplete"):
        rules.from_dict({"format": rules.FORMAT_ID, "version": 1, "campus": "x"})


def test_a_recorded_public_or_private_enrolment_wins_over_the_imported_type() -> None:
    facts = [
        StudentFacts("A", institution_type="public", public=False),
        StudentFacts("B", institution_type="", public=True),
        StudentFacts("C", institution_type="Publique"),
    ]
    grid = rules.grid(inputs(students=facts))
    assert grid.indicators["public_students"] == 2
    assert grid.breakdowns["institution_type"] == {"private": 1, "public": 1, "publique": 1}
