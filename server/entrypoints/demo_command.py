"""``campus-presence demo``: the whole product on a laptop, nothing to install.

An in-process MQTT broker (amqtt), the SQLite event store, the real ingest, the web app
with one demo account per role, and a simulated door playing a morning of taps through
the real MQTT contract. The server and the door share a simulated clock that starts at
08:30 this morning and runs ``--speed`` times faster, so a newcomer logged in as a tutor
sees the morning unfold: arrivals, late arrivals, absences noticed and alerted.
"""

from __future__ import annotations

import argparse
import logging
import secrets
import shutil
import signal
import sys
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from zoneinfo import ZoneInfo

from server.adapters.embedded_broker import EmbeddedBroker, free_loopback_port
from server.bootstrap import build_server, utc_now
from server.config import CampusSettings, MqttSettings, Settings, WebSettings
from server.domain.accounts import Actor, Role
from server.domain.calendar import IsoWeek
from server.domain.capacity import Limits
from server.domain.events import StoredTap
from server.i18n import _, ngettext
from server.ports.occupancy import RoomInfo
from server.registry.database import open_registry
from server.registry.occupancy_store import occupancy_unit_of_work
from server.registry.people_store import people_unit_of_work
from server.services.occupancy.admin_places import PlacesAdmin
from server.services.people.calendar_admin import set_opening_hours
from server.services.people.campuses import sync_campuses
from server.services.people.student_import import import_students
from server.simulation.clock import SimulatedClock
from server.simulation.demo_people import furnish_people
from server.simulation.door import SimulatedDoor
from server.simulation.roster import academic_year, demo_sheet
from server.simulation.scenario import demo_badges, morning

CAMPUS = "demo"
DOOR = "porte-1"
ROOM = "salle-1"
PARIS = ZoneInfo("Europe/Paris")


