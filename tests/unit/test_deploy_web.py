"""The systemd template unit of the extra web processes (deploy/systemd/
campus-presence-web@.service): hardened like the server's unit, runs ``campus-presence
web``, passes ``systemd-analyze verify`` and ``security --offline`` when systemd's tools
are here, and does not restart on the exit status of a configuration error."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from server.entrypoints.cli import main
from tests.unit.test_deploy import directives

UNIT = Path(__file__).resolve().parents[2] / "deploy" / "systemd" / "campus-presence-web@.service"


def test_the_web_unit_is_hardened_and_runs_the_web_command() -> None:
    unit = directives(UNIT)
    expected = {
        "User": "campus-presence",
        "StateDirectory": "campus-presence",
        "StateDirectoryMode": "0700",
        "UMask": "0077",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "CapabilityBoundingSet": "",
        "Restart": "on-failure",
        "EnvironmentFile": "-/etc/campus-presence/secrets.env",
    }
    for key, value in expected.items():
        assert unit.get(key) == [value], key
    assert "@system-service" in unit["SystemCallFilter"]
    assert unit["ExecStart"][0].endswith("--config /etc/campus-presence/config.toml web")


def test_no_restart_on_the_status_web_gives_a_configuration_error(tmp_path: Path) -> None:
    (prevented,) = directives(UNIT)["RestartPreventExitStatus"]
    config = tmp_path / "campus.toml"
    config.write_text("[web]\nreuse_port = 'maybe'\n")
    assert main(["--config", str(config), "web"]) == int(prevented) != 1


def _instance(tmp_path: Path) -> Path:
    """An instance of the template, its program the test's Python (``verify`` checks
    that ExecStart's program exists)."""
    text = UNIT.read_text().replace("/opt/campus-presence/bin/campus-presence", sys.executable)
    copy = tmp_path / "campus-presence-web@1.service"
    copy.write_text(text)
    return copy


def _analyze(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["systemd-analyze", *args, str(_instance(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verify_finds_nothing(tmp_path: Path) -> None:
    result = _analyze(tmp_path, "verify")
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_security_rates_it_ok(tmp_path: Path) -> None:
    result = _analyze(tmp_path, "security", "--offline=true", "--no-pager")
    if "--offline" in result.stderr and "unrecognized" in result.stderr:
        pytest.skip("this systemd-analyze has no --offline (systemd < 250)")
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match[1]) <= 2.0, result.stdout
