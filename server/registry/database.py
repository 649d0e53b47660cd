"""Engine, sessions and migrations of the registry. Nothing is created at import time:
the composition root calls :func:`make_engine` and :func:`migrate` at start."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS = Path(__file__).parent / "migrations"


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url``. SQLite gets foreign keys, WAL and a busy timeout (so the
    ingest and the web app can share one file), and real transactions: pysqlite's own
    implicit BEGIN would commit on a savepoint's release, so we emit BEGIN ourselves."""
    if url.startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": 15})
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, **options)


def _sqlite_connect(connection: Any, _record: Any) -> None:
    connection.isolation_level = None  # no implicit transactions: see _sqlite_begin
    cursor = connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")  # deleted rows zeroed (docs/privacy.md)
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_begin(connection: Any) -> None:
    # IMMEDIATE takes the write lock at the start, waiting up to the busy timeout. A plain
    # (deferred) BEGIN that reads and then writes fails at once with "database is
    # locked" when another connection wrote meanwhile: the timeout cannot help it.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def migrate(url: str | Engine) -> None:
    """Bring the registry schema to the latest revision (idempotent); no alembic.ini."""
    engine = make_engine(url) if isinstance(url, str) else url
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "heads")  # parallel branches (one per feature) are fine
    finally:
        if isinstance(url, str):
            engine.dispose()


def open_registry(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """Engine and session factory of a migrated registry (a SQLite file's folder is
    created if missing). The caller disposes of the engine."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(url)
    migrate(engine)
    return engine, session_factory(engine)
