"""``campus-presence backup`` and ``restore`` on real SQLite files: a consistent copy
while writers commit, checked archives, nothing half-restored, private files."""

from __future__ import annotations

import io
import json
import tarfile
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.adapters.sqlite_events import SqliteEventStore
from server.domain.events import StoredTap
from server.entrypoints.cli import main
from server.registry.database import open_registry
from server.registry.models import AuditEntry

BATCH = 7  # rows per transaction: a consistent copy holds a multiple of it
T0 = datetime(2026, 11, 23, 8, tzinfo=UTC)


def config_file(folder: Path, data: Path) -> Path:
    path = folder / f"campus-{data.name}.toml"
    path.write_text(
        f'[server]\ndata_dir = "{data}"\n[events]\nbackend = "sqlite"\n'
        '[badges]\nhash_secret = "a-test-secret-of-32-characters!!"\n'
    )
    return path


def run(config: Path, *argv: str) -> int:
    return main(["--config", str(config), *argv])


def taps(first: int) -> list[StoredTap]:
    return [
        StoredTap(
            tap_id=f"tap-{n:08d}",
            campus="campus-a",
            reader="door-1",
            badge="b" * 64,
            ts=T0 + timedelta(seconds=n),
            seq=n,
            received_at=T0 + timedelta(seconds=n),
        )
        for n in range(first, first + BATCH)
    ]


def fill(data: Path, batches: int = 3) -> None:
    engine, registry = open_registry(f"sqlite:///{data / 'registry.sqlite3'}")
    with registry() as session, session.begin():
        for n in range(batches * BATCH):
            session.add(AuditEntry(at=T0, actor="t", action="a", entity="e", entity_id=str(n)))
    engine.dispose()
    with SqliteEventStore(data / "events.sqlite3") as store:
        store.setup()
        for batch in range(batches):
            store.write_taps(taps(batch * BATCH))


def counts(data: Path) -> tuple[int, int]:
    engine, registry = open_registry(f"sqlite:///{data / 'registry.sqlite3'}")
    with registry() as session:
        audit = session.scalar(select(func.count()).select_from(AuditEntry))
    engine.dispose()
    with SqliteEventStore(data / "events.sqlite3") as store:
        stored = store.count_taps(T0 - timedelta(days=1), T0 + timedelta(days=30))
    return audit, stored


def snapshot(data: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(data.iterdir()) if p.is_file()}


def test_a_backup_taken_while_rows_are_written_restores_a_committed_state(tmp_path) -> None:
    data = tmp_path / "data"
    fill(data, batches=1)
    config = config_file(tmp_path, data)
    stop = threading.Event()
    written = {"audit": 0, "taps": 0}

    def write_registry() -> None:
        engine, registry = open_registry(f"sqlite:///{data / 'registry.sqlite3'}")
        while not stop.is_set():
            with registry() as session, session.begin():
                for n in range(BATCH):
                    session.add(AuditEntry(at=T0, actor="w", action="a", entity="e", entity_id=n))
            written["audit"] += 1
        engine.dispose()

    def write_taps() -> None:
        with SqliteEventStore(data / "events.sqlite3") as store:
            batch = 1
            while not stop.is_set():
                store.write_taps(taps(batch * BATCH))
                batch += 1
                written["taps"] += 1

    writers = [threading.Thread(target=write_registry), threading.Thread(target=write_taps)]
    for writer in writers:
        writer.start()
    try:
        while min(written.values()) < 20:  # both writers well under way
            stop.wait(0.01)
        assert run(config, "backup", "--output", str(tmp_path / "live.tar.gz")) == 0
        seen_at_backup = dict(written)
        while min(w - seen_at_backup[k] for k, w in written.items()) < 20:
            stop.wait(0.01)  # and they go on after it
    finally:
        stop.set()
        for writer in writers:
            writer.join()
    final = counts(data)

    restored = tmp_path / "restored"
    assert run(config_file(tmp_path, restored), "restore", str(tmp_path / "live.tar.gz")) == 0
    audit, stored = counts(restored)
    # Whole transactions only (a multiple of the batch), more than before the backup
    # began, fewer than in the end: a snapshot the writers had committed.
    assert audit % BATCH == 0 and stored % BATCH == 0, (audit, stored)
    assert BATCH * 21 <= audit < final[0] and BATCH * 21 <= stored < final[1]


def test_restore_puts_back_every_row_in_private_files(tmp_path, capsys) -> None:
    data = tmp_path / "data"
    fill(data)
    config = config_file(tmp_path, data)
    archive = tmp_path / "backups" / "campus.tar.gz"
    assert run(config, "backup", "-o", str(archive)) == 0
    assert archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["format"] == "campus-presence-backup" and manifest["format_version"] == 1
    assert set(manifest["files"]) == {"registry.sqlite3", "events.sqlite3"}
    assert "0004_capacity_alerts" not in manifest["registry"]["revisions"]  # heads only
    assert manifest["registry"]["revisions"]

    fill(data, batches=2)  # changes after the backup are undone by the restore
    assert run(config, "restore", str(archive)) == 0
    assert counts(data) == (3 * BATCH, 3 * BATCH)
    for name in ("registry.sqlite3", "events.sqlite3"):
        assert (data / name).stat().st_mode & 0o777 == 0o600
    kept = [p for p in data.iterdir() if p.name.startswith("before-restore-")]
    assert len(kept) == 1 and (kept[0] / "registry.sqlite3").exists()
    assert "previous files kept in" in capsys.readouterr().out


