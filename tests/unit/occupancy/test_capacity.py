"""Capacity levels and their hysteresis (pure)."""

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from server.domain.capacity import CapacityLevel, Limits, next_level, raw_level

FULL, WARNING, NORMAL = CapacityLevel.FULL, CapacityLevel.WARNING, CapacityLevel.NORMAL


def levels(counts: list[int], limits: Limits) -> list[CapacityLevel]:
    level, result = NORMAL, []
    for count in counts:
        level = next_level(level, count, limits)
        result.append(level)
    return result


def changes(counts: list[int], limits: Limits) -> int:
    seen = [NORMAL, *levels(counts, limits)]
    return sum(1 for before, after in itertools.pairwise(seen) if before != after)


def test_defaults_hard_is_capacity_soft_is_ninety_percent() -> None:
    limits = Limits(capacity=40)
    assert (limits.hard_limit, limits.soft_limit, limits.margin) == (40, 36, 2)
    assert [raw_level(n, limits) for n in (35, 36, 39, 40, 41)] == [
        NORMAL,
        WARNING,
        WARNING,
        FULL,
        FULL,
    ]
    assert raw_level(1000, Limits()) is NORMAL  # nothing configured: never alarms


def test_explicit_limits_and_bad_ones() -> None:
    limits = Limits(capacity=18, soft=15, hard=20)
    assert [raw_level(n, limits) for n in (14, 15, 19, 20)] == [NORMAL, WARNING, WARNING, FULL]
    with pytest.raises(ValueError):
        Limits(capacity=10, soft=12, hard=11)
    with pytest.raises(ValueError):
        Limits(capacity=0)


def test_leaving_full_needs_the_count_below_the_limit_minus_the_margin() -> None:
    limits = Limits(capacity=18)  # hard 18, soft 16, margin 1
    assert levels([17, 18, 17, 18, 17, 16, 15, 14], limits) == [
        WARNING,
        FULL,
        FULL,
        FULL,
        FULL,
        WARNING,
        WARNING,
        NORMAL,
    ]


@given(
    st.integers(1, 200),
    st.integers(0, 200),
    st.lists(st.booleans(), max_size=200),
)
def test_a_count_oscillating_by_one_at_a_limit_changes_level_once(
    capacity: int, start: int, steps: list[bool]
) -> None:
    limits = Limits(capacity=capacity)
    for limit in {limits.hard_limit, limits.soft_limit}:
        assert limit is not None
        counts = [limit - (0 if up else 1) for up in steps]
        counts = [limit, *counts]  # reach it first
        assert changes(counts, limits) <= 2  # at most normal→warning→full, never back


@given(st.integers(1, 100), st.lists(st.integers(0, 150), max_size=100))
def test_levels_are_never_below_the_raw_level_nor_above_what_was_reached(
    capacity: int, counts: list[int]
) -> None:
    limits = Limits(capacity=capacity)
    rank = {NORMAL: 0, WARNING: 1, FULL: 2}
    level = NORMAL
    for count in counts:
        new = next_level(level, count, limits)
        assert rank[new] >= rank[raw_level(count, limits)]
        assert rank[new] <= max(rank[level], rank[raw_level(count, limits)])
        if rank[new] > rank[raw_level(count, limits)]:  # held up by hysteresis
            assert count >= (limits.soft_limit or 0) - limits.margin
        level = new
