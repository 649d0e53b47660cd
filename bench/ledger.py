"""Benchmark of the weekly ledger (not a test; prints figures).

Builds a registry (real SQLite file) and the real SQLite event store with realistic
taps: per campus 60 students, contracts of 12-20 h in 3-5 weekly slots, 40 weeks of the
academic year with holidays, arrival jitter, absences, forgotten exits, double taps and
hours outside the slots. Then times the weekly report:

- one campus, the 40 weeks one report at a time, and all at once;
- the national network (84 campuses by default), the 40 weeks at once and one week.

Weeks are computed from the raw taps (the correction window is set wide so nothing is
frozen); the last line reads the same year once frozen. Targets: a campus-year < 0.5 s,
national < 10 s.

    python bench/ledger.py [--campuses 84] [--students 60] [--weeks 40]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from server.adapters.sqlite_events import SqliteEventStore
from server.config import CampusSettings, PresenceSettings, Settings
from server.domain.badges import badge_hash
from server.domain.calendar import IsoWeek
from server.domain.contracts import Contract, Slot
from server.domain.events import StoredTap
from server.registry.database import open_registry
from server.registry.models import OpeningHours
from server.registry.student_repository import Actor, StudentRepository
from server.services.campuses import sync_campuses
from server.services.ledger import LedgerService

PARIS = ZoneInfo("Europe/Paris")
SECRET = b"bench-secret-bench-secret"
FIRST_WEEK = IsoWeek(2026, 37)  # 7 September 2026


def _slots(rng: random.Random) -> tuple[Slot, ...]:
    days = rng.sample(range(5), rng.randint(3, 5))
    slots = []
    for day in days:
        start = rng.choice([8, 9, 10, 13, 14])
        slots.append(Slot(day, clock(start), clock(min(start + rng.randint(3, 5), 19))))
    return tuple(sorted(slots))


def build_registry(registry, settings: Settings, students: int, rng: random.Random) -> dict:
    """Students with contracts and badges; returns campus -> [(uid, contract)]."""
    people: dict[str, list[tuple[str, Contract]]] = {}
    actor = Actor("bench", datetime(2026, 8, 25, tzinfo=UTC))
    with registry() as session, session.begin():
        repo = StudentRepository(session)
        for number, campus in enumerate(settings.campuses):
            for weekday in range(5):
                session.add(
                    OpeningHours(
                        campus_id=campus.id, weekday=weekday, opens=clock(8), closes=clock(19)
                    )
                )
            people[campus.id] = []
            for index in range(students):
                slots = _slots(rng)
                minutes = min(
                    sum(slot.minutes for slot in slots), rng.choice([720, 720, 900, 1200])
                )
                contract = Contract(minutes, slots, date(2026, 9, 1), date(2027, 6, 30))
                values = {"last_name": "Nom", "first_name": "Prénom", "campus_id": campus.id}
                student, _ = repo.save_student(f"C{number:03d}-S{index:03d}", values, actor)
                repo.apply_contract(student, contract, actor)
                uid = f"04{number:04x}{index:04x}aa"
                repo.give_badge(student, badge_hash(SECRET, uid), actor.at, actor)
                people[campus.id].append((uid, contract))
    return people


def generate_taps(
    campus: str, students: list[tuple[str, Contract]], weeks: int, rng: random.Random
) -> list[StoredTap]:
    """A campus's taps: 85 % of slots attended with some jitter, 5 % double taps, 8 %
    forgotten exits, and now and then an afternoon outside the slots."""
    taps: list[StoredTap] = []

    def tap(uid: str, moment: datetime) -> None:
        number = len(taps)
        badge = badge_hash(SECRET, uid)
        taps.append(
            StoredTap(f"{campus}-{number:08d}", campus, "door-1", badge, moment, number, moment)
        )

    for uid, contract in students:
        for offset in range(weeks):
            week = FIRST_WEEK.shifted(offset)
            for slot in contract.slots:
                if rng.random() < 0.15:  # absent
                    continue
                day = week.monday + timedelta(days=slot.weekday)
                start = datetime.combine(day, slot.start, tzinfo=PARIS)
                end = datetime.combine(day, slot.end, tzinfo=PARIS)
                arrive = start + timedelta(minutes=rng.gauss(5, 15))
                tap(uid, arrive)
                if rng.random() < 0.05:  # double tap
                    tap(uid, arrive + timedelta(seconds=2))
                if rng.random() < 0.08:  # forgets to badge out
                    continue
                tap(uid, end + timedelta(minutes=rng.gauss(10, 30)))
            if rng.random() < 0.2:  # an extra afternoon outside the slots
                day = week.monday + timedelta(days=rng.randint(0, 4))
                tap(uid, datetime.combine(day, clock(15), tzinfo=PARIS))
                tap(uid, datetime.combine(day, clock(17, 30), tzinfo=PARIS))
    taps.sort(key=lambda item: item.ts)
    return taps


def timed(label: str, work: Callable[[], object], taps: int) -> float:
    started = time.perf_counter()
    work()
    elapsed = time.perf_counter() - started
    print(f"{label:<58} {elapsed:7.3f} s  {taps / elapsed:12,.0f} taps/s")
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--campuses", type=int, default=84)
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--weeks", type=int, default=40)
    options = parser.parse_args()
    rng = random.Random(2026)
    folder = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    campuses = tuple(
        CampusSettings(f"campus-{n:03d}", f"Campus {n}", ("door-1",))
        for n in range(options.campuses)
    )
    settings = Settings(data_dir=folder, badge_secret=SECRET.decode(), campuses=campuses)
    presence = PresenceSettings(correction_window_days=100_000)  # compute, don't freeze
    engine, registry = open_registry(settings.registry_database_url)
    sync_campuses(registry, settings)
    started = time.perf_counter()
    people = build_registry(registry, settings, options.students, rng)
    store = SqliteEventStore(folder / "events.sqlite3")
    store.setup()
    total = campus_taps = week_taps = 0
    middle = FIRST_WEEK.shifted(options.weeks // 2)
    for campus, students in people.items():
        taps = generate_taps(campus, students, options.weeks, rng)
        for index in range(0, len(taps), 20_000):
            store.write_taps(taps[index : index + 20_000])
        total += len(taps)
        campus_taps = campus_taps or len(taps)
        week_taps += sum(1 for tap in taps if IsoWeek.of(tap.ts.date()) == middle)
    print(
        f"setup: {options.campuses} campuses × {options.students} students, {options.weeks} "
        f"weeks, {total:,} taps in {time.perf_counter() - started:.1f} s (not timed below)"
    )
    weeks = [FIRST_WEEK.shifted(offset) for offset in range(options.weeks)]
    now = datetime.combine(weeks[-1].monday + timedelta(days=8), clock(12), tzinfo=PARIS)
    ledger = LedgerService(registry, store, presence)
    one = campuses[0].id
    ledger.weekly(weeks[0], now, campus=one)  # first call pays imports (holidays data)
    national = f"national ({options.campuses} campuses)"
    timed(
        "one campus, 1 weekly report",
        lambda: ledger.weekly(middle, now, campus=one),
        campus_taps / options.weeks,
    )
    timed(
        "one campus, 40 weekly reports one at a time",
        lambda: [ledger.weekly(w, now, campus=one) for w in weeks],
        campus_taps,
    )
    timed(
        "one campus, 40 weeks in one call",
        lambda: ledger.weeks(weeks, now, campus=one),
        campus_taps,
    )
    timed(f"{national}, 1 weekly report", lambda: ledger.weekly(middle, now), week_taps)
    timed(f"{national}, 40 weeks in one call", lambda: ledger.weeks(weeks, now), total)
    window = (datetime(2026, 8, 1, tzinfo=UTC), datetime(2027, 8, 1, tzinfo=UTC))
    timed("  of which the event store's taps() alone", lambda: store.taps(*window), total)
    # As in production: the freeze job stores the weeks older than the correction window
    # (14 days); reads never freeze.
    freezing = LedgerService(registry, store, PresenceSettings())
    old = sum(1 for week in weeks if week.bounds(PARIS)[1] + timedelta(days=14) <= now)
    live = len(weeks) - old
    timed(
        f"{national}, the freeze job: {old} weeks frozen", lambda: freezing.freeze_due(now), total
    )
    timed(
        f"{national}, 40 weeks: {old} read frozen, {live} computed",
        lambda: freezing.weeks(weeks, now),
        total,
    )
    later = now + timedelta(days=30)
    freezing.freeze_due(later)  # freezes the last ones
    timed(f"{national}, 40 weeks: all read frozen", lambda: freezing.weeks(weeks, later), total)
    store.close()
    engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
