"""Occupancy end to end: taps through a real Mosquitto into the real ingest (real influxd
event store), the occupancy counts over the JSON API within a second, the retained
``events/occupancy`` message, the history in InfluxDB; and a reader killed without a
goodbye (its last will) raising one reader-down alert.

Wired the way the composition root should (see ``occupancy_listener`` and ReaderWatch).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import update

from edge.protocol import ReaderState, ReaderStatus, status_topic
from server.bootstrap import build_ingest
from server.container import Services
from server.domain.accounts import Actor
from server.domain.capacity import CapacityChanged, CapacityLevel, Limits
from server.registry.database import open_registry
from server.registry.models import Campus
from server.registry.occupancy_repository import OccupancyRepository, RoomInfo
from server.registry.occupancy_store import SqlReaderOutages, occupancy_unit_of_work
from server.registry.people_store import people_unit_of_work
from server.registry.presence_store import presence_unit_of_work
from server.services.occupancy.occupancy import OccupancyService, occupancy_listener
from server.services.occupancy.reader_health import ReaderHealthService
from server.services.occupancy.reader_watch import ReaderDown, ReaderWatch
from server.services.people.campuses import sync_campuses
from server.services.people.student_import import import_students
from server.services.presence.ledger import LedgerService
from server.web import api_occupancy
from server.web.app import create_app
from tests.e2e.helpers import CAMPUS, SECRET, Reader, ingest_settings, make_tap, wait_until
from tests.services import Influxd, Mosquitto

pytestmark = [pytest.mark.broker, pytest.mark.influxdb]

TOKEN = "e2e-occupancy-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
UIDS = ["04a1b2c3d4e5f6", "04a1b2c3d4e5f7", "04a1b2c3d4e5f8"]
SHEET = (
    "student_id;last_name;first_name;phone;badge_uid;weekly_hours;slots;contract_start\n"
    + "".join(
        f'E00{n};Nom{n};Prénom{n};061234567{n};{uid};12;"lun 09:00-12:00";01/01/2020\n'
        for n, uid in enumerate(UIDS)
    )
).encode("cp1252")


class Captured:
    """Our own notifier ports, recording what they are told."""

    def __init__(self) -> None:
        self.capacity: list[CapacityChanged] = []
        self.readers: list[ReaderDown] = []

    def capacity_changed(self, event: CapacityChanged) -> None:
        self.capacity.append(event)

    def reader_down(self, event: ReaderDown) -> None:
        self.readers.append(event)


class EventInbox:
    def __init__(self, port: int) -> None:
        self.messages: list[dict] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._received
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(f"campus/{CAMPUS}/events/occupancy", qos=1)
        self.client.loop_start()

    def _received(self, _client, _userdata, message) -> None:
        with self._lock:
            self.messages.append(json.loads(message.payload))

    def campus_counts(self) -> list[int]:
        with self._lock:
            return [m["count"] for m in self.messages if m["room"] is None]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def wired(tmp_path: Path, mosquitto: Mosquitto, influxd: Influxd) -> Iterator[dict]:
    database = f"occ_{uuid.uuid4().hex[:10]}"
    settings = replace(
        ingest_settings(tmp_path, mosquitto.port, influx_url=influxd.url, database=database),
        api_token=TOKEN,
    )
    engine, registry = open_registry(settings.registry_database_url)
    sync_campuses(people_unit_of_work(registry), settings)
    now = datetime.now(UTC)
    with registry() as session, session.begin():
        session.execute(update(Campus).values(closes_on_public_holidays=False))
        repo = OccupancyRepository(session)
        repo.set_campus_limits(CAMPUS, Limits(capacity=2, area_m2=50), actor="test", at=now)
        repo.add_room(
            CAMPUS, RoomInfo("calme", "Salle calme", "individual", Limits(10)), actor="t", at=now
        )
    report = import_students(
        people_unit_of_work(registry),
        SHEET,
        campus_id=CAMPUS,
        secret=SECRET.encode(),
        timezone=settings.presence.timezone,
        retention_days=settings.events.retention_days,
        actor=Actor("coordinator", now),
    )
    assert len(report.created) == 3, report.errors
    captured = Captured()
    clock = lambda: datetime.now(UTC)  # noqa: E731
    with build_ingest(settings) as ingest:
        assert ingest.consumer.wait_subscribed(10)
        occupancy = OccupancyService(
            occupancy_unit_of_work(registry, settings.presence),
            ingest.store,
            settings.presence,
            publish=lambda topic, payload: ingest.consumer.publish(topic, payload, retain=True),
            notifier=captured,
        )
        ingest.service.on_taps_stored(occupancy_listener(occupancy, clock))
        watch = ReaderWatch(
            SqlReaderOutages(registry, settings.presence), ingest.store, notifier=captured
        )
        services = Services(
            settings=settings,
            clock=clock,
            ledger=LedgerService(
                presence_unit_of_work(registry, settings.presence), ingest.store, settings.presence
            ),
            occupancy=occupancy,
            reader_health=ReaderHealthService(ingest.store),
            reader_watch=watch,
        )
        app = create_app(services, blueprints=[api_occupancy.blueprint])
        yield {
            "settings": settings,
            "ingest": ingest,
            "occupancy": occupancy,
            "watch": watch,
            "client": app.test_client(),
            "captured": captured,
            "port": mosquitto.port,
        }
    engine.dispose()


def _campus_count(client) -> int:
    answer = client.get("/api/v1/occupancy", headers=AUTH)
    assert answer.status_code == 200
    (campus,) = answer.get_json()["campuses"]
    return campus["count"]


def test_taps_in_are_counted_over_the_api_within_a_second(wired: dict) -> None:
    client, captured = wired["client"], wired["captured"]
    inbox = EventInbox(wired["port"])
    reader = Reader(wired["port"])
    try:
        assert _campus_count(client) == 0
        base = datetime.now(UTC) - timedelta(seconds=30)
        reader.publish_taps([make_tap(1, uid=UIDS[0], ts=base), make_tap(2, uid=UIDS[1], ts=base)])
        sent = time.monotonic()
        wait_until(lambda: _campus_count(client) == 2, timeout=1.0, what="two people counted")
        assert time.monotonic() - sent < 1.0
        # capacity 2: judged by the ingest's listener, which may run just after a read
        # of the API already counted the stored taps
        wait_until(lambda: bool(captured.capacity), timeout=1.0, what="the capacity alert")
        assert [e.level for e in captured.capacity] == [CapacityLevel.FULL]
        reader.publish_taps([make_tap(3, uid=UIDS[0], ts=base + timedelta(seconds=20))])
        wait_until(lambda: _campus_count(client) == 1, timeout=1.0, what="one exit counted")
        wait_until(lambda: inbox.campus_counts()[-1:] == [1], what="occupancy event")
        assert max(inbox.campus_counts()) == 2
    finally:
        reader.close()
        inbox.close()
    answer = client.get("/api/v1/occupancy", headers=AUTH).get_json()["campuses"][0]
    assert (answer["capacity"], answer["ratio"], answer["rooms"][0]["room"]) == (2, 0.5, "calme")
    history = client.get("/api/v1/occupancy/history?step=1s", headers=AUTH)
    assert history.status_code == 200
    assert [p["count"] for p in history.get_json()["points"]][-1] == 1
    assert client.get("/api/v1/occupancy/history?from=yesterday", headers=AUTH).status_code == 400
    assert client.get("/api/v1/occupancy/stats?period=year", headers=AUTH).status_code == 400
    assert client.get("/api/v1/occupancy/stats?period=day", headers=AUTH).get_json()["peak"] == 2
    forecast = client.get("/api/v1/occupancy/forecast", headers=AUTH).get_json()
    assert max(hour["expected"] for hour in forecast["hours"]) == 3
    assert len(forecast["over_capacity"]) == 3  # Monday 9-12: 3 students for 2 places


def test_counts_are_rebuilt_after_a_restart(wired: dict) -> None:
    reader = Reader(wired["port"])
    try:
        base = datetime.now(UTC) - timedelta(seconds=30)
        reader.publish_taps([make_tap(n + 1, uid=uid, ts=base) for n, uid in enumerate(UIDS)])
        wait_until(lambda: _campus_count(wired["client"]) == 3, what="three counted")
    finally:
        reader.close()
    fresh = OccupancyService(
        wired["occupancy"].unit_of_work, wired["ingest"].store, wired["settings"].presence
    )
    readings = fresh.current(datetime.now(UTC))
    assert [r.count.count for r in readings if r.room is None] == [3]


def test_a_killed_reader_raises_one_reader_down_alert(wired: dict) -> None:
    topic = status_topic(CAMPUS, "door-2")
    will = ReaderStatus(ReaderState.OFFLINE, datetime.now(UTC), heartbeat=1).to_json()
    dying = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    dying.will_set(topic, will, qos=1, retain=True)
    dying.connect("127.0.0.1", wired["port"], keepalive=5)
    dying.loop_start()
    online = ReaderStatus(ReaderState.ONLINE, datetime.now(UTC), heartbeat=1).to_json()
    dying.publish(topic, online, qos=1, retain=True).wait_for_publish(5)
    watch, captured = wired["watch"], wired["captured"]
    wait_until(
        lambda: wired["ingest"].service.counters.snapshot()["statuses"] >= 1, what="status stored"
    )
    assert watch.check(datetime.now(UTC)) == []
    dying.loop_stop()
    dying.socket().close()  # no DISCONNECT: the broker publishes the last will
    wait_until(
        lambda: wired["ingest"].service.counters.snapshot()["statuses"] >= 2, what="will stored"
    )

    def alerted() -> bool:
        watch.check(datetime.now(UTC))
        return bool(captured.readers)

    wait_until(alerted, timeout=10, what="reader-down alert")
    for _ in range(3):
        watch.check(datetime.now(UTC))
    assert [(e.reader, e.reader_state, e.resolved) for e in captured.readers] == [
        ("door-2", "offline", False)
    ]
    readers = wired["client"].get("/api/v1/readers", headers=AUTH).get_json()["readers"]
    assert {r["reader"]: (r["state"], r["alerted"]) for r in readers}["door-2"] == (
        "offline",
        True,
    )
