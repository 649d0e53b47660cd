"""The ledger's fast read path gives the same lines as the reference paths.

The ledger reads taps as plain rows (``EventStore.tap_rows``, one query, no object per
tap) and groups them by student from those rows. References: (1) the same ledger over the
port's default ``tap_rows``, built on ``taps()`` and its ``StoredTap`` objects; (2) the
lines composed here the plain way: each ``StoredTap``'s holder found with ``holder_of``,
``build_sessions``, the corrections, then ``domain.ledger.week_account`` for each student
and week. All run on the
same generated campus (double taps, forgotten exits, extra afternoons, a badge replaced,
room and one-way readers, unknown badges, excuses, corrections, the All Saints holidays, a
public holiday and a closure), on both real stores, and again after late taps for weeks
already computed: nothing may be served from an earlier computation. (3) The national
report computed by worker processes (``services.ledger_workers``, each with its own
registry sessions and event store built from the settings) gives the same lines, late
taps included.
"""

from __future__ import annotations

import gc
import os
import random
import signal
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from server.adapters.event_store import EventStore
from server.adapters.influx_events import InfluxEventStore
from server.adapters.sqlite_events import SqliteEventStore
from server.bootstrap import worker_ledger
from server.config import InfluxSettings, Settings
from server.domain.accounts import Actor
from server.domain.badges import badge_hash
from server.domain.calendar import IsoWeek
from server.domain.contracts import Contract, ExcuseCategory, Slot
from server.domain.events import StoredTap
from server.domain.ledger import WeekFrame, week_account
from server.domain.sessions import (
    Correction,
    CorrectionKind,
    DoorTap,
    ReaderMode,
    apply_corrections,
    build_sessions,
)
from server.domain.slots import closures
from server.registry.models import Closure, OpeningHours
from server.registry.presence_repository import repository
from server.registry.presence_store import presence_unit_of_work
from server.registry.student_repository import StudentRepository
from server.services.presence.corrections import CorrectionService
from server.services.presence.ledger import LedgerService, holder_of, index_holdings, session_rules
from server.services.presence.ledger_workers import CampusWorkers
from tests.integration.registry.conftest import CAMPUS, SECRET

PARIS = ZoneInfo("Europe/Paris")
FIRST = IsoWeek(2026, 42)  # 12 October 2026: All Saints holidays from the 17th
WEEKS = [FIRST.shifted(offset) for offset in range(6)]  # to W47 (11 November inside)
NOW = datetime(2026, 11, 25, 12, tzinfo=UTC)  # W48: the last weeks are over, not frozen
ACTOR = Actor("tutor@campus.fr", datetime(2026, 10, 1, tzinfo=UTC))


class _ReferenceSqlite(SqliteEventStore):
    tap_rows = EventStore.tap_rows  # built on taps(): one StoredTap per tap


class _ReferenceInflux(InfluxEventStore):
    tap_rows = EventStore.tap_rows


@pytest.fixture(params=["sqlite", pytest.param("influxdb", marks=pytest.mark.influxdb)])
def stores(
    request, tmp_path: Path, settings: Settings
) -> Iterator[tuple[EventStore, EventStore, Settings]]:
    """(the store as the ledger uses it, the same storage read the reference way, the
    settings a worker process builds the same store from)."""
    if request.param == "sqlite":
        path = settings.events_sqlite_path
        pair = (SqliteEventStore(path), _ReferenceSqlite(path))
        worker_settings = settings
    else:
        url = request.getfixturevalue("influxd").url
        influx = InfluxSettings(url=url, api_version=1, database="fast_path")
        pair = (
            InfluxEventStore(influx, retention=timedelta(days=3650)),
            _ReferenceInflux(influx, retention=timedelta(days=3650)),
        )
        events = replace(settings.events, backend="influxdb", retention_days=3650)
        worker_settings = replace(settings, events=events, influxdb=influx)
    for store in pair:
        store.setup()
    yield (*pair, worker_settings)
    for store in pair:
        store.close()


