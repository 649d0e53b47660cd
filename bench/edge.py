"""Door agent figures: read-feedback latency, durable outbox rate, memory in every case.

    python bench/edge.py [--taps 500] [--outbox-taps 2000] [--rss-taps 10000]
                         [--backlog-taps 20000] [--interval 0.0005] [--settle 3]

1. Tap detected -> read beep on the pins: the real agent (outbox, paho link to a real
   Mosquitto, feedback thread) on gpiozero's MockFactory, whose pins record when they
   change. "Detected" is when the NFC thread's ``BadgeSeen`` is created. Target p99 < 30 ms.
2. Outbox: taps written durably (SQLite WAL, synchronous=FULL, one transaction each).
3. Agent RSS, target < 40 MB in every case: ``tests/edge/door_harness.py`` (the same
   ``Door`` as ``campus-edge``, its NFC thread polling nfcpy's UDP driver) as a separate
   process, with the ``Environment=`` of ``firmware_config/campus-edge.service``. Its
   pins are gpiozero mock pins that keep no history of state changes (``MockPin.states``
   grows by two entries a tap: a test artefact, not the agent's memory), and the fake
   tag source stays at most 100 taps ahead of the agent (an NFC thread hands over a few
   sightings a second). RSS is read from ``/proc/PID/status`` every 20 ms and the
   kernel's high-water mark (reset at each phase through ``clear_refs``): peak and
   final of each phase. Phases, in one agent process: idle (start + 3 s); N taps
   recorded and confirmed; broker stopped while a backlog of taps is recorded; broker
   back and the backlog drained; then, as after a power cut during an outage, another
   backlog recorded with the broker away, the agent stopped, a new agent process
   started on it (start + 3 s) and the backlog drained. Once on plain MQTT, once with
   TLS to Mosquitto (CA and certificate made by ``firmware_config/mosquitto/make-ca.sh``).
   Reference, in the same run: a bare CPython importing the same libraries (its RSS;
   each figure is printed as the difference from it and as a share of the target).

A tap leaves the outbox only once the server confirms it (protocol v2): here a paho
client plays the server's part (``tests.edge.conftest.Confirmer``: one confirmation per
tap, as soon as it arrives), so the figures do not include the server's store write.
The RSS cases use short retry timers (reconnect within 2 s, confirmation timeout 2 s) so
that a drain does not wait for the default backoff.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

from gpiozero.pins.mock import MockFactory, MockPin

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from edge.bootstrap import Door  # noqa: E402
from edge.events import BadgeSeen  # noqa: E402
from edge.outbox import Outbox  # noqa: E402
from tests.edge.conftest import BUZZER, Confirmer, make_config  # noqa: E402
from tests.services import Mosquitto, free_port  # noqa: E402


class TimedPin(MockPin):
    """A mock pin that remembers the monotonic time of each change to high."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.rises: list[float] = []

    def _change_state(self, value: bool) -> bool:
        changed = super()._change_state(value)
        if changed and value:
            self.rises.append(time.monotonic())
        return changed


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def bench_latency(folder: Path, broker: Mosquitto, taps: int) -> None:
    pins = MockFactory(pin_class=TimedPin)
    config = make_config(folder, port=broker.port)
    with Door(config, pin_factory=pins, nfc=False) as door:
        runner = threading.Thread(target=door.run)
        runner.start()
        while not door.link.connected:
            time.sleep(0.01)
        buzzer = pins.pin(BUZZER)
        latencies = []
        missed = 0
        for number in range(taps):
            rises = len(buzzer.rises)
            detected = time.monotonic()
            door.events.put(BadgeSeen(f"04{number:012x}", detected))
            while len(buzzer.rises) == rises and time.monotonic() - detected < 5.0:
                time.sleep(0.0002)
            if len(buzzer.rises) == rises:
                missed += 1  # no beep within 5 s: counted, printed, never waited for forever
                continue
            latencies.append((buzzer.rises[rises] - detected) * 1000)
            time.sleep(0.02)  # 50 taps/s, far busier than a door
        deadline = time.monotonic() + 30
        while door.outbox.count and time.monotonic() < deadline:
            time.sleep(0.01)
        door.stop()
        runner.join(10)
    print(
        f"tap detected -> read beep on the pin ({taps} taps, 50/s): "
        f"p50 {statistics.median(latencies):.2f} ms  p99 {percentile(latencies, 0.99):.2f} ms  "
        f"max {max(latencies):.2f} ms"
        + (f"  NO BEEP within 5 s for {missed} taps" if missed else "")
    )


