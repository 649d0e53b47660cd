"""The SQLite store is purged of events older than the retention period."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from server.adapters.sqlite_events import SqliteEventStore
from server.bootstrap import build_ingest
from server.config import load_settings
from server.domain.events import StoredTap
from server.registry.database import open_registry
from server.registry.models import UnknownBadge
from server.registry.operations_store import SqlRegistryRetention
from server.services.operations.periodic import purge_expired

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def tap(tap_id: str, age: timedelta) -> StoredTap:
    ts = NOW - age
    return StoredTap(tap_id, "c1", "door-1", "ab" * 32, ts, 1, ts)


def test_old_taps_are_purged_and_recent_ones_kept(tmp_path: Path) -> None:
    store = SqliteEventStore(tmp_path / "events.sqlite3")
    store.setup()
    try:
        store.write_taps(
            [tap("old-tap-0001", timedelta(days=401)), tap("new-tap-0001", timedelta(days=399))]
        )
        assert purge_expired(store, NOW, timedelta(days=400)) == 1
        remaining = store.taps(NOW - timedelta(days=1000), NOW)
        assert [item.tap_id for item in remaining] == ["new-tap-0001"]
    finally:
        store.close()


def _raw_bytes(path: Path) -> bytes:
    """The database file and its write-ahead log, as stored on disk."""
    return b"".join(
        candidate.read_bytes()
        for candidate in (path, path.with_name(path.name + "-wal"))
        if candidate.exists()
    )


def test_a_purged_badge_hash_is_gone_from_the_sqlite_files(tmp_path: Path) -> None:
    path = tmp_path / "events.sqlite3"
    store = SqliteEventStore(path)
    store.setup()
    purged, kept = "c0ffee" * 10 + "0001", "beef" * 15 + "0002"
    try:
        old = StoredTap("old-tap-0002", "c1", "door-1", purged, NOW - timedelta(days=401), 1, NOW)
        new = StoredTap("new-tap-0002", "c1", "door-1", kept, NOW - timedelta(days=1), 2, NOW)
        store.write_taps([old, new])
        assert purged.encode() in _raw_bytes(path)  # the test can fail
        assert purge_expired(store, NOW, timedelta(days=400)) == 1
        raw = _raw_bytes(path)
        assert purged.encode() not in raw
        assert kept.encode() in raw
    finally:
        store.close()


def test_unknown_badge_records_are_purged_with_the_taps(tmp_path: Path) -> None:
    engine, registry = open_registry(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    store = SqliteEventStore(tmp_path / "events.sqlite3")
    store.setup()
    stale, recent = "d00d" * 16, "f00d" * 16
    try:
        with registry() as session, session.begin():
            for badge, seen in ((stale, NOW - timedelta(days=401)), (recent, NOW)):
                session.add(
                    UnknownBadge(
                        badge_hash=badge,
                        campus_id="c1",
                        reader_id="door-1",
                        first_seen=seen,
                        last_seen=seen,
                        seen_count=1,
                    )
                )
        registry_file = tmp_path / "registry.sqlite3"
        assert stale.encode() in _raw_bytes(registry_file)
        badges = SqlRegistryRetention(registry)
        assert purge_expired(store, NOW, timedelta(days=400), registry=badges) == 1
        with registry() as session:
            left = session.scalars(select(UnknownBadge.badge_hash)).all()
        assert left == [recent]
        assert stale.encode() not in _raw_bytes(registry_file)
    finally:
        store.close()
        engine.dispose()


def test_an_ingest_without_a_registry_purges_the_taps(tmp_path: Path) -> None:
    """``campus-presence ingest`` (no registry): its hourly retention job purges the old
    taps and has no unknown-badge records to purge — it must not fail every hour."""
    settings = replace(
        load_settings(environ={"CAMPUS_BADGES_HASH_SECRET": "s" * 32}),
        data_dir=tmp_path,
    )
    app = build_ingest(settings, clock=lambda: NOW)
    try:
        app.store.setup()
        app.store.write_taps(
            [tap("old-tap-0001", timedelta(days=401)), tap("new-tap-0001", timedelta(days=1))]
        )
        assert app.retention.run_once() == 1  # failed with a TypeError before
        assert app.retention.last_run.failures == 0
    finally:
        app.close()
