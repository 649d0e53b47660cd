"""``campus-presence serve`` with bad input, as systemd would run it: a clear message and
the exit status the unit relies on (2: configuration, never restarted; 1: may pass,
restarted), never a traceback. An unreachable broker is not an exit: serve waits for it
and says so in one log line."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.services import free_port

SECRET = "s" * 32


def write_config(folder: Path, extra: str = "", *, broker_port: int | None = None) -> Path:
    config = folder / "campus.toml"
    config.write_text(
        f'[server]\ndata_dir = "{folder / "data"}"\n'
        f"[mqtt]\nport = {broker_port or free_port()}\n"
        f"[web]\nport = {free_port()}\n"
        '[[campus]]\nid = "c1"\nreaders = ["door-1"]\n' + extra
    )
    return config


def serve(config: Path, *, secret: str | None = SECRET, timeout: float = 60):
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CAMPUS_")}
    if secret is not None:
        environ["CAMPUS_BADGES_HASH_SECRET"] = secret
    command = [sys.executable, "-m", "server.entrypoints.cli", "--config", str(config), "serve"]
    return subprocess.run(
        command, capture_output=True, text=True, env=environ, timeout=timeout, check=False
    )


def no_traceback(result: subprocess.CompletedProcess[str]) -> str:
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    return output


def test_a_broken_config_file_exits_2(tmp_path: Path) -> None:
    config = write_config(tmp_path, "[web\n")
    result = serve(config)
    assert result.returncode == 2
    assert "configuration error: config file" in no_traceback(result)
    assert "is not valid TOML" in result.stderr
    config.write_text("[mqtt]\nprotocol = 4\n")
    result = serve(config)
    assert result.returncode == 2
    assert "mqtt.protocol must be 5" in no_traceback(result)


def test_a_missing_secret_exits_2(tmp_path: Path) -> None:
    result = serve(write_config(tmp_path), secret=None)
    assert result.returncode == 2
    assert "CAMPUS_BADGES_HASH_SECRET" in no_traceback(result)
    assert not (tmp_path / "data").exists()  # refused before touching anything


def test_an_unreadable_broker_ca_exits_2(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    config.write_text(
        config.read_text().replace("[mqtt]\n", f'[mqtt]\ntls_ca_file = "{tmp_path}/nope.crt"\n')
    )
    result = serve(config)
    assert result.returncode == 2
    assert "mqtt.tls_ca_file" in no_traceback(result)
    assert "cannot read the broker's CA certificate" in result.stderr


def test_the_web_port_held_exits_1(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    port = int(config.read_text().split("[web]\nport = ")[1].split()[0])
    with socket.create_server(("127.0.0.1", port)):
        started = time.monotonic()
        result = serve(config)
    assert result.returncode == 1
    output = no_traceback(result)
    assert f"cannot start: the web app cannot listen on 127.0.0.1:{port}" in output
    assert time.monotonic() - started < 30  # no thread left running behind


@pytest.mark.influxdb
def test_influxdb_down_exits_1(tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        f'[events]\nbackend = "influxdb"\n[events.influxdb]\nurl = '
        f'"http://127.0.0.1:{free_port()}"\napi_version = 1\n',
    )
    result = serve(config)
    assert result.returncode == 1
    assert "cannot start: InfluxDB at" in no_traceback(result)


def test_a_registry_server_down_exits_1_and_a_bad_url_exits_2(tmp_path: Path) -> None:
    config = write_config(tmp_path)
    closed = f"postgresql+psycopg://campus:pw@127.0.0.1:{free_port()}/campus"
    config.write_text(config.read_text().replace("[mqtt]", f'[registry]\nurl = "{closed}"\n[mqtt]'))
    result = serve(config)
    assert result.returncode == 1
    output = no_traceback(result)
    assert "cannot start: cannot use the registry" in output and ":pw@" not in output
    config.write_text(config.read_text().replace(closed, "nonsense"))
    result = serve(config)
    assert result.returncode == 2
    assert "is not a database URL" in no_traceback(result)


@pytest.mark.slow
def test_an_unreachable_broker_is_one_clear_warning_and_serve_keeps_waiting(
    tmp_path: Path,
) -> None:
    broker_port = free_port()
    config = write_config(tmp_path, broker_port=broker_port)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CAMPUS_")}
    environ["CAMPUS_BADGES_HASH_SECRET"] = SECRET
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "server.entrypoints.cli", "--config", str(config), "serve"],
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environ,
        )
    try:
        deadline = time.monotonic() + 60
        first = f"cannot connect to the MQTT broker at 127.0.0.1:{broker_port}"
        wanted = f"not subscribed yet: is the MQTT broker at 127.0.0.1:{broker_port} up?"
        while wanted not in log.read_text() and time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()
            time.sleep(0.5)
        assert wanted in log.read_text()
        assert log.read_text().count(first) == 1  # once, not at each retry
        assert server.poll() is None  # still running, waiting for the broker
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(30)
    assert code == 0
    assert "Traceback" not in log.read_text()
