"""``campus-presence serve`` as an operator runs it: a TOML file, secrets in the
environment, a real Mosquitto; the reader gets its feedback, the API answers, SIGTERM
stops it cleanly, and the logs never show a badge UID."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from edge.protocol import feedback_topic
from tests.e2e.helpers import CAMPUS, DOOR, Reader, make_tap, wait_until
from tests.services import Mosquitto, free_port

pytestmark = [pytest.mark.broker, pytest.mark.slow]

TOKEN = "serve-test-token-0123"
UID = "04deadbeef0042"


def api_status(url: str) -> int:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=2) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def start_serve(
    tmp_path: Path, broker_port: int, web_port: int, client_id: str, **environ: str
) -> tuple[subprocess.Popen, Path]:
    """``campus-presence serve`` on a TOML file for one campus and door, its output in a
    log file; returns the process and the log."""
    config = tmp_path / "campus.toml"
    config.write_text(
        f"""
[server]
data_dir = "{tmp_path / "data"}"
[mqtt]
port = {broker_port}
client_id = "{client_id}"
[web]
port = {web_port}
[[campus]]
id = "{CAMPUS}"
readers = ["{DOOR}"]
"""
    )
    log = tmp_path / "serve.log"
    with log.open("w") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "server.entrypoints.cli", "--config", str(config), "serve"],
            stdout=output,
            stderr=subprocess.STDOUT,
            env={**os.environ, "CAMPUS_BADGES_HASH_SECRET": "s" * 32, **environ},
        )
    return server, log


def test_serve_answers_readers_and_the_api_then_stops_on_sigterm(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    web_port = free_port()
    server, log = start_serve(
        tmp_path, mosquitto.port, web_port, "serve-test", CAMPUS_SERVER_API_TOKEN=TOKEN
    )
    feedback: list[dict] = []
    lock = threading.Lock()
    listener = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)

    def received(_client, _userdata, message) -> None:
        with lock:
            feedback.append(json.loads(message.payload))

    listener.on_message = received
    listener.connect("127.0.0.1", mosquitto.port)
    listener.subscribe(feedback_topic(CAMPUS, DOOR), qos=1)
    listener.loop_start()
    reader = Reader(mosquitto.port)
    try:
        url = f"http://127.0.0.1:{web_port}/api/v1/presence/weekly?week=2026-W48"
        wait_until(lambda: api_status(url) == 200, timeout=30, what="the web API")
        tap = make_tap(1, uid=UID)
        reader.publish(tap.to_json())
        wait_until(lambda: bool(feedback), what="the reader's feedback")
        assert feedback[0]["id"] == tap.id
        assert feedback[0]["result"] == "unknown_badge"
        assert api_status(url.replace("W48", "W99")) == 400
        base = f"http://127.0.0.1:{web_port}/api/v1"
        assert api_status(f"{base}/occupancy") == 200
        assert api_status(f"{base}/readers") == 200
        assert api_status(f"{base}/alerts?status=open") == 200
        login_page = f"http://127.0.0.1:{web_port}/login"
        with urllib.request.urlopen(login_page, timeout=2) as page:
            assert 'name="csrf_token"' in page.read().decode()  # the web app, served
    finally:
        reader.close()
        listener.disconnect()
        listener.loop_stop()
        server.send_signal(signal.SIGTERM)
        code = server.wait(20)
    assert code == 0, log.read_text()
    assert UID not in log.read_text().lower()
    assert "campus-presence create-admin" in log.read_text()  # how to get a first account


def test_a_stop_asked_for_while_serve_starts_ends_it_cleanly(
    tmp_path: Path, mosquitto: Mosquitto
) -> None:
    """systemd may stop the unit while it is still migrating the registry: the process
    finishes starting, then stops with status 0 (the default SIGTERM handler would kill it
    with -15 and lose the counters' last line)."""
    server, log = start_serve(tmp_path, mosquitto.port, free_port(), "serve-early-stop")
    try:
        # the first migration line: settings loaded, logging set, start-up under way
        wait_until(lambda: "alembic" in log.read_text(), timeout=30, what="the migrations")
    finally:
        server.send_signal(signal.SIGTERM)
        code = server.wait(30)
    assert code == 0, log.read_text()
    assert "stopped:" in log.read_text()
