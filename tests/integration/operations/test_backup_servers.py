"""``backup`` and ``restore`` with the database servers' own tools, against the real
servers the fixtures start: InfluxDB 1.6 (``influxd backup``/``restore -portable`` over
its RPC port, restored through a staging database) and PostgreSQL 15 (``pg_dump`` /
``pg_restore --single-transaction``). Each refusal: one line, exit 2, nothing changed."""

from __future__ import annotations

import hashlib
import json
import tarfile
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from server.adapters.influx_events import InfluxEventStore
from server.config import InfluxSettings
from server.entrypoints.backup_engines import databases, influxql
from server.registry.database import make_engine, open_registry
from server.registry.models import AuditEntry
from tests.conftest import new_postgres_database
from tests.integration.operations.test_backup_restore import (
    BATCH,
    T0,
    _manifest_change,
    _rewrite,
    run,
    snapshot,
    taps,
)
from tests.services import Influxd, Postgres, free_port

RETENTION = timedelta(days=400)
SECRET = '[badges]\nhash_secret = "a-test-secret-of-32-characters!!"\n'


# -- InfluxDB ----------------------------------------------------------------------------


def influx_config(folder: Path, influxd: Influxd, database: str) -> Path:
    path = folder / f"campus-{database}.toml"
    path.write_text(
        f'[server]\ndata_dir = "{folder / "data"}"\n[events]\nbackend = "influxdb"\n'
        f'[events.influxdb]\nurl = "{influxd.url}"\napi_version = 1\ndatabase = "{database}"\n'
        + SECRET
    )
    return path


@pytest.fixture
def influx(influxd: Influxd, tmp_path: Path):
    database = f"backup_{uuid.uuid4().hex[:12]}"
    settings = InfluxSettings(url=influxd.url, api_version=1, database=database)
    engine, _ = open_registry(f"sqlite:///{tmp_path / 'data' / 'registry.sqlite3'}")
    engine.dispose()
    with InfluxEventStore(settings, retention=RETENTION) as store:
        store.setup()
        for batch in range(3):
            store.write_taps(taps(batch * BATCH))
    yield settings, influx_config(tmp_path, influxd, database)
    influxql(settings, f'DROP DATABASE "{database}"')


def stored(settings: InfluxSettings) -> list:
    with InfluxEventStore(settings, retention=RETENTION) as store:
        found = store.taps(T0 - timedelta(days=1), T0 + timedelta(days=1))
    return sorted(found, key=lambda tap: tap.tap_id)


def staging_left(settings: InfluxSettings) -> set[str]:
    return {name for name in databases(settings) if "_restore_" in name}


@pytest.mark.influxdb
def test_influxdb_taps_come_back_after_the_database_is_dropped(
    influxd, influx, tmp_path, capsys
) -> None:
    settings, config = influx
    rpc = ["--influxd-host", f"127.0.0.1:{influxd.rpc_port}"]
    before = stored(settings)
    assert len(before) == 3 * BATCH
    archive = tmp_path / "campus.tar.gz"
    assert run(config, "backup", "-o", str(archive), *rpc) == 0
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        assert any(name.startswith("influxdb/") for name in tar.getnames())
    assert manifest["events"] == {
        "backend": "influxdb",
        "database": settings.database,
        "points_at_least": {"campus_presence.taps": 3 * BATCH},
    }

    influxql(settings, f'DROP DATABASE "{settings.database}"')
    assert settings.database not in databases(settings)
    capsys.readouterr()
    assert run(config, "restore", str(archive), *rpc) == 0
    out = capsys.readouterr().out
    assert f"into the database {settings.database}" in out, out
    assert stored(settings) == before
    assert staging_left(settings) == set()
    policies = influxql(settings, f'SHOW RETENTION POLICIES ON "{settings.database}"')
    assert policies[0]["values"][-1][:2] == ["campus_presence", "9600h0m0s"]


