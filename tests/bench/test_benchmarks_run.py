"""Every benchmark in ``bench/`` still runs.

A benchmark that no longer runs is a broken build: each script is run here as a user
runs it (``python bench/NAME.py``), with arguments small enough for CI, and must exit 0
and print its figures. A new script in ``bench/`` needs its small arguments below.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench"

SMALL = {
    "absences.py": ["--campuses", "1,2", "--students", "6"],
    "alerts.py": ["--absences", "4", "--smtp-timeout", "1"],
    "faults.py": ["--taps", "30", "--scenario", "broker-kill-9"],
    "edge.py": ["--taps", "20", "--outbox-taps", "50", "--rss-taps", "200", "--backlog-taps=400"],
    "ingest.py": [
        *("--readers", "2", "--taps", "400", "--rate", "50", "--rate-seconds", "1"),
        *("--rounds", "2"),
        *("--badge-taps", "60", "--badge-students", "10"),
        *("--write-prefill", "2000", "--write-batches", "2"),
    ],
    "ledger.py": ["--campuses", "2", "--students", "4", "--weeks", "2"],
    "occupancy.py": ["--students", "5", "--days", "5"],
    "web.py": [
        *("--students", "3", "--weeks", "1", "--repeat", "3", "--users", "4"),
        *("--requests", "3", "--paused-requests", "1", "--pause", "0.2"),
    ],
}

# Figures a run must print (each measured by a part of the script a change could break).
PRINTS = {
    "ingest.py": [
        "live: median ratio of 2 rounds",
        "influxd",  # its CPU time per tap
        "latency ts -> stored at 50 taps/s",
    ],
}


def test_every_benchmark_has_small_arguments() -> None:
    scripts = sorted(path.name for path in BENCH.glob("*.py"))
    assert scripts, "bench/ has no scripts"
    assert sorted(SMALL) == scripts


@pytest.mark.slow
@pytest.mark.parametrize("script", sorted(SMALL))
def test_benchmark_runs(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCH / script), *SMALL[script]],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip(), "the benchmark printed no figures"
    for figure in PRINTS.get(script, []):
        assert figure in done.stdout, done.stdout[-3000:]