def _campus(registry, settings, rng: random.Random) -> list[tuple[str, list[str], Contract]]:
    """Twelve students (student id, badge uids, contract); the first has a second badge
    from the third week; a closure on one Thursday."""
    people = []
    with registry() as session, session.begin():
        for weekday in range(5):
            session.add(
                OpeningHours(campus_id=CAMPUS, weekday=weekday, opens=clock(8), closes=clock(19))
            )
        session.add(
            Closure(campus_id=CAMPUS, start=date(2026, 11, 5), end=date(2026, 11, 5), label="x")
        )
        repo = StudentRepository(session)
        for index in range(12):
            days = rng.sample(range(5), rng.randint(3, 5))
            slots = []
            for day in days:
                start = rng.choice([7, 8, 9, 13, 14, 17])  # some before opening or after it
                slots.append(Slot(day, clock(start), clock(min(start + rng.randint(2, 5), 21))))
            minutes = min(sum(slot.minutes for slot in slots), 720)
            contract = Contract(minutes, tuple(sorted(slots)), date(2026, 9, 1), date(2027, 6, 30))
            values = {"last_name": "Nom", "first_name": "Prénom", "campus_id": CAMPUS}
            student, _ = repo.save_student(f"F{index:03d}", values, ACTOR)
            repo.apply_contract(student, contract, ACTOR)
            uids = [f"05{index:04x}aa"]
            repo.give_badge(student, badge_hash(SECRET.encode(), uids[0]), ACTOR.at, ACTOR)
            if index == 0:
                uids.append("05ffffbb")
                second = datetime.combine(WEEKS[2].monday, clock(0), tzinfo=PARIS)
                repo.give_badge(student, badge_hash(SECRET.encode(), uids[1]), second, ACTOR)
            people.append((f"F{index:03d}", uids, contract))
    return people


def _taps(people, weeks, rng: random.Random, first_seq: int) -> list[StoredTap]:
    taps: list[StoredTap] = []
    readers = ["door-1"] * 8 + ["door-in", "door-out", "room-1"]

    def tap(uid: str, moment: datetime) -> None:
        seq = first_seq + len(taps)
        taps.append(
            StoredTap(
                f"tap-{seq:07d}",
                CAMPUS,
                rng.choice(readers),
                badge_hash(SECRET.encode(), uid),
                moment,
                seq,
                moment,
            )
        )

    for _, uids, contract in people:
        for week in weeks:
            uid = uids[-1] if week >= WEEKS[2] else uids[0]
            for slot in contract.slots:
                if rng.random() < 0.15:
                    continue
                day = week.monday + timedelta(days=slot.weekday)
                start = datetime.combine(day, slot.start, tzinfo=PARIS)
                end = datetime.combine(day, slot.end, tzinfo=PARIS)
                arrive = start + timedelta(minutes=rng.gauss(5, 20))
                tap(uid, arrive)
                if rng.random() < 0.1:  # double tap
                    tap(uid, arrive + timedelta(seconds=rng.choice([1, 2, 4, 7])))
                if rng.random() < 0.15:  # forgets to badge out
                    continue
                tap(uid, end + timedelta(minutes=rng.gauss(10, 40)))
            if rng.random() < 0.3:  # an afternoon outside the slots, or an old badge
                day = week.monday + timedelta(days=rng.randint(0, 6))
                tap(rng.choice(uids), datetime.combine(day, clock(15), tzinfo=PARIS))
                tap(uids[0], datetime.combine(day, clock(17, 30), tzinfo=PARIS))
            if rng.random() < 0.1:
                tap("0badbadbad", datetime.combine(week.monday, clock(10), tzinfo=PARIS))
            if week < WEEKS[2] and len(uids) > 1:  # the second badge before it was given
                tap(uids[1], datetime.combine(week.monday, clock(9), tzinfo=PARIS))
                tap(uids[1], datetime.combine(week.monday, clock(12), tzinfo=PARIS))
    return taps


def _amend(registry, settings, rng: random.Random, people) -> None:
    corrections = CorrectionService(
        presence_unit_of_work(registry, settings.presence), settings.presence, retention_days=400
    )
    for student_id, _, contract in people[1:8]:
        week = rng.choice(WEEKS)
        slot = contract.slots[0]
        day = week.monday + timedelta(days=slot.weekday)
        start = datetime.combine(day, slot.start, tzinfo=PARIS)
        if rng.random() < 0.5:
            corrections.excuse(
                student_id,
                start - timedelta(hours=1),
                start + timedelta(hours=rng.choice([2, 30])),
                ExcuseCategory.EXAM,
                note="",
                actor=ACTOR,
            )
        add = Correction(CorrectionKind.ADD, None, start, start + timedelta(hours=2))
        corrections.correct(student_id, add, reason="forgot the badge", actor=ACTOR)


