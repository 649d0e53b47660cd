"""Capacity of a room or of the whole campus, and when a count should alarm (pure).

- ``capacity`` is the *capacité d'accueil* (seats); utilisation is measured against it;
- the **hard limit** is the fire-safety maximum (defaults to the capacity): reaching it
  raises a ``full`` alert for the coordinator and the readers say *Capacité atteinte*;
- the **soft limit** warns before that (defaults to 90 % of the hard limit).

Hysteresis: a level is entered as soon as the count reaches its limit, but left only once
the count falls *below* the limit minus a margin (5 % of the hard limit, at least one
person), so a count oscillating around a limit raises one alert, not one per tap.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

SOFT_SHARE = 0.9
MARGIN_SHARE = 0.05


class CapacityLevel(StrEnum):
    NORMAL = "normal"
    WARNING = "warning"  # the soft limit is reached
    FULL = "full"  # the hard (fire-safety) limit is reached or exceeded


_RANK = {CapacityLevel.NORMAL: 0, CapacityLevel.WARNING: 1, CapacityLevel.FULL: 2}


@dataclass(frozen=True, slots=True)
class Limits:
    """Capacity settings of a room or of a campus; all optional."""

    capacity: int | None = None
    soft: int | None = None
    hard: int | None = None
    area_m2: float | None = None

    def __post_init__(self) -> None:
        for value in (self.capacity, self.soft, self.hard):
            if value is not None and value <= 0:
                raise ValueError("capacities and limits must be more than zero")
        if self.soft is not None and self.hard is not None and self.soft > self.hard:
            raise ValueError("the soft limit cannot be above the hard limit")

    @property
    def hard_limit(self) -> int | None:
        return self.hard if self.hard is not None else self.capacity

    @property
    def soft_limit(self) -> int | None:
        if self.soft is not None:
            return self.soft
        hard = self.hard_limit
        return None if hard is None else max(1, int(hard * SOFT_SHARE))

    @property
    def margin(self) -> int:
        hard = self.hard_limit or 0
        return max(1, int(hard * MARGIN_SHARE))


def raw_level(count: int, limits: Limits) -> CapacityLevel:
    """The level of ``count`` without hysteresis."""
    hard, soft = limits.hard_limit, limits.soft_limit
    if hard is not None and count >= hard:
        return CapacityLevel.FULL
    if soft is not None and count >= soft:
        return CapacityLevel.WARNING
    return CapacityLevel.NORMAL


def next_level(current: CapacityLevel, count: int, limits: Limits) -> CapacityLevel:
    """The level after the count became ``count``, with hysteresis on the way down."""
    raw = raw_level(count, limits)
    if _RANK[raw] >= _RANK[current]:
        return raw
    hard, soft, margin = limits.hard_limit, limits.soft_limit, limits.margin
    if current is CapacityLevel.FULL and hard is not None and count >= hard - margin:
        return CapacityLevel.FULL
    if soft is not None and count >= soft - margin:
        return CapacityLevel.WARNING
    return raw


@dataclass(frozen=True, slots=True)
class CapacityChanged:
    """A room (or the campus, ``room`` None) changed capacity level. ``limit`` is the
    limit of the new level (of the old one when going back to normal)."""

    campus: str
    room: str | None
    at: datetime
    level: CapacityLevel
    previous: CapacityLevel
    count: int
    limit: int | None

    @property
    def raised(self) -> bool:
        return _RANK[self.level] > _RANK[self.previous]
