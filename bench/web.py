"""Benchmark of the web pages (not a test; prints figures).

A campus of 60 students (two tutors of 30, 12 h contracts) with twelve weeks of door taps
(from 7 September 2026: arrival jitter, a few absences), served by the real app (the
composition of ``serve``, SQLite files) at Monday 23 November 2026 09:20. Each page is
asked ``--repeat`` times through Flask's test client (no network: the server's own
time), logged in as the role that uses it. Target: the pages a tutor opens on a phone at
9:15 (Now and its live refresh) answer in under 300 ms at the 95th percentile.

    python bench/web.py [--students 60] [--weeks 12] [--repeat 20]
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from edge.protocol import ReaderState, ReaderStatus, Tap, status_topic, taps_topic
from server.bootstrap import build_server
from server.config import CampusSettings, Settings, WebSettings
from server.registry.student_repository import Actor
from server.services.calendar_admin import set_opening_hours
from server.services.ingest import InboundMessage
from server.services.student_import import import_students
from server.simulation.demo_people import furnish_people
from server.simulation.roster import demo_sheet
from server.simulation.scenario import demo_badges

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
    set_opening_hours(server.registry, CAMPUS, days, actor=actor)
    sheet = demo_sheet(badges, contract_start=date(2026, 9, 1), contract_end=date(2027, 6, 30))
    report = import_students(
        server.registry,
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(
            data_dir=Path(folder),
            badge_secret="bench-web-secret-0123456789",
            web=WebSettings(secure_cookies=False),
            campuses=(CampusSettings(CAMPUS, "Campus de mesure", (DOOR,)),),
        )
        clock = lambda: NOW.astimezone(UTC)  # noqa: E731
        server = build_server(settings, clock=clock)
        server.ingest.store.setup()
        try:
            count = _furnish(server, settings, demo_badges(args.students), args.weeks)
            print(f"{args.students} students, {count:,} door taps over {args.weeks} weeks")
            clients = {login: _client(server.web, login) for login, _path in PAGES}
            for login, path in PAGES:
                timings = sorted(_time(clients[login], path, args.repeat))
                p95 = timings[math.ceil(len(timings) * 0.95) - 1]  # nearest rank
                print(
                    f"{path:45} {login:13} p50 {statistics.median(timings):7.1f} ms"
                    f"  p95 {p95:7.1f} ms"
                )
        finally:
            server.close()


if __name__ == "__main__":
    main()
