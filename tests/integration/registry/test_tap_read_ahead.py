"""A national report asks the next campus's taps ahead (``TapReadAhead``) while it
computes one, when another process answers the reads (InfluxDB): the same lines as each
campus read on its own and as the reference read (``StoredTap`` objects), and a tap
stored after a report counts at the next one (nothing is kept once a report is done)."""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from server.adapters.event_store import EventStore, TapReadAhead
from server.adapters.influx_events import InfluxEventStore
from server.adapters.sqlite_events import SqliteEventStore
from server.config import CampusSettings, InfluxSettings, Settings
from server.domain.accounts import Actor
from server.domain.badges import badge_hash
from server.domain.calendar import IsoWeek
from server.domain.contracts import Contract, Slot
from server.domain.events import StoredTap
from server.registry.database import open_registry
from server.registry.models import OpeningHours
from server.registry.people_store import people_unit_of_work
from server.registry.presence_store import presence_unit_of_work
from server.registry.student_repository import StudentRepository
from server.services.people.campuses import sync_campuses
from server.services.presence.ledger import LedgerService
from tests.integration.registry.conftest import SECRET

PARIS = ZoneInfo("Europe/Paris")
CAMPUSES = ("campus-a", "campus-b", "campus-c")
WEEKS = [IsoWeek(2026, 41).shifted(offset) for offset in range(4)]
NOW = datetime(2026, 11, 12, 12, tzinfo=UTC)
ACTOR = Actor("tutor@campus.fr", datetime(2026, 9, 1, tzinfo=UTC))


class _Reference(SqliteEventStore):
    tap_rows = EventStore.tap_rows  # built on taps(): one StoredTap per tap


class _ReferenceInflux(InfluxEventStore):
    tap_rows = EventStore.tap_rows


@pytest.fixture
def three(settings: Settings) -> Settings:
    campuses = tuple(CampusSettings(c, c.title(), ("door-1",)) for c in CAMPUSES)
    return replace(settings, campuses=campuses)


@pytest.fixture(params=["sqlite", pytest.param("influxdb", marks=pytest.mark.influxdb)])
def stores(request, tmp_path: Path) -> Iterator[tuple[EventStore, EventStore]]:
    if request.param == "sqlite":
        path = tmp_path / "events.sqlite3"
        pair: tuple[EventStore, EventStore] = (SqliteEventStore(path), _Reference(path))
    else:
        url = request.getfixturevalue("influxd").url
        database = f"read_ahead_{uuid.uuid4().hex[:12]}"
        influx = InfluxSettings(url=url, api_version=1, database=database)
        pair = (
            InfluxEventStore(influx, retention=timedelta(days=3650)),
            _ReferenceInflux(influx, retention=timedelta(days=3650)),
        )
    for store in pair:
        store.setup()
    yield pair
    for store in pair:
        store.close()


def _people(registry, rng: random.Random) -> list[tuple[str, str, Contract]]:
    people = []
    with registry() as session, session.begin():
        repo = StudentRepository(session)
        for campus in CAMPUSES:
            for weekday in range(5):
                session.add(
                    OpeningHours(
                        campus_id=campus, weekday=weekday, opens=clock(8), closes=clock(19)
                    )
                )
            for index in range(5):
                days = sorted(rng.sample(range(5), 3))
                slots = tuple(Slot(day, clock(rng.choice([9, 14])), clock(17)) for day in days)
                contract = Contract(600, slots, date(2026, 9, 1), date(2027, 6, 30))
                values = {"last_name": "Nom", "first_name": "Prénom", "campus_id": campus}
                student, _ = repo.save_student(f"{campus}-{index}", values, ACTOR)
                repo.apply_contract(student, contract, ACTOR)
                uid = f"06{CAMPUSES.index(campus):02x}{index:02x}aa"
                repo.give_badge(student, badge_hash(SECRET.encode(), uid), ACTOR.at, ACTOR)
                people.append((campus, uid, contract))
    return people


def _taps(people, weeks, rng: random.Random, first: int) -> list[StoredTap]:
    taps = []
    for campus, uid, contract in people:
        for week in weeks:
            for slot in contract.slots:
                if rng.random() < 0.3:
                    continue
                day = week.monday + timedelta(days=slot.weekday)
                start = datetime.combine(day, slot.start, tzinfo=PARIS)
                for moment in (start + timedelta(minutes=rng.gauss(5, 20)), start.replace(hour=17)):
                    if rng.random() < 0.9:
                        seq = first + len(taps)
                        badge = badge_hash(SECRET.encode(), uid)
                        taps.append(
                            StoredTap(f"t-{seq:07d}", campus, "door-1", badge, moment, seq, moment)
                        )
    return taps


def test_national_report_read_ahead_gives_each_campus_lines(three: Settings, stores) -> None:
    store, reference = stores
    engine, registry = open_registry(three.registry_database_url)
    try:
        sync_campuses(people_unit_of_work(registry), three)
        people = _people(registry, random.Random(7))
        taps = _taps(people, WEEKS, random.Random(8), 1)
        store.write_taps(taps)
        units = presence_unit_of_work(registry, three.presence)
        ledger = LedgerService(units, store, three.presence)
        plain = LedgerService(units, reference, three.presence)

        def campus_by_campus() -> dict[IsoWeek, list]:
            found: dict[IsoWeek, list] = {week: [] for week in WEEKS}
            for campus in CAMPUSES:  # one campus: nothing is asked ahead
                for week, lines in ledger.weeks(WEEKS, NOW, campus=campus).items():
                    found[week].extend(lines)
            return {
                week: sorted(lines, key=lambda line: line.student_id)
                for week, lines in found.items()
            }

        first = ledger.weeks(WEEKS, NOW)
        assert sum(len(lines) for lines in first.values()) == 15 * len(WEEKS)
        assert first == campus_by_campus() == plain.weeks(WEEKS, NOW)
        assert not [t for t in threading.enumerate() if t.name.startswith("tap-read-ahead")]

        # Taps stored after that report, for the last two campuses: the next one has them.
        late = _taps([p for p in people if p[0] != "campus-a"], WEEKS[:2], random.Random(9), 10**6)
        store.write_taps(late[::3])
        again = ledger.weeks(WEEKS, NOW)
        assert again != first
        assert again == campus_by_campus() == plain.weeks(WEEKS, NOW)
    finally:
        engine.dispose()


def test_read_ahead_only_for_a_store_answered_elsewhere(tmp_path: Path, stores) -> None:
    """A read asked ahead with other bounds, or never asked, is read directly; a store
    read in this process (SQLite) starts no thread."""
    store, _ = stores
    start, end = datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 11, 1, tzinfo=UTC)
    moment = datetime(2026, 10, 5, 9, tzinfo=UTC)
    store.write_taps([StoredTap("t-1", "campus-b", "door-1", "b" * 64, moment, 1, moment)])
    with TapReadAhead(store) as reads:
        reads.ask("campus-b", start, end)
        asked = [t for t in threading.enumerate() if t.name.startswith("tap-read-ahead")]
        assert bool(asked) is store.answered_elsewhere
        assert reads.tap_rows(start, end, campus="campus-b") == store.tap_rows(
            start, end, campus="campus-b"
        )
        assert len(reads.tap_rows(start, end, campus="campus-b")) == 1  # taken: read again
        assert reads.tap_rows(start, moment, campus="campus-b") == []
        assert reads.tap_rows(start, end, campus="campus-c") == []
