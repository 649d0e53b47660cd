"""Benchmark of the web pages (not a test; prints figures).

A campus of 60 students (two tutors of 30, 12 h contracts) with twelve weeks of door taps
(from 7 September 2026: arrival jitter, a few absences), served by the real app (the
composition of ``serve``, SQLite files) at Monday 23 November 2026 09:20.

1. Each page asked ``--repeat`` times through Flask's test client (no network: the
   server's own time, one request at a time), logged in as the role that uses it.
2. Under load, as issue 15/16 measured it: real ``campus-presence web`` processes (the
   real waitress, ``SO_REUSEPORT`` on one loopback port, ``--threads`` each (the
   ``[web] threads`` default unless told), the bench's
   clock) and ``--users`` concurrent users (threads, each its own keep-alive HTTP
   connection, stdlib ``http.client``) asking the tutor's *Now* page and the weekly
   report (``/coordinator/presence``) ``--requests`` times each without pause, then
   ``--paused-requests`` times each with ``--pause`` seconds between an answer and the
   next request (first request at a random instant within the first pause); each
   user's first request (a warm-up of its connection and process) is not counted. With 1
   process, then with ``--processes`` N; p50/p95/max latency, requests per second, and
   the ratios N/1 measured in the same run, with the load average; and the web
   processes' CPU time per request (warm-ups included), which a loaded machine inflates
   less than the latencies: on a quiet machine, C cores and at least C processes serve
   about C / (CPU per request) pages per second.
   Target: p95 < 300 ms for 20 users without pause.
3. ``--reference DIR``: the same load on ``--processes`` web processes running the code of
   another tree (e.g. the commit before a change, from ``git archive``) on the same data,
   alternately with this tree's ``--rounds`` times; p95 and CPU per request of each, and
   the ratios this tree / the reference (a shared machine's load hits both alike).

    python bench/web.py [--students 60] [--weeks 12] [--repeat 20] [--users 20]
                        [--requests 20] [--paused-requests 5] [--pause 2] [--processes 2]
                        [--threads 2] [--reference DIR [--rounds 2]]
"""

from __future__ import annotations

import argparse
import http.client
import logging
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

# The tree under test: ours, or the reference's given by PYTHONPATH to a web process.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
if os.environ.get("PYTHONPATH"):
    sys.path.insert(0, os.environ["PYTHONPATH"].split(os.pathsep)[0])

from bench.reference.trees import Actor, found, people_unit_of_work
from edge.protocol import ReaderState, ReaderStatus, Tap, status_topic, taps_topic
from server.bootstrap import build_server
from server.config import CampusSettings, Settings, WebSettings
from server.simulation.demo_people import furnish_people
from server.simulation.roster import demo_sheet
from server.simulation.scenario import demo_badges

InboundMessage = found(
    "server.domain.events:InboundMessage", "server.services.ingest:InboundMessage"
)
set_opening_hours = found(
    "server.services.people.calendar_admin:set_opening_hours",
    "server.services.calendar_admin:set_opening_hours",
)
import_students = found(
    "server.services.people.student_import:import_students",
    "server.services.student_import:import_students",
)

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 23, 9, 20, tzinfo=PARIS)
FIRST_MONDAY = date(2026, 9, 7)
CAMPUS, DOOR = "bench", "porte-1"
PASSWORD = "bench password, long enough"
PAGES = [
    ("tutrice", "/tutor/now"),
    ("tutrice", "/tutor/now/live"),
    ("tutrice", "/tutor/students"),
    ("tutrice", "/tutor/students/D001"),
    ("coordination", "/coordinator/occupancy"),
    ("coordination", "/coordinator/presence"),
    ("coordination", "/coordinator/presence/export?format=xlsx"),
    ("coordination", "/coordinator/occupancy/history"),
    ("etudiante", "/me"),
    ("etudiante", "/me/history"),
]


def _taps(badges: list[str], weeks: int, rng: random.Random) -> list[tuple[str, datetime]]:
    """Monday to Friday, 09:00-12:00 or 10:00-13:00 (the demo roster's slots)."""
    taps = []
    for week in range(weeks):
        for weekday in range(5):
            day = FIRST_MONDAY + timedelta(weeks=week, days=weekday)
            for index, uid in enumerate(badges):
                start = datetime(day.year, day.month, day.day, 9 + (index % 3 == 0), tzinfo=PARIS)
                if start + timedelta(hours=3) > NOW or rng.random() < 0.1:
                    continue
                arrive = start + timedelta(minutes=rng.gauss(0, 8))
                taps += [
                    (uid, arrive),
                    (uid, arrive + timedelta(hours=3, minutes=rng.gauss(0, 10))),
                ]
    return sorted(taps, key=lambda tap: tap[1])