@pytest.mark.influxdb
def test_influxdb_restore_into_the_live_database_puts_back_lost_taps_and_keeps_later_ones(
    influxd, influx, tmp_path
) -> None:
    settings, config = influx
    rpc = ["--influxd-host", f"127.0.0.1:{influxd.rpc_port}"]
    before = stored(settings)
    archive = tmp_path / "campus.tar.gz"
    assert run(config, "backup", "-o", str(archive), *rpc) == 0
    with InfluxEventStore(settings, retention=RETENTION) as store:
        store.write_taps(taps(10 * BATCH))  # stored after the backup
    lost = before[0].ts + timedelta(seconds=BATCH)
    influxql(settings, f"DELETE FROM taps WHERE time < '{lost.isoformat()}'", settings.database)
    assert len(stored(settings)) == 3 * BATCH  # 7 lost, 7 new

    assert run(config, "restore", str(archive), *rpc) == 0
    after = stored(settings)
    assert len(after) == 4 * BATCH
    assert [t for t in after if t.tap_id in {b.tap_id for b in before}] == before
    assert staging_left(settings) == set()


@pytest.mark.influxdb
def test_an_influxdb_restore_that_fails_leaves_the_database_and_registry_as_they_were(
    influxd, influx, tmp_path, capsys
) -> None:
    settings, config = influx
    rpc = ["--influxd-host", f"127.0.0.1:{influxd.rpc_port}"]
    archive = tmp_path / "campus.tar.gz"
    assert run(config, "backup", "-o", str(archive), *rpc) == 0
    engine, registry = open_registry(f"sqlite:///{tmp_path / 'data' / 'registry.sqlite3'}")
    with registry() as session, session.begin():
        session.add(AuditEntry(at=T0, actor="t", action="a", entity="e", entity_id="after"))
    engine.dispose()
    influxql(
        settings,
        f"DELETE FROM taps WHERE time < '{(T0 + timedelta(days=1)).isoformat()}'",
        settings.database,
    )
    registry_files = snapshot(tmp_path / "data")

    # influxd's RPC port closed: influxd restore fails after the archive was checked.
    capsys.readouterr()
    assert run(config, "restore", str(archive), "--influxd-host", f"127.0.0.1:{free_port()}") == 2
    err = capsys.readouterr().err
    assert "restore refused, nothing changed: influxd restore to" in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert stored(settings) == [] and staging_left(settings) == set()
    assert snapshot(tmp_path / "data") == registry_files


@pytest.mark.influxdb
def test_an_influxdb_archive_is_refused_by_a_sqlite_events_backend(
    influxd, influx, tmp_path, capsys
) -> None:
    _settings, config = influx
    archive = tmp_path / "campus.tar.gz"
    assert run(config, "backup", "-o", str(archive), "--influxd-host", influxd_rpc(influxd)) == 0
    sqlite_config = tmp_path / "sqlite.toml"
    sqlite_config.write_text(
        f'[server]\ndata_dir = "{tmp_path / "data"}"\n[events]\nbackend = "sqlite"\n' + SECRET
    )
    before = snapshot(tmp_path / "data")
    capsys.readouterr()
    assert run(sqlite_config, "restore", str(archive)) == 2
    err = capsys.readouterr().err
    assert "holds InfluxDB events but the configured events backend is SQLite" in err, err
    assert snapshot(tmp_path / "data") == before


def influxd_rpc(influxd: Influxd) -> str:
    return f"127.0.0.1:{influxd.rpc_port}"


# -- PostgreSQL --------------------------------------------------------------------------


