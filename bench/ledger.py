"""Benchmark of the weekly ledger (not a test; prints figures).

Builds a registry (real SQLite file) and a real event store (SQLite file, or a real
``influxd`` 1.6 in a temporary folder with ``--store influxdb``) with realistic taps: per
campus 60 students, contracts of 12-20 h in 3-5 weekly slots, 40 weeks of the academic
year with holidays, arrival jitter, absences, forgotten exits, double taps and hours
outside the slots. Then times the weekly report:

- one campus, the 40 weeks one report at a time, and all at once;
- the national network (84 campuses by default), the 40 weeks at once and one week;
  the 40 weeks again computed by 2 worker processes (``services.ledger_workers``, started
  before the timing as the server starts them; its CPU column adds the workers' CPU).

Weeks are computed from the raw taps (the correction window is set wide so nothing is
frozen); the last lines freeze the year and read it frozen. Targets: a campus-year as 40
separate reports < 0.5 s, a national year from raw taps < 10 s, on both stores.

References measured in the same run, on the same data:

- ``raw read``: every tap of the year read with one bare query (SQLite: ``SELECT`` and
  ``fetchall``; InfluxDB: one ``/query`` of the columns the ledger reads, and ``json.loads``), no
  ledger at all;
- ``2 pure-Python loops at once``: what 2 processes can gain on the machine at that
  moment (its speed-up over one loop, 2.00 on two free cores), measured just before the
  2-process line: the reference of that line's speed-up over the 1-process one;
- ``--reference DIR``: the same timings with the code of another tree (e.g. the commit
  before a change, from ``git archive``), run in a child process on the same data.

    python bench/ledger.py [--store sqlite|influxdb] [--campuses 84] [--students 60]
                           [--weeks 40] [--reference DIR]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import gc
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

# The tree under test: ours, or the reference's given by PYTHONPATH to a child run.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if os.environ.get("PYTHONPATH"):
    sys.path.insert(0, os.environ["PYTHONPATH"].split(os.pathsep)[0])

from bench.reference.trees import Actor, found, people_unit_of_work
from server.adapters.sqlite_events import SqliteEventStore
from server.config import CampusSettings, InfluxSettings, PresenceSettings, Settings
from server.domain.badges import badge_hash
from server.domain.calendar import IsoWeek
from server.domain.contracts import Contract, Slot
from server.domain.events import StoredTap
from server.registry.database import open_registry
from server.registry.models import OpeningHours
from server.registry.student_repository import StudentRepository

sync_campuses = found(
    "server.services.people.campuses:sync_campuses", "server.services.campuses:sync_campuses"
)
LedgerService = found(
    "server.services.presence.ledger:LedgerService", "server.services.ledger:LedgerService"
)

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


def _ledger(registry, store, settings: PresenceSettings, **options) -> LedgerService:  # type: ignore[no-untyped-def]
    """The tree under test's ledger on the registry: through the presence units of work
    (issue 17), or on the session factory itself in a tree from before them."""
    try:
        units = found("server.registry.presence_store:presence_unit_of_work")
    except ImportError:
        return LedgerService(registry, store, settings, **options)
    return LedgerService(units(registry, settings), store, settings, **options)


def timings(options: argparse.Namespace, folder: Path, influx_url: str | None) -> dict:
    """Seconds of each timed line with the code found first on ``sys.path`` (the tree
    under test: ``LedgerService`` above is imported from it)."""
    store = open_store(options.store, folder, influx_url)
    engine, registry = open_registry(_settings(options, folder).registry_database_url)
    weeks = [FIRST_WEEK.shifted(offset) for offset in range(options.weeks)]
    middle = FIRST_WEEK.shifted(options.weeks // 2)
    now = datetime.combine(weeks[-1].monday + timedelta(days=8), clock(12), tzinfo=PARIS)
    ledger = _ledger(registry, store, PresenceSettings(correction_window_days=100_000))
    one = "campus-000"
    ledger.weekly(weeks[0], now, campus=one)  # first call pays imports (holidays data)
    gc.collect()  # then, as a server process does once started (server.process), what
    gc.freeze()  # was built to start is kept out of the collector's full passes
    found = {}

    def timed(key: str, work: Callable[[], object]) -> None:
        started, cpu = time.perf_counter(), time.process_time()
        work()
        found[key] = time.perf_counter() - started
        found[f"{key}_cpu"] = time.process_time() - cpu

    timed("campus_week", lambda: ledger.weekly(middle, now, campus=one))
    timed("campus_weeks_apart", lambda: [ledger.weekly(w, now, campus=one) for w in weeks])
    timed("campus_year", lambda: ledger.weeks(weeks, now, campus=one))
    timed("national_week", lambda: ledger.weekly(middle, now))
    timed("national_year", lambda: ledger.weeks(weeks, now))
    workers = _workers(options, folder, influx_url, now)
    if workers is not None:  # a tree with services.ledger_workers: the national year again
        found["spin_alone"], found["spin_two"] = parallel_reference()
        with workers:
            national = _ledger(registry, store, ledger.settings, workers=workers)
            timed("national_year_2p", lambda: national.weeks(weeks, now))
            found["national_year_2p_cpu"] += workers.cpu_s  # the workers' CPU time too
    store.close()
    engine.dispose()
    return found


def _workers(options: argparse.Namespace, folder: Path, influx_url: str | None, now: datetime):
    """Two worker processes for the national report (started and warmed up before the
    timing, as the server starts them), with the tree's own ``CampusWorkers``; None if it
    has none."""
    try:
        from server.bootstrap import worker_ledger
        from server.services.presence.ledger_workers import CampusWorkers
    except ImportError:
        return None
    settings = dataclasses.replace(
        _settings(options, folder), presence=PresenceSettings(correction_window_days=100_000)
    )
    if options.store == "influxdb":
        settings = dataclasses.replace(
            settings,
            events=dataclasses.replace(settings.events, backend="influxdb", retention_days=3650),
            influxdb=InfluxSettings(url=influx_url, api_version=1, database="bench", timeout_s=300),
        )
    try:  # warmed up on one campus-week, as this process is before its first timing
        return CampusWorkers(settings, worker_ledger, processes=2, clock=lambda: now)
    except TypeError:  # a tree whose workers take no clock
        return CampusWorkers(settings, worker_ledger, processes=2)


def _spin(rounds: int) -> float:
    started = time.perf_counter()
    total = 0
    for number in range(rounds):
        total += number * number % 7
    return time.perf_counter() - started


def parallel_reference(rounds: int = 2_000_000) -> tuple[float, float]:
    """What two processes can get on this machine now: (seconds of a pure-Python loop
    alone in this process, seconds of the same loop in 2 worker processes at once, the
    slower one). Their ratio, 2 x alone / two, is the speed-up 2 processes can give
    (2.0 on two free cores), the reference of the national year's 2-process line."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    with ProcessPoolExecutor(2, mp_context=get_context("spawn")) as pool:
        list(pool.map(time.sleep, [0.2, 0.2]))  # both started
        alone = min(_spin(rounds) for _ in range(2))
        started = time.perf_counter()
        list(pool.map(_spin, [rounds, rounds]))
        two = time.perf_counter() - started
    return alone, two


