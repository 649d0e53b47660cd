"""The processes of a fault scenario, each startable, killable (SIGKILL), stoppable
(SIGTERM) and restartable on the same port and data: Mosquitto configured like
``firmware_config/mosquitto/campus.conf``, ``campus-presence serve``, the planned door.
influxd is :class:`tests.services.Influxd` as the other suites use it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt

from tests.services import Mosquitto, free_port

ROOT = Path(__file__).resolve().parents[2]
CAMPUS = "fault-campus"
READER = "door-1"
SECRET = "fault-suite-badge-secret-0123456789"
TOKEN = "fault-suite-api-token-0123456789"
CLI = (sys.executable, "-m", "server.entrypoints.cli")
DOOR = (sys.executable, "-m", "tests.faults.door")


class ScenarioError(RuntimeError):
    """The scenario itself could not run (a process did not start, a wait timed out)."""


def wait_for(condition: Callable[[], bool], timeout: float, what: str, step: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise ScenarioError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(step)


class CampusBroker(Mosquitto):
    """Mosquitto with the production broker's queueing and persistence settings
    (``campus.conf``: autosave every 60 s, 100,000 queued messages, 20 in flight),
    anonymous, on a free loopback port."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.config.write_text(
            "\n".join(
                [
                    "per_listener_settings false",
                    "allow_anonymous true",
                    f"listener {self.port} 127.0.0.1",
                    "protocol mqtt",
                    "persistence true",
                    f"persistence_location {folder}/",
                    "autosave_interval 60",
                    "max_queued_messages 100000",
                    "max_inflight_messages 20",
                    "max_packet_size 16384",
                    "persistent_client_expiration 14d",
                    "set_tcp_nodelay true",
                    "log_dest stdout",
                    "log_type error",
                    "log_type warning",
                    "log_type notice",
                ]
            )
            + "\n"
        )
        self._give_to_mosquitto_user()

    def someone_subscribed(self, topic: str) -> bool:
        """True when a QoS 1 MQTT 5 publish to ``topic`` gets PUBACK 0 (a subscriber
        matched) rather than 16 (no matching subscribers)."""
        codes: list[int] = []
        done = threading.Event()
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"fault-probe-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv5,
        )

        def published(_client, _userdata, _mid, reason_code, _properties) -> None:
            codes.append(reason_code.value)
            done.set()

        client.on_publish = published
        try:
            client.connect("127.0.0.1", self.port)
        except OSError:
            return False
        client.loop_start()
        try:
            client.publish(topic, b"{}", qos=1)
            done.wait(3)
        finally:
            client.disconnect()
            client.loop_stop()
        return codes == [0]


