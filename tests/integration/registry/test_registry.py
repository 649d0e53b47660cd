from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError

from server.registry.database import MIGRATIONS, make_engine, migrate
from server.registry.models import AuditEntry, Base, Campus, Reader
from server.registry.people_store import people_unit_of_work
from server.services.people.campuses import sync_campuses


def test_migrations_build_the_models_schema_on_a_real_file(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    migrate(url)
    migrate(url)  # idempotent
    engine = make_engine(url)
    with engine.connect() as connection:
        versions = set(
            connection.execute(text("SELECT version_num FROM alembic_version")).scalars()
        )
        script = ScriptDirectory(str(MIGRATIONS))
        assert versions == set(script.get_heads())
        assert len(versions) >= 1
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []
    engine.dispose()


def test_instants_come_back_aware_in_utc(registry) -> None:
    paris_noon = datetime(2026, 11, 23, 12, tzinfo=timezone(timedelta(hours=1)))
    with registry() as session, session.begin():
        session.add(AuditEntry(at=paris_noon, actor="t", action="a", entity="e", entity_id="1"))
    with registry() as session:
        stored = session.scalar(select(AuditEntry.at))
    assert stored == paris_noon and stored.tzinfo == UTC


def test_naive_instants_are_refused(registry) -> None:
    with registry() as session, pytest.raises(StatementError, match="timezone-aware"):
        session.add(
            AuditEntry(at=datetime(2026, 1, 1), actor="t", action="a", entity="e", entity_id="1")
        )
        session.flush()


def test_configured_campuses_and_readers_are_added_once(registry, settings) -> None:
    assert sync_campuses(people_unit_of_work(registry), settings) == 0  # the fixture already did it
    with registry() as session:
        campus = session.get(Campus, "campus-a")
        readers = session.scalars(select(Reader.reader_id).order_by(Reader.reader_id)).all()
        modes = set(session.scalars(select(Reader.mode)))
    assert campus is not None and campus.timezone == "Europe/Paris" and campus.school_zone == "A"
    assert readers == ["door-1", "door-in", "door-out", "room-1"]
    assert modes == {"toggle"}


def test_reader_mode_is_checked_by_the_database(registry) -> None:
    # SQLite says "CHECK constraint failed", PostgreSQL "violates check constraint".
    with registry() as session, pytest.raises(IntegrityError, match=r"(?i)check constraint"):
        session.add(Reader(campus_id="campus-a", reader_id="door-9", mode="sideways"))
        session.flush()
