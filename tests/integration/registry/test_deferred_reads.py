"""A page's reads of a SQLite registry take no write lock (``deferred_reads``), so web
processes read side by side; writes still take the lock at once."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import exc, select

from server.registry.database import deferred_reads, make_engine, open_registry, session_factory
from server.registry.models import Campus


@pytest.fixture
def registry(tmp_path: Path):
    url = f"sqlite:///{tmp_path / 'registry.sqlite3'}"
    engine, _ = open_registry(url)
    engine.dispose()
    impatient = make_engine(url, connect_args={"timeout": 0.2})  # 0.2 s busy timeout
    other = sqlite3.connect(tmp_path / "registry.sqlite3", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process is writing (holds the write lock)
    yield session_factory(impatient)
    other.execute("ROLLBACK")
    other.close()
    impatient.dispose()


def test_reads_wait_for_the_write_lock_by_default(registry) -> None:
    with registry() as session, pytest.raises(exc.OperationalError, match="locked"):
        session.scalars(select(Campus)).all()


def test_deferred_reads_do_not_wait_for_a_writer(registry) -> None:
    with deferred_reads(), registry() as session:
        assert session.scalars(select(Campus)).all() == []
        assert session.get(Campus, "nowhere") is None


def test_writes_within_deferred_reads_still_take_the_lock_first(registry) -> None:
    with (
        deferred_reads(),
        registry() as session,
        pytest.raises(exc.OperationalError, match="locked"),
        session.begin(),
    ):
        session.scalars(select(Campus)).all()