def _furnish(server, settings: Settings, badges: list[str], weeks: int) -> int:
    actor = Actor("bench", NOW)
    days = "; ".join(f"{day} 07:00-22:00" for day in ("lun", "mar", "mer", "jeu", "ven"))
    set_opening_hours(people_unit_of_work(server.registry), CAMPUS, days, actor=actor)
    sheet = demo_sheet(badges, contract_start=date(2026, 9, 1), contract_end=date(2027, 6, 30))
    report = import_students(
        people_unit_of_work(server.registry),
        sheet,
        campus_id=CAMPUS,
        secret=settings.badge_secret.encode(),
        timezone="Europe/Paris",
        retention_days=settings.events.retention_days,
        actor=actor,
    )
    assert not report.errors, report.errors
    furnish_people(server.registry, CAMPUS, PASSWORD, NOW)
    status = ReaderStatus(state=ReaderState.ONLINE, ts=NOW - timedelta(hours=1), heartbeat=3600)
    ingest = server.ingest.service
    ingest.handle_batch([InboundMessage(status_topic(CAMPUS, DOOR), status.to_json(), status.ts)])
    taps = _taps(badges, weeks, random.Random(7))
    for first in range(0, len(taps), 200):
        messages = [
            InboundMessage(
                taps_topic(CAMPUS, DOOR),
                Tap(id=uuid.uuid4().hex, uid=uid, ts=at.astimezone(UTC), seq=first + i).to_json(),
                at.astimezone(UTC),
            )
            for i, (uid, at) in enumerate(taps[first : first + 200])
        ]
        ingest.handle_batch(messages)
    return len(taps)


def _time(client, path: str, repeat: int) -> list[float]:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        answer = client.get(path)
        timings.append((time.perf_counter() - start) * 1000)
        assert answer.status_code == 200, (path, answer.status_code)
    return timings


def _client(app, login: str):
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    answer = client.post("/login", data={"login": login, "password": PASSWORD, "csrf_token": token})
    assert answer.status_code == 302, login
    return client


def _settings(folder: Path, port: int = 0, threads: int = WebSettings.threads) -> Settings:
    return Settings(
        data_dir=folder,
        badge_secret="bench-web-secret-0123456789",
        web=WebSettings(port=port, secure_cookies=False, reuse_port=True, threads=threads),
        campuses=(CampusSettings(CAMPUS, "Campus de mesure", (DOOR,)),),
    )


def _clock() -> datetime:
    return NOW.astimezone(UTC)


def _nearest_rank(ordered: list[float], share: float) -> float:
    return ordered[math.ceil(len(ordered) * share) - 1]


def _test_client_table(server, repeat: int) -> None:
    clients = {login: _client(server.web, login) for login, _path in PAGES}
    for login, path in PAGES:
        timings = sorted(_time(clients[login], path, repeat))
        print(
            f"{path:45} {login:13} p50 {statistics.median(timings):7.1f} ms"
            f"  p95 {_nearest_rank(timings, 0.95):7.1f} ms"
        )


# -- under load: real web processes, real HTTP ------------------------------------------


def serve_web(folder: str, port: str, threads: str) -> None:
    """A bench web process: ``campus-presence web``'s composition (``build_server(...,
    web_only=True)`` and ``start_web``) on the bench's data and clock; prints ``ready``,
    stops when its standard input closes."""
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "queue depth" lines
    settings = _settings(Path(folder), int(port), int(threads))
    server = build_server(settings, clock=_clock, web_only=True)
    server.start_web()
    try:  # as `campus-presence web` does once started
        from server.process import keep_startup_objects
    except ImportError:  # a reference tree from before it
        pass
    else:
        keep_startup_objects()
    print("ready", flush=True)
    try:
        sys.stdin.read()
    finally:
        server.close()