def test_a_new_data_folder_and_its_databases_are_readable_by_the_service_only(tmp_path) -> None:
    data = tmp_path / "fresh" / "data"
    fill(data, batches=1)
    assert data.stat().st_mode & 0o777 == 0o700
    files = [p for p in data.iterdir() if p.name.endswith(".sqlite3")]
    assert {p.name for p in files} == {"registry.sqlite3", "events.sqlite3"}
    for path in files:
        assert path.stat().st_mode & 0o777 == 0o600, path


def _backup(tmp_path: Path) -> tuple[Path, Path, Path]:
    data = tmp_path / "data"
    fill(data)
    config = config_file(tmp_path, data)
    archive = tmp_path / "campus.tar.gz"
    assert run(config, "backup", "-o", str(archive)) == 0
    return data, config, archive


def _refused(config: Path, archive: Path, data: Path, capsys, reason: str) -> None:
    before = snapshot(data)
    assert run(config, "restore", str(archive)) == 2
    err = capsys.readouterr().err
    assert "restore refused, nothing changed" in err and reason in err, err
    assert "Traceback" not in err
    assert snapshot(data) == before
    assert [p.name for p in data.iterdir() if p.is_dir()] == []  # no staging left behind


def test_a_truncated_archive_is_refused_and_nothing_changes(tmp_path, capsys) -> None:
    data, config, archive = _backup(tmp_path)
    content = archive.read_bytes()
    archive.write_bytes(content[: len(content) // 2])
    fill(data, batches=1)
    _refused(config, archive, data, capsys, "truncated or damaged")


def _rewrite(archive: Path, change) -> None:
    """Rebuild the archive with ``change(name, bytes) -> bytes`` applied to each member."""
    with tarfile.open(archive) as tar:
        members = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers()]
    with tarfile.open(archive, "w:gz") as tar:
        for name, content in members:
            content = change(name, content)
            info = tarfile.TarInfo(name)
            info.size = len(content)
            tar.addfile(info, io.BytesIO(content))


def _manifest_change(key: str, value):
    def change(name: str, content: bytes) -> bytes:
        if name != "manifest.json":
            return content
        manifest = json.loads(content)
        target = manifest
        *path, last = key.split(".")
        for part in path:
            target = target[part]
        target[last] = value
        return json.dumps(manifest).encode()

    return change


def test_an_archive_of_another_format_version_is_refused(tmp_path, capsys) -> None:
    data, config, archive = _backup(tmp_path)
    _rewrite(archive, _manifest_change("format_version", 2))
    _refused(config, archive, data, capsys, "this program reads format 1")


def test_an_archive_from_a_newer_schema_is_refused(tmp_path, capsys) -> None:
    data, config, archive = _backup(tmp_path)
    _rewrite(archive, _manifest_change("registry.revisions", ["0099_from_the_future"]))
    _refused(config, archive, data, capsys, "0099_from_the_future are unknown")


def test_a_file_that_does_not_match_its_checksum_is_refused(tmp_path, capsys) -> None:
    data, config, archive = _backup(tmp_path)

    def flip(name: str, content: bytes) -> bytes:
        if name != "events.sqlite3":
            return content
        return content[:-1] + bytes([content[-1] ^ 0xFF])

    _rewrite(archive, flip)
    _refused(config, archive, data, capsys, "does not match its checksum")


def test_a_file_that_is_no_backup_is_refused(tmp_path, capsys) -> None:
    data, config, _archive = _backup(tmp_path)
    other = tmp_path / "notes.tar.gz"
    with tarfile.open(other, "w:gz") as tar:
        info = tarfile.TarInfo("notes.txt")
        tar.addfile(info, io.BytesIO(b""))
    _refused(config, other, data, capsys, "not a backup")


@pytest.mark.parametrize("damage", ["missing", "empty"])
def test_a_missing_or_empty_archive_is_refused(tmp_path, capsys, damage) -> None:
    data, config, _archive = _backup(tmp_path)
    target = tmp_path / "nothing.tar.gz"
    if damage == "empty":
        target.write_bytes(b"")
    _refused(config, target, data, capsys, str(target))


def test_the_server_makes_its_data_folders_private(tmp_path) -> None:
    from server.bootstrap import build_server
    from server.config import EventSettings, Settings

    data = tmp_path / "new" / "data"
    events = tmp_path / "new" / "events" / "events.sqlite3"  # a folder of its own
    server = build_server(
        Settings(
            data_dir=data,
            badge_secret="a-test-secret-of-32-characters!!",
            events=EventSettings(backend="sqlite", sqlite_path=str(events)),
        )
    )
    try:
        server.ingest.store.setup()
    finally:
        server.close()
    for folder in (data, events.parent):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    for path in (data / "registry.sqlite3", events):
        assert path.stat().st_mode & 0o777 == 0o600, path


@pytest.mark.parametrize(
    "content", [b"name,phone\nAda,0600000000\n", b"PK\x03\x04 a zip file", bytes(range(256))]
)
def test_a_file_that_is_not_a_tar_gz_is_refused(tmp_path, capsys, content) -> None:
    data, config, _archive = _backup(tmp_path)
    other = tmp_path / "export.csv"
    other.write_bytes(content)
    _refused(config, other, data, capsys, "is not a campus-presence backup (not a .tar.gz file)")
