"""Fixtures of the web app: the real composition (``build_server``, not started: no MQTT
connection) on a temporary SQLite registry and event store, a clock the test moves, a
furnished campus, one account per role, and logged-in Flask test clients.

The world, on Monday 23 November 2026 at 09:20 (Paris):
- ``test-campus`` (open every day 07:00-22:00) and ``other-campus``;
- tutor Alice (``alice@campus.test``) follows E001, E002, E003; tutor Bruno follows E004;
- E005 is at the other campus (tutor Bruno);
- every contract has Monday 09:00-12:00 among its 12 h of slots;
- accounts (password :data:`PASSWORD`): ``admin``, ``coord`` (test-campus), ``coord-other``
  (other-campus), ``alice``, ``bruno`` (tutors), ``emilie`` (the student E001).
"""

from __future__ import annotations

import re
import shutil
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from edge.protocol import ReaderState, ReaderStatus, Tap, status_topic, taps_topic
from server.bootstrap import ServerApp, build_server
from server.config import CampusSettings, Settings, WebSettings
from server.container import services_of
from server.domain.accounts import Actor, Role
from server.domain.events import InboundMessage
from server.registry.models import Student, Tutor
from server.registry.people_store import people_unit_of_work
from server.services.people.calendar_admin import set_opening_hours
from server.services.people.student_import import import_students
from tests.conftest import REGISTRY_BACKEND, new_postgres_database

PARIS = ZoneInfo("Europe/Paris")
CAMPUS = "test-campus"
OTHER = "other-campus"
DOOR = "door-1"
ROOM = "salle-1"
OTHER_DOOR = "door-9"
SECRET = "web-tests-badge-secret-0123456789"
PASSWORD = "correct horse battery staple"
MONDAY_0920 = datetime(2026, 11, 23, 9, 20, tzinfo=PARIS)
HEADER = (
    "student_id;last_name;first_name;email;phone;tutor_email;badge_uid;weekly_hours;slots;"
    "contract_start;contract_end;programme;institution;institution_type"
)
SLOTS = '"lun 09:00-12:00; mar 14:00-18:00; jeu 09:00-13:00; ven 09:00-10:00"'
STUDENTS = {
    # student_id: (last, first, phone, tutor, badge uid, campus)
    "E001": ("Durand", "Émilie", "06 12 34 56 78", "alice@campus.test", "04a1b2c3", CAMPUS),
    "E002": ("Martin", "Noé", "07 00 00 00 02", "alice@campus.test", "04a1b2c4", CAMPUS),
    "E003": ("Petit", "Inès", "07 00 00 00 03", "alice@campus.test", "04a1b2c5", CAMPUS),
    "E004": ("Roux", "Hugo", "07 00 00 00 04", "bruno@campus.test", "04a1b2c6", CAMPUS),
    "E005": ("Leroy", "Manon", "07 00 00 00 05", "bruno@campus.test", "04a1b2c7", OTHER),
}


class MovableClock:
    """The app's clock; tests move it (``advance``, ``set``)."""

    def __init__(self, start: datetime) -> None:
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def set(self, moment: datetime) -> None:
        self.now = moment.astimezone(UTC)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class World:
    server: ServerApp
    clock: MovableClock
    settings: Settings
    seq: int = 0

    @property
    def app(self) -> Flask:
        return self.server.web

    @property
    def registry(self):
        return self.server.registry

    def student_pk(self, student_id: str) -> int:
        with self.registry() as session:
            return session.scalar(select(Student.id).where(Student.student_id == student_id))

    def tutor_id(self, email: str) -> int:
        with self.registry() as session:
            return session.scalar(select(Tutor.id).where(Tutor.email == email))

    def tap(self, student_id: str, at: datetime, *, reader: str = DOOR) -> None:
        """A badge tap through the real ingest path (intake, store, listeners)."""
        uid = STUDENTS[student_id][4]
        campus = STUDENTS[student_id][5]
        self.tap_uid(uid, at, campus=campus, reader=reader if campus == CAMPUS else OTHER_DOOR)

    def tap_uid(self, uid: str, at: datetime, *, campus: str = CAMPUS, reader: str = DOOR) -> None:
        self.seq += 1
        tap = Tap(id=uuid.uuid4().hex, uid=uid, ts=at.astimezone(UTC), seq=self.seq)
        message = InboundMessage(taps_topic(campus, reader), tap.to_json(), self.clock())
        result = self.server.ingest.service.handle_batch([message])
        assert result.stored, result.rejected

    def readers_online(self, since: datetime) -> None:
        """Every reader says at ``since`` that it is online, with the longest heartbeat
        (1 h), through the real ingest. The absence watcher holds absences back unless
        the door readers were online throughout the slot: call this first."""
        messages = [
            InboundMessage(
                status_topic(campus.id, reader),
                ReaderStatus(state=ReaderState.ONLINE, ts=since, heartbeat=3600).to_json(),
                since,
            )
            for campus in self.settings.campuses
            for reader in campus.readers
        ]
        self.server.ingest.service.handle_batch(messages)

    def check_absences(self) -> None:
        """Run the absence watcher's sweep now (as the job of ``serve`` does at start
        and every few minutes). Its first run looks back 5 minutes only: run it once
        before the checks you expect."""
        for job in self.server.jobs:
            if job.name == "absence-watcher":
                job.run_once()
                return
        raise AssertionError("no absence-watcher job")


