"""The README's first command: the embedded default runs and shows taps being stored."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_demo_stores_the_simulated_morning_and_lists_its_rejections(tmp_path: Path) -> None:
    data_dir = tmp_path / "demo"
    command = [sys.executable, "-m", "server.entrypoints.cli", "demo", "--data-dir", str(data_dir)]
    result = subprocess.run(
        [*command, "--speed", "1200", "--duration", "8"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    stored = [
        int(value)
        for value in re.findall(r"(?:Taps stored|Passages enregistrés) ?: (\d+)", result.stdout)
    ]
    assert stored and stored[-1] > 20, result.stdout
    assert "porte-1" in result.stdout

    rejections = subprocess.run(
        [sys.executable, "-m", "server.entrypoints.cli", "rejections"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={"CAMPUS_SERVER_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"},
    )
    assert rejections.returncode == 0, rejections.stderr
    assert "malformed_json" in rejections.stdout
