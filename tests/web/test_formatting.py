"""Numbers, hours and dates in the reader's language."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

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


def test_hours_formatted_once_are_still_in_each_readers_language(in_app) -> None:
    """``hours`` keeps each value's text per language: the same value asked in French,
    English, then French again reads each time in the language of the moment."""
    shown = []
    for language in ("fr", "en", "fr", "en"):
        set_language(language)
        shown.append((formatting.hours(2.75), formatting.hours(0.05), formatting.hours(None)))
    assert shown == [("2,8 h", "0,1 h", ""), ("2.8 h", "0.1 h", "")] * 2


def test_dates_and_times_are_french_and_in_the_campus_zone(in_app) -> None:
    set_language("fr")
    winter = datetime(2026, 11, 23, 8, 15, tzinfo=UTC)
    assert formatting.hour(winter) == "09:15"
    assert formatting.day(date(2026, 11, 23)) == "lundi 23 novembre 2026"
    assert formatting.when(winter) == "23 nov. 2026, 09:15"
    summer = datetime(2026, 7, 1, 7, 0, tzinfo=UTC)
    assert formatting.hour(summer) == "09:00"


@pytest.mark.parametrize(
    ("language", "ago", "shown"),
    [
        ("fr", timedelta(seconds=59), "0 minute"),  # French: 0 and 1 are singular
        ("fr", timedelta(minutes=1, seconds=5), "1 minute"),
        ("fr", timedelta(hours=1), "1 heure"),
        ("fr", timedelta(hours=47, minutes=59), "47 heures"),
        ("fr", timedelta(days=2), "2 jours"),
        ("fr", timedelta(days=1500), "1\u202f500 jours"),
        ("en", timedelta(seconds=59), "0 minutes"),
        ("en", timedelta(minutes=1), "1 minute"),
        ("en", timedelta(days=3, hours=5), "3 days"),
    ],
)
def test_an_age_in_whole_units_with_plural_forms(in_app, language, ago, shown) -> None:
    set_language(language)
    now = datetime(2026, 11, 23, 8, 15, tzinfo=UTC)
    assert formatting.age(now - ago, now) == shown
    assert formatting.age(None, now) == ""