def bench_outbox(folder: Path, taps: int) -> None:
    moment = datetime.now(UTC)
    with Outbox(folder / "throughput.sqlite3", max_taps=taps + 1) as outbox:
        start = time.perf_counter()
        for number in range(taps):
            outbox.add(f"04{number:012x}", moment)
        added = time.perf_counter() - start
        ids = [tap.id for tap in outbox.pending(limit=taps)]
        start = time.perf_counter()
        for chunk in range(0, len(ids), 100):
            outbox.remove(ids[chunk : chunk + 100])
        removed = time.perf_counter() - start
    print(
        f"outbox: {taps / added:,.0f} taps/s written durably (WAL, synchronous=FULL, "
        f"one transaction a tap); {taps / removed:,.0f} confirmed taps/s removed in batches of 100"
    )


UNIT = ROOT / "firmware_config" / "campus-edge.service"
TARGET_MB = 40.0
MB = 2**20
# What the agent process imports once it runs (the NFC thread imports nfcpy and its UDP
# driver; gpiozero comes with the pins): the reference process imports the same.
AGENT_IMPORTS = "edge.bootstrap, tests.edge.door_harness, nfc, nfc.clf.udp, sqlite3, ssl"


def unit_environment() -> dict[str, str]:
    """The ``Environment=`` settings of the systemd unit: the agent is measured as it runs."""
    values = {}
    for line in UNIT.read_text().splitlines():
        if line.startswith("Environment="):
            name, _, value = line.removeprefix("Environment=").partition("=")
            values[name] = value
    return values


def child_environment() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH", "")
    return {
        **os.environ,
        **unit_environment(),
        "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT),
    }


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS, VmHWM, RssAnon, RssFile and RssShmem of ``pid``, in MB."""
    values = {}
    with Path(f"/proc/{pid}/status").open() as status:
        for line in status:
            name, _, rest = line.partition(":")
            if name in ("VmRSS", "VmHWM", "RssAnon", "RssFile", "RssShmem"):
                values[name] = int(rest.split()[0]) / 1024
    return values


class RssSampler:
    """Samples a process's RSS every ``period`` s; :meth:`phase` starts a new peak (the
    kernel's high-water mark is reset too, so a peak between two samples is not missed)."""

    def __init__(self, pid: int, period: float = 0.02) -> None:
        self.pid, self.period = pid, period
        self._peak: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.phase()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def phase(self) -> None:
        with self._lock:
            with contextlib.suppress(OSError):
                Path(f"/proc/{self.pid}/clear_refs").write_text("5")  # resets VmHWM
            self._peak = {}

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            with contextlib.suppress(OSError), self._lock:
                sample = proc_status(self.pid)  # no VmRSS once the process has exited
                if sample.get("VmRSS", 0) > self._peak.get("VmRSS", 0):
                    self._peak = sample

    def peak(self) -> dict[str, float]:
        """The largest sample of the phase; VmRSS raised to the kernel's high-water mark."""
        with self._lock:
            now = proc_status(self.pid)
            peak = max(self._peak, now, key=lambda s: s["VmRSS"])
            return {**peak, "VmRSS": max(peak["VmRSS"], now.get("VmHWM", 0))}

    def now(self) -> dict[str, float]:
        return proc_status(self.pid)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(1)


def reference_rss() -> dict[str, float]:
    """A bare CPython importing what the agent imports, doing nothing."""
    code = (
        f"import {AGENT_IMPORTS}, gc, time; gc.collect(); time.sleep(0.3); "
        "print(open('/proc/self/status').read())"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=child_environment(),
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    values = {}
    for line in out.splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "RssAnon", "RssFile"):
            values[name] = int(rest.split()[0]) / 1024
    return values