def _plain_lines(registry, store: EventStore, presence) -> dict[IsoWeek, list]:
    """Reference (2): every step in the simplest way, one StoredTap at a time."""
    rules = session_rules(presence)
    grace = timedelta(minutes=presence.grace_minutes)
    found: dict[IsoWeek, list] = {week: [] for week in WEEKS}
    with registry() as session:
        repo = repository(session, presence)
        calendar = repo.calendar(CAMPUS)
        tz = calendar.tz
        last = WEEKS[-1].monday + timedelta(days=6)
        plans = repo.plans(CAMPUS, WEEKS[0].monday, last)
        pks = [plan.student_pk for plan in plans]
        start = WEEKS[0].bounds(tz)[0] - rules.lookback
        end = min(WEEKS[-1].bounds(tz)[1], NOW + timedelta(microseconds=1))
        schedule = calendar.schedule(start.astimezone(tz).date(), last)
        holdings = index_holdings(repo.holdings_for_campus(CAMPUS))
        modes = repo.reader_modes()
        door: dict[int, list[DoorTap]] = {pk: [] for pk in pks}
        for tap in store.taps(start, end, campus=CAMPUS):
            mode = modes.get((tap.campus, tap.reader), ReaderMode.TOGGLE)
            holder = holder_of(holdings, tap.badge, tap.ts)
            if mode is not ReaderMode.ROOM and holder is not None:
                door[holder.student_pk].append(DoorTap(tap.ts.astimezone(UTC), mode, tap.tap_id))
        fixes = repo.corrections(pks, start, end)
        excuses = repo.excuses(pks, start, WEEKS[-1].bounds(tz)[1])
        sessions = {}
        for pk in pks:
            built, _ = build_sessions(door[pk], rules=rules, schedule=schedule, now=NOW)
            sessions[pk] = apply_corrections(built, fixes[pk]) if pk in fixes else built
        for week in WEEKS:
            sunday = week.monday + timedelta(days=6)
            frame = WeekFrame.build(week, tz, schedule, closures(calendar, week.monday, sunday))
            for plan in plans:
                contracts = [c for c in plan.contracts if c.overlaps(week.monday, sunday)]
                near = [
                    item
                    for item in sessions[plan.student_pk]
                    if frame.start - rules.lookback <= item.start < frame.end
                ]
                line, _ = week_account(
                    plan.student_id,
                    frame,
                    contracts=contracts,
                    sessions=near,
                    excuses=excuses.get(plan.student_pk, ()),
                    grace=grace,
                    now=NOW,
                )
                found[week].append(line)
    for lines in found.values():
        lines.sort(key=lambda line: line.student_id)
    return found


def _lines(ledger: LedgerService) -> dict:
    year = ledger.weeks(WEEKS, NOW)
    apart = {week: ledger.weekly(week, NOW) for week in WEEKS}
    assert apart == year  # one report at a time: the same as all at once
    return year


def test_fast_read_path_gives_the_reference_lines(registry, settings, stores) -> None:
    store, reference, worker_settings = stores
    rng = random.Random(16)
    people = _campus(registry, settings, rng)
    taps = _taps(people, WEEKS, rng, 1)
    store.write_taps(taps)
    _amend(registry, settings, rng, people)
    fast = LedgerService(
        presence_unit_of_work(registry, settings.presence), store, settings.presence
    )
    slow = LedgerService(
        presence_unit_of_work(registry, settings.presence), reference, settings.presence
    )

    first = _lines(fast)
    assert gc.isenabled()  # the cyclic collector is paused only while computing
    assert first == _lines(slow)
    assert first == _plain_lines(registry, reference, settings.presence)
    assert sum(len(lines) for lines in first.values()) == 12 * len(WEEKS)
    figures = [line for lines in first.values() for line in lines]
    assert {line.status.value for line in figures} >= {"met", "short"}
    assert any(line.missed_slots for line in figures)
    assert any(line.unverified_s for line in figures)
    assert any(line.late_arrivals for line in figures)

    # Late taps for the weeks just computed: the next computation sees them.
    late = _taps(people, WEEKS[:3], random.Random(61), len(taps) + 1)[::5]
    store.write_taps(late)
    again = _lines(fast)
    assert again == _lines(slow)
    assert again == _plain_lines(registry, reference, settings.presence)
    assert again != first

    # The national report in two worker processes: the same lines, and a late tap stored
    # after a report counts at the next one (nothing kept in the workers).
    with CampusWorkers(worker_settings, worker_ledger, processes=2) as workers:
        national = LedgerService(
            presence_unit_of_work(registry, settings.presence),
            store,
            settings.presence,
            workers=workers,
        )
        assert national.weeks(WEEKS, NOW) == again
        later = _taps(people, WEEKS[3:], random.Random(62), len(taps) + len(late) + 1)[::7]
        store.write_taps(later)
        assert national.weeks(WEEKS, NOW) == _lines(fast) == _lines(slow)
        assert national.weeks(WEEKS, NOW) != again
        assert workers.cpu_s > 0

        # A worker killed: the report that finds the pool broken is computed in this
        # process and new workers are started (once); the same lines each time.
        expected = _lines(fast)
        os.kill(min(workers.pids), signal.SIGKILL)
        time.sleep(1)  # the pool notices the death (else the next report does)
        assert national.weeks(WEEKS, NOW) == expected
        assert national.weeks(WEEKS, NOW) == expected
        assert workers.restarts == 1
        assert national.weeks(WEEKS, NOW) == expected
