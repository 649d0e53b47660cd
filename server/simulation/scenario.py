"""A realistic morning at a campus door, as a list of timed events (pure, seeded).

Students arrive around their slot start (some early, some late, one in seven stays
home, one in seven forgets to badge out), a few re-tap by reflex within seconds (the
debounce must merge them), one visitor taps an unknown card, and a broken message or
two shows how rejections look.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class SimulatedTap:
    at: datetime
    reader: str
    uid: str


@dataclass(frozen=True, slots=True)
class SimulatedGarbage:
    """A message that breaks the contract on purpose (the demo shows its rejection)."""

    at: datetime
    reader: str
    payload: bytes


SimulatedEvent = SimulatedTap | SimulatedGarbage


def demo_badges(count: int, seed: int = 7) -> list[str]:
    """UIDs of demo cards: 7-byte ISO 14443-A UIDs as MIFARE/NTAG cards have."""
    rng = random.Random(seed)
    return ["04" + rng.randbytes(6).hex() for _ in range(count)]


def morning(
    start: datetime,
    *,
    door: str,
    room: str | None,
    students: list[str],
    unknown_badge: str,
    seed: int = 7,
) -> list[SimulatedEvent]:
    """Events from ``start`` (e.g. 08:30) to about 13:00, ordered by time."""
    rng = random.Random(seed)
    events: list[SimulatedEvent] = []
    for index, uid in enumerate(students):
        if index % 7 == 4:  # stays home: the tutor gets an absence alert
            continue
        slot_start = start + timedelta(minutes=30 if index % 3 else 90)
        arrival = slot_start + timedelta(minutes=rng.gauss(-4, 9))
        events.append(SimulatedTap(arrival, door, uid))
        if rng.random() < 0.15:  # a reflex second tap, merged by the debounce
            events.append(SimulatedTap(arrival + timedelta(seconds=rng.uniform(0.5, 3)), door, uid))
        if room is not None and rng.random() < 0.5:
            events.append(SimulatedTap(arrival + timedelta(minutes=rng.uniform(2, 10)), room, uid))
        if index % 7 != 3:  # every seventh student forgets to badge out
            leave = slot_start + timedelta(hours=3, minutes=rng.gauss(0, 12))
            events.append(SimulatedTap(leave, door, uid))
    events.append(SimulatedTap(start + timedelta(minutes=47), door, unknown_badge))
    events.append(SimulatedGarbage(start + timedelta(minutes=12), door, b'{"v":1,"id":"x"'))
    events.append(SimulatedGarbage(start + timedelta(minutes=95), door, b'{"v":9}'))
    return sorted(events, key=lambda event: event.at)
