"""Shared fixtures: real Mosquitto and influxd started on free loopback ports.

Markers (``pyproject.toml``) say which tests need which service; fixtures fail loudly,
never skip, when the service cannot start, so a missing package is seen in CI.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.services import Influxd, Mosquitto


@pytest.fixture
def mosquitto(tmp_path: Path) -> Iterator[Mosquitto]:
    """A fresh broker for one test (persistence on, anonymous access)."""
    with Mosquitto(tmp_path / "mosquitto") as broker:
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