class Serve:
    """``campus-presence serve`` as a subprocess, from a TOML file written here."""

    def __init__(
        self,
        folder: Path,
        *,
        data_dir: Path,
        broker_port: int,
        influx_url: str,
        client_id: str,
        session_expiry: int | None = None,
    ) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.web_port = free_port()
        self.config = folder / f"{client_id}.toml"
        self.log = folder / f"{client_id}.log"
        expiry = f"session_expiry = {session_expiry}\n" if session_expiry is not None else ""
        self.config.write_text(
            f"""
[server]
data_dir = "{data_dir}"
[mqtt]
port = {broker_port}
client_id = "{client_id}"
{expiry}
[events]
backend = "influxdb"
[events.influxdb]
url = "{influx_url}"
api_version = 1
database = "campus"
timeout_s = 2.0
[web]
port = {self.web_port}
[[campus]]
id = "{CAMPUS}"
name = "Fault campus"
readers = ["{READER}"]
"""
        )
        self.process: subprocess.Popen | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [*CLI, "--config", str(self.config), "serve"],
                cwd=ROOT,
                env=environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        wait_for(self._answers, 60, f"serve's web app on {self.web_port} ({self.log})", 0.2)

    def _answers(self) -> bool:
        if not self.running:
            raise ScenarioError(f"serve exited: {self.log.read_text()[-2000:]}")
        url = f"http://127.0.0.1:{self.web_port}/api/v1/readers"
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {TOKEN}"})
        try:
            with urllib.request.urlopen(request, timeout=2) as answer:  # noqa: S310
                return answer.status == 200
        except urllib.error.HTTPError:
            return True  # it answers
        except OSError:
            return False

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if not self.running:
            return
        assert self.process is not None
        self.process.send_signal(sig)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def cli(self, *argv: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Another ``campus-presence`` command on the same configuration."""
        return subprocess.run(
            [*CLI, "--config", str(self.config), *argv],
            cwd=ROOT,
            env=environment(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )


def environment() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH", "")
    return {
        **os.environ,
        "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT),
        "CAMPUS_BADGES_HASH_SECRET": SECRET,
        "CAMPUS_SERVER_API_TOKEN": TOKEN,
    }


def edge_config(path: Path, *, broker_port: int, outbox: Path) -> Path:
    """The door's TOML: short reconnect and confirmation timers so a scenario drains
    within seconds (the confirmation keys only where the agent has them)."""
    from edge.config import MqttConfig

    fields = MqttConfig.__dataclass_fields__
    confirm = ""
    if "confirm_timeout_s" in fields:
        confirm += "confirm_timeout_s = 1.0\n"
    if "confirm_retry_max_s" in fields:
        confirm += "confirm_retry_max_s = 4.0\n"
    path.write_text(
        f"""
campus = "{CAMPUS}"
reader = "{READER}"
log_level = "WARNING"
[mqtt]
host = "127.0.0.1"
port = {broker_port}
tls = false
reconnect_max_s = 2
{confirm}
[nfc]
device = "udp:127.0.0.1:9"
targets = ["106A"]
[feedback]
green = 17
red = 27
amber = 22
buzzer = 23
server_wait_s = 0.2
[outbox]
path = "{outbox}"
[clock]
sync_check = "assume-synced"
"""
    )
    return path


class DoorProcess:
    """``python -m tests.faults.door`` driven through its stdin (see that module)."""

    def __init__(self, config: Path, offline_config: Path, plan: Path, log: Path) -> None:
        self.config, self.offline_config = config, offline_config
        self.plan, self.log = plan, log
        self.process: subprocess.Popen | None = None
        self.lines: list[str] = []
        self.recorded: dict[int, int] = {}  # planned index -> seq, over every run
        self.refused: set[int] = set()
        self.silent: set[int] = set()  # neither recorded nor refused: must stay empty
        self._changed = threading.Condition()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self, *, offline: bool = False) -> None:
        """``offline``: pointed at a port where no broker listens (a door cut off from
        the network, keeping its taps)."""
        self.lines = []
        config = self.offline_config if offline else self.config
        with self.log.open("ab") as errors:
            self.process = subprocess.Popen(
                [*DOOR, "--config", str(config), "--plan", str(self.plan)],
                cwd=ROOT,
                env=environment(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=errors,
                text=True,
                start_new_session=True,
            )
        threading.Thread(target=self._read, args=(self.process,), daemon=True).start()
        ready = self.wait_line(lambda line: line.startswith("ready"), 60, "the door to start")
        with self._changed:
            if not self.refused:  # resumed after a kill: every earlier tap was recorded
                for index in range(int(ready.split()[1])):
                    self.recorded.setdefault(index, index)

    def _read(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for raw in process.stdout:
            line = raw.strip()
            words = line.split()
            with self._changed:
                if words[:1] == ["recorded"]:
                    self.recorded[int(words[1])] = int(words[2])
                elif words[:1] == ["refused"]:
                    self.refused.add(int(words[1]))
                elif words[:1] == ["lost"]:
                    self.silent.add(int(words[1]))
                self.lines.append(line)
                self._changed.notify_all()
        process.stdout.close()
        with self._changed:
            self._changed.notify_all()

    def wait_line(self, wanted: Callable[[str], bool], timeout: float, what: str) -> str:
        deadline = time.monotonic() + timeout
        with self._changed:
            seen = 0
            while True:
                for line in self.lines[seen:]:
                    if wanted(line):
                        self.lines.remove(line)
                        return line
                seen = len(self.lines)
                if not self.running and self.process is not None:
                    raise ScenarioError(f"the door exited while waiting for {what}: {self.log}")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise ScenarioError(f"timed out after {timeout:.0f}s waiting for {what}")
                self._changed.wait(min(remaining, 0.2))

    def send(self, command: str) -> None:
        assert self.process is not None and self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()

    def feed(self, count: int, *, wait: bool = True, timeout: float = 600) -> None:
        self.send(f"feed {count}")
        if wait:
            self.wait_fed(timeout)

    def wait_fed(self, timeout: float = 600) -> None:
        self.wait_line(lambda line: line == "fed", timeout, "the door to make its taps")

    def wait_made(self, count: int, timeout: float = 120) -> None:
        """Until ``count`` taps were recorded or refused, over every run."""

        def made() -> bool:
            with self._changed:
                return len(self.recorded) + len(self.refused) >= count

        wait_for(made, timeout, f"{count} taps made at the door", 0.01)

    def waiting(self) -> int:
        """Taps still in the outbox."""
        self.send("count")
        return int(self.wait_line(lambda line: line.startswith("count "), 30, "count").split()[1])

    def remove(self, path: Path) -> None:
        self.send(f"remove {path}")
        self.wait_line(lambda line: line == "removed", 30, "the door to remove a file")

    def stop(self) -> None:
        if not self.running:
            return
        assert self.process is not None
        with contextlib.suppress(OSError):
            self.send("stop")
        try:
            self.process.wait(40)
        except subprocess.TimeoutExpired:
            self.kill()
        self._close_pipes()

    def kill(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        self.process.wait(10)
        self._close_pipes()

    def _close_pipes(self) -> None:
        assert self.process is not None
        if self.process.stdin is not None:  # stdout: closed by the reading thread
            with contextlib.suppress(OSError):
                self.process.stdin.close()