def pg_config(folder: Path, url: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "campus-pg.toml"
    path.write_text(
        f'[server]\ndata_dir = "{folder / "data"}"\n[events]\nbackend = "sqlite"\n'
        f'[registry]\nurl = "{url}"\n' + SECRET
    )
    return path


def audit_rows(url: str) -> list[str]:
    engine, registry = open_registry(url)
    with registry() as session:
        rows = session.scalars(select(AuditEntry.entity_id).order_by(AuditEntry.id)).all()
    engine.dispose()
    return list(rows)


def add_audit(url: str, *ids: str) -> None:
    engine, registry = open_registry(url)
    with registry() as session, session.begin():
        for entity_id in ids:
            session.add(AuditEntry(at=T0, actor="t", action="a", entity="e", entity_id=entity_id))
    engine.dispose()


@pytest.fixture
def pg_backup(postgres: Postgres, migrated_postgres: str, tmp_path: Path):
    url = new_postgres_database(postgres, migrated_postgres)
    add_audit(url, "one", "two", "three")
    config = pg_config(tmp_path, url)
    archive = tmp_path / "campus.tar.gz"
    assert run(config, "backup", "-o", str(archive)) == 0
    return url, config, archive


def test_a_postgresql_registry_is_dumped_into_the_archive_and_restored(pg_backup) -> None:
    url, config, archive = pg_backup
    assert archive.stat().st_mode & 0o777 == 0o600
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
    assert manifest["registry"]["backend"] == "postgresql" and manifest["registry"]["in_archive"]
    assert "registry.pgdump" in manifest["files"]

    add_audit(url, "after the backup")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE entity_id = 'one'"))
    engine.dispose()
    assert run(config, "restore", str(archive)) == 0
    assert audit_rows(url) == ["one", "two", "three"]


def test_a_postgresql_archive_restores_into_an_empty_database(
    pg_backup, postgres: Postgres, tmp_path
) -> None:
    _url, _config, archive = pg_backup
    empty = new_postgres_database(postgres)
    assert run(pg_config(tmp_path / "other", empty), "restore", str(archive)) == 0
    assert audit_rows(empty) == ["one", "two", "three"]


def test_a_postgresql_restore_that_fails_midway_changes_nothing(pg_backup, capsys) -> None:
    url, config, archive = pg_backup
    add_audit(url, "after the backup")
    engine = make_engine(url)
    with engine.begin() as connection:  # pg_restore --clean cannot drop audit_log now
        connection.execute(text("CREATE VIEW recent_audit AS SELECT * FROM audit_log"))
    engine.dispose()
    capsys.readouterr()
    assert run(config, "restore", str(archive)) == 2
    err = capsys.readouterr().err
    assert "restore refused, nothing changed: pg_restore of the registry" in err, err
    assert "depend" in err and len(err.strip().splitlines()) == 1
    assert audit_rows(url) == ["one", "two", "three", "after the backup"]


def test_a_postgresql_database_with_newer_tables_is_refused(pg_backup, capsys) -> None:
    url, config, archive = pg_backup
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE from_a_newer_version (id integer)"))
    engine.dispose()
    add_audit(url, "after the backup")
    capsys.readouterr()
    assert run(config, "restore", str(archive)) == 2
    err = capsys.readouterr().err
    assert "has tables the archive does not have (from_a_newer_version" in err, err
    assert len(audit_rows(url)) == 4


def test_a_postgresql_archive_from_a_newer_program_is_refused(pg_backup, capsys) -> None:
    url, config, archive = pg_backup
    _rewrite(archive, _manifest_change("registry.revisions", ["0099_from_the_future"]))
    add_audit(url, "after the backup")
    capsys.readouterr()
    assert run(config, "restore", str(archive)) == 2
    err = capsys.readouterr().err
    assert "newer version" in err and "0099_from_the_future" in err, err
    assert len(audit_rows(url)) == 4


def test_a_damaged_dump_is_refused(pg_backup, capsys) -> None:
    url, config, archive = pg_backup

    with tarfile.open(archive) as tar:
        dump = tar.extractfile("registry.pgdump").read()
    half = dump[: len(dump) // 2]

    def damage(name: str, content: bytes) -> bytes:  # a dump damaged before it was archived
        if name == "manifest.json":
            manifest = json.loads(content)
            manifest["files"]["registry.pgdump"] = {
                "size": len(half),
                "sha256": hashlib.sha256(half).hexdigest(),
            }
            return json.dumps(manifest).encode()
        return half if name == "registry.pgdump" else content

    _rewrite(archive, damage)
    add_audit(url, "after the backup")
    capsys.readouterr()
    assert run(config, "restore", str(archive)) == 2
    err = capsys.readouterr().err
    assert "restore refused, nothing changed: reading the registry dump failed" in err, err
    assert len(audit_rows(url)) == 4


def test_registry_archives_of_the_other_backend_are_refused(pg_backup, tmp_path, capsys) -> None:
    _url, _config, pg_archive = pg_backup
    sqlite_data = tmp_path / "sqlite"
    sqlite_config = sqlite_data / "campus.toml"
    sqlite_data.mkdir()
    sqlite_config.write_text(
        f'[server]\ndata_dir = "{sqlite_data / "data"}"\n[events]\nbackend = "sqlite"\n' + SECRET
    )
    add_audit(f"sqlite:///{sqlite_data / 'data' / 'registry.sqlite3'}", "sqlite")
    before = snapshot(sqlite_data / "data")
    capsys.readouterr()
    assert run(sqlite_config, "restore", str(pg_archive)) == 2
    err = capsys.readouterr().err
    assert "holds a PostgreSQL registry but the configured registry is SQLite" in err, err
    assert snapshot(sqlite_data / "data") == before

    sqlite_archive = tmp_path / "sqlite.tar.gz"
    assert run(sqlite_config, "backup", "-o", str(sqlite_archive)) == 0
    assert run(_config, "restore", str(sqlite_archive)) == 2
    err = capsys.readouterr().err
    assert "holds a SQLite registry but the configured registry is PostgreSQL" in err, err
    assert audit_rows(_url) == ["one", "two", "three"]


# -- a registry URL that cannot be used ---------------------------------------------------


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("mysql://u@127.0.0.1/campus", "supports SQLite and PostgreSQL only"),
        ("postgresql+nodriver://u@127.0.0.1/campus", "its driver is not installed"),
        ("postgresql+psycopg://u:secret@127.0.0.1:{port}/campus", "Connection refused"),
        ("postgresql+psycopg://nobody:secret@127.0.0.1:{pg}/campus", 'role "nobody"'),
        ("postgresql+psycopg://campus:secret@127.0.0.1:{pg}/no_such_db", "does not exist"),
    ],
)
@pytest.mark.parametrize("command", ["backup", "restore", "db current", "db upgrade"])
def test_a_wrong_registry_url_is_one_line_and_exit_2(
    postgres: Postgres, tmp_path, capsys, url, says, command
) -> None:
    url = url.format(port=free_port(), pg=postgres.port)
    config = pg_config(tmp_path, url)
    archive = tmp_path / "campus.tar.gz"
    if command == "restore":
        good = pg_config(tmp_path / "good", new_postgres_database(postgres))
        assert run(good, "db", "upgrade") == 0 and run(good, "backup", "-o", str(archive)) == 0
    capsys.readouterr()
    argv = {"backup": ["backup", "-o", str(archive)], "restore": ["restore", str(archive)]}
    assert run(config, *argv.get(command, command.split())) == 2
    err = capsys.readouterr().err
    assert err.startswith("campus-presence: registry error:") and says in err, err
    assert len(err.strip().splitlines()) == 1 and "secret" not in err
    if command == "backup":
        assert not archive.exists()


