"""The server's systemd unit and its admin wrapper (deploy/): the unit passes
``systemd-analyze verify`` and ``security --offline`` when systemd's tools are here, has
the hardening of the door's unit, and does not restart on the exit status ``serve``
gives a configuration error; the wrapper runs a command with the service's config and
secrets."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from server.entrypoints.cli import main

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
UNIT = DEPLOY / "systemd" / "campus-presence.service"


def directives(path: Path) -> dict[str, list[str]]:
    """Every ``Key=value`` of a unit file; a key may repeat (systemd appends)."""
    found: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def test_the_unit_is_hardened_like_the_doors() -> None:
    unit = directives(UNIT)
    expected = {
        "User": "campus-presence",
        "StateDirectory": "campus-presence",
        "StateDirectoryMode": "0700",
        "ConfigurationDirectory": "campus-presence",
        "UMask": "0077",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "NoNewPrivileges": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "CapabilityBoundingSet": "",
        "Restart": "on-failure",
    }
    for key, value in expected.items():
        assert unit.get(key) == [value], key
    assert "@system-service" in unit["SystemCallFilter"]
    assert unit["RestrictAddressFamilies"] == ["AF_INET AF_INET6 AF_UNIX"]
    assert unit["EnvironmentFile"] == ["-/etc/campus-presence/secrets.env"]
    assert unit["ExecStart"][0].endswith("--config /etc/campus-presence/config.toml serve")


def test_no_restart_on_the_status_serve_gives_a_configuration_error(tmp_path: Path) -> None:
    (prevented,) = directives(UNIT)["RestartPreventExitStatus"]
    config = tmp_path / "campus.toml"
    config.write_text("[mqtt]\nport = 'x'\n")
    assert main(["--config", str(config), "serve"]) == int(prevented)
    assert int(prevented) != 1  # 1: a crash or what may pass, which is restarted


def _unit_with_an_existing_program(tmp_path: Path) -> Path:
    """``verify`` checks that ExecStart's program exists: the test's Python instead."""
    text = UNIT.read_text().replace("/opt/campus-presence/bin/campus-presence", sys.executable)
    copy = tmp_path / UNIT.name
    copy.write_text(text)
    return copy


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_verify_finds_nothing(tmp_path: Path) -> None:
    result = subprocess.run(
        ["systemd-analyze", "verify", str(_unit_with_an_existing_program(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # unknown keys are warnings there


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
def test_systemd_analyze_security_rates_it_ok(tmp_path: Path) -> None:
    unit = str(_unit_with_an_existing_program(tmp_path))
    result = subprocess.run(
        ["systemd-analyze", "security", "--offline=true", "--no-pager", unit],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    if "--offline" in result.stderr and "unrecognized" in result.stderr:
        pytest.skip("this systemd-analyze has no --offline (systemd < 250)")
    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match[1]) <= 2.0, result.stdout  # "OK" is below 2.0 on systemd's scale


@pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("runuser") is None, reason="needs root and runuser"
)
def test_the_admin_wrapper_runs_with_the_service_config_and_secrets(tmp_path: Path) -> None:
    program = tmp_path / "campus-presence"
    program.write_text(f'#!/bin/sh\nexec {sys.executable} -m server.entrypoints.cli "$@"\n')
    program.chmod(0o755)
    secrets = tmp_path / "secrets.env"
    secrets.write_text("CAMPUS_BADGES_HASH_SECRET=0123456789abcdef0123456789abcdef\n")
    secrets.chmod(0o600)
    config = tmp_path / "config.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n[mqtt]\nport = 1\n')
    environ = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CAMPUS_")},
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        "CAMPUS_PRESENCE_USER": "root",
        "CAMPUS_PRESENCE_CONFIG": str(config),
        "CAMPUS_PRESENCE_SECRETS": str(secrets),
        "CAMPUS_PRESENCE_BIN": str(program),
    }
    result = subprocess.run(
        [str(DEPLOY / "campus-presence-admin"), "doctor"],
        capture_output=True,
        text=True,
        env=environ,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr  # no broker on port 1
    assert re.search(r"^ok\s+config\s+" + re.escape(str(config)), result.stdout, re.M)
    assert re.search(r"^ok\s+badge secret\s", result.stdout, re.M)  # from secrets.env
    assert "0123456789abcdef" not in result.stdout + result.stderr


INSTALL = DEPLOY.parent / "docs" / "install.md"


def guide_commands() -> list[list[str]]:
    """The ``campus-presence-admin …`` commands of docs/install.md's shell blocks."""
    import shlex

    commands = []
    in_shell = False
    for line in INSTALL.read_text().splitlines():
        stripped = line.strip()
        if stripped.startswith("```"):
            in_shell = stripped == "```sh"
            continue
        found = re.search(r"(?:^|/usr/local/sbin/)campus-presence-admin (.*)", stripped)
        if in_shell and found:
            tail = re.sub(r"\$\(date \+\\?%F\)", "2026-12-07", found[1])
            tail = tail.split("#")[0].split("' >")[0]
            commands.append(shlex.split(tail))
    return commands


def test_every_command_of_the_install_guide_parses() -> None:
    from server.entrypoints.cli import build_parser

    commands = guide_commands()
    assert {"doctor", "db", "create-admin", "backup"} <= {argv[0] for argv in commands}
    for argv in commands:
        build_parser().parse_args(["--config", "/etc/campus-presence/config.toml", *argv])


def test_the_example_config_loads_and_holds_no_secret() -> None:
    from server.config import load_settings
    from server.entrypoints.doctor_checks import secrets_in_file

    example = DEPLOY / "config.example.toml"
    settings = load_settings(example, {"CAMPUS_BADGES_HASH_SECRET": "x" * 32})
    assert settings.data_dir == Path("/var/lib/campus-presence")
    assert settings.web.secure_cookies and settings.campuses
    assert secrets_in_file(example) == []
    for path in ["deploy/systemd/campus-presence.service", "deploy/config.example.toml"]:
        assert path in INSTALL.read_text()
        assert (DEPLOY.parent / path).exists()