class WebProcesses:
    """``count`` bench web processes on one port, with the code of ``tree`` (default:
    this one)."""

    def __init__(
        self, folder: Path, port: int, count: int, threads: int, tree: Path | None = None
    ) -> None:
        command = [sys.executable, __file__, "--serve-web", str(folder), str(port), str(threads)]
        env = {**os.environ, "PYTHONPATH": str(tree or Path(__file__).resolve().parents[1])}
        self.children = [
            subprocess.Popen(
                command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env
            )
            for _ in range(count)
        ]
        for child in self.children:
            line = child.stdout.readline()
            if line.strip() != "ready":
                raise SystemExit(f"a web process did not start (status {child.wait()})")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the web processes so far (``/proc/<pid>/stat``)."""
        total = 0
        for child in self.children:
            fields = Path(f"/proc/{child.pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (clock ticks)
        return total / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        for child in self.children:
            child.stdin.close()
        for child in self.children:
            child.wait(30)


def _cookie(answer: http.client.HTTPResponse, jar: dict[str, str]) -> None:
    for header, value in answer.getheaders():
        if header.lower() == "set-cookie":
            name, _, rest = value.partition("=")
            jar[name] = rest.split(";", 1)[0]


def _header(jar: dict[str, str]) -> str:
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def http_login(port: int, login: str) -> str:
    """Log in over HTTP; the session cookie header for the users of that role."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    jar: dict[str, str] = {}
    connection.request("GET", "/login")
    answer = connection.getresponse()
    page = answer.read().decode()
    _cookie(answer, jar)
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    form = urllib.parse.urlencode({"login": login, "password": PASSWORD, "csrf_token": token})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": _header(jar)}
    connection.request("POST", "/login", body=form, headers=headers)
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 302, (login, answer.status)
    _cookie(answer, jar)
    connection.close()
    return _header(jar)


@dataclass
class Load:
    timings: list[float]
    seconds: float
    cpu_ms: float = 0.0  # the web processes' CPU time per request

    def line(self, label: str) -> str:
        ordered = sorted(self.timings)
        rate = len(ordered) / self.seconds
        return (
            f"{label:52} n {len(ordered):4}  p50 {statistics.median(ordered):7.1f}"
            f"  p95 {_nearest_rank(ordered, 0.95):7.1f}  max {ordered[-1]:7.1f} ms"
            f"  {rate:6.1f} req/s  server CPU {self.cpu_ms:5.1f} ms/req"
        )

    @property
    def p95(self) -> float:
        return _nearest_rank(sorted(self.timings), 0.95)

    @property
    def rate(self) -> float:
        return len(self.timings) / self.seconds


