"""Door agent figures: read-feedback latency, durable outbox rate, memory after 10k taps.

    python bench/edge.py [--taps 500] [--outbox-taps 2000] [--rss-taps 10000]

1. Tap detected -> read beep on the pins: the real agent (outbox, paho link to a real
   Mosquitto, feedback thread) on gpiozero's MockFactory, whose pins record when they
   change. "Detected" is when the NFC thread's ``BadgeSeen`` is created. Target p99 < 30 ms.
2. Outbox: taps written durably (SQLite WAL, synchronous=FULL, one transaction each).
3. Agent RSS after 10,000 taps, all delivered: ``tests/edge/door_harness.py`` with its
   NFC thread polling nfcpy's UDP driver, as a separate process. Target < 40 MB.

A tap leaves the outbox only once the server confirms it (protocol v2): here a paho
client plays the server's part (``tests.edge.conftest.Confirmer``: one confirmation per
tap, as soon as it arrives), so the figures do not include the server's store write.
"""

from __future__ import annotations

import argparse
import contextlib
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

import psutil
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
        for number in range(taps):
            rises = len(buzzer.rises)
            detected = time.monotonic()
            door.events.put(BadgeSeen(f"04{number:012x}", detected))
            while len(buzzer.rises) == rises:
                time.sleep(0.0002)
            latencies.append((buzzer.rises[rises] - detected) * 1000)
            time.sleep(0.02)  # 50 taps/s, far busier than a door
        while door.outbox.count:
            time.sleep(0.01)
        door.stop()
        runner.join(10)
    print(
        f"tap detected -> read beep on the pin ({taps} taps, 50/s): "
        f"p50 {statistics.median(latencies):.2f} ms  p99 {percentile(latencies, 0.99):.2f} ms  "
        f"max {max(latencies):.2f} ms"
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


def bench_rss(folder: Path, broker: Mosquitto, taps: int) -> None:
    config = folder / "rss.toml"
    config.write_text(
        f'campus = "c1"\nreader = "door-rss"\n[mqtt]\nhost = "127.0.0.1"\n'
        f"port = {broker.port}\ntls = false\n"
        f'[nfc]\ndevice = "udp:127.0.0.1:{free_port()}"\ntargets = ["106A"]\n'
        f"[feedback]\ngreen = 17\nred = 27\nbuzzer = 23\n"
        f'[outbox]\npath = "{folder}/rss.sqlite3"\n[clock]\nsync_check = "assume-synced"\n'
    )
    command = [sys.executable, "-m", "tests.edge.door_harness", "--config", str(config)]
    command += ["--nfc", "--taps", str(taps), "--interval", "0.0005"]
    child = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        child.stdout.readline()  # "started"
        time.sleep(1.0)
        idle = psutil.Process(child.pid).memory_info().rss
        start = time.monotonic()
        for line in child.stdout:
            if line.startswith("fed all"):
                break
        waiting = taps
        while waiting and time.monotonic() - start < 300:
            time.sleep(0.2)
            with contextlib.closing(sqlite3.connect(folder / "rss.sqlite3")) as db:
                waiting = db.execute("SELECT COUNT(*) FROM taps").fetchone()[0]
        elapsed = time.monotonic() - start
        rss = psutil.Process(child.pid).memory_info().rss
    finally:
        child.terminate()
        child.wait(20)
    print(
        f"agent RSS: {idle / 2**20:.1f} MB idle, {rss / 2**20:.1f} MB after {taps:,} taps "
        f"recorded and confirmed ({taps / elapsed:,.0f} taps/s end to end, {waiting} left)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=500)
    parser.add_argument("--outbox-taps", type=int, default=2000)
    parser.add_argument("--rss-taps", type=int, default=10_000)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="campus-edge-bench-"))
    folder.chmod(0o755)  # Mosquitto drops root for user "mosquitto"
    try:
        with Mosquitto(folder / "mosquitto") as broker:
            confirmer = Confirmer(broker.port)
            try:
                bench_latency(folder, broker, args.taps)
                bench_outbox(folder, args.outbox_taps)
                bench_rss(folder, broker, args.rss_taps)
            finally:
                confirmer.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
