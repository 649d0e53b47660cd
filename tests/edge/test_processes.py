"""The agent as a process: ``python -m edge.cli`` reading a UDP-emulated badge, and the
door harness killed with SIGKILL in the middle of a stream of taps."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.edge.conftest import ROOT, Subscriber
from tests.services import Mosquitto


def write_config(tmp_path: Path, port: int, nfc_device: str = "udp:127.0.0.1:9") -> Path:
    path = tmp_path / "edge.toml"
    path.write_text(
        f"""
campus = "c1"
reader = "door-1"
[mqtt]
host = "127.0.0.1"
port = {port}
tls = false
reconnect_max_s = 2
confirm_timeout_s = 1.0
confirm_retry_max_s = 2.0
[nfc]
device = "{nfc_device}"
targets = ["106A"]
[feedback]
green = 17
red = 27
buzzer = 23
[outbox]
path = "{tmp_path}/outbox.sqlite3"
[clock]
sync_check = "assume-synced"
"""
    )
    return path


@contextlib.contextmanager
def process(command: list[str], **env: str) -> Iterator[subprocess.Popen]:
    """A child process that is always gone when the block ends."""
    child = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield child
    finally:
        if child.poll() is None:
            child.kill()
        child.wait(10)
        if child.stdout:
            child.stdout.close()


def read_until(child: subprocess.Popen, wanted: Callable[[str], bool], timeout: float) -> str:
    """Lines of the child's output until one is ``wanted`` (fails after ``timeout``)."""
    deadline = time.monotonic() + timeout
    assert child.stdout is not None
    for line in child.stdout:
        if wanted(line.strip()):
            return line.strip()
        assert time.monotonic() < deadline, f"timed out; last line: {line!r}"
    raise AssertionError(f"process ended with {child.wait(5)} before the expected line")


@pytest.mark.broker
@pytest.mark.nfc
@pytest.mark.slow
def test_campus_edge_reads_a_badge_publishes_it_and_stops_on_sigterm(
    tmp_path: Path,
    mosquitto: Mosquitto,
    udp_port: int,
    tag_emulator: Callable[..., subprocess.Popen],
    subscriber_factory,
) -> None:
    subscriber: Subscriber = subscriber_factory(mosquitto.port)
    config = write_config(tmp_path, mosquitto.port, f"udp:127.0.0.1:{udp_port}")
    command = [sys.executable, "-m", "edge.cli", "--config", str(config)]
    with process(command, GPIOZERO_PIN_FACTORY="mock") as agent:
        assert subscriber.wait_for(lambda s: len(s.payloads("/status")) >= 1)
        emulator = tag_emulator(kind="type2", uid="04a1b2c3d4e5f6", present=1.3)
        assert subscriber.wait_for(lambda s: len(s.payloads("/taps")) == 1, timeout=10)
        emulator.wait(10)
        agent.send_signal(signal.SIGTERM)
        assert agent.wait(10) == 0

    # Nobody confirms it here: it may have been sent again, always as the same tap.
    (published,) = {json.dumps(p, sort_keys=True): p for p in subscriber.payloads("/taps")}.values()
    assert published["uid"] == "04a1b2c3d4e5f6" and published["seq"] == 0
    statuses = subscriber.payloads("/status")
    assert statuses[0]["state"] == "online"
    assert (statuses[-1]["state"], statuses[-1]["detail"]) == ("offline", "stopped")


def outbox_state(path: Path) -> tuple[int, int]:
    """(last seq ever recorded, taps still waiting), read after the agent died."""
    with contextlib.closing(sqlite3.connect(path)) as db:
        last = db.execute("SELECT value FROM counters WHERE name='last_seq'").fetchone()[0]
        waiting = db.execute("SELECT COUNT(*) FROM taps").fetchone()[0]
    return last, waiting


@pytest.mark.broker
@pytest.mark.slow
def test_an_agent_killed_mid_stream_loses_nothing_after_a_restart(
    tmp_path: Path, mosquitto: Mosquitto, subscriber_factory, confirmer_factory
) -> None:
    subscriber: Subscriber = subscriber_factory(mosquitto.port)
    confirmer_factory(mosquitto.port)
    config = write_config(tmp_path, mosquitto.port)
    harness = [sys.executable, "-m", "tests.edge.door_harness", "--config", str(config)]

    # 1. broker up: SIGKILL while taps stream in; the broker publishes the last will
    with process([*harness, "--taps", "400", "--interval", "0.001"]) as first:
        read_until(first, lambda line: line == "fed 150", timeout=20)
        first.kill()
    assert subscriber.wait_for(
        lambda s: any(p["detail"] == "connection lost" for p in s.payloads("/status"))
    ), "the broker published the last will"
    recorded, _ = outbox_state(tmp_path / "outbox.sqlite3")
    # Killed mid-stream, after some durable writes ("fed" lines run ahead of the writes,
    # by more than a hundred taps on a loaded machine).
    assert recorded > 0

    # 2. broker down: SIGKILL with taps only on disk
    mosquitto.stop()
    with process([*harness, "--taps", "400", "--first", "500", "--interval", "0.001"]) as second:
        read_until(second, lambda line: line == "fed 600", timeout=20)
        second.kill()
    recorded, waiting = outbox_state(tmp_path / "outbox.sqlite3")
    assert waiting >= 50

    # 3. broker back, agent restarted: everything arrives, and seq goes on
    mosquitto.start()
    with process([*harness, "--taps", "3", "--first", "1000"]) as third:
        read_until(third, lambda line: line == "fed all", timeout=20)
        total = recorded + 1 + 3
        assert subscriber.wait_for(
            lambda s: len({t["seq"] for t in s.payloads("/taps")}) >= total, timeout=20
        )
        deadline = time.monotonic() + 20
        while outbox_state(tmp_path / "outbox.sqlite3")[1] and time.monotonic() < deadline:
            time.sleep(0.1)  # every tap confirmed
        third.send_signal(signal.SIGTERM)
        assert third.wait(10) == 0
    assert outbox_state(tmp_path / "outbox.sqlite3") == (total - 1, 0)

    taps = subscriber.payloads("/taps")
    by_seq: dict[int, str] = {}
    for tap in taps:
        assert by_seq.setdefault(tap["seq"], tap["id"]) == tap["id"]  # a resend keeps its id
    assert sorted(by_seq) == list(range(total))  # nothing lost, seq continues
    uids = {tap["uid"] for tap in taps}
    assert {"04000000000000", "040000000001f4", "040000000003ea"} <= uids
