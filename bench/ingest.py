"""Ingest benchmark: C publishers -> real Mosquitto -> ingest workers -> real event store.

Not a test: it prints figures as ratios against references measured in the same run, on
the same broker, with the same payloads, and the load average beside them.

For each store (SQLite, the default, and InfluxDB 1.6 through its v1 API):

1. Raw broker, live: one ``mosquitto_pub -q 1 -l`` (a C client) per reader topic
   publishes its lines of tap JSON while ``mosquitto_sub -q 1`` (C, MQTT 5) counts them.
2. Raw broker, drained: the same taps are queued for ``mosquitto_sub``'s persistent
   session first, then it starts and drains them.
3. Ingest, live: the same C publishers while ``--workers`` ingest processes (the real
   ingest of ``campus-presence serve``: MQTT 5 shared subscription, manual PUBACK after
   the store write returned, a confirmation per reader and batch, protocol v2) run;
   time from the first publish to the last tap stored.
4. Ingest, drained: the taps are queued for the workers' sessions, then they start.
   Ratio ingest / raw; target: ingest >= 0.6 of raw live.
   Beside the rates, the CPU time per tap of the live phases (Linux /proc and wait4):
   ``mosquitto_sub`` against all the ingest workers together, the broker's in each, and
   influxd's while the ingest wrote to it: figures that a shared machine's load disturbs
   less than the rates, and that say where the 2 cores went.

Then, once (store as in ``--badge-store``): **one badge, N taps in a day** against the
same N taps from ``--badge-students`` distinct badges in turn (N of them if N is smaller;
importing thousands of students into the registry takes minutes), fed one tap per batch
through the whole ingest use case of ``serve`` (store write, week re-opening, live
occupancy, the readers' feedback, late arrivals): the per-tap cost must not grow with a
badge's taps of the day (ratio ~ 1).
And the latency from a tap's ``ts`` to its write at a campus-like 100 taps/s.

And the SQLite store's write alone (``--write-prefill`` taps in the file first): CPU
time per tap as before issue 16's SQLite work (random UUID4 tap ids, a (campus, reader,
ts_us) index), with the doors' time-ordered ids, and now, in the same run.

With ``--rounds N`` the phases run N times per store (new workers and taps each time) and
the live verdict is the median of the rounds' ratios. Each round first waits (up to 60 s)
for an idle machine: influxd compacts the points of the round before for a while.

Run: ``python bench/ingest.py [--readers 10] [--taps 20000] [--workers 2] [--rounds 3]
[--tap-ids edge|uuid4] [--write-prefill 100000]``
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from edge.outbox import new_tap_id  # noqa: E402
from edge.protocol import Tap, taps_topic  # noqa: E402
from tests.services import Influxd, Mosquitto  # noqa: E402

CAMPUS = "bench"
SECRET = "bench-secret-0123456789-abcdefghij"


# Tap ids as the doors give them (edge.outbox.new_tap_id: time-ordered), or random UUID4s
# as doors gave them before (--tap-ids uuid4): the SQLite store writes the latter at a
# random page of its tap-id index for every tap.
TAP_IDS = {"edge": new_tap_id, "uuid4": lambda: uuid.uuid4().hex}
tap_id = new_tap_id


def reader_ids(count: int) -> list[str]:
    return [f"door-{index}" for index in range(1, count + 1)]


_TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process (Linux /proc), in seconds: figures
    that hold better than rates on a shared machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.2f}/{five:.2f} (1/5 min)"


def _busy_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far (Linux /proc/stat)."""
    values = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = values[3] + values[4]  # idle, iowait
    return sum(values) - idle, sum(values)


def settle(limit_s: float = 60.0, busy_share: float = 0.1) -> float:
    """Wait until the machine is idle (under ``busy_share`` of its CPUs busy for a
    second), at most ``limit_s``: each round starts from the same state, not beside the
    previous round's leftovers (influxd compacting the points it was just sent). Returns
    the seconds waited."""
    started = time.monotonic()
    while time.monotonic() - started < limit_s:
        busy, total = _busy_ticks()
        time.sleep(1.0)
        busy_after, total_after = _busy_ticks()
        if busy_after - busy <= busy_share * max(total_after - total, 1):
            break
    return time.monotonic() - started


