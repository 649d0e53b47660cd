"""Shared fixtures: real Mosquitto and influxd started on free loopback ports.

Markers (``pyproject.toml``) say which tests need which service; fixtures fail loudly,
never skip, when the service cannot start, so a missing package is seen in CI.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import Influxd, Mosquitto, Postgres

# Which database the registry and web suites use for the registry: "sqlite" (default) or
# "postgresql" (a private cluster started by the ``postgres`` fixture). tests/run runs
# tests/integration/registry and tests/web once more with CAMPUS_TEST_REGISTRY=postgresql.
REGISTRY_BACKEND = os.environ.get("CAMPUS_TEST_REGISTRY", "sqlite")
if REGISTRY_BACKEND not in ("sqlite", "postgresql"):
    raise pytest.UsageError(f"CAMPUS_TEST_REGISTRY={REGISTRY_BACKEND!r}: sqlite or postgresql")
MIGRATED_TEMPLATE = "campus_migrated"


@pytest.fixture
def broker_dir() -> Iterator[Path]:
    """A folder Mosquitto can use after dropping root for user ``mosquitto``.

    pytest's ``tmp_path`` lives under ``/tmp/pytest-of-root`` (mode 0700): started as
    root, Mosquitto then cannot read a password, ACL or certificate file there, nor save
    its persistence file ("Error: Permission denied" in its log)."""
    folder = Path(tempfile.mkdtemp(prefix="campus-broker-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def mosquitto(broker_dir: Path) -> Iterator[Mosquitto]:
    """A fresh broker for one test (persistence on, anonymous access); its persistence
    survives a stop/start within the test."""
    with Mosquitto(broker_dir / "mosquitto") as broker:
        yield broker


@pytest.fixture(scope="session")
def influxd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Influxd]:
    """One influxd for the session; tests use their own database names."""
    with Influxd(tmp_path_factory.mktemp("influxd")) as server:
        yield server


@pytest.fixture
def own_influxd(tmp_path: Path) -> Iterator[Influxd]:
    """An influxd of the test's own, for tests that stop and restart it."""
    with Influxd(tmp_path / "influxd") as server:
        yield server


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    """One PostgreSQL cluster for the session (as the ``postgres`` user when run as
    root); tests use databases of their own (:func:`new_postgres_database`)."""
    folder = Path(tempfile.mkdtemp(prefix="campus-postgres-"))
    folder.chmod(0o755)  # the postgres user must reach its cluster folder
    try:
        with Postgres(folder / "cluster") as server:
            yield server
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def migrated_postgres(postgres: Postgres) -> str:
    """The name of a database migrated to the registry's heads, a template for tests."""
    from server.registry.database import migrate

    migrate(postgres.create_database(MIGRATED_TEMPLATE))
    return MIGRATED_TEMPLATE


def new_postgres_database(postgres: Postgres, template: str | None = None) -> str:
    """A fresh database (a copy of ``template`` if given); returns its URL."""
    return postgres.create_database(f"t_{uuid.uuid4().hex[:16]}", template)


@pytest.fixture
def registry_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The registry URL of a test: a SQLite file in ``tmp_path``, or with
    CAMPUS_TEST_REGISTRY=postgresql a new, already migrated PostgreSQL database."""
    if REGISTRY_BACKEND == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    server: Postgres = request.getfixturevalue("postgres")
    return new_postgres_database(server, request.getfixturevalue("migrated_postgres"))