def add_commands(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser("demo", help="run everything embedded, with a simulated door")
    demo.add_argument("--data-dir", type=Path, default=Path("var/demo"))
    demo.add_argument("--port", type=int, default=0, help="MQTT port (default: a free one)")
    demo.add_argument("--speed", type=float, default=20.0, help="simulated seconds per second")
    demo.add_argument("--web-port", type=int, default=0, help="web app port (default: free)")
    demo.add_argument("--students", type=int, default=24)
    demo.add_argument("--duration", type=float, default=0, help="stop after N seconds (0: never)")
    demo.set_defaults(handler=demo_command)


def demo_settings(data_dir: Path, port: int, web_port: int = 0) -> Settings:
    return Settings(
        data_dir=data_dir,
        log_level="WARNING",
        badge_secret=_demo_secret(data_dir, "badge-secret"),
        api_token=_demo_secret(data_dir, "api-token"),
        # Plain HTTP on loopback: the session cookie cannot be "Secure" here.
        web=WebSettings(port=web_port or free_loopback_port(), secure_cookies=False),
        mqtt=MqttSettings(port=port, protocol=3, client_id="campus-demo-ingest", manual_ack=False),
        campuses=(CampusSettings(CAMPUS, "Campus connecté (démo)", (DOOR, ROOM)),),
    )


def _demo_secret(data_dir: Path, name: str) -> str:
    """A random secret kept in the demo's own folder (a real server takes its secrets
    from the environment)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / name
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


class LiveSummary:
    """What the terminal shows: one line per stored tap or new rejection, as it happens,
    and every ``REMINDER_EVERY`` lines the address and accounts again, so they never
    scroll away (nothing is printed while nothing happens)."""

    REMINDER_EVERY = 20

    def __init__(self, reminder: str = "") -> None:
        self._lock = threading.Lock()
        self.last: dict[str, StoredTap] = {}
        self.reminder = reminder
        self._printed = 0
        self._seen: tuple[object, object] = (0, 0)

    def taps_stored(self, taps: Sequence[StoredTap]) -> None:
        with self._lock:
            for tap in taps:
                self.last[tap.reader] = tap
                local = tap.ts.astimezone(PARIS)
                self._say(
                    _(
                        "{time}  {reader}: tap stored (badge {badge}…)",
                        reader=tap.reader,
                        time=f"{local:%H:%M:%S}",
                        badge=tap.badge[:8],
                    )
                )

    def counters_changed(self, counters: dict[str, object]) -> None:
        """A line when messages were rejected or duplicates ignored since the last look."""
        seen = (counters["rejected_total"], counters["duplicates"])
        with self._lock:
            if seen == self._seen:
                return
            self._seen = seen
            self._say(
                _(
                    "Rejected messages: {rejected} · duplicates ignored: {duplicates}",
                    rejected=seen[0],
                    duplicates=seen[1],
                )
            )

    def _say(self, line: str) -> None:
        print(line, flush=True)
        self._printed += 1
        if self.reminder and self._printed % self.REMINDER_EVERY == 0:
            print(self.reminder, flush=True)

    def lines(self, counters: dict[str, object]) -> list[str]:
        lines = [
            _(
                "Taps stored: {stored} · duplicates ignored: {duplicates} · rejected: {rejected}",
                stored=counters["stored"],
                duplicates=counters["duplicates"],
                rejected=counters["rejected_total"],
            )
        ]
        with self._lock:
            for reader, tap in sorted(self.last.items()):
                local = tap.ts.astimezone(PARIS)
                lines.append(
                    _(
                        "  last tap at {reader}: {time} (badge {badge}…)",
                        reader=reader,
                        time=f"{local:%H:%M:%S}",
                        badge=tap.badge[:8],
                    )
                )
        return lines


MARKER = ".campus-presence-demo"
KEPT = frozenset({MARKER, "badge-secret", "api-token", "demo-password", "web-secret-key"})


class NotADemoFolder(Exception):
    pass


def start_clean(data_dir: Path) -> int:
    """Each run starts at 08:30 this morning on a clean folder: the previous run's taps,
    statuses and alerts would be "in the future" of the restarted simulated clock. Wipes
    the data of a folder a demo made (it holds :data:`MARKER`), keeping its secrets and
    password; refuses a non-empty folder the demo did not make. Returns the files wiped."""
    data_dir.mkdir(parents=True, exist_ok=True)
    entries = [entry for entry in data_dir.iterdir() if entry.name not in KEPT]
    made_by_demo = (data_dir / MARKER).exists() or (data_dir / "demo-password").exists()
    if entries and not made_by_demo:
        raise NotADemoFolder(str(data_dir))
    for entry in entries:
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()
    (data_dir / MARKER).write_text("made by `campus-presence demo`: wiped at each start\n")
    return len(entries)


def command_path() -> str:
    """How to type ``campus-presence`` from here: the venv's own script (the README never
    activates the venv), relative to the current folder when it is inside it."""
    script = Path(sys.executable).parent / "campus-presence"
    if not script.exists():
        return "campus-presence"
    try:
        return str(script.relative_to(Path.cwd()))
    except ValueError:
        return str(script)


def demo_command(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        wiped = start_clean(args.data_dir)
    except NotADemoFolder:
        print(
            _(
                "{path} holds files the demo did not make: choose another --data-dir "
                "(the demo wipes its folder at each start).",
                path=args.data_dir,
            ),
            file=sys.stderr,
        )
        return 2
    if wiped:
        print(
            ngettext(
                "Starting clean: {count} file of the previous demo run removed from {path}.",
                "Starting clean: {count} files of the previous demo run removed from {path}.",
                wiped,
                path=args.data_dir,
            )
        )
    port = args.port or free_loopback_port()
    settings = demo_settings(args.data_dir, port, args.web_port)
    badges = demo_badges(args.students)
    summary = LiveSummary()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    today = utc_now().astimezone(PARIS).date()
    clock = SimulatedClock(
        datetime.combine(today, clock_time(8, 30), tzinfo=PARIS), speed=args.speed
    )
    password = _demo_secret(settings.data_dir, "demo-password")[:16]
    accounts = _furnish_demo_campus(settings, badges, password, clock())
    clock.start()
    with EmbeddedBroker(port=port), build_server(settings, clock=clock) as server:
        ingest = server.ingest
        ingest.service.on_taps_stored(summary.taps_stored)
        ingest.consumer.wait_subscribed(timeout=10)
        _print_intro(settings, port, server.web_url, args.speed)
        _print_accounts(server.web_url, accounts, password)
        summary.reminder = _(
            "— Web application: {url} · accounts: {logins} · password: {password}",
            url=server.web_url,
            logins=", ".join(login for login, _role in accounts),
            password=password,
        )
        door = _start_door(port, clock, args.speed, badges)
        _run_until_stopped(
            stop,
            args.duration,
            lambda: summary.counters_changed(ingest.service.counters.snapshot()),
        )
        door.stop()
        time.sleep(0.5)  # let the last acknowledged taps land before closing
    print("\n".join(summary.lines(ingest.service.counters.snapshot())))
    return 0


def _furnish_demo_campus(
    settings: Settings, badges: list[str], password: str, now: datetime
) -> list[tuple[str, Role]]:
    """Open every day 07:00-22:00, a campus of 30 places with a 12-place room behind the
    room reader, the demo students on 12 h contracts shared by two tutors, and one
    account per role (all idempotent)."""
    engine, registry = open_registry(settings.registry_database_url)
    try:
        sync_campuses(people_unit_of_work(registry), settings)
        actor = Actor("demo", now)
        days = ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")
        set_opening_hours(
            people_unit_of_work(registry),
            CAMPUS,
            "; ".join(f"{day} 07:00-22:00" for day in days),
            actor=actor,
        )
        places = PlacesAdmin(occupancy_unit_of_work(registry, settings.presence))
        places.set_campus_limits(CAMPUS, Limits(capacity=30, area_m2=180), actor)
        if not any(room.code == ROOM for room in places.place_sheet(CAMPUS).rooms):
            room = RoomInfo(ROOM, "Salle de travail", "individual", Limits(capacity=12, area_m2=60))
            places.add_room(CAMPUS, room, actor)
        places.set_reader(CAMPUS, ROOM, mode="room", room_code=ROOM, actor=actor)
        # Contracts start this Monday: past weeks hold no taps, and would all be shortfalls.
        today = now.astimezone(PARIS).date()
        start, end = today - timedelta(days=today.weekday()), academic_year(today)[1]
        report = import_students(
            people_unit_of_work(registry),
            demo_sheet(badges, contract_start=start, contract_end=end),
            campus_id=CAMPUS,
            secret=settings.badge_secret.encode(),
            timezone=settings.presence.timezone,
            retention_days=settings.events.retention_days,
            actor=actor,
        )
        if report.errors:
            raise RuntimeError(f"demo roster refused: {report.errors}")
        return furnish_people(registry, CAMPUS, password, now)
    finally:
        engine.dispose()


def _start_door(port: int, clock: SimulatedClock, speed: float, badges: list[str]) -> SimulatedDoor:
    events = morning(clock.origin, door=DOOR, room=ROOM, students=badges, unknown_badge="0badcafe")
    door = SimulatedDoor(
        host="127.0.0.1",
        port=port,
        campus=CAMPUS,
        readers=(DOOR, ROOM),
        events=events,
        clock=clock,
        speed=speed,
    )
    door.start()
    return door


def _print_intro(settings: Settings, port: int, web_url: str, speed: float) -> None:
    week = IsoWeek.of(utc_now().astimezone(PARIS).date())
    print(_("Campus connecté — presence demo (everything embedded, nothing to install)"))
    print(_("  MQTT broker (embedded): 127.0.0.1:{port}", port=port))
    print(_("  Event store (SQLite): {path}", path=settings.events_sqlite_path))
    print(
        _(
            "  A simulated door plays a morning of badge taps from 08:30, {speed} times "
            "faster than real time; stop with Ctrl+C.",
            speed=f"{speed:g}",
        )
    )
    print(_("Next, in another terminal: this week's presence report (JSON API)"))
    print(
        f'  curl -H "Authorization: Bearer {settings.api_token}" '
        f'"{web_url}/api/v1/presence/weekly?week={week}"'
    )
    print(_("the occupancy of the place, now:"))
    print(f'  curl -H "Authorization: Bearer {settings.api_token}" "{web_url}/api/v1/occupancy"')
    print(_("and the rejected messages:"))
    print(f"  CAMPUS_SERVER_DATA_DIR={settings.data_dir} {command_path()} rejections")
    print()


def _print_accounts(web_url: str, accounts: list[tuple[str, Role]], password: str) -> None:
    print(_("Web application: {url}", url=web_url))
    print(_("  Demo accounts (password for all: {password})", password=password))
    for login, role in accounts:
        print(f"    {login:<14} {_(_ROLE_NAMES[role])}")
    print()


_ROLE_NAMES = {
    Role.TUTOR: "tutor: the Now page, absences to call",
    Role.COORDINATOR: "coordinator: occupancy, weekly report",
    Role.ADMIN: "administrator: students, badges, accounts",
    Role.STUDENT: "student: my week",
}


def _run_until_stopped(stop: threading.Event, duration: float, report) -> None:
    deadline = time.monotonic() + duration if duration > 0 else None
    while not stop.wait(2.0):
        report()
        if deadline is not None and time.monotonic() >= deadline:
            break