def settings_for(store: str, mqtt_port: int, influx_url: str, folder: str, client_id: str, readers):
    from server.config import CampusSettings, EventSettings, InfluxSettings, MqttSettings, Settings

    return Settings(
        data_dir=Path(folder),
        log_level="WARNING",
        badge_secret=SECRET,
        # A group per store: the sessions of the previous store's workers (kept for the
        # session expiry) would otherwise take their share of the next store's taps.
        mqtt=MqttSettings(port=mqtt_port, client_id=client_id, protocol=5, shared_group=store),
        events=EventSettings(backend=store),
        influxdb=InfluxSettings(url=influx_url, api_version=1, database="bench"),
        campuses=(CampusSettings(CAMPUS, "", tuple(readers)),),
    )


# --------------------------------------------------------------------------- ingest worker


def worker_main(settings, stored, conn) -> None:
    """Runs in a fresh process: the real ingest (``build_ingest``), one of the workers on
    the shared subscription, started as ``campus-presence serve`` starts it (then what
    it built to start is kept out of the collector's way). ``stored`` is a shared
    counter of newly stored taps."""
    from server.bootstrap import build_ingest
    from server.process import keep_startup_objects

    latencies: list[float] = []
    timing = False  # latencies only in the steady phase: not charged to the bulk phases

    def record(taps) -> None:
        if timing:
            now = datetime.now(UTC)
            latencies.extend((now - tap.ts).total_seconds() * 1000 for tap in taps)
        with stored.get_lock():
            stored.value += len(taps)

    app = None
    while True:
        command = conn.recv()
        if command == "start":
            app = build_ingest(settings)
            app.service.on_taps_stored(record)
            app.start()
            subscribed = app.consumer.wait_subscribed(30)
            keep_startup_objects()
            conn.send(subscribed)
        elif command == "time":
            timing = True
            conn.send(timing)
        elif command == "latencies":
            conn.send(list(latencies))
            latencies.clear()
            timing = False
        elif command == "close":  # the broker keeps the session and queues for it
            app.close()
            conn.send(app.service.counters.snapshot())
        else:
            conn.send(_peak_rss_kb())
            return


def _peak_rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


