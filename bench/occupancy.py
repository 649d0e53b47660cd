"""Occupancy figures (not a test): statistics of a campus-year, live update cost per tap.

``python bench/occupancy.py [--students 60] [--days 250]``

- statistics: a year of whole-campus samples (one per change: every tap in or out of
  60 students, 4 to 6 door taps a day, plus room moves), then ``stats`` over the year,
  each month and each week (peak, average over opening hours, utilisation, heatmap);
- live: each tap fed to ``CampusOccupancy`` (the presence engine's session rules fed one
  tap at a time, ``domain.sessions.SessionReplay``) and the counts read, as the service
  does per tap; the reference, timed in the same run on the same taps, is what the live
  count did before issue 16: the person's whole day replayed (``build_sessions``) at each
  tap. The load average is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from server.domain.calendar import CampusCalendar, Hours, IsoWeek
from server.domain.events import OccupancySample
from server.domain.occupancy import CampusOccupancy
from server.domain.occupancy_stats import Period, period_bounds, stats
from server.domain.sessions import DoorTap, ReaderMode, SessionRules, build_sessions

PARIS = ZoneInfo("Europe/Paris")
FIRST = date(2026, 9, 1)
CAL = CampusCalendar(
    weekly={
        day: (Hours(datetime.min.time().replace(hour=8), datetime.min.time().replace(hour=19)),)
        for day in range(6)
    }
)


def day_taps(day: date, students: int, rng: random.Random) -> list[tuple[str, DoorTap, str]]:
    """(person, door tap, room) of one day, in time order."""
    events = []
    for student in range(students):
        if rng.random() < 0.3:
            continue
        start = datetime.combine(day, datetime.min.time(), tzinfo=PARIS).replace(hour=8)
        moment = start + timedelta(minutes=rng.randint(0, 240))
        for _ in range(rng.choice((1, 2, 3))):
            leave = moment + timedelta(minutes=rng.randint(60, 200))
            room = rng.choice(("calme", "groupe", "social"))
            events.append(
                (
                    f"s{student}",
                    DoorTap(moment.astimezone(UTC), ReaderMode.TOGGLE, f"{day}-{student}-{moment}"),
                    room,
                )
            )
            events.append(
                (
                    f"s{student}",
                    DoorTap(leave.astimezone(UTC), ReaderMode.TOGGLE, f"{day}-{student}-{leave}"),
                    room,
                )
            )
            moment = leave + timedelta(minutes=rng.randint(5, 90))
    events.sort(key=lambda item: item[1].ts)
    return events


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--days", type=int, default=250)
    args = parser.parse_args()
    rng = random.Random(6)
    rules = SessionRules()
    days = [FIRST + timedelta(days=n) for n in range(int(args.days * 7 / 6))]
    days = [day for day in days if day.weekday() < 6][: args.days]
    schedule = CAL.schedule(days[0] - timedelta(days=1), days[-1] + timedelta(days=1))

    print(f"load average at start: {_load()}")
    samples: list[OccupancySample] = []
    taps = 0
    live_s = 0.0
    door_s = 0.0  # of which the door tap (the session rules)
    replay_s = 0.0  # the reference: each person's day replayed at each tap
    for day in days:
        occupancy = CampusOccupancy(
            rules=rules, schedule=schedule, rooms=("calme", "groupe", "social")
        )
        previous = 0
        days_taps: dict[str, list[DoorTap]] = {}
        for person, tap, room in day_taps(day, args.students, rng):
            mine = days_taps.setdefault(person, [])
            mine.append(tap)
            started = time.perf_counter()
            build_sessions(mine, rules=rules, schedule=schedule, now=tap.ts)
            replay_s += time.perf_counter() - started
            started = time.perf_counter()
            occupancy.door_tap(person, tap, tap.ts)
            door = time.perf_counter()
            occupancy.room_tap(person, room, tap.ts)
            counts = occupancy.values()
            ended = time.perf_counter()
            door_s += door - started
            live_s += ended - started
            taps += 1
            if counts[None] != previous:
                samples.append(OccupancySample("bench", None, tap.ts, counts[None], 40))
                previous = counts[None]
    print(
        f"live: {taps:,} taps over {len(days)} days, {args.students} students: "
        f"{live_s / taps * 1e6:,.1f} µs per tap (domain: session rules + room + counts), of "
        f"which the door tap {door_s / taps * 1e6:,.1f} µs; reference, the person's day "
        f"replayed at each tap (before issue 16): {replay_s / taps * 1e6:,.1f} µs "
        f"(ratio {door_s / replay_s:.2f})"
    )

    tz = PARIS
    start, end = (
        period_bounds(Period.DAY, days[0], tz)[0],
        period_bounds(Period.DAY, days[-1], tz)[1],
    )
    started = time.perf_counter()
    year = stats(
        samples, start, end, open_intervals=schedule.intervals, tz=tz, capacity=40, area_m2=180
    )
    year_s = time.perf_counter() - started
    print(
        f"stats: {len(samples):,} samples, campus-year in {year_s:.3f} s "
        f"(peak {year.peak}, average {year.average}, utilisation {year.utilisation}, "
        f"band {year.band}, occupied {year.occupied_share:.0%} of "
        f"{year.open_hours:,.0f} open hours, "
        f"{year.m2_per_person_at_peak} m²/person at peak, {len(year.heatmap)} heatmap cells)"
    )
    for period, firsts in (
        (Period.MONTH, sorted({day.replace(day=1) for day in days})),
        (Period.WEEK, sorted({IsoWeek.of(day).monday for day in days})),
    ):
        started = time.perf_counter()
        for first in firsts:
            low, high = period_bounds(period, first, tz)
            stats(
                [s for s in samples if low <= s.at < high],
                low,
                high,
                open_intervals=schedule.intervals,
                tz=tz,
                capacity=40,
            )
        took = time.perf_counter() - started
        print(f"stats: every {period.value} of the year ({len(firsts)}) in {took:.3f} s")
    print(f"load average at the end: {_load()}")


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    main()
