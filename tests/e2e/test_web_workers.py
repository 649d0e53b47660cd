"""Several web processes on one registry agree, whichever answers (docs/scaling.md, "Web
workers and jobs"): ``serve`` (ingest, jobs, its own web app) and two ``campus-presence
web`` processes A and B, each on its own port here so that the test chooses who answers;
a real Mosquitto, SQLite files in one data folder, one browser (one cookie jar).

Then ``web --workers 2``: two processes listening on one port (SO_REUSEPORT), stopped
together by SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import requests

from server.config import load_settings
from server.domain.accounts import Actor
from server.registry.database import open_registry
from server.registry.people_store import people_unit_of_work
from server.services.people.calendar_admin import set_opening_hours
from server.services.people.campuses import sync_campuses
from server.services.people.student_import import import_students
from server.simulation.demo_people import furnish_people
from server.simulation.roster import TUTORS
from tests.e2e.helpers import CAMPUS, DOOR, Reader, make_tap, wait_until
from tests.services import Mosquitto, free_port

pytestmark = [pytest.mark.broker, pytest.mark.slow]

CLI = [sys.executable, "-m", "server.entrypoints.cli"]
PASSWORD = "web workers password, long enough"
UID = "04cafe00000001"
EVERY_DAY = "; ".join(
    f"{day} 00:00-23:59" for day in ("lun", "mar", "mer", "jeu", "ven", "sam", "dim")
)


def _config(folder: Path, broker: int, port: int) -> Path:
    config = folder / "campus.toml"
    config.write_text(
        f"""
[server]
data_dir = "{folder / "data"}"
[mqtt]
port = {broker}
client_id = "web-workers-serve"
[web]
port = {port}
secure_cookies = false
reuse_port = true
[[campus]]
id = "{CAMPUS}"
readers = ["{DOOR}"]
"""
    )
    return config


ENVIRON = {**os.environ, "CAMPUS_BADGES_HASH_SECRET": "w" * 32}


def _furnish(config: Path) -> None:
    """One student with a slot all day every day (so the Now page lists her now), the
    demo accounts, the campus open all day."""
    settings = load_settings(config, ENVIRON)
    engine, registry = open_registry(settings.registry_database_url)
    try:
        sync_campuses(people_unit_of_work(registry), settings)
        now = datetime.now(UTC)
        actor = Actor("test", now)
        set_opening_hours(people_unit_of_work(registry), CAMPUS, EVERY_DAY, actor=actor)
        year = now.year if now.month >= 9 else now.year - 1
        header = "student_id;last_name;first_name;email;phone;tutor_email;badge_uid;"
        header += "weekly_hours;slots;contract_start;contract_end"
        rows = [
            f"W001;Dupré;Léna;w001@etudiant.test;0600000001;{TUTORS[0][0]};{UID}",
            f"W002;Roux;Malo;w002@etudiant.test;0600000002;{TUTORS[1][0]};04cafe00000002",
            f"D003;Dubois;Inès;d003@etudiant.test;0600000003;{TUTORS[1][0]};04cafe00000003",
        ]
        contract = f';12;"{EVERY_DAY}";{date(year, 9, 1)};{date(year + 1, 8, 31)}'
        sheet = "\n".join([header, *(row + contract for row in rows)]) + "\n"
        report = import_students(
            people_unit_of_work(registry),
            sheet.encode(),
            campus_id=CAMPUS,
            secret=settings.badge_secret.encode(),
            timezone=settings.presence.timezone,
            retention_days=settings.events.retention_days,
            actor=actor,
        )
        assert not report.errors, report.errors
        furnish_people(registry, CAMPUS, PASSWORD, now)
    finally:
        engine.dispose()


class Process:
    def __init__(self, args: list[str], log: Path, port: int | None = None) -> None:
        environ = dict(ENVIRON)
        if port is not None:
            environ["CAMPUS_WEB_PORT"] = str(port)
        self.log = log
        with log.open("w") as output:
            self.popen = subprocess.Popen(
                [*CLI, *args], stdout=output, stderr=subprocess.STDOUT, env=environ
            )

    def stop(self) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        try:
            return self.popen.wait(20)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            return self.popen.wait()


def _answers(url: str) -> bool:
    try:
        return requests.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def processes(tmp_path: Path, mosquitto: Mosquitto) -> Iterator[dict[str, str]]:
    ports = {"serve": free_port(), "A": free_port(), "B": free_port()}
    config = _config(tmp_path, mosquitto.port, ports["serve"])
    _furnish(config)
    started = {"serve": Process(["--config", str(config), "serve"], tmp_path / "serve.log")}
    for name in ("A", "B"):
        started[name] = Process(
            ["--config", str(config), "web"], tmp_path / f"web-{name}.log", port=ports[name]
        )
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    try:
        for name, url in urls.items():
            wait_until(lambda url=url: _answers(f"{url}/login"), timeout=30, what=name)
        yield {**urls, "broker": str(mosquitto.port)}
    finally:
        codes = {name: process.stop() for name, process in started.items()}
    assert codes == {"serve": 0, "A": 0, "B": 0}, {
        name: process.log.read_text()[-2000:] for name, process in started.items()
    }
    assert UID not in "".join(p.log.read_text().lower() for p in started.values())


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _login(browser: requests.Session, url: str, login: str, password: str, token: str):
    form = {"login": login, "password": password, "csrf_token": token}
    return browser.post(f"{url}/login", data=form, allow_redirects=False, timeout=10)


def test_web_processes_agree_whichever_answers(processes: dict[str, str]) -> None:
    a, b = processes["A"], processes["B"]
    browser = requests.Session()

    # A CSRF token rendered by A is accepted by B, and a session made by B is used on A.
    token = _token(browser.get(f"{a}/login", timeout=10).text)
    assert _login(browser, b, "tutrice", PASSWORD, token).status_code == 302
    now_a = browser.get(f"{a}/tutor/now", allow_redirects=False, timeout=10)
    assert now_a.status_code == 200 and "Léna" in now_a.text
    now_b = browser.get(f"{b}/tutor/now", allow_redirects=False, timeout=10)
    assert now_b.status_code == 200 and "Léna" in now_b.text
    forged = browser.post(
        f"{b}/logout", data={"csrf_token": "not-the-token"}, allow_redirects=False, timeout=10
    )
    assert forged.status_code == 400  # the token is checked, not waved through

    # A tap stored by the ingest of serve shows on the Now page of both web processes.
    assert _arrival(now_a.text) == _arrival(now_b.text) == ""
    reader = Reader(int(processes["broker"]))
    try:
        reader.publish(make_tap(1, uid=UID).to_json())
    finally:
        reader.close()
    for url in (a, b):
        wait_until(
            lambda url=url: (
                re.fullmatch(r"\d\d:\d\d", _arrival(browser.get(f"{url}/tutor/now").text))
                is not None
            ),
            timeout=15,
            what=f"the arrival on the Now page of {url}",
        )

    # A password change through A revokes the sessions signed before it, on B too.
    stolen = dict(browser.cookies)
    page = browser.get(f"{a}/account/password", timeout=10).text
    form = {"current": PASSWORD, "new": PASSWORD + "!", "again": PASSWORD + "!"}
    changed = browser.post(
        f"{a}/account/password", data={**form, "csrf_token": _token(page)}, timeout=10
    )
    assert changed.status_code == 200
    assert browser.get(f"{b}/tutor/now", allow_redirects=False, timeout=10).status_code == 200
    replayed = requests.get(f"{b}/tutor/now", cookies=stolen, allow_redirects=False, timeout=10)
    assert replayed.status_code == 302 and "/login" in replayed.headers["Location"]

    # Failed logins are counted across the processes: 3 free per login, then a wait.
    other = requests.Session()
    token = _token(other.get(f"{a}/login", timeout=10).text)
    answers = [
        _login(other, url, "coordination", "wrong password", token).status_code for url in (a, b, a)
    ]
    assert answers == [401, 401, 401]
    assert _login(other, b, "coordination", "wrong password", token).status_code == 429
    assert _login(other, a, "coordination", PASSWORD, token).status_code == 429

    # A web process is ready without a broker (it has none): it checks the registry and
    # the jobs of the serve process, and its failed logins reach /metrics from any process.
    ready = requests.get(f"{a}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert [check["name"] for check in ready.json()["checks"]] == ["registry", "jobs"]

    def failed_logins_everywhere() -> float:
        text = requests.get(f"{processes['serve']}/metrics", timeout=10).text
        counts = re.findall(r'campus_logins_total\{[^}]*outcome="failed"[^}]*\} (\d+)', text)
        return sum(float(count) for count in counts)

    wait_until(lambda: failed_logins_everywhere() >= 3, timeout=20, what="logins in /metrics")


def _arrival(page: str) -> str:
    """The "Arrived at" cell of the Now page's one current slot."""
    cells = re.findall(r'data-label="Arrivée à">([^<]*)</td>', page)
    assert len(cells) == 1, page
    return cells[0].strip()


