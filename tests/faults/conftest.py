"""Fault-suite fixtures: a scenario folder Mosquitto can use, and the size of a run.

``CAMPUS_FAULT_TAPS`` sets the taps per scenario (default 300; the benchmark makes 3,000).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.scenarios import scenario_folder


@pytest.fixture
def fault_taps() -> int:
    return int(os.environ.get("CAMPUS_FAULT_TAPS", "300"))


@pytest.fixture
def fault_folder(request: pytest.FixtureRequest) -> Iterator[Path]:
    """Removed after a passing test, kept (and named) after a failing one: its logs say
    what each process did."""
    folder = scenario_folder()
    yield folder
    report = getattr(request.node, "rep_call", None)
    if report is not None and report.failed:
        print(f"scenario folder kept: {folder}")
    else:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.when == "call":
        item.rep_call = report  # type: ignore[attr-defined]
    return report
