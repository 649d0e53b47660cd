"""Shared fixtures: real Mosquitto and influxd started on free loopback ports.

Markers (``pyproject.toml``) say which tests need which service; fixtures fail loudly,
never skip, when the service cannot start, so a missing package is seen in CI.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import Influxd, Mosquitto


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
