from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from server.domain.academic_year import AcademicYear


def test_parse_and_write_back() -> None:
    year = AcademicYear.parse("2026-2027")
    assert year == AcademicYear(2026)
    assert str(year) == "2026-2027"
    assert AcademicYear.parse(" 2026/2027 ") == year


@pytest.mark.parametrize("text", ["2026", "2026-2028", "2027-2026", "26-27", "", "abcd-efgh"])
def test_parse_refuses_what_is_not_a_year(text: str) -> None:
    with pytest.raises(ValueError):
        AcademicYear.parse(text)


def test_september_to_august() -> None:
    year = AcademicYear(2026)
    assert (year.first_day, year.last_day) == (date(2026, 9, 1), date(2027, 8, 31))
    assert AcademicYear.of(date(2026, 8, 31)) == AcademicYear(2025)
    assert AcademicYear.of(date(2026, 9, 1)) == year
    assert AcademicYear.of(date(2027, 8, 31)) == year
    assert year.contains(date(2027, 1, 15)) and not year.contains(date(2027, 9, 1))
    assert year.previous() == AcademicYear(2025) and year.following() == AcademicYear(2027)
    assert sorted([AcademicYear(2027), AcademicYear(2025)]) == [
        AcademicYear(2025),
        AcademicYear(2027),
    ]


def test_bounds_are_local_midnights_of_the_campus_zone() -> None:
    start, end = AcademicYear(2026).bounds(ZoneInfo("Europe/Paris"))
    # Summer time in Paris: local midnight is 22:00 UTC the day before.
    assert start.astimezone(UTC) == datetime(2026, 8, 31, 22, tzinfo=UTC)
    assert end.astimezone(UTC) == datetime(2027, 8, 31, 22, tzinfo=UTC)
    reunion_start, _ = AcademicYear(2026).bounds(ZoneInfo("Indian/Reunion"))
    assert reunion_start.astimezone(UTC) == datetime(2026, 8, 31, 20, tzinfo=UTC)