class Workers:
    """One ingest process per client id (``settings_of`` gives each its settings)."""

    def __init__(self, client_ids: list[str], settings_of) -> None:
        ctx = mp.get_context("spawn")
        self.client_ids = client_ids
        self.stored = ctx.Value("q", 0)
        self.pipes = []
        self.processes = []
        for client_id in client_ids:
            parent, child = ctx.Pipe()
            process = ctx.Process(
                target=worker_main, args=(settings_of(client_id), self.stored, child)
            )
            process.start()
            self.pipes.append(parent)
            self.processes.append(process)

    def _all(self, command: str) -> list:
        for pipe in self.pipes:
            pipe.send(command)
        return [pipe.recv() for pipe in self.pipes]

    def start(self) -> None:
        assert all(self._all("start")), "an ingest worker did not subscribe"

    def close(self) -> list[dict]:
        return self._all("close")

    def time_latencies(self) -> None:
        """From now on each stored tap's latency is kept, until :meth:`latencies`."""
        self._all("time")

    def latencies(self) -> list[float]:
        return [value for chunk in self._all("latencies") for value in chunk]

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(process.pid) for process in self.processes)

    def wait_stored(self, total: int, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while self.stored.value < total:
            if time.monotonic() > deadline:
                raise TimeoutError(f"stored {self.stored.value} of {total}")
            time.sleep(0.002)

    def exit(self) -> int:
        peaks = self._all("exit")
        for process in self.processes:
            process.join(30)
        return max(peaks)


# --------------------------------------------------------------------------- C clients


def payload_files(folder: Path, readers: list[str], per_reader: int, label: str) -> list[Path]:
    """One file of tap JSON lines (distinct ids, ~110 bytes) per reader."""
    files = []
    now = datetime.now(UTC)
    for number, reader in enumerate(readers):
        path = folder / f"{label}-{reader}.jsonl"
        lines = [
            Tap(
                id=tap_id(),
                uid=f"04{number:04x}{index:08x}",
                ts=now,
                seq=index + 1,
            ).to_json()
            for index in range(per_reader)
        ]
        path.write_bytes(b"\n".join(lines) + b"\n")
        files.append(path)
    return files


def c_publish(port: int, readers: list[str], files: list[Path]) -> None:
    """One ``mosquitto_pub -q 1 -l`` per reader topic, all at once; waits for them."""
    processes = []
    for reader, path in zip(readers, files, strict=True):
        with path.open("rb") as lines:
            command = ["mosquitto_pub", "-p", str(port), "-q", "1", "-V", "mqttv5", "-l"]
            command += ["-i", f"pub-{reader}", "-t", taps_topic(CAMPUS, reader)]
            processes.append(subprocess.Popen(command, stdin=lines))
    for process in processes:
        if process.wait(600) != 0:
            raise RuntimeError("mosquitto_pub failed")


SUB_TOPIC = f"campus/{CAMPUS}/readers/+/taps"


def _sub(port: int, *extra: str) -> list[str]:
    return ["mosquitto_sub", "-p", str(port), "-q", "1", "-V", "mqttv5", "-t", SUB_TOPIC, *extra]


def raw_live(
    port: int, readers: list[str], files: list[Path], total: int, broker_pid: int
) -> tuple[float, float, float]:
    """(taps/s, CPU s of mosquitto_sub, CPU s of the broker) for ``total`` taps."""
    subscriber = subprocess.Popen(_sub(port, "-C", str(total)), stdout=subprocess.DEVNULL)
    time.sleep(0.5)  # let it subscribe
    broker_before = cpu_seconds(broker_pid)
    start = time.monotonic()
    c_publish(port, readers, files)
    _, status, usage = os.wait4(subscriber.pid, 0)  # its CPU time, as it is reaped
    subscriber.returncode = os.waitstatus_to_exitcode(status)
    rate = total / (time.monotonic() - start)
    return rate, usage.ru_utime + usage.ru_stime, cpu_seconds(broker_pid) - broker_before


def raw_drained(port: int, readers: list[str], files: list[Path], total: int, name: str) -> float:
    session = ["-c", "-i", name, "-x", "3600"]
    subprocess.run(_sub(port, *session, "-W", "1"), capture_output=True, check=False)
    c_publish(port, readers, files)
    start = time.monotonic()
    subprocess.run(
        _sub(port, *session, "-C", str(total)), stdout=subprocess.DEVNULL, check=True, timeout=600
    )
    rate = total / (time.monotonic() - start)
    # End the session (clean start, no expiry): the broker must not queue the next
    # phases' taps for it.
    subprocess.run(_sub(port, "-i", name, "-E"), capture_output=True, check=False, timeout=60)
    return rate


# --------------------------------------------------------------------------- paho (latency)


def steady(port: int, readers: list[str], rate: float, seconds: float) -> int:
    """``rate`` taps/s from paho readers (stamped when sent), for ``seconds``."""
    clients = []
    for reader in readers:
        client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=f"steady-{reader}", protocol=mqtt.MQTTv5
        )
        client.connect("127.0.0.1", port)
        client.loop_start()
        clients.append((reader, client))
    count = int(rate * seconds)
    start = time.monotonic()
    infos = []
    for index in range(count):
        delay = start + index / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        reader, client = clients[index % len(clients)]
        tap = Tap(id=tap_id(), uid=f"05{index:012x}", ts=datetime.now(UTC), seq=index + 1)
        infos.append(client.publish(taps_topic(CAMPUS, reader), tap.to_json(), qos=1))
    for info in infos:
        info.wait_for_publish(30)
    for _, client in clients:
        client.disconnect()
        client.loop_stop()
    return count


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


# --------------------------------------------------------------------------- one store


