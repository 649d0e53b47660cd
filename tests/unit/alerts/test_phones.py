"""Phone numbers in E.164 for the SMS gateway (server.domain.phones)."""

from __future__ import annotations

import pytest

from server.domain.phones import InvalidPhone, e164


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("04 76 00 00 01", "+33476000001"),
        ("0476000001", "+33476000001"),
        ("04.76.00.00.01", "+33476000001"),
        ("04-76-00-00-01", "+33476000001"),
        (" 06 12 34 56 78 ", "+33612345678"),
        ("06\u00a012\u00a034\u00a056\u00a078", "+33612345678"),  # non-breaking spaces
        ("+33 4 76 00 00 01", "+33476000001"),
        ("+33476000001", "+33476000001"),
        ("+33 (0)4 76 00 00 01", "+33476000001"),
        ("+33 04 76 00 00 01", "+33476000001"),  # the trunk 0 typed after the code
        ("0033 4 76 00 00 01", "+33476000001"),
        ("+32 470 12 34 56", "+32470123456"),  # already international: kept
        ("+1 (415) 555-0100", "+14155550100"),
        ("0692 12 34 56", "+262692123456"),  # La Réunion, mobile
        ("0262 12 34 56", "+262262123456"),  # La Réunion, fixed
        ("0696 12 34 56", "+596696123456"),  # Martinique
        ("0590 12 34 56", "+590590123456"),  # Guadeloupe
        ("0694 12 34 56", "+594694123456"),  # Guyane
        ("0639 12 34 56", "+262639123456"),  # Mayotte
    ],
)
def test_numbers_as_people_type_them_become_e164(typed: str, expected: str) -> None:
    assert e164(typed) == expected


def test_a_national_number_takes_the_country_given() -> None:
    assert e164("0470 12 34 56", "BE") == "+32470123456"
    assert e164("044 668 18 00", "ch") == "+41446681800"


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "476000001",  # no trunk 0, no code
        "04 76 00 00",  # too short
        "04 76 00 00 01 02",  # too long
        "06 12 34 56 7a",
        "+33 6 12 34 56 78 ext 2",
        "+0 123 456 789",
        "+1234",
        "+1234567890123456",  # 16 digits
        "tel:0612345678",
        "++33612345678",
    ],
)
def test_what_is_not_a_number_is_refused(typed: str) -> None:
    with pytest.raises(InvalidPhone):
        e164(typed)


def test_a_country_without_a_known_code_is_refused_and_the_message_has_no_digits() -> None:
    with pytest.raises(InvalidPhone) as refused:
        e164("0612345678", "ZZ")
    assert not any(char.isdigit() for char in str(refused.value))
    with pytest.raises(InvalidPhone) as refused:
        e164("06 12 34 56 7a")
    assert "12" not in str(refused.value)