def _listening_inodes(port: int) -> set[str]:
    """Inodes of the sockets listening on ``port`` (``/proc/net/tcp``, state 0A)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
                inodes.add(fields[9])
    return inodes


def _socket_inodes(pid: int) -> set[str]:
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        target = str(fd.readlink()) if fd.is_symlink() else ""
        if target.startswith("socket:["):
            found.add(target[len("socket:[") : -1])
    return found


def _children(pid: int) -> list[int]:
    return [
        int(path.name)
        for path in Path("/proc").iterdir()
        if path.name.isdigit()
        and (path / "stat").exists()
        and int((path / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid
    ]


def test_web_workers_share_one_port_and_stop_together(tmp_path: Path, mosquitto: Mosquitto) -> None:
    port = free_port()
    config = _config(tmp_path, mosquitto.port, port)
    _furnish(config)
    web = Process(["--config", str(config), "web", "--workers", "2"], tmp_path / "web.log")
    try:
        wait_until(lambda: len(_listening_inodes(port)) == 2, timeout=40, what="2 listeners")
        children = _children(web.popen.pid)
        assert len(children) == 2
        held = [_socket_inodes(child) & _listening_inodes(port) for child in children]
        assert all(len(inodes) == 1 for inodes in held) and held[0] != held[1]
        answers = [requests.get(f"http://127.0.0.1:{port}/login", timeout=5) for _ in range(20)]
        assert {answer.status_code for answer in answers} == {200}
    finally:
        code = web.stop()
    assert code == 0, web.log.read_text()[-2000:]
    assert not _listening_inodes(port)
    assert all(not Path(f"/proc/{child}").exists() for child in children)