def store_run(
    args, store: str, broker: Mosquitto, influxd: Influxd, folder: Path, round_: int = 0
) -> dict:
    """One round of the phases for ``store``; the steady-rate latency only in the first."""
    influx_url = influxd.url
    readers = reader_ids(args.readers)
    per_reader = args.taps // args.readers
    total = per_reader * args.readers
    port = broker.port
    data = folder / f"{store}-{round_}"
    data.mkdir()
    figures: dict = {"total": total}

    broker_pid = broker.process.pid
    figures["settled_s"] = settle()
    figures["raw_live"], figures["cpu_sub"], figures["cpu_broker_raw"] = raw_live(
        port, readers, payload_files(data, readers, per_reader, "a"), total, broker_pid
    )
    figures["raw_drained"] = raw_drained(
        port, readers, payload_files(data, readers, per_reader, "b"), total, f"raw-{store}"
    )
    figures["load_raw"] = load()

    workers = Workers(
        [f"bench-ingest-{index}-{store}" for index in range(args.workers)],
        lambda client_id: settings_for(store, port, influx_url, str(data), client_id, readers),
    )
    workers.start()  # the sessions: the broker queues for them from now on
    workers.close()
    c_publish(port, readers, payload_files(data, readers, per_reader, "c"))
    start = time.monotonic()
    workers.start()
    workers.wait_stored(total)
    figures["ingest_drained"] = total / (time.monotonic() - start)

    files = payload_files(data, readers, per_reader, "d")
    time.sleep(0.2)
    influxd_pid = influxd.process.pid
    cpu_before = workers.cpu_seconds(), cpu_seconds(broker_pid), cpu_seconds(influxd_pid)
    start = time.monotonic()
    c_publish(port, readers, files)
    workers.wait_stored(2 * total)
    figures["ingest_live"] = total / (time.monotonic() - start)
    figures["cpu_workers"] = workers.cpu_seconds() - cpu_before[0]
    figures["cpu_broker_ingest"] = cpu_seconds(broker_pid) - cpu_before[1]
    figures["cpu_influxd"] = cpu_seconds(influxd_pid) - cpu_before[2]
    figures["load_ingest"] = load()

    if args.rate_seconds > 0 and round_ == 0:
        workers.time_latencies()
        sent = steady(port, readers, args.rate, args.rate_seconds)
        workers.wait_stored(2 * total + sent)
        figures["latencies"] = workers.latencies()
    counters = workers.close()
    figures["confirmed"] = sum(item["confirmed"] for item in counters)
    figures["rejected"] = sum(item["rejected_total"] for item in counters)
    figures["peak_rss_mb"] = workers.exit() / 1024
    for client_id in workers.client_ids:  # end the workers' sessions: the next round's
        subprocess.run(  # taps must not be queued for them
            _sub(port, "-i", client_id, "-E"), capture_output=True, timeout=60
        )
    return figures


def print_store(args, store: str, rounds: list[dict]) -> None:
    """The first round's figures in full; with several rounds, each round's live rates
    and ratio, and the verdict on the median of the rounds' ratios (raw and ingest of a
    round are measured one after the other: the machine's speed, which moves by ~25 %
    on a shared host, is the closest then)."""
    label = {"sqlite": "SQLite", "influxdb": "InfluxDB 1.6"}[store]
    figures = rounds[0]
    ratios = [item["ingest_live"] / item["raw_live"] for item in rounds]
    live = statistics.median(ratios)
    drained = figures["ingest_drained"] / figures["raw_drained"]
    print(f"[{label}] {figures['total']} taps per phase, {args.workers} ingest worker(s)")
    for number, item in enumerate(rounds, start=1):
        print(
            f"  live, round {number}: raw C pub -> mosquitto -> mosquitto_sub "
            f"{item['raw_live']:,.0f} taps/s; ingest {item['ingest_live']:,.0f} taps/s; "
            f"ratio {ratios[number - 1]:.2f}; {item['load_ingest']}; "
            f"{item['settled_s']:.0f} s waited for an idle machine first"
        )
    what = "ratio" if len(rounds) == 1 else f"median ratio of {len(rounds)} rounds"
    print(
        f"  live: {what} {live:.3f} "
        f"({'met' if live >= 0.6 else 'NOT met'}: ingest >= 0.6 of raw live)"
    )
    print(
        f"  drained: raw {figures['raw_drained']:,.0f} taps/s; "
        f"ingest {figures['ingest_drained']:,.0f} taps/s; ratio {drained:.2f}"
    )
    per_tap = 1e6 / figures["total"]
    print(
        f"  CPU per tap, live: mosquitto_sub {figures['cpu_sub'] * per_tap:.1f} us, "
        f"ingest workers {figures['cpu_workers'] * per_tap:.1f} us (all {args.workers}); "
        f"broker {figures['cpu_broker_raw'] * per_tap:.1f} us (raw) / "
        f"{figures['cpu_broker_ingest'] * per_tap:.1f} us (ingest)"
        + (
            f"; influxd {figures['cpu_influxd'] * per_tap:.1f} us (until the last tap stored)"
            if store == "influxdb"
            else ""
        )
    )
    latencies = figures.get("latencies")
    if latencies:
        print(
            f"  latency ts -> stored at {args.rate:g} taps/s ({len(latencies)} taps): "
            f"p50 {statistics.median(latencies):.1f} ms, p99 {percentile(latencies, 0.99):.1f} ms"
        )
    print(
        f"  {figures['load_raw']} after the raw phases, {figures['load_ingest']} after the "
        f"ingest; confirmed {figures['confirmed']}, rejected {figures['rejected']}, "
        f"peak RSS of a worker {figures['peak_rss_mb']:.1f} MB"
    )