def _sheet() -> bytes:
    rows = [HEADER]
    for student_id, (last, first, phone, tutor, uid, _campus) in STUDENTS.items():
        rows.append(
            f"{student_id};{last};{first};{student_id.lower()}@example.org;{phone};{tutor};{uid};"
            f"12;{SLOTS};2026-09-01;2027-06-30;Licence psychologie;Université Grenoble Alpes;public"
        )
    return ("\n".join(rows) + "\n").encode()


def _settings(data_dir: Path, registry_url: str = "") -> Settings:
    return Settings(
        data_dir=data_dir,
        registry_url=registry_url,  # "": SQLite in data_dir; see furnished_registry
        badge_secret=SECRET,
        web=WebSettings(secure_cookies=False, secret_key="web-tests-session-key-0123456789"),
        campuses=(
            CampusSettings(CAMPUS, "Campus de test", (DOOR, ROOM)),
            CampusSettings(OTHER, "Autre campus", (OTHER_DOOR,)),
        ),
    )


def _furnish(world: World) -> None:
    actor = Actor("tests", world.clock())
    days = "; ".join(f"{day} 07:00-22:00" for day in ("lun", "mar", "mer", "jeu", "ven", "sam"))
    sheet = _sheet().decode().splitlines()
    for campus in (CAMPUS, OTHER):
        set_opening_hours(people_unit_of_work(world.registry), campus, days, actor=actor)
        rows = [HEADER] + [row for row in sheet[1:] if STUDENTS[row.split(";")[0]][5] == campus]
        report = import_students(
            people_unit_of_work(world.registry),
            ("\n".join(rows) + "\n").encode(),
            campus_id=campus,
            secret=SECRET.encode(),
            timezone="Europe/Paris",
            retention_days=400,
            actor=actor,
        )
        assert not report.errors, report.errors
    accounts = services_of(world.app).accounts
    alice, bruno = world.tutor_id("alice@campus.test"), world.tutor_id("bruno@campus.test")
    for login, role, campus, tutor, student in [
        ("admin", Role.ADMIN, "", None, None),
        ("coord", Role.COORDINATOR, CAMPUS, None, None),
        ("coord-other", Role.COORDINATOR, OTHER, None, None),
        ("alice", Role.TUTOR, CAMPUS, alice, None),
        ("bruno", Role.TUTOR, CAMPUS, bruno, None),
        ("emilie", Role.STUDENT, CAMPUS, None, world.student_pk("E001")),
    ]:
        accounts.create(
            login=login,
            password=PASSWORD,
            role=role,
            actor=actor,
            display_name=login.capitalize(),
            campus_id=campus,
            tutor_id=tutor,
            student_pk=student,
        )


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(MONDAY_0920)


@pytest.fixture(scope="session")
def furnished_registry(request: pytest.FixtureRequest) -> str:
    """With CAMPUS_TEST_REGISTRY=postgresql, the name of the PostgreSQL database the
    furnished world is built in (each test works on a copy, ``CREATE DATABASE ...
    TEMPLATE``); "" for the default, a SQLite file in the data folder."""
    if REGISTRY_BACKEND == "sqlite":
        return ""
    postgres = request.getfixturevalue("postgres")
    postgres.create_database("web_world", request.getfixturevalue("migrated_postgres"))
    return "web_world"


def _registry_url(request: pytest.FixtureRequest, furnished_registry: str) -> str:
    if not furnished_registry:
        return ""
    return new_postgres_database(request.getfixturevalue("postgres"), furnished_registry)


@pytest.fixture(scope="session")
def furnished_data(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest, furnished_registry
) -> Path:
    """The furnished world's data folder, built once (password hashing is slow on
    purpose); each test works on its own copy."""
    data = tmp_path_factory.mktemp("web-world") / "data"
    clock = MovableClock(MONDAY_0920)
    url = request.getfixturevalue("postgres").url(furnished_registry) if furnished_registry else ""
    settings = _settings(data, url)
    server = build_server(settings, clock=clock)
    try:
        server.ingest.store.setup()
        _furnish(World(server, clock, settings))
    finally:
        server.close()
    return data


@pytest.fixture
def world(
    tmp_path: Path,
    clock: MovableClock,
    furnished_data: Path,
    request: pytest.FixtureRequest,
    furnished_registry: str,
) -> Iterator[World]:
    settings = _settings(tmp_path / "data", _registry_url(request, furnished_registry))
    shutil.copytree(furnished_data, settings.data_dir)
    server = build_server(settings, clock=clock)
    server.ingest.store.setup()
    try:
        yield World(server, clock, settings)
    finally:
        server.close()


CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the client's session, read from a page's form."""
    found = CSRF_FIELD.search(client.get(path).get_data(as_text=True))
    assert found, f"no CSRF field on {path}"
    return found[1]


def log_in(client: FlaskClient, login: str, password: str = PASSWORD):
    return client.post(
        "/login", data={"login": login, "password": password, "csrf_token": csrf_of(client)}
    )


@pytest.fixture
def client_as(world: World) -> Callable[[str], FlaskClient]:
    """``client_as("alice")``: a test client logged in as that account."""

    def make(login: str) -> FlaskClient:
        client = world.app.test_client()
        answer = log_in(client, login)
        assert answer.status_code == 302, answer.get_data(as_text=True)
        return client

    return make


def post_form(client: FlaskClient, path: str, data: dict[str, str], *, page: str | None = None):
    """Submit a form as a browser would: with the session's CSRF token."""
    return client.post(path, data={**data, "csrf_token": csrf_of(client, page or path)})
