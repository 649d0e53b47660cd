"""Live occupancy of one campus for one local day: how many people, not who (pure).

- **Campus**: a person is present when their door taps of the day, replayed through the
  presence engine's own rules (``domain.sessions``, fed one tap at a time: toggle/in/out readers,
  debounce, closing time, maximum duration), leave a session open at ``now``. So the
  count follows exactly the sessions the weekly ledger will record.
- **Rooms**: a tap at a room reader puts the person in that room and takes them out of
  the previous one; leaving the campus (a door exit, or the session closed at closing
  time) takes them out of their room.
- **Memory only**: the map "person → current room" lives in this object, for the day,
  and is never stored or logged: only counts leave it (the CNIL forbids following
  people's moves inside the premises with their badges). A restart rebuilds it from the
  day's taps, which the server keeps anyway for the door.
- **Closing**: when the campus is closed at ``now``, rooms are emptied and manual
  adjustments dropped; sessions are closed by the engine's rule.
- **Corrections**: a coordinator can set a count by hand (someone left without
  badging): an adjustment added to the computed count until closing. Counts never go
  below zero.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from server.domain.calendar import Schedule
from server.domain.sessions import DoorTap, SessionReplay, SessionRules

Zone = str | None  # a room id, or None for the whole campus


@dataclass(frozen=True, slots=True)
class ZoneCount:
    room: Zone
    count: int  # what is shown: computed + adjustment, never below zero
    computed: int  # from the taps alone
    adjustment: int = 0


def _key(tap: DoorTap) -> tuple[datetime, str]:
    return tap.ts, tap.tap_id


class CampusOccupancy:
    """Counts of one campus, fed with its known people's taps in any order."""

    __slots__ = (
        "_adjust",
        "_door",
        "_present",
        "_replays",
        "_room_at",
        "_room_of",
        "rooms",
        "rules",
        "schedule",
    )

    def __init__(
        self, *, rules: SessionRules, schedule: Schedule | None, rooms: Iterable[str] = ()
    ) -> None:
        self.rules = rules
        self.schedule = schedule
        self.rooms = set(rooms)
        self._door: dict[str, list[DoorTap]] = {}
        # Each person's taps replayed so far: a tap after the last one is fed on; a late
        # one (older) starts the person's replay again from their first tap of the day.
        self._replays: dict[str, SessionReplay] = {}
        self._present: set[str] = set()
        self._room_of: dict[str, str] = {}  # memory only: never stored (see above)
        self._room_at: dict[str, datetime] = {}
        self._adjust: dict[Zone, int] = {}

    def __repr__(self) -> str:
        return f"<CampusOccupancy present={len(self._present)} rooms={len(self.rooms)}>"

    # -- taps ------------------------------------------------------------------------

    def door_tap(self, person: str, tap: DoorTap, now: datetime) -> None:
        """A door tap of ``person`` (opaque key); late taps are put back in order."""
        taps = self._door.setdefault(person, [])
        replay = self._replays.get(person)
        if replay is not None and (not taps or (taps[-1].ts, taps[-1].tap_id) < _key(tap)):
            taps.append(tap)
            replay.feed(tap)
        else:
            bisect.insort(taps, tap, key=_key)
            replay = self._replays[person] = SessionReplay(rules=self.rules, schedule=self.schedule)
            for each in taps:
                replay.feed(each)
        self._judge(person, now)

    def room_tap(self, person: str, room: str, ts: datetime) -> None:
        """``person`` badged into ``room``: they leave their previous room. A tap older
        than their last room tap (delivered late) changes nothing."""
        last = self._room_at.get(person)
        if last is not None and ts < last:
            return
        self.rooms.add(room)
        self._room_at[person] = ts
        self._room_of[person] = room

    def tick(self, now: datetime) -> None:
        """Let time pass: sessions past closing time end; a closed campus is emptied."""
        for person in list(self._present):
            self._judge(person, now)
        if self.schedule is not None and self.schedule.closing_after(now) is None:
            self._room_of.clear()
            self._adjust.clear()

    def _judge(self, person: str, now: datetime) -> None:
        replay = self._replays.get(person)
        if replay is not None and replay.open_at(now):
            self._present.add(person)
        elif person in self._present:
            self._present.discard(person)
            self._room_of.pop(person, None)

    # -- corrections -----------------------------------------------------------------

    def correct(self, room: Zone, count: int) -> ZoneCount:
        """Set the count of ``room`` (None: the campus) to ``count`` by hand."""
        if count < 0:
            raise ValueError("a count cannot be negative")
        computed = self._computed(room)
        self._adjust[room] = count - computed
        return self.count(room)

    def restore_adjustment(self, room: Zone, adjustment: int) -> None:
        """Put back an adjustment made earlier in the day (after a restart)."""
        self._adjust[room] = adjustment

    # -- counts ----------------------------------------------------------------------

    def _computed(self, room: Zone) -> int:
        if room is None:
            return len(self._present)
        return sum(1 for held in self._room_of.values() if held == room)

    def count(self, room: Zone) -> ZoneCount:
        computed = self._computed(room)
        adjustment = self._adjust.get(room, 0)
        return ZoneCount(room, max(0, computed + adjustment), computed, adjustment)

    def counts(self) -> dict[Zone, ZoneCount]:
        """Every zone's count: the campus (None) and each room ever seen or declared."""
        per_room = Counter(self._room_of.values())
        result = {None: self.count(None)}
        for room in sorted(self.rooms | set(per_room)):
            adjustment = self._adjust.get(room, 0)
            computed = per_room.get(room, 0)
            result[room] = ZoneCount(room, max(0, computed + adjustment), computed, adjustment)
        return result

    def values(self) -> Mapping[Zone, int]:
        return {zone: item.count for zone, item in self.counts().items()}
