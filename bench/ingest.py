"""Ingest benchmark: simulated readers -> real Mosquitto -> ingest -> real InfluxDB (v1 API).

Not a test: it prints figures, all measured in the same run on this machine.

1. Raw broker rate: the readers publish T taps while ``mosquitto_sub`` (QoS 1, MQTT 5) is
   away; the broker queues them for its session; time to drain them.
2. Ingest rate: the same with the ingest (its own process, MQTT 5 shared subscription,
   manual acknowledgement after the InfluxDB write) away, then started: time from its
   start to the last tap stored. Ratio = ingest rate / raw rate (target >= 0.6). Draining
   a queue measures the receiving side alone, not how fast Python publishers can publish.
3. Latency at a campus-like load: 100 taps/s for a few seconds; latency is from the
   tap's own ``ts`` to the moment the InfluxDB write returned (target p99 < 50 ms).
4. Peak RSS of the ingest process (VmHWM).

Run: ``python bench/ingest.py [--readers 10] [--taps 20000] [--rate-seconds 10]``
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edge.protocol import Tap, taps_topic  # noqa: E402
from tests.services import Influxd, Mosquitto  # noqa: E402

CAMPUS = "bench"


def reader_ids(count: int) -> list[str]:
    return [f"door-{index}" for index in range(1, count + 1)]


# --------------------------------------------------------------------------- consumer side


def consumer_main(mqtt_port: int, influx_url: str, readers: list[str], data_dir: str, conn) -> None:
    """Runs in a fresh process: the real ingest, plus a listener that timestamps writes."""
    from server.bootstrap import build_ingest
    from server.config import CampusSettings, EventSettings, InfluxSettings, MqttSettings, Settings

    settings = Settings(
        data_dir=Path(data_dir),
        log_level="WARNING",
        badge_secret="bench-secret-0123456789",
        mqtt=MqttSettings(port=mqtt_port, client_id="bench-ingest", protocol=5),
        events=EventSettings(backend="influxdb"),
        influxdb=InfluxSettings(url=influx_url, api_version=1, database="bench"),
        campuses=(CampusSettings(CAMPUS, "", tuple(readers)),),
    )
    latencies: list[float] = []

    def record(taps) -> None:
        now = datetime.now(UTC)
        latencies.extend((now - tap.ts).total_seconds() * 1000 for tap in taps)

    app = None
    while True:
        command, value = conn.recv()
        if command == "start":  # connect, drain what the broker queued: `value` taps
            began = time.monotonic()
            app = build_ingest(settings)
            app.service.on_taps_stored(record)
            app.start()
            app.consumer.wait_subscribed(10)
            while app.service.counters.snapshot()["stored"] < value:
                time.sleep(0.001)
            conn.send(time.monotonic() - began)
        elif command == "wait":  # until `value` taps are stored by this app
            while app.service.counters.snapshot()["stored"] < value:
                time.sleep(0.002)
            conn.send(None)
        elif command == "latencies":
            conn.send(list(latencies))
            latencies.clear()
        elif command == "pause":  # disconnect; the broker keeps the session and queues
            app.close()
            conn.send(app.service.counters.snapshot())
        else:
            conn.send({"peak_rss_kb": _peak_rss_kb()})
            return


def _peak_rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


# --------------------------------------------------------------------------- reader side


class Readers:
    """One paho client per simulated reader, publishing QoS 1 taps."""

    def __init__(self, port: int, readers: list[str]) -> None:
        self.clients: dict[str, mqtt.Client] = {}
        self.seq = dict.fromkeys(readers, 0)
        for reader in readers:
            client = mqtt.Client(
                mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-{reader}", protocol=mqtt.MQTTv5
            )
            client.max_inflight_messages_set(1000)
            client.connect("127.0.0.1", port)
            client.loop_start()
            self.clients[reader] = client

    def publish(self, reader: str) -> mqtt.MQTTMessageInfo:
        self.seq[reader] += 1
        tap = Tap(
            id=uuid.uuid4().hex,
            uid=f"04{self.seq[reader]:012x}",
            ts=datetime.now(UTC),
            seq=self.seq[reader],
        )
        return self.clients[reader].publish(taps_topic(CAMPUS, reader), tap.to_json(), qos=1)

    def burst(self, total: int) -> None:
        """Every reader publishes its share as fast as the broker takes it."""
        per_reader = total // len(self.clients)

        def run(reader: str) -> None:
            infos = []
            for _ in range(per_reader):
                infos.append(self.publish(reader))
                if len(infos) >= 500:
                    infos.pop(0).wait_for_publish(30)
            for info in infos:
                info.wait_for_publish(30)

        threads = [threading.Thread(target=run, args=(reader,)) for reader in self.clients]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def steady(self, rate: float, seconds: float) -> int:
        """``rate`` taps/s spread over the readers, for ``seconds``; returns taps sent."""
        readers = list(self.clients)
        count = int(rate * seconds)
        start = time.monotonic()
        infos = []
        for index in range(count):
            delay = start + index / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            infos.append(self.publish(readers[index % len(readers)]))
        for info in infos:
            info.wait_for_publish(30)
        return count

    def close(self) -> None:
        for client in self.clients.values():
            client.disconnect()
            client.loop_stop()


def raw_live_rate(port: int, readers: list[str], total: int) -> float:
    """``mosquitto_sub`` receives ``total`` taps while the readers publish them."""
    topic = f"campus/{CAMPUS}/readers/+/taps"
    command = ["mosquitto_sub", "-p", str(port), "-q", "1", "-V", "mqttv5", "-t", topic]
    subscriber = subprocess.Popen([*command, "-C", str(total)], stdout=subprocess.DEVNULL)
    time.sleep(0.5)  # let it subscribe
    publishers = Readers(port, readers)
    start = time.monotonic()
    publishers.burst(total)
    subscriber.wait(300)
    elapsed = time.monotonic() - start
    publishers.close()
    return total / elapsed


def raw_drain_rate(port: int, readers: list[str], total: int) -> float:
    """``mosquitto_sub`` drains ``total`` taps queued for its persistent session."""
    base = ["mosquitto_sub", "-p", str(port), "-q", "1", "-V", "mqttv5", "-x", "3600"]
    base += ["-c", "-i", "raw-sub", "-t", f"campus/{CAMPUS}/readers/+/taps"]
    subprocess.run([*base, "-W", "1"], capture_output=True, check=False)  # the session
    publishers = Readers(port, readers)
    publishers.burst(total)
    publishers.close()
    start = time.monotonic()
    subprocess.run([*base, "-C", str(total)], stdout=subprocess.DEVNULL, check=True, timeout=300)
    return total / (time.monotonic() - start)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--readers", type=int, default=10)
    parser.add_argument("--taps", type=int, default=20000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--rate-seconds", type=float, default=10.0)
    args = parser.parse_args()
    readers = reader_ids(args.readers)
    total = args.taps // args.readers * args.readers

    with (
        tempfile.TemporaryDirectory() as folder,
        Mosquitto(Path(folder) / "mqtt") as broker,
        Influxd(Path(folder) / "influx") as influxd,
    ):
        raw_live = raw_live_rate(broker.port, readers, total)
        raw_drain = raw_drain_rate(broker.port, readers, total)

        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        consumer = ctx.Process(
            target=consumer_main, args=(broker.port, influxd.url, readers, folder, child)
        )
        consumer.start()
        parent.send(("start", 0))  # first connection: the broker records the session
        parent.recv()
        parent.send(("pause", None))
        parent.recv()

        publishers = Readers(broker.port, readers)
        publishers.burst(total)  # queued by the broker for the absent ingest
        parent.send(("start", total))
        ingest_drain = total / parent.recv()

        start = time.monotonic()
        publishers.burst(total)  # the ingest is up: it stores while the readers publish
        parent.send(("wait", 2 * total))
        parent.recv()
        ingest_live = total / (time.monotonic() - start)
        parent.send(("latencies", None))
        parent.recv()

        sent = publishers.steady(args.rate, args.rate_seconds)
        parent.send(("wait", 2 * total + sent))
        parent.recv()
        parent.send(("latencies", None))
        steady_latencies = parent.recv()
        publishers.close()
        parent.send(("pause", None))
        counters = parent.recv()
        parent.send(("exit", None))
        final = parent.recv()
        consumer.join(30)

    print(f"readers: {args.readers}, taps per phase: {total}, machine cores: {mp.cpu_count()}")
    print("live: 10 paho readers publish while the receiver runs (as in docs/scaling.md)")
    print(f"  raw: paho -> mosquitto -> mosquitto_sub, QoS 1: {raw_live:,.0f} taps/s")
    print(f"  ingest: paho -> mosquitto -> ingest -> influxd 1.6: {ingest_live:,.0f} taps/s")
    print(f"  ratio ingest / raw: {ingest_live / raw_live:.2f} (target >= 0.6)")
    print("drain: the taps wait in the broker for the receiver's session (receiving side only)")
    print(f"  raw: mosquitto -> mosquitto_sub (C), QoS 1: {raw_drain:,.0f} taps/s")
    print(f"  ingest: mosquitto -> ingest -> influxd 1.6: {ingest_drain:,.0f} taps/s")
    print(f"  ratio ingest / raw: {ingest_drain / raw_drain:.2f}")
    print(
        f"latency ts -> stored at {args.rate:g} taps/s ({len(steady_latencies)} taps): "
        f"p50 {statistics.median(steady_latencies):.1f} ms, "
        f"p99 {percentile(steady_latencies, 0.99):.1f} ms (target p99 < 50 ms)"
    )
    print(f"ingest process peak RSS: {final['peak_rss_kb'] / 1024:.1f} MB")
    print(f"ingest counters (last run): {counters}")


if __name__ == "__main__":
    main()