# --------------------------------------------------------------------------- one badge


def badge_run(args, store: str, port: int, influx_url: str, folder: Path) -> tuple[float, float]:
    """Taps/s through the whole ingest use case of ``serve``, one tap per batch: one badge
    tapping ``--badge-taps`` times in a day, then as many taps of ``--badge-students``
    badges in turn. The second half of each phase is timed (warm, a long day behind)."""
    from bench.reference.trees import people_unit_of_work
    from server.bootstrap import build_server
    from server.config import CampusSettings, InfluxSettings
    from server.domain.accounts import Actor
    from server.domain.events import InboundMessage
    from server.services.people.campuses import sync_campuses
    from server.services.people.student_import import import_students

    count = args.badge_taps
    students = min(count, args.badge_students)
    registry_file = folder / "registry.sqlite3"
    day = (datetime.now(UTC) - timedelta(days=7)).replace(hour=7, minute=0, second=0, microsecond=0)
    rates = []
    for phase, badges in (("one", 1), ("distinct", students)):
        data = folder / f"badge-{phase}"
        data.mkdir()
        base = settings_for(store, port, influx_url, str(data), f"bench-badge-{phase}", ["door-1"])
        settings = replace(
            base,
            registry_url=f"sqlite:///{registry_file}",
            influxdb=InfluxSettings(url=influx_url, api_version=1, database=f"bench_{phase}"),
            campuses=(CampusSettings(CAMPUS, "Bench", ("door-1",)),),
        )
        if phase == "one":
            from server.registry.database import open_registry

            engine, registry = open_registry(settings.registry_database_url)
            sync_campuses(people_unit_of_work(registry), settings)
            import_students(
                people_unit_of_work(registry),
                _students_csv(students),
                campus_id=CAMPUS,
                secret=SECRET.encode(),
                timezone="Europe/Paris",
                retention_days=400,
                actor=Actor("bench", day - timedelta(days=30)),
            )
            engine.dispose()
        moment = [day]
        app = build_server(settings, clock=lambda moment=moment: moment[0])
        app.ingest.store.setup()
        service = app.ingest.service
        topic = taps_topic(CAMPUS, "door-1")
        start = time.monotonic()
        for index in range(count):
            if index == count // 2:  # the second half is timed: the badge's day is long
                start = time.monotonic()
            ts = day + timedelta(seconds=5.5 * index)
            moment[0] = ts + timedelta(milliseconds=300)
            uid = _uid(index % badges)
            tap = Tap(id=tap_id(), uid=uid, ts=ts, seq=index + 1)
            result = service.handle_batch([InboundMessage(topic, tap.to_json(), moment[0])])
            assert len(result.stored) == 1, result
        rates.append((count - count // 2) / (time.monotonic() - start))
        app.ingest.store.close()
        app.engine.dispose()
    return rates[0], rates[1]


# --------------------------------------------------------------------------- store write


def store_write_run(prefill: int, batch: int, taps: int) -> list[float]:
    """CPU time per tap of ``SqliteEventStore.write_taps`` alone (one thread, batches of
    ``batch``), on a file already holding ``prefill`` taps, in the same run: as before
    issue 16's SQLite work (random UUID4 tap ids, the (campus, reader, ts_us) index), with
    the ids the doors give now (time-ordered) and that index, and now (without it). The
    commit (WAL, synchronous=FULL) is in the figures."""
    from server.adapters.sqlite_events import SqliteEventStore
    from server.domain.events import StoredTap

    results = []
    for ids, reader_index in (("uuid4", True), ("edge", True), ("edge", False)):
        make_id = TAP_IDS[ids]
        with tempfile.TemporaryDirectory() as folder:
            store = SqliteEventStore(Path(folder) / "events.sqlite3")
            store.setup()
            if reader_index:
                store._connection().execute(
                    "CREATE INDEX taps_by_reader ON taps (campus, reader, ts_us)"
                )
            now = datetime.now(UTC)

            def batch_of(first: int, make_id=make_id, now=now) -> list[StoredTap]:
                return [
                    StoredTap(
                        make_id(),
                        CAMPUS,
                        f"door-{number % 10}",
                        f"{number % 500:064x}",
                        now + timedelta(milliseconds=number),
                        number,
                        now,
                        True,
                    )
                    for number in range(first, first + batch)
                ]

            for first in range(0, prefill, batch):
                store.write_taps(batch_of(first - prefill))
            batches = [batch_of(first) for first in range(0, taps, batch)]
            start = time.thread_time()
            for taps_of_batch in batches:
                store.write_taps(taps_of_batch)
            results.append((time.thread_time() - start) / (len(batches) * batch) * 1e6)
            store.close()
    return results


def _uid(number: int) -> str:
    return f"04{number:012x}"


def _students_csv(count: int) -> bytes:
    header = (
        "student_id;last_name;first_name;email;phone;tutor_email;badge_uid;weekly_hours;slots;"
        "contract_start;contract_end;programme;institution;institution_type"
    )
    year = datetime.now(UTC).year
    rows = [
        f"B{number:05d};Nom{number};Prénom;b{number}@example.org;0600000000;tuteur@campus.fr;"
        f'{_uid(number)};12;"lun 09:00-12:00";{year - 1}-09-01;{year + 1}-06-30;BTS;CNED;public'
        for number in range(count)
    ]
    return ("\n".join([header, *rows]) + "\n").encode()


# --------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--readers", type=int, default=10)
    parser.add_argument("--taps", type=int, default=20000)
    parser.add_argument("--workers", type=int, default=2, help="ingest processes (default 2)")
    parser.add_argument("--stores", default="sqlite,influxdb")
    parser.add_argument(
        "--rounds", type=int, default=1, help="rounds of the phases per store (verdict: median)"
    )
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--rate-seconds", type=float, default=10.0)
    parser.add_argument("--badge-taps", type=int, default=5000)
    parser.add_argument(
        "--badge-students",
        type=int,
        default=1000,
        help="badges of the 'distinct' side, each tapping in turn (registry import is slow)",
    )
    parser.add_argument("--badge-store", default="sqlite", choices=["sqlite", "influxdb"])
    parser.add_argument(
        "--write-prefill",
        type=int,
        default=100_000,
        help="SQLite write phase: taps in the file before (0: no such phase)",
    )
    parser.add_argument("--write-batches", type=int, default=20, help="timed, per batch size")
    parser.add_argument(
        "--tap-ids",
        default="edge",
        choices=sorted(TAP_IDS),
        help="tap ids as the doors give them (edge, time-ordered) or random UUID4s",
    )
    args = parser.parse_args()
    stores = [store.strip() for store in args.stores.split(",") if store.strip()]
    global tap_id
    tap_id = TAP_IDS[args.tap_ids]

    print(
        f"machine cores: {mp.cpu_count()}, {load()} at start; {args.readers} reader topics; "
        f"tap ids: {args.tap_ids}"
    )
    with (
        tempfile.TemporaryDirectory() as name,
        Mosquitto(Path(name) / "mqtt") as broker,
        Influxd(Path(name) / "influx") as influxd,
    ):
        folder = Path(name)
        for store in stores:
            rounds = [
                store_run(args, store, broker, influxd, folder, round_)
                for round_ in range(args.rounds)
            ]
            print_store(args, store, rounds)
        if args.write_prefill:
            for batch in (100, 1000):
                before, ids, now = store_write_run(
                    args.write_prefill, batch, args.write_batches * batch
                )
                print(
                    f"[SQLite write] CPU per tap, batches of {batch}, {args.write_prefill:,} "
                    f"taps in the file: UUID4 ids + reader index (before) {before:.1f} us; "
                    f"the doors' time-ordered ids {ids:.1f} us; and no reader index (now) "
                    f"{now:.1f} us; ratio now/before {now / before:.2f}; {load()}"
                )
        if args.badge_taps:
            one, distinct = badge_run(args, args.badge_store, broker.port, influxd.url, folder)
            print(
                f"[{args.badge_store}] one tap per batch through serve's ingest use case, "
                "second half of the day timed: "
                f"one badge x {args.badge_taps} taps in a day {one:,.0f} taps/s; "
                f"{args.badge_taps} taps of {min(args.badge_taps, args.badge_students)} "
                f"badges in turn {distinct:,.0f} taps/s; "
                f"ratio {one / distinct:.2f} (target ~1); {load()}"
            )


if __name__ == "__main__":
    main()
