"""Engine, sessions and migrations of the registry. Nothing is created at import time:
the composition root calls :func:`make_engine` and :func:`migrate` at start.

The registry is a SQLite file (default) or a PostgreSQL database
(``postgresql+psycopg://user:password@host/name``, extra ``postgresql``); the same
migrations run on both. A URL that cannot be used raises :class:`RegistryError`, whose
message says what to fix (the command line prints it, no traceback)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, exc, make_url
from sqlalchemy.orm import Session, SessionTransactionOrigin, sessionmaker

from server.private_files import create_private_file

MIGRATIONS = Path(__file__).parent / "migrations"


class RegistryError(RuntimeError):
    """The registry's database cannot be opened or migrated (bad URL, driver missing,
    server unreachable, login refused); the message is for an operator."""


def safe_url(url: str) -> str:
    """``url`` with its password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "<unparsable URL>"


def make_engine(url: str, **options: Any) -> Engine:
    """An engine for ``url``. SQLite gets foreign keys, WAL and a busy timeout (so the
    ingest and the web app can share one file), and real transactions: pysqlite's own
    implicit BEGIN would commit on a savepoint's release, so we emit BEGIN ourselves."""
    try:
        parsed = make_url(url)
    except exc.ArgumentError as error:
        raise RegistryError(
            f"registry URL {url[:60]!r} is not a database URL: expected "
            "'sqlite:////var/lib/campus-presence/registry.sqlite3' or "
            "'postgresql+psycopg://user:password@host/database'"
        ) from error
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise RegistryError(
            f"registry URL {safe_url(url)}: the registry supports SQLite and PostgreSQL only"
        )
    try:
        if parsed.get_backend_name() == "sqlite":
            options.setdefault("connect_args", {"timeout": 15})
            engine = create_engine(url, **options)
            event.listen(engine, "connect", _sqlite_connect)
            event.listen(engine, "begin", _sqlite_begin)
            return engine
        return create_engine(url, pool_pre_ping=True, **options)
    except (ImportError, exc.NoSuchModuleError) as error:
        raise RegistryError(
            f"registry URL {safe_url(url)}: its driver is not installed ({error}); for "
            "PostgreSQL use 'postgresql+psycopg://' and install the extra: "
            "pip install 'campus-presence[server,postgresql]'"
        ) from error


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
    # Except a page's reads (``deferred_reads``): they never write, and taking the write
    # lock would make the web processes read one after another (WAL readers share).
    if connection.get_execution_options().get(_DEFERRED_OPTION):
        connection.exec_driver_sql("BEGIN")
    else:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


_DEFERRED_OPTION = "campus_deferred_begin"
_reads_deferred: ContextVar[bool] = ContextVar("campus_reads_deferred", default=False)


@contextmanager
def deferred_reads() -> Iterator[None]:
    """Within: on SQLite, the transactions a session begins by itself (a read: ``with
    registry() as session: ...`` without ``session.begin()``) take no write lock, so
    that several web processes read the registry at the same time. Transactions begun
    with ``session.begin()`` (every write) still take it at once. For requests that do
    not change anything (GET); a session that would write without ``session.begin()``
    must not run within."""
    token = _reads_deferred.set(True)
    try:
        yield
    finally:
        _reads_deferred.reset(token)


def defer_reads() -> object:
    """:func:`deferred_reads` for a request: returns the token for :func:`end_deferred_reads`."""
    return _reads_deferred.set(True)


def end_deferred_reads(token: object) -> None:
    _reads_deferred.reset(token)  # type: ignore[arg-type]


class RegistrySession(Session):
    """A session that begins its own transactions (autobegin) without the write lock on
    SQLite while :func:`deferred_reads` is on."""

    def get_bind(self, *args: Any, **kwargs: Any) -> Any:
        bind = super().get_bind(*args, **kwargs)
        if not _reads_deferred.get() or bind.dialect.name != "sqlite":
            return bind
        transaction = self.get_transaction()
        if transaction is not None and transaction.origin is not SessionTransactionOrigin.AUTOBEGIN:
            return bind  # session.begin(): a write
        deferred = bind.__dict__.get("_campus_deferred")
        if deferred is None:
            deferred = bind.__dict__["_campus_deferred"] = bind.execution_options(
                **{_DEFERRED_OPTION: True}
            )
        return deferred


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, class_=RegistrySession, expire_on_commit=False)


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@contextmanager
def _engine_of(url: str | Engine) -> Iterator[Engine]:
    engine = make_engine(url) if isinstance(url, str) else url
    try:
        yield engine
    except exc.OperationalError as error:
        # Server unreachable, login refused, database missing, file not writable...
        reason = str(error.orig or error).strip().splitlines()[0]
        raise RegistryError(
            f"cannot use the registry {engine.url.render_as_string(hide_password=True)}: {reason}"
        ) from error
    finally:
        if isinstance(url, str):
            engine.dispose()


def migrate(url: str | Engine, revision: str = "heads") -> None:
    """Bring the registry schema to ``revision`` (default: every head; parallel branches,
    one per feature, are fine). Idempotent; no alembic.ini."""
    config = _config()
    with _engine_of(url) as engine, engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revisions(url: str | Engine) -> set[str]:
    """The revisions the registry's schema is at (empty: a fresh database)."""
    with _engine_of(url) as engine, engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def head_revisions() -> set[str]:
    """The revisions this version of the code brings a registry to."""
    return set(ScriptDirectory(str(MIGRATIONS)).get_heads())


def history() -> list[tuple[str, str, str]]:
    """Every migration, newest first: (revision, revises, first line of its docstring)."""
    script = ScriptDirectory(str(MIGRATIONS))
    return [
        (
            item.revision,
            ", ".join(item._all_down_revisions) or "-",
            (item.doc or "").strip().splitlines()[0] if item.doc else "",
        )
        for item in script.walk_revisions()
    ]


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite registry URL; None for another database or in memory."""
    parsed = _parse(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def prepare_sqlite_file(url: str) -> None:
    """Create a SQLite registry's file (0600) and folder (0700) if missing."""
    path = sqlite_file(url)
    if path is None:
        return
    try:
        create_private_file(path)
    except OSError as error:
        raise RegistryError(f"cannot create the registry file {path}: {error.strerror}") from None


def open_registry(url: str) -> tuple[Engine, sessionmaker[Session]]:
    """Engine and session factory of a migrated registry (a SQLite file and its folder
    are created if missing, readable by the service only: it holds names and phone
    numbers). The caller disposes of the engine."""
    prepare_sqlite_file(url)
    engine = make_engine(url)
    try:
        migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    return engine, session_factory(engine)


def _parse(url: str) -> Any:
    try:
        return make_url(url)
    except exc.ArgumentError:
        make_engine(url)  # raises the RegistryError that explains
        raise