def load(port: int, path: str, cookie: str, *, users: int, requests: int, pause: float) -> Load:
    """``users`` threads, each with its own keep-alive connection, ``requests`` GETs each
    (a pause between an answer and the next request); every answer must be 200."""
    timings: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(users + 1)

    def user(seed: int) -> None:
        rng = random.Random(seed)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        mine = []
        connection.request("GET", path, headers={"Cookie": cookie})  # warm-up, not counted
        connection.getresponse().read()
        start.wait()
        if pause:
            time.sleep(rng.uniform(0, pause))
        for number in range(requests):
            if pause and number:
                time.sleep(pause)
            began = time.perf_counter()
            try:
                connection.request("GET", path, headers={"Cookie": cookie})
                answer = connection.getresponse()
                answer.read()
                status = answer.status
            except (OSError, http.client.HTTPException) as error:
                status = repr(error)
                connection.close()
            mine.append((time.perf_counter() - began) * 1000)
            if status != 200:
                with lock:
                    failures.append(f"{path}: {status}")
        connection.close()
        with lock:
            timings.extend(mine)

    threads = [threading.Thread(target=user, args=(seed,)) for seed in range(users)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - began
    if failures:
        raise SystemExit(f"{len(failures)} failed requests, first: {failures[0]}")
    return Load(timings, seconds)


LOADED = [("tutrice", "/tutor/now"), ("coordination", "/coordinator/presence")]


def _measure(
    port: int, processes: WebProcesses, args: argparse.Namespace
) -> dict[tuple[str, bool], Load]:
    """Each loaded page, without then with pause, on running web processes."""
    results: dict[tuple[str, bool], Load] = {}
    cookies = {login: http_login(port, login) for login, _path in LOADED}
    for login, path in LOADED:
        for pause in (0.0, args.pause):
            cpu_before = processes.cpu_seconds()
            measured = load(
                port,
                path,
                cookies[login],
                users=args.users,
                requests=args.paused_requests if pause else args.requests,
                pause=pause,
            )
            cpu = processes.cpu_seconds() - cpu_before
            measured.cpu_ms = cpu * 1000 / (len(measured.timings) + args.users)
            results[(path, bool(pause))] = measured
    return results


def _how(path: str, paused: bool, pause: float) -> str:
    return f"{path} " + (f"pause {pause:g} s" if paused else "no pause")


def _load_run(folder: Path, args: argparse.Namespace) -> None:
    port = _free_port()
    results: dict[tuple[str, int, bool], Load] = {}
    print(
        f"\n{args.users} users over real HTTP (loopback), SO_REUSEPORT web processes of "
        f"{args.threads} threads; load average before: {_load_average()}"
    )
    for count in sorted({1, args.processes}):
        processes = WebProcesses(folder, port, count, args.threads)
        try:
            for (path, paused), measured in _measure(port, processes, args).items():
                results[(path, count, paused)] = measured
                label = f"{path} {count} proc, " + (
                    f"pause {args.pause:g} s" if paused else "no pause"
                )
                print(measured.line(label), flush=True)
        finally:
            processes.close()
    if args.processes != 1:
        n = args.processes
        print(f"ratios {n} processes / 1 process (same run):")
        for _login, path in LOADED:
            for paused in (False, True):
                one, many = results[(path, 1, paused)], results[(path, n, paused)]
                how = "pause" if paused else "no pause"
                print(
                    f"  {path:24} {how:9} p95 {many.p95 / one.p95:5.2f}"
                    f"  req/s {many.rate / one.rate:5.2f}"
                )
    print(f"load average after: {_load_average()}")


def _reference_run(folder: Path, args: argparse.Namespace) -> None:
    """This tree against ``--reference`` on the same data, ``--processes`` each,
    alternately; per page, the best p95 and the least CPU per request of each tree."""
    port = _free_port()
    n = args.processes
    print(
        f"\nthis tree against the reference {args.reference}: {args.users} users, {n} web "
        f"process(es) of {args.threads} threads, {args.rounds} round(s) each, alternately; "
        f"load average before: {_load_average()}"
    )
    best: dict[tuple[str, str, bool], Load] = {}
    cpu: dict[tuple[str, str, bool], float] = {}
    for _ in range(args.rounds):
        for name, tree in (("reference", args.reference.resolve()), ("this tree", None)):
            processes = WebProcesses(folder, port, n, args.threads, tree)
            try:
                for (path, paused), measured in _measure(port, processes, args).items():
                    key = (name, path, paused)
                    print(measured.line(f"{_how(path, paused, args.pause)}, {name}"), flush=True)
                    if key not in best or measured.p95 < best[key].p95:
                        best[key] = measured
                    cpu[key] = min(cpu.get(key, math.inf), measured.cpu_ms)
            finally:
                processes.close()
    print(f"this tree / reference ({n} processes; best p95, least CPU per request):")
    for _login, path in LOADED:
        for paused in (False, True):
            before, after = best[("reference", path, paused)], best[("this tree", path, paused)]
            cpu_before, cpu_after = (
                cpu[("reference", path, paused)],
                cpu[("this tree", path, paused)],
            )
            print(
                f"  {_how(path, paused, args.pause):40} p95 {before.p95:7.1f} -> {after.p95:7.1f}"
                f" ms  {after.p95 / before.p95:5.2f}   CPU {cpu_before:5.1f} -> {cpu_after:5.1f}"
                f" ms/req  {cpu_after / cpu_before:5.2f}"
            )
    print(f"load average after: {_load_average()}")


def _load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--serve-web":
        serve_web(sys.argv[2], sys.argv[3], sys.argv[4])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--requests", type=int, default=20, help="each user, without pause")
    parser.add_argument("--paused-requests", type=int, default=5, help="each user, with pause")
    parser.add_argument("--pause", type=float, default=2.0, help="seconds between requests")
    parser.add_argument("--processes", type=int, default=2, help="web processes, against 1")
    parser.add_argument(
        "--threads", type=int, default=WebSettings.threads, help="waitress threads a process"
    )
    parser.add_argument("--reference", type=Path, help="a tree whose code is the reference")
    parser.add_argument("--rounds", type=int, default=2, help="with --reference: runs of each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        server = build_server(_settings(folder), clock=_clock)
        server.ingest.store.setup()
        try:
            count = _furnish(server, server.settings, demo_badges(args.students), args.weeks)
            print(f"{args.students} students, {count:,} door taps over {args.weeks} weeks")
            print(f"one request at a time, Flask's test client; load: {_load_average()}")
            _test_client_table(server, args.repeat)
        finally:
            server.close()
        _load_run(folder, args)
        if args.reference:
            _reference_run(folder, args)


if __name__ == "__main__":
    main()
