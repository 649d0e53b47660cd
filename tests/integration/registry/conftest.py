"""Fixtures: a migrated registry in a real SQLite file, the real SQLite event store,
settings for one campus, and helpers to write taps and import students."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import orm

from server.adapters.sqlite_events import SqliteEventStore
from server.config import CampusSettings, PresenceSettings, Settings
from server.domain.accounts import Actor
from server.domain.badges import badge_hash
from server.domain.events import StoredTap
from server.registry.database import open_registry
from server.registry.people_store import people_unit_of_work
from server.services.people.campuses import sync_campuses
from server.services.people.student_import import ImportReport, import_students

SECRET = "a-test-secret-of-32-characters!!"
TOKEN = "api-token-for-tests"
CAMPUS = "campus-a"
HEADER = (
    "student_id;last_name;first_name;email;phone;tutor_email;badge_uid;weekly_hours;slots;"
    "contract_start;contract_end;programme;institution;institution_type"
)
SLOTS_12H = '"lun 09:00-12:00; mar 14:00-18:00; jeu 09:00-13:00; ven 09:00-10:00"'
ROW_E001 = (
    f"E001;Durand;Émilie;emilie@example.org;06 12 34 56 78;tutrice@campus.fr;04A1B2C3;12;"
    f"{SLOTS_12H};2026-09-01;2027-06-30;Licence psychologie;Université Grenoble Alpes;public"
)
ROW_E002 = (
    "E002;Martin;Noé;noe@example.org;0700000000;tutrice@campus.fr;04:11:22:33:44:55:66;15;"
    '"mon 09:00-13:00; wed 09:00-13:00; fri 13:00-20:00";01/09/2026;;BTS SIO;CNED;public'
)
UID_E001 = "04a1b2c3"
UID_E002 = "04112233445566"


@pytest.fixture
def settings(tmp_path: Path, registry_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path,
        badge_secret=SECRET,
        api_token=TOKEN,
        registry_url=registry_url,  # SQLite or PostgreSQL: see tests/conftest.py
        presence=PresenceSettings(),
        campuses=(CampusSettings(CAMPUS, "Campus A", ("door-1", "door-in", "door-out", "room-1")),),
    )


@pytest.fixture
def registry(settings: Settings) -> Iterator[orm.sessionmaker[orm.Session]]:
    engine, factory = open_registry(settings.registry_database_url)
    sync_campuses(people_unit_of_work(factory), settings)
    yield factory
    engine.dispose()


@pytest.fixture
def events(tmp_path: Path) -> Iterator[SqliteEventStore]:
    store = SqliteEventStore(tmp_path / "events.sqlite3")
    store.setup()
    yield store
    store.close()


def csv_bytes(*rows: str, header: str = HEADER, encoding: str = "utf-8") -> bytes:
    return ("\n".join([header, *rows]) + "\n").encode(encoding)


def run_import(
    registry: orm.sessionmaker[orm.Session],
    data: bytes,
    *,
    dry_run: bool = False,
    strict: bool = False,
    now: datetime | None = None,
) -> ImportReport:
    return import_students(
        people_unit_of_work(registry),
        data,
        campus_id=CAMPUS,
        secret=SECRET.encode(),
        timezone="Europe/Paris",
        retention_days=400,
        actor=Actor("test", now or datetime(2026, 8, 25, 10, tzinfo=UTC)),
        dry_run=dry_run,
        strict=strict,
    )


class TapWriter:
    """Writes taps into the real event store the way the ingest does."""

    def __init__(self, store: SqliteEventStore) -> None:
        self.store = store
        self.seq = 0

    def tap(
        self, uid: str, ts: datetime, reader: str = "door-1", campus: str = CAMPUS
    ) -> StoredTap:
        self.seq += 1
        tap = StoredTap(
            tap_id=f"tap-{self.seq:06d}",
            campus=campus,
            reader=reader,
            badge=badge_hash(SECRET.encode(), uid),
            ts=ts,
            seq=self.seq,
            received_at=ts,
        )
        self.store.write_taps([tap])
        return tap


@pytest.fixture
def writer(events: SqliteEventStore) -> TapWriter:
    return TapWriter(events)
