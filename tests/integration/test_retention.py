"""The SQLite store is purged of events older than the retention period."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from server.adapters.sqlite_events import SqliteEventStore
from server.domain.events import StoredTap
from server.services.periodic import purge_expired

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
