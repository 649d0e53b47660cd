"""``campus-presence db current|upgrade|history`` on a real SQLite file and a real
PostgreSQL database, the same migrations on both, from a fresh database and by upgrade,
and a registry URL that cannot be used: a clear message and exit 2, no traceback."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from server.entrypoints.cli import main
from server.registry.database import head_revisions, make_engine, migrate
from server.registry.models import Base
from tests.conftest import new_postgres_database
from tests.services import Postgres

T0 = datetime(2026, 11, 23, 8, tzinfo=UTC)


def config_file(folder: Path, url: str) -> Path:
    path = folder / "campus.toml"
    path.write_text(f'[server]\ndata_dir = "{folder / "data"}"\n[registry]\nurl = "{url}"\n')
    return path


def db(config: Path, *argv: str) -> int:
    return main(["--config", str(config), "db", *argv])


def schema_differences(url: str) -> list:
    engine = make_engine(url)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, Base.metadata)
    engine.dispose()
    return differences


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_registry(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'data' / 'registry.sqlite3'}"
    return new_postgres_database(request.getfixturevalue("postgres"))


def test_db_commands_show_and_apply_the_migrations(empty_registry, tmp_path, capsys) -> None:
    config = config_file(tmp_path, empty_registry)
    if empty_registry.startswith("sqlite"):
        assert db(config, "current") == 2
        assert "db upgrade' creates it" in capsys.readouterr().err
    else:
        assert db(config, "current") == 0
        assert "(empty: no migration applied)" in capsys.readouterr().out
    assert db(config, "upgrade") == 0
    assert "upgraded from (empty) to" in capsys.readouterr().out
    assert db(config, "current") == 0
    out = capsys.readouterr().out
    assert "up to date" in out and all(head in out for head in head_revisions())
    assert db(config, "upgrade") == 0
    assert "already up to date" in capsys.readouterr().out
    assert schema_differences(empty_registry) == []
    if empty_registry.startswith("sqlite"):
        data = tmp_path / "data"
        assert data.stat().st_mode & 0o777 == 0o700
        assert (data / "registry.sqlite3").stat().st_mode & 0o777 == 0o600


def test_db_history_lists_every_migration(tmp_path, capsys) -> None:
    config = config_file(tmp_path, f"sqlite:///{tmp_path / 'r.sqlite3'}")
    assert db(config, "history") == 0
    out = capsys.readouterr().out
    assert "0004_capacity_alerts" in out and "0003_alerts" in out and "0001" in out


def test_a_registry_upgraded_on_postgresql_keeps_its_rows(postgres: Postgres) -> None:
    """A PostgreSQL registry made by an older version (up to 0003_alerts), with alerts
    and a call that point at them, upgraded to today's heads: 0004 alters the alerts
    table in place (copying it, as on SQLite, failed: its primary key has dependents)."""
    url = new_postgres_database(postgres)
    migrate(url, "0003_alerts")
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO campuses (id, name, timezone, closes_on_school_holidays, "
                "closes_on_public_holidays) VALUES ('c', 'C', 'Europe/Paris', true, true)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO alerts (id, public_id, dedupe_key, kind, campus_id, status, "
                "noticed_at, acknowledged_by) VALUES (1, 'p1', 'd1', 'absence', 'c', 'open', "
                ":t, '')"
            ),
            {"t": T0},
        )
        connection.execute(
            text(
                "INSERT INTO alert_calls (alert_pk, called_at, outcome, reason, excused, "
                "author, created_at) VALUES (1, :t, 'reached', '', false, 'a', :t)"
            ),
            {"t": T0},
        )
    migrate(url)
    with engine.connect() as connection:
        kinds = connection.execute(text("SELECT kind, room_id FROM alerts")).all()
        calls = connection.execute(text("SELECT count(*) FROM alert_calls")).scalar()
        connection.execute(
            text(
                "INSERT INTO alerts (id, public_id, dedupe_key, kind, campus_id, status, "
                "noticed_at, acknowledged_by, room_id) VALUES (2, 'p2', 'd2', 'capacity', 'c', "
                "'open', :t, '', 'salle-1')"
            ),
            {"t": T0},
        )
    engine.dispose()
    assert kinds == [("absence", None)] and calls == 1
    assert schema_differences(url) == []


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("not a url", "is not a database URL"),
        ("mysql://u@127.0.0.1/campus", "supports SQLite and PostgreSQL only"),
        ("postgresql+nodriver://u@127.0.0.1/campus", "its driver is not installed"),
        ("postgresql+psycopg://u:secret@127.0.0.1:{port}/campus", "cannot use the registry"),
        ("sqlite:////proc/no/such/folder/registry.sqlite3", "cannot create the registry file"),
    ],
)
def test_a_wrong_registry_url_is_a_clear_error(tmp_path, capsys, url, says) -> None:
    from tests.services import free_port

    config = config_file(tmp_path, url.format(port=free_port()))
    assert db(config, "upgrade") == 2
    err = capsys.readouterr().err
    assert "registry error" in err and says in err, err
    assert "Traceback" not in err and "secret" not in err