def test_serve_with_an_unreachable_registry_says_so_in_one_line(tmp_path) -> None:
    import subprocess
    import sys

    config = pg_config(tmp_path, f"postgresql+psycopg://u:secret@127.0.0.1:{free_port()}/c")
    result = subprocess.run(
        [sys.executable, "-m", "server.entrypoints.cli", "--config", str(config), "serve"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # Unreachable may pass (systemd restarts it: exit 1); a refused login may not (exit 2,
    # below): the unit's RestartPreventExitStatus=2.
    assert result.returncode == 1
    assert "cannot start: cannot use the registry" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr and "secret" not in result.stderr


@pytest.mark.influxdb
def test_an_influxdb_restore_missing_points_is_refused(
    influxd, influx, tmp_path, capsys, monkeypatch
) -> None:
    """The archive says the database held 1,000 taps when influxd backup began; the
    restored staging database holds 21: refused, staging dropped, the database intact."""
    from server.entrypoints import backup_engines

    settings, config = influx
    rpc = ["--influxd-host", influxd_rpc(influxd)]
    archive = tmp_path / "campus.tar.gz"
    assert run(config, "backup", "-o", str(archive), *rpc) == 0
    _rewrite(archive, _manifest_change("events.points_at_least", {"campus_presence.taps": 1000}))
    with InfluxEventStore(settings, retention=RETENTION) as store:
        store.write_taps(taps(10 * BATCH))
    before = stored(settings)
    monkeypatch.setattr(backup_engines, "SETTLE_TIMEOUT_S", 2)
    capsys.readouterr()
    assert run(config, "restore", str(archive), *rpc) == 2
    err = capsys.readouterr().err
    assert "did not hold the archive's points" in err and "21 of 1000" in err, err
    assert stored(settings) == before and staging_left(settings) == set()


def test_influxdb_2_events_are_left_out_of_the_archive_and_said_so(tmp_path, capsys) -> None:
    """api_version = 2 (InfluxDB 2.x, 3.x, Cloud): no influxd RPC backup exists for it and
    no such server runs here; the archive holds the registry and says the events are not
    in it. The InfluxDB URL points at a closed port: nothing tries to reach it."""
    data = tmp_path / "data"
    engine, _ = open_registry(f"sqlite:///{data / 'registry.sqlite3'}")
    engine.dispose()
    add_audit(f"sqlite:///{data / 'registry.sqlite3'}", "one")
    config = tmp_path / "campus.toml"
    config.write_text(
        f'[server]\ndata_dir = "{data}"\n[events]\nbackend = "influxdb"\n'
        f'[events.influxdb]\nurl = "http://127.0.0.1:{free_port()}"\napi_version = 2\n'
        'token = "t"\norg = "o"\n' + SECRET
    )
    archive = tmp_path / "campus.tar.gz"
    assert run(config, "backup", "-o", str(archive)) == 0
    out = capsys.readouterr().out
    assert "the events (InfluxDB with api_version = 2" in out and "not in this archive" in out
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == ["manifest.json", "registry.sqlite3"]
    add_audit(f"sqlite:///{data / 'registry.sqlite3'}", "two")
    assert run(config, "restore", str(archive)) == 0
    assert "the archive holds no events" in capsys.readouterr().out
    assert audit_rows(f"sqlite:///{data / 'registry.sqlite3'}") == ["one"]


@pytest.fixture(scope="module")
def postgres_with_password():
    """A PostgreSQL cluster that checks passwords (scram-sha-256), unlike the session's."""
    import shutil
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="campus-postgres-pw-"))
    folder.chmod(0o755)  # the postgres user must reach its cluster folder
    try:
        with Postgres(folder / "cluster", password="the-right-password") as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_password_checked_registry_is_backed_up_and_restored_and_a_wrong_one_refused(
    postgres_with_password: Postgres, tmp_path, capsys
) -> None:
    import subprocess
    import sys

    server = postgres_with_password
    url = server.create_database(f"t_{uuid.uuid4().hex[:12]}")
    good = pg_config(tmp_path / "good", url)
    assert run(good, "db", "upgrade") == 0
    add_audit(url, "one")
    archive = tmp_path / "campus.tar.gz"
    assert run(good, "backup", "-o", str(archive)) == 0  # pg_dump gets it from PGPASSWORD
    add_audit(url, "two")
    assert run(good, "restore", str(archive)) == 0
    assert audit_rows(url) == ["one"]

    wrong = pg_config(tmp_path / "wrong", url.replace("the-right-password", "a-wrong-password"))
    for argv in (
        ["db", "current"],
        ["db", "upgrade"],
        ["backup", "-o", str(tmp_path / "other.tar.gz")],
        ["restore", str(archive)],
    ):
        capsys.readouterr()
        assert run(wrong, *argv) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("campus-presence: registry error:"), err
        assert "password authentication failed" in err and "a-wrong-password" not in err, err
        assert len(err.strip().splitlines()) == 1
    result = subprocess.run(
        [sys.executable, "-m", "server.entrypoints.cli", "--config", str(wrong), "serve"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and "password authentication failed" in result.stderr
    assert "Traceback" not in result.stderr and "a-wrong-password" not in result.stderr
    assert not (tmp_path / "other.tar.gz").exists() and audit_rows(url) == ["one"]
