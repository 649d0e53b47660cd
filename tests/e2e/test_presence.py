"""Presence end to end: the coordinator's CSV import, a reader publishing taps through a
real Mosquitto into the real ingest (SQLite store), the readers' feedback coming back
over MQTT, and the weekly report read over the JSON API.

``campus-presence serve`` runs the ingest only for now; this test wires the presence
engine to it the way the composition root should (see ``feedback_listener``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import pytest
from sqlalchemy import update

from edge.protocol import feedback_topic
from server.bootstrap import build_ingest
from server.container import Services
from server.domain.accounts import Actor
from server.domain.calendar import IsoWeek
from server.registry.database import open_registry
from server.registry.models import Campus
from server.registry.people_store import people_unit_of_work
from server.registry.presence_store import presence_unit_of_work
from server.services.people.campuses import sync_campuses
from server.services.people.student_import import import_students
from server.services.presence.ledger import LedgerService
from server.services.presence.presence import PresenceService, feedback_listener
from server.web.app import create_app
from tests.e2e.helpers import CAMPUS, DOOR, SECRET, Reader, ingest_settings, make_tap, wait_until
from tests.services import Mosquitto

pytestmark = [pytest.mark.broker]

TOKEN = "e2e-api-token"
UID = "04a1b2c3d4e5f6"
SHEET = (
    "student_id;last_name;first_name;phone;badge_uid;weekly_hours;slots;contract_start\n"
    f'E001;Durand;Émilie;0612345678;{UID};12;"lun 09:00-12:00; mar 14:00-18:00";01/01/2020\n'
).encode("cp1252")


class FeedbackInbox:
    """A paho client subscribed to the door's feedback topic."""

    def __init__(self, port: int) -> None:
        self.messages: list[dict] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._received
        self.client.connect("127.0.0.1", port)
        self.client.subscribe(feedback_topic(CAMPUS, DOOR), qos=1)
        self.client.loop_start()

    def _received(self, _client, _userdata, message) -> None:
        with self._lock:
            self.messages.append(json.loads(message.payload))

    def results(self) -> list[str]:
        with self._lock:
            return [message["result"] for message in self.messages]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def inbox(mosquitto: Mosquitto) -> Iterator[FeedbackInbox]:
    client = FeedbackInbox(mosquitto.port)
    yield client
    client.close()


def _two_taps_in_one_week() -> tuple[datetime, datetime]:
    paris = ZoneInfo("Europe/Paris")
    leave = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    enter = leave - timedelta(hours=1)
    if IsoWeek.of(enter.astimezone(paris).date()) != IsoWeek.of(leave.astimezone(paris).date()):
        enter, leave = enter - timedelta(hours=2), leave - timedelta(hours=2)
    return enter, leave


def test_csv_import_then_taps_over_mqtt_then_weekly_report_over_the_api(
    tmp_path: Path, mosquitto: Mosquitto, inbox: FeedbackInbox
) -> None:
    settings = replace(ingest_settings(tmp_path, mosquitto.port), api_token=TOKEN)
    engine, registry = open_registry(settings.registry_database_url)
    sync_campuses(people_unit_of_work(registry), settings)
    with registry() as session, session.begin():  # a test must not depend on the day's holiday
        session.execute(update(Campus).values(closes_on_public_holidays=False))
    report = import_students(
        people_unit_of_work(registry),
        SHEET,
        campus_id=CAMPUS,
        secret=SECRET.encode(),
        timezone=settings.presence.timezone,
        retention_days=settings.events.retention_days,
        actor=Actor("coordinator", datetime.now(UTC)),
    )
    assert report.created == ["E001"], report.errors

    enter, leave = _two_taps_in_one_week()
    clock = lambda: datetime.now(UTC)  # noqa: E731
    with build_ingest(settings) as ingest:
        assert ingest.consumer.wait_subscribed(10)
        presence = PresenceService(
            presence_unit_of_work(registry, settings.presence), ingest.store, settings.presence
        )
        ingest.service.on_taps_stored(feedback_listener(presence, ingest.consumer.publish, clock))
        reader = Reader(mosquitto.port)
        try:
            reader.publish_taps([make_tap(1, uid=UID, ts=enter)])
            wait_until(lambda: inbox.results() == ["in"], what="entry feedback")
            reader.publish_taps([make_tap(2, uid=UID, ts=leave)])
            wait_until(lambda: inbox.results() == ["in", "out"], what="exit feedback")
        finally:
            reader.close()
        assert inbox.messages[0]["text"] == "Bonjour, entrée enregistrée"

        ledger = LedgerService(
            presence_unit_of_work(registry, settings.presence), ingest.store, settings.presence
        )
        app = create_app(
            Services(settings=settings, clock=lambda: datetime.now(UTC), ledger=ledger)
        )
        client = app.test_client()
        week = IsoWeek.of(enter.astimezone(ZoneInfo("Europe/Paris")).date())
        answer = client.get(
            f"/api/v1/presence/weekly?week={week}", headers={"Authorization": f"Bearer {TOKEN}"}
        )
        refused = client.get(f"/api/v1/presence/weekly?week={week}")
    engine.dispose()

    assert answer.status_code == 200
    (line,) = answer.get_json()["students"]
    assert (line["student_id"], line["attended_hours"], line["unverified_hours"]) == (
        "E001",
        1.0,
        0.0,
    )
    assert line["expected_hours"] == 12.0
    assert refused.status_code == 401
