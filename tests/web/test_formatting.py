"""Numbers, hours and dates in the reader's language."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from server.i18n import set_language
from server.web import formatting


@pytest.fixture
def in_app(world):
    with world.app.test_request_context("/"):
        yield
    set_language("fr")


@pytest.mark.parametrize(
    ("language", "value", "shown"),
    [
        ("fr", 0.25, "0,3 h"),
        ("fr", 12, "12 h"),
        ("fr", 1234.56, "1\u202f234,6 h"),
        ("en", 0.25, "0.3 h"),
        ("en", 11.75, "11.8 h"),
    ],
)
def test_hours_round_half_up_in_the_readers_format(in_app, language, value, shown) -> None:
    set_language(language)
    assert formatting.hours(value) == shown


def test_dates_and_times_are_french_and_in_the_campus_zone(in_app) -> None:
    set_language("fr")
    winter = datetime(2026, 11, 23, 8, 15, tzinfo=UTC)
    assert formatting.hour(winter) == "09:15"
    assert formatting.day(date(2026, 11, 23)) == "lundi 23 novembre 2026"
    assert formatting.when(winter) == "23 nov. 2026, 09:15"
    summer = datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    assert formatting.hour(summer) == "09:00"
