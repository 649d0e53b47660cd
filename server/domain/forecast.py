"""Can a student still make this week's hours? The at-risk rule (pure).

A week is *at risk* only when the time still reachable this week cannot cover what is
missing. What is missing is the expected time minus the verified time attended so far,
*inside or outside the slots*: hours outside the slots count as catching up. What is
reachable is the campus's opening time left this week, which holds the due slot time
left (a slot is due only while the campus is open): a student may come outside their
slots to make up. The forecast is what the tutor's pages show ("reste atteignable : 6 h,
manque : 4 h")."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Forecast:
    """The week's forecast at one instant, in seconds."""

    expected_s: int
    attended_s: int  # verified time attended so far this week (in the slots or not)
    reachable_s: int  # time still reachable this week (slots and opening hours left)

    @property
    def missing_s(self) -> int:
        return max(0, self.expected_s - self.attended_s)

    @property
    def at_risk(self) -> bool:
        """The reachable time cannot cover what is missing."""
        return self.missing_s > self.reachable_s


def forecast(attended_s: int, expected_s: int, reachable_s: int) -> Forecast:
    """The forecast from the time attended, the time expected and the time still
    reachable (``reachable_time`` of the slots and opening hours left)."""
    if min(attended_s, expected_s, reachable_s) < 0:
        raise ValueError("times cannot be negative")
    return Forecast(expected_s, attended_s, reachable_s)


def at_risk(attended_s: int, expected_s: int, reachable_s: int) -> bool:
    """The at-risk rule: what is missing exceeds what is still reachable."""
    return forecast(attended_s, expected_s, reachable_s).at_risk


def reachable_time(slot_s: int, opening_s: int) -> int:
    """The time still reachable this week: the campus's opening time left, which holds
    the due slot time left (never less than the slots: a slot is due while open)."""
    return max(slot_s, opening_s)
