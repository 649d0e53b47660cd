from datetime import date, time

import pytest

from server.domain.contracts import (
    Contract,
    Slot,
    format_slots,
    looks_like_slot,
    parse_slots,
    plan_contract_change,
)
from server.domain.errors import DomainError


def test_slots_in_french_and_english_and_several_spellings() -> None:
    slots = parse_slots("lun 09:00-12:00; Mardi 14h-18h, thu 9h30-13h; VEN. 8:00 - 10:00")
    assert slots == (
        Slot(0, time(9), time(12)),
        Slot(1, time(14), time(18)),
        Slot(3, time(9, 30), time(13)),
        Slot(4, time(8), time(10)),
    )
    assert (
        format_slots(slots) == "mon 09:00-12:00; tue 14:00-18:00; thu 09:30-13:00; fri 08:00-10:00"
    )
    assert parse_slots(format_slots(slots)) == slots


def test_overlapping_slots_of_a_day_are_refused_naming_both() -> None:
    with pytest.raises(DomainError) as caught:
        parse_slots("lun 09:00-12:00; lun 11:00-13:00; lun 13:00-14:00")
    assert caught.value.values == {"first": "mon 09:00-12:00", "second": "mon 11:00-13:00"}


def test_overlapping_slots_become_one_when_asked() -> None:
    slots = parse_slots("lun 09:00-12:00; lun 11:00-13:00; lun 13:00-14:00", merge_overlaps=True)
    assert slots == (Slot(0, time(9), time(13)), Slot(0, time(13), time(14)))


def test_touching_slots_and_other_days_do_not_overlap() -> None:
    slots = parse_slots("lun 09:00-12:00 | lun 12:00-13:00 | mar 09:00-12:00")
    assert len(slots) == 3


@pytest.mark.parametrize(
    "text",
    [
        "lun 09:00-12:00 | mar 14h-18h",
        "lun 09:00-12:00/mar 14h-18h",
        "lun 09:00-12:00; mar 14h-18h",
        "lun 09:00-12:00\nmar 14h-18h",
        "Monday 9-12 / Tuesday 14:00-18:00",
    ],
)
def test_slots_separated_by_bar_slash_semicolon_or_line(text: str) -> None:
    assert parse_slots(text) == (Slot(0, time(9), time(12)), Slot(1, time(14), time(18)))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("lun 09:00-12:00", True), (" mar 14h-18h ", True), ("2026-09-01", False), ("", False)],
)
def test_looks_like_slot(text: str, expected: bool) -> None:
    assert looks_like_slot(text) is expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no time slot"),
        ("lun", "cannot read"),
        ("lun 12:00-09:00", "ends before"),
        ("xyz 09:00-12:00", "unknown day"),
        ("lun 25:00-26:00", "impossible time"),
        ("lun 09:00-12:00; foo", "cannot read"),
    ],
)
def test_bad_slots_are_refused_with_a_reason(text: str, reason: str) -> None:
    with pytest.raises(DomainError, match=reason):
        parse_slots(text)


def test_a_contract_covers_its_validity_days_only() -> None:
    contract = Contract(720, parse_slots("lun 09:00-12:00"), date(2026, 9, 2), date(2027, 6, 30))
    assert not contract.covers(date(2026, 9, 1))
    assert contract.covers(date(2026, 9, 2)) and contract.covers(date(2027, 6, 30))
    assert contract.slots_on(date(2026, 9, 7)) == (Slot(0, time(9), time(12)),)
    assert contract.slots_on(date(2026, 8, 31)) == ()
    assert contract.slot_minutes == 180


def test_a_contract_needs_hours_and_dates_in_order() -> None:
    with pytest.raises(DomainError):
        Contract(0, (), date(2026, 9, 1))
    with pytest.raises(DomainError):
        Contract(720, (), date(2026, 9, 1), date(2026, 8, 1))


def _contract(start: date, end: date | None = None, minutes: int = 720) -> Contract:
    return Contract(minutes, parse_slots("lun 09:00-12:00"), start, end)


def test_same_contract_again_changes_nothing() -> None:
    current = {1: _contract(date(2026, 9, 1))}
    assert plan_contract_change(current, _contract(date(2026, 9, 1))).unchanged


def test_a_corrected_contract_replaces_the_version_with_the_same_start() -> None:
    current = {1: _contract(date(2026, 9, 1))}
    change = plan_contract_change(current, _contract(date(2026, 9, 1), minutes=900))
    assert (change.unchanged, change.replaced, change.ended) == (False, (1,), ())


def test_a_renewal_ends_the_previous_contract_the_day_before() -> None:
    current = {1: _contract(date(2025, 9, 1)), 2: _contract(date(2024, 9, 1), date(2025, 6, 30))}
    change = plan_contract_change(current, _contract(date(2026, 9, 1), minutes=900))
    assert change.ended == ((1, date(2026, 8, 31)),)
    assert change.replaced == ()