LINES = (
    ("campus_week", "one campus, 1 weekly report", "week"),
    ("campus_weeks_apart", "one campus, 40 weekly reports one at a time", "campus"),
    ("campus_year", "one campus, 40 weeks in one call", "campus"),
    ("national_week", "national, 1 weekly report", "national_week"),
    ("national_year", "national, 40 weeks in one call (from raw taps)", "total"),
    ("national_year_2p", "national, the same in 2 worker processes", "total"),
)


def _settings(options: argparse.Namespace, folder: Path) -> Settings:
    campuses = tuple(
        CampusSettings(f"campus-{n:03d}", f"Campus {n}", ("door-1",))
        for n in range(options.campuses)
    )
    return Settings(data_dir=folder, badge_secret=SECRET.decode(), campuses=campuses)


def open_store(kind: str, folder: Path, influx_url: str | None):
    if kind == "sqlite":
        return SqliteEventStore(folder / "events.sqlite3")
    from server.adapters.influx_events import InfluxEventStore

    settings = InfluxSettings(url=influx_url, api_version=1, database="bench", timeout_s=300)
    return InfluxEventStore(settings, retention=timedelta(days=3650))


def raw_read(kind: str, folder: Path, influx_url: str | None) -> float:
    """Every tap of the year with one bare query, no ledger: the floor of any read."""
    started = time.perf_counter()
    if kind == "sqlite":
        with closing(sqlite3.connect(folder / "events.sqlite3")) as connection:
            connection.execute("SELECT badge, ts_us, reader FROM taps").fetchall()
    else:
        fields = {
            "q": "SELECT badge FROM taps GROUP BY campus, reader",  # the ledger's column
            "db": "bench",
            "epoch": "ns",
        }
        body = urllib.parse.urlencode(fields).encode()
        with urllib.request.urlopen(f"{influx_url}/query", body, timeout=600) as response:  # noqa: S310
            json.loads(response.read())
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--store", choices=("sqlite", "influxdb"), default="sqlite")
    parser.add_argument("--campuses", type=int, default=84)
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--weeks", type=int, default=40)
    parser.add_argument("--reference", type=Path, help="a tree whose code is the reference")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each tree, alternately")
    parser.add_argument("--skip-freeze", action="store_true", help="no freeze job lines")
    parser.add_argument("--child", nargs=2, metavar=("DATA", "INFLUX_URL"), help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:  # timings only, with the code first on sys.path, as JSON
        folder, url = Path(options.child[0]), options.child[1]
        print(json.dumps(timings(options, folder, None if url == "-" else url)))
        return 0
    folder = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    with contextlib.ExitStack() as stack:
        stack.callback(shutil.rmtree, folder, ignore_errors=True)  # after influxd stops
        influx_url = None
        if options.store == "influxdb":
            from tests.services import Influxd

            influx_url = stack.enter_context(Influxd(folder / "influx")).url
        return run(options, folder, influx_url)


def run(options: argparse.Namespace, folder: Path, influx_url: str | None) -> int:
    rng = random.Random(2026)
    settings = _settings(options, folder)
    engine, registry = open_registry(settings.registry_database_url)
    sync_campuses(people_unit_of_work(registry), settings)
    started = time.perf_counter()
    people = build_registry(registry, settings, options.students, rng)
    store = open_store(options.store, folder, influx_url)
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
    store.close()
    print(
        f"setup ({options.store}): {options.campuses} campuses × {options.students} students, "
        f"{options.weeks} weeks, {total:,} taps in {time.perf_counter() - started:.1f} s "
        "(not timed below)"
    )
    counts = {
        "week": campus_taps / options.weeks,
        "campus": campus_taps,
        "national_week": week_taps,
        "total": total,
    }
    url = influx_url or "-"
    trees = [("after", Path(__file__).resolve().parents[1])]
    if options.reference:
        trees.insert(0, ("before", options.reference.resolve()))
    found: dict[str, dict[str, float]] = {}
    loads = [os.getloadavg()[0]]
    raw = [raw_read(options.store, folder, influx_url)]
    for _ in range(options.rounds):  # alternately, keeping each line's best
        for name, tree in trees:
            child = subprocess.run(
                [sys.executable, __file__, "--child", str(folder), url, *_sizes(options)],
                env={**os.environ, "PYTHONPATH": str(tree)},
                capture_output=True,
                text=True,
                check=False,
            )
            if child.returncode != 0:  # say why, with the tree's own traceback
                sys.stderr.write(child.stderr)
                raise SystemExit(f"the {name} tree's run failed (exit {child.returncode})")
            got = json.loads(child.stdout.splitlines()[-1])
            best = found.setdefault(name, got)
            for key, value in got.items():
                best[key] = min(best[key], value)
            raw.append(raw_read(options.store, folder, influx_url))
            loads.append(os.getloadavg()[0])
    raw_s = min(raw)
    print(
        f"raw read: all {total:,} taps with one bare query ({options.store}): {raw_s:.3f} s "
        f"(best of {len(raw)}, between the runs)"
    )
    print(
        f"each line: best of {options.rounds} run(s) of each tree, alternately; wall time "
        "(s), and CPU time of the ledger's process (s; the influxd process not counted)"
    )
    if options.reference:
        columns = f" {'before':>8} {'after':>8} {'ratio':>5} |"
        columns += f" {'cpu bef':>7} {'cpu aft':>7} {'ratio':>5} |"
    else:
        columns = f" {'after':>8} | {'cpu':>7} |"
    print(f"{'':<50}{columns} {'x raw':>6} {'taps/s':>9}")
    for key, label, count in LINES:
        if key not in found["after"]:
            continue
        after, cpu = found["after"][key], found["after"][f"{key}_cpu"]
        label = label.replace("national", f"national ({options.campuses})")
        cells = f"{label.replace('40', str(options.weeks)):<50}"
        if options.reference and key in found["before"]:
            before, cpu_before = found["before"][key], found["before"][f"{key}_cpu"]
            cells += f" {before:8.3f} {after:8.3f} {after / before:5.2f} |"
            cells += f" {cpu_before:7.3f} {cpu:7.3f} {cpu / cpu_before:5.2f} |"
        elif options.reference:  # the reference tree has no such line
            cells += f" {'-':>8} {after:8.3f} {'-':>5} |"
            cells += f" {'-':>7} {cpu:7.3f} {'-':>5} |"
        else:
            cells += f" {after:8.3f} | {cpu:7.3f} |"
        share = after / raw_s if key == "national_year" else after / (raw_s * counts[count] / total)
        print(f"{cells} {share:6.1f} {counts[count] / after:9,.0f}")
    loads_text = ", ".join(f"{load:.1f}" for load in loads)
    print(f"load average (1 min) before, between and after the runs: {loads_text}")
    print(f"machine cores: {os.cpu_count()}")
    apart, national = found["after"]["campus_weeks_apart"], found["after"]["national_year"]
    full_campus = options.students >= 60 and options.weeks >= 40
    verdict = "met" if apart < 0.5 else "NOT met"
    if not full_campus:
        verdict = "not judged: the target is for 60 students × 40 weeks"
    print(f"target campus-year as 40 separate reports < 0.5 s: {apart:.3f} s {verdict}")
    verdict = "met" if national < 10 else "NOT met"
    if not full_campus or options.campuses < 84:
        verdict = "not judged: the target is for 84 campuses × 60 students × 40 weeks"
    print(f"target national year from raw taps < 10 s: {national:.3f} s {verdict}")
    if "national_year_2p" in found["after"]:
        national = found["after"]["national_year_2p"]
        verdict = "met" if national < 10 else "NOT met"
        if not full_campus or options.campuses < 84:
            verdict = "not judged: the target is for 84 campuses × 60 students × 40 weeks"
        print(f"target national year from raw taps < 10 s, 2 processes: {national:.3f} s {verdict}")
    if "national_year_2p" in found["after"]:
        got = found["after"]
        speed_up = got["national_year"] / got["national_year_2p"]
        machine = 2 * got["spin_alone"] / got["spin_two"]
        print(
            f"2 processes, national year: speed-up {speed_up:.2f} over 1 process (this tree; "
            f"best of each line); the machine's for 2 pure-Python loops at once, in the same "
            f"run: {machine:.2f} (2.00 on two free cores); ratio {speed_up / machine:.2f}"
        )
    if not options.skip_freeze:
        freezing(options, registry, folder, influx_url, total)
    engine.dispose()
    return 0


def _sizes(options: argparse.Namespace) -> list[str]:
    return [
        f"--store={options.store}",
        f"--campuses={options.campuses}",
        f"--students={options.students}",
        f"--weeks={options.weeks}",
    ]


def freezing(options, registry, folder: Path, influx_url: str | None, total: int) -> None:
    """As in production: the freeze job stores the weeks older than the correction window
    (14 days); reads never freeze. Current code only."""
    store = open_store(options.store, folder, influx_url)
    weeks = [FIRST_WEEK.shifted(offset) for offset in range(options.weeks)]
    now = datetime.combine(weeks[-1].monday + timedelta(days=8), clock(12), tzinfo=PARIS)
    national = f"national ({options.campuses} campuses)"
    freezing = _ledger(registry, store, PresenceSettings())
    old = sum(1 for week in weeks if week.bounds(PARIS)[1] + timedelta(days=14) <= now)
    live = len(weeks) - old

    def timed(label: str, work: Callable[[], object]) -> None:
        started = time.perf_counter()
        work()
        elapsed = time.perf_counter() - started
        print(f"{label:<58} {elapsed:7.3f} s  {total / elapsed:12,.0f} taps/s")

    timed(f"{national}, the freeze job: {old} weeks frozen", lambda: freezing.freeze_due(now))
    timed(
        f"{national}, 40 weeks: {old} read frozen, {live} computed",
        lambda: freezing.weeks(weeks, now),
    )
    later = now + timedelta(days=30)
    freezing.freeze_due(later)  # freezes the last ones
    timed(f"{national}, 40 weeks: all read frozen", lambda: freezing.weeks(weeks, later))
    store.close()


if __name__ == "__main__":
    sys.exit(main())