def make_tls(folder: Path) -> Path:
    """The campus CA and a broker certificate for 127.0.0.1, by the project's own script."""
    script = ROOT / "firmware_config" / "mosquitto" / "make-ca.sh"
    subprocess.run(
        ["bash", str(script), "-d", str(folder), "127.0.0.1"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return folder


class RssCase:
    """One agent process (``tests/edge/door_harness.py --commands``) on a real Mosquitto,
    plain or TLS, with a confirmer playing the server on a plain listener."""

    def __init__(self, folder: Path, *, tls: bool) -> None:
        self.folder, self.tls = folder, tls
        folder.mkdir()
        folder.chmod(0o755)
        extra = ""
        self.confirm_port = None
        if tls:
            certs = make_tls(folder / "tls")
            self.confirm_port = free_port()
            extra = (
                f"cafile {certs}/ca.crt\ncertfile {certs}/server.crt\n"
                f"keyfile {certs}/server.key\nlistener {self.confirm_port} 127.0.0.1\n"
            )
        self.broker = Mosquitto(folder / "mosquitto", extra=extra)
        self.outbox = folder / "outbox.sqlite3"
        self.config = folder / "edge.toml"
        tls_lines = f'tls = true\nca_file = "{folder}/tls/ca.crt"\n' if tls else "tls = false\n"
        self.config.write_text(
            'campus = "c1"\nreader = "door-rss"\nlog_level = "WARNING"\n'
            f'[mqtt]\nhost = "127.0.0.1"\nport = {self.broker.port}\n{tls_lines}'
            "reconnect_max_s = 2\nconfirm_timeout_s = 2.0\nconfirm_retry_max_s = 4.0\n"
            f'[nfc]\ndevice = "udp:127.0.0.1:{free_port()}"\ntargets = ["106A"]\n'
            "[feedback]\ngreen = 17\nred = 27\nbuzzer = 23\n"
            f'[outbox]\npath = "{self.outbox}"\n[clock]\nsync_check = "assume-synced"\n'
        )

    def waiting(self) -> int:
        with contextlib.closing(sqlite3.connect(self.outbox, timeout=5)) as db:
            return db.execute("SELECT COUNT(*) FROM taps").fetchone()[0]

    def wait_waiting(self, predicate, timeout: float) -> tuple[int, float]:
        start = time.monotonic()
        while True:
            left = self.waiting()
            if predicate(left) or time.monotonic() - start > timeout:
                return left, time.monotonic() - start
            time.sleep(0.1)

    def confirmer(self) -> Confirmer:
        """The server's part, once the broker (and, with TLS, its plain listener) listens."""
        deadline = time.monotonic() + 10
        while True:
            try:
                return Confirmer(self.confirm_port or self.broker.port)
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def run(
        self, taps: int, backlog: int, interval: float, settle: float
    ) -> list[tuple[str, dict, dict, str]]:
        rows: list[tuple[str, dict, dict, str]] = []
        command = [sys.executable, "-m", "tests.edge.door_harness", "--config", str(self.config)]
        command += ["--nfc", "--commands", "--quiet", "--interval", str(interval), "--lead", "100"]
        with self.broker, (self.folder / "agent.log").open("w") as log:
            confirmer = self.confirmer()
            agent = AgentProcess(command, log)
            try:
                time.sleep(settle)  # connects, polls the NFC device, publishes its status
                rows.append(
                    (f"idle (start + {settle:g} s)", agent.sampler.peak(), agent.sampler.now(), "")
                )

                agent.sampler.phase()
                start = time.monotonic()
                agent.order(f"feed {taps}", "fed all")
                left, _ = self.wait_waiting(lambda n: n == 0, 300)
                rate = f"{taps / (time.monotonic() - start):,.0f} taps/s end to end, {left} left"
                time.sleep(settle / 2)
                rows.append((f"{taps:,} taps recorded and confirmed", agent.sampler.peak(),
                             agent.sampler.now(), rate))  # fmt: skip

                confirmer = self.outage(confirmer)
                agent.sampler.phase()
                agent.order(f"feed {backlog}", "fed all")
                left, _ = self.wait_waiting(lambda n: n >= backlog, 60)
                rows.append((f"backlog: {backlog:,} taps recorded, broker away",
                             agent.sampler.peak(), agent.sampler.now(),
                             f"{left} in the outbox"))  # fmt: skip

                agent.sampler.phase()
                start = time.monotonic()
                self.broker.start()
                confirmer = self.confirmer()
                left, _ = self.wait_waiting(lambda n: n == 0, 300)
                rate = f"{backlog / (time.monotonic() - start):,.0f} taps/s, {left} left"
                drained = agent.sampler.peak()
                time.sleep(settle / 2)
                rows.append((f"backlog of {backlog:,} drained", drained, agent.sampler.now(), rate))

                # A power cut during an outage: a new agent process starts on the backlog.
                confirmer = self.outage(confirmer)
                agent.order(f"feed {backlog}", "fed all")
                left, _ = self.wait_waiting(lambda n: n >= backlog, 60)
                agent.order("stop", "stopped")
                agent.close()
                agent = AgentProcess(command, log)
                time.sleep(settle)
                name = f"restarted on a backlog of {left:,}, broker away (start + {settle:g} s)"
                rows.append((name, agent.sampler.peak(), agent.sampler.now(), ""))
                agent.sampler.phase()
                start = time.monotonic()
                self.broker.start()
                confirmer = self.confirmer()
                left, _ = self.wait_waiting(lambda n: n == 0, 300)
                rate = f"{backlog / (time.monotonic() - start):,.0f} taps/s, {left} left"
                drained = agent.sampler.peak()
                time.sleep(settle / 2)
                rows.append(("that backlog drained after the restart", drained,
                             agent.sampler.now(), rate))  # fmt: skip
                agent.order("stop", "stopped")
            finally:
                agent.close()
                confirmer.close()
        return rows

    def outage(self, confirmer: Confirmer) -> Confirmer:
        """The door is cut off: the broker stops (and the server with it)."""
        self.broker.stop()
        confirmer.close()
        return confirmer


class AgentProcess:
    """One ``door_harness --commands`` process, started, with its RSS sampler."""

    def __init__(self, command: list[str], log) -> None:
        self.child = subprocess.Popen(
            command,
            cwd=ROOT,
            env=child_environment(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )
        self.sampler = RssSampler(self.child.pid)
        assert self.child.stdout is not None
        self.child.stdout.readline()  # "started"

    def order(self, line: str, until: str) -> None:
        assert self.child.stdin is not None and self.child.stdout is not None
        self.child.stdin.write(line + "\n")
        self.child.stdin.flush()
        for answer in self.child.stdout:
            if answer.startswith(until):
                return

    def close(self) -> None:
        self.sampler.close()
        if self.child.poll() is None:
            self.child.terminate()
        self.child.wait(20)


def bench_rss(folder: Path, *, taps: int, backlog: int, interval: float, settle: float) -> None:
    reference = reference_rss()
    ref_mb = reference["VmRSS"]
    print(
        f"reference: bare CPython importing the agent's libraries ({AGENT_IMPORTS}): "
        f"{ref_mb:.1f} MB (anon {reference['RssAnon']:.1f}, file {reference['RssFile']:.1f}); "
        f"env {unit_environment() or 'none'} from {UNIT.name}"
    )
    for tls in (False, True):
        rows = RssCase(folder / ("rss-tls" if tls else "rss-plain"), tls=tls).run(
            taps, backlog, interval, settle
        )
        load = os.getloadavg()[0]
        link = "TLS" if tls else "plain MQTT"
        for name, peak, final, extra in rows:
            worst = max(peak["VmRSS"], final["VmRSS"])
            verdict = "met" if worst < TARGET_MB else "NOT met"
            print(
                f"agent RSS, {link}, {name}: peak {peak['VmRSS']:.1f} MB "
                f"(anon {peak['RssAnon']:.1f}, file {peak['RssFile']:.1f}), "
                f"final {final['VmRSS']:.1f} MB; reference +{worst - ref_mb:.1f} MB; "
                f"target < {TARGET_MB:.0f} MB: {verdict} ({worst / TARGET_MB:.2f})"
                + (f"; {extra}" if extra else "")
                + f"; load {load:.2f}"
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=500)
    parser.add_argument("--outbox-taps", type=int, default=2000)
    parser.add_argument("--rss-taps", type=int, default=10_000)
    parser.add_argument("--backlog-taps", type=int, default=20_000)
    parser.add_argument("--interval", type=float, default=0.0005, help="s between two taps")
    parser.add_argument(
        "--settle", type=float, help="s idle before a reading (3; 1 under 1,000 RSS taps)"
    )
    args = parser.parse_args()
    if args.settle is None:
        args.settle = 3.0 if args.rss_taps >= 1000 else 1.0
    folder = Path(tempfile.mkdtemp(prefix="campus-edge-bench-"))
    folder.chmod(0o755)  # Mosquitto drops root for user "mosquitto"
    try:
        with Mosquitto(folder / "mosquitto") as broker:
            confirmer = Confirmer(broker.port)
            try:
                bench_latency(folder, broker, args.taps)
                bench_outbox(folder, args.outbox_taps)
            finally:
                confirmer.close()
        bench_rss(
            folder,
            taps=args.rss_taps,
            backlog=args.backlog_taps,
            interval=args.interval,
            settle=args.settle,
        )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
