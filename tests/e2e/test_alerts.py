"""Alerts end to end: a contract with a Monday 09:00 slot, no tap, the server's clock at
09:15:30 → the absence watcher job raises the alert, the tutor's e-mail reaches a real
SMTP server, the MQTT event reaches Mosquitto through the real ingest client; the call
log posted over the JSON API closes the alert, and the evidence report counts it."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import update

from edge.protocol import events_topic
from server.bootstrap import build_alerting, build_ingest, build_reports
from server.container import Services
from server.domain.accounts import Actor
from server.domain.events import ReaderStatusRecord
from server.registry.alert_models import AlertChannelSettings
from server.registry.database import open_registry
from server.registry.models import Campus
from server.registry.people_store import people_unit_of_work
from server.registry.presence_store import presence_unit_of_work
from server.services.people.campuses import sync_campuses
from server.services.people.student_import import import_students
from server.services.presence.ledger import LedgerService
from server.web.api_alerts import blueprint
from server.web.app import create_app
from tests.e2e.helpers import CAMPUS, SECRET, ingest_settings, wait_until
from tests.services import Mosquitto, free_port

pytestmark = [pytest.mark.broker]

TOKEN = "e2e-alerts-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
NOW = datetime(2026, 11, 23, 8, 15, 30, tzinfo=UTC)  # Monday 09:15:30 in Paris
SHEET = (
    "student_id;last_name;first_name;phone;tutor_email;badge_uid;weekly_hours;slots;"
    "contract_start\n"
    "E001;Durand;Émilie;0612345678;tutrice@campus.fr;04a1b2c3d4e5f6;12;"
    '"lun 09:00-12:00; mar 14:00-18:00; jeu 09:00-13:00";01/09/2026\n'
).encode()


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(envelope.content)
        return "250 OK"


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            return self.now


def _enrol(settings, registry, smtp_port: int) -> None:
    sync_campuses(people_unit_of_work(registry), settings)
    report = import_students(
        people_unit_of_work(registry),
        SHEET,
        campus_id=CAMPUS,
        secret=SECRET.encode(),
        timezone="Europe/Paris",
        retention_days=400,
        actor=Actor("coordinator", NOW - timedelta(days=30)),
    )
    assert report.created == ["E001"], report.errors
    with registry() as session, session.begin():
        session.execute(update(Campus).values(closes_on_public_holidays=True))
        session.add(
            AlertChannelSettings(
                campus_id=CAMPUS,
                base_url="https://presence.example.org",
                coordinator_emails="coord@campus.fr",
                email_enabled=True,
                smtp_host="127.0.0.1",
                smtp_port=smtp_port,
                smtp_security="none",
                from_address="presence@campus.fr",
                mqtt_enabled=True,
            )
        )


def _door_heartbeats(store) -> None:
    moment, records = NOW - timedelta(hours=1), []
    while moment <= NOW:
        for reader in ("door-1", "door-2"):
            records.append(ReaderStatusRecord(CAMPUS, reader, "online", moment, moment))
        moment += timedelta(seconds=60)
    store.write_statuses(records)


def _subscribe(port: int) -> tuple[mqtt.Client, list[dict]]:
    events: list[dict] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = lambda _c, _u, message: events.append(json.loads(message.payload))
    subscribed = threading.Event()
    client.on_subscribe = lambda *args: subscribed.set()
    client.connect("127.0.0.1", port)
    client.subscribe(events_topic(CAMPUS, "alerts"), qos=1)
    client.loop_start()
    assert subscribed.wait(5)
    return client, events


def test_absence_email_then_call_log_then_evidence(tmp_path: Path, mosquitto: Mosquitto) -> None:
    inbox, smtp_port = Inbox(), free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    settings = replace(ingest_settings(tmp_path, mosquitto.port), api_token=TOKEN)
    engine, registry = open_registry(settings.registry_database_url)
    _enrol(settings, registry, smtp_port)
    clock = Clock(NOW)
    subscriber, events = _subscribe(mosquitto.port)
    try:
        with build_ingest(settings, clock=clock) as ingest:
            assert ingest.consumer.wait_subscribed(10)
            _door_heartbeats(ingest.store)
            ledger = LedgerService(
                presence_unit_of_work(registry, settings.presence), ingest.store, settings.presence
            )
            alerting = build_alerting(
                settings, registry, ingest.store, ledger, publish=ingest.consumer.publish
            )
            services = Services(
                settings=settings,
                clock=clock,
                ledger=ledger,
                registry=registry,
                alerts=alerting.alerts,
                reports=build_reports(settings, registry, ledger),
            )
            app = create_app(services, blueprints=[blueprint])
            client = app.test_client()
            jobs = alerting.jobs(clock)
            for job in jobs:
                job.start()
            try:
                wait_until(
                    lambda: any(
                        b"Absence" in item or b"absence" in item for item in inbox.messages
                    ),
                    timeout=30,
                    what="the tutor's e-mail",
                )
                wait_until(
                    lambda: any(event["kind"] == "absence" for event in events),
                    timeout=10,
                    what="the MQTT alert event",
                )
                listed = client.get("/api/v1/alerts?status=open", headers=AUTH).get_json()
                (alert,) = [a for a in listed["alerts"] if a["kind"] == "absence"]
                bad = client.post(
                    f"/api/v1/alerts/{alert['id']}/calls", json={"outcome": "maybe"}, headers=AUTH
                )
                clock.now = NOW + timedelta(minutes=6)
                called = client.post(
                    f"/api/v1/alerts/{alert['id']}/calls",
                    json={
                        "called_at": "2026-11-23T09:20:00+01:00",
                        "outcome": "reached",
                        "reason_category": "transport",
                        "reason": "train supprimé",
                        "by": "tutrice@campus.fr",
                    },
                    headers=AUTH,
                )
                wait_until(
                    lambda: any(event["state"] == "resolved" for event in events),
                    timeout=10,
                    what="the resolved event",
                )
                evidence = client.get(
                    "/api/v1/alerts/evidence?from=2026-11-23&to=2026-11-29", headers=AUTH
                ).get_json()
                still_open = [
                    item["kind"]
                    for item in client.get("/api/v1/alerts", headers=AUTH).get_json()["alerts"]
                ]
            finally:
                for job in jobs:
                    job.stop()
    finally:
        subscriber.disconnect()
        subscriber.loop_stop()
        smtp.stop()
        engine.dispose()

    mails = [message_from_bytes(item, policy=policy.default) for item in inbox.messages]
    (mail,) = [item for item in mails if item["Subject"].startswith("Absence")]
    assert mail["To"] == "tutrice@campus.fr"
    assert mail["Subject"].startswith("Absence constatée : Émilie Durand, créneau 23/11/2026 09:00")
    assert 'href="tel:+33612345678"' in mail.get_body(("html",)).get_content()
    assert (
        f"https://presence.example.org/tutor/alerts/{alert['id']}"
        in mail.get_body(("plain",)).get_content()
    )
    assert (alert["status"], alert["student_id"], alert["slot_start"]) == (
        "open",
        "E001",
        "2026-11-23T08:00:00+00:00",
    )
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "bad_outcome"
    assert called.status_code == 201, called.get_json()
    assert called.get_json()["status"] == "closed"
    absence = [event for event in events if event["kind"] == "absence"]
    assert [event["state"] for event in absence] == ["raised", "resolved"]
    assert "student" not in absence[0] and "Durand" not in json.dumps(events)
    assert "E001" not in json.dumps(events)  # only opaque ids leave on MQTT
    assert "absence" not in still_open
    total = evidence["total"]
    assert (total["absences_noticed"], total["called"], total["called_share"]) == (1, 1, 1.0)
    assert total["median_minutes_to_call"] == 4.5
    assert evidence["tutors"][0]["tutor"] == "tutrice@campus.fr"
