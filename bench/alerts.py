"""Benchmark of alert deliveries (not a test; prints figures).

50 students of one campus miss their Monday 09:00 slot; the absence watcher notices the
50 absences at the same instant (09:15:30) and the server's delivery lanes
(``DeliveryWorkers``, as in ``serve``) send them by every channel: the web list, e-mail
to a real SMTP server on loopback (aiosmtpd), a signed webhook to a real receiver
(``http.server``, answers 204 at once), and MQTT events to a real Mosquitto when it is
installed. Two runs, each on a fresh registry: the reference (every receiver answers)
and the same 50 with the SMTP server hanging (it takes each message and never answers).
For each channel: the delay from the alert to its delivery (to its failure for the hung
e-mail), min / median / p95 / max, and the ratio hanging / reference.

The e-mail channel's timeout is the real one (10 s) unless ``--smtp-timeout`` says
otherwise; the e-mail lane's own delay grows with it (50 messages / 2 threads × timeout),
the other channels' must not.

    python bench/alerts.py [--absences 50] [--smtp-timeout 2] [--no-mqtt]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import paho.mqtt.client as mqtt
from sqlalchemy import select

from bench.reference.trees import people_unit_of_work
from edge.protocol import events_topic
from server.adapters.alert_channels import EmailChannel
from server.adapters.sqlite_events import SqliteEventStore
from server.bootstrap import build_alerting
from server.config import CampusSettings, PresenceSettings, Settings
from server.registry.alert_models import Alert, AlertDelivery
from server.registry.database import open_registry
from server.registry.presence_store import presence_unit_of_work
from server.services.people.campuses import sync_campuses
from server.services.presence.ledger import LedgerService
from tests.alert_receivers import (
    ENVIRON,
    MONDAY_0900,
    SmtpServer,
    WebhookReceiver,
    absent_students,
    doors_online,
)
from tests.services import Mosquitto, ServiceError

CAMPUS = "bench"
READERS = ("porte-1",)
SECRET = "bench-badge-secret-0123456789abcdef"
NOTICED = MONDAY_0900 + timedelta(minutes=15, seconds=30)
CHANNELS = ("web", "email", "webhook", "mqtt")


class Clock:
    """09:15:30 plus the real time elapsed since the run began."""

    def __init__(self) -> None:
        self._origin = time.monotonic()

    def __call__(self) -> datetime:
        return NOTICED + timedelta(seconds=time.monotonic() - self._origin)


def _subscriber(port: int, topic: str) -> tuple[mqtt.Client, list[float]]:
    arrivals: list[float] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = lambda _c, _u, _m: arrivals.append(time.monotonic())
    client.connect("127.0.0.1", port)
    client.subscribe(topic, qos=1)
    client.loop_start()
    return client, arrivals


def run(args: argparse.Namespace, *, hang: bool, broker: Mosquitto | None) -> dict:
    folder = Path(tempfile.mkdtemp(prefix="bench-alerts-"))
    settings = Settings(
        data_dir=folder,
        badge_secret=SECRET,
        registry_url=f"sqlite:///{folder / 'registry.sqlite3'}",
        presence=PresenceSettings(),
        campuses=(CampusSettings(CAMPUS, "Campus bench", READERS),),
    )
    engine, registry = open_registry(settings.registry_database_url)
    sync_campuses(people_unit_of_work(registry), settings)
    events = SqliteEventStore(folder / "events.sqlite3")
    events.setup()
    smtp, webhook = SmtpServer(hang=hang), WebhookReceiver()
    publisher = subscriber = None
    arrivals: list[float] = []
    if broker is not None:
        subscriber, arrivals = _subscriber(broker.port, events_topic(CAMPUS, "alerts"))
        publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        publisher.connect("127.0.0.1", broker.port)
        publisher.loop_start()
    try:
        absent_students(
            registry,
            CAMPUS,
            args.absences,
            secret=SECRET.encode(),
            smtp_port=smtp.port,
            webhook_url=webhook.url,
            mqtt=broker is not None,
        )
        doors_online(events, CAMPUS, READERS, NOTICED)
        publish = None
        if publisher is not None:
            client = publisher

            def publish(topic: str, payload: bytes) -> None:
                client.publish(topic, payload, qos=1)

        ledger = LedgerService(
            presence_unit_of_work(registry, settings.presence), events, settings.presence
        )
        alerting = build_alerting(
            settings, registry, events, ledger, publish=publish, environ=ENVIRON
        )
        alerting.watcher.catch_up = timedelta(hours=3)
        real_channels = alerting.notifications.channels

        def channels(campus: str):  # the real ones, with the e-mail timeout asked for
            built = dict(real_channels(campus))
            email = built.get("email")
            if isinstance(email, EmailChannel):
                built["email"] = EmailChannel(replace(email.settings, timeout_s=args.smtp_timeout))
            return built

        alerting.notifications.channels = channels
        clock = Clock()
        workers = alerting.delivery_workers(clock)
        workers.start()
        try:
            began = time.monotonic()
            noticed = alerting.watcher.check(clock()).noticed
            checked = time.monotonic() - began
            assert len(noticed) == args.absences, len(noticed)
            deadline = time.monotonic() + args.absences * args.smtp_timeout + 120
            while time.monotonic() < deadline and _unfinished(registry):
                time.sleep(0.05)
            rows = _outcomes(registry)
        finally:
            workers.stop()
    finally:
        for client in (publisher, subscriber):
            if client is not None:
                client.disconnect()
                client.loop_stop()
        smtp.close()
        webhook.close()
        events.close()
        engine.dispose()
    delays: dict[str, list[float]] = {name: [] for name in CHANNELS}
    states: dict[str, dict[str, int]] = {name: {} for name in CHANNELS}
    for channel, status, noticed_at, done in rows:
        if channel == "web":
            delays["web"].append(checked)  # recorded in the check's transactions
        elif done is not None:
            delays[channel].append((done - noticed_at).total_seconds())
        states[channel][status] = states[channel].get(status, 0) + 1
    received = {"email": len(smtp.received), "webhook": len(webhook.received)}
    received["mqtt"] = len(arrivals)
    return {"delays": delays, "states": states, "received": received, "check": checked}


def _unfinished(registry) -> bool:
    with registry() as session:
        return (
            session.scalar(
                select(AlertDelivery.id).where(AlertDelivery.last_attempt_at.is_(None)).limit(1)
            )
            is not None
        )


def _outcomes(registry) -> list[tuple[str, str, datetime, datetime | None]]:
    with registry() as session:
        return [
            (channel, status, noticed, sent or tried)
            for channel, status, noticed, sent, tried in session.execute(
                select(
                    AlertDelivery.channel,
                    AlertDelivery.status,
                    Alert.noticed_at,
                    AlertDelivery.sent_at,
                    AlertDelivery.last_attempt_at,
                ).join(Alert, Alert.id == AlertDelivery.alert_pk)
            )
        ]


def _figures(values: list[float]) -> tuple[float, float, float, float] | None:
    if not values:
        return None
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return ordered[0], statistics.median(ordered), p95, ordered[-1]


def _line(label: str, channel: str, result: dict) -> str:
    figures = _figures(result["delays"][channel])
    states = ", ".join(f"{n} {s}" for s, n in sorted(result["states"][channel].items()))
    if figures is None:
        return f"{label:<10} {channel:<8} no delivery"
    low, median, p95, high = figures
    received = result["received"].get(channel)
    got = f"; {received} received" if received is not None else ""
    return (
        f"{label:<10} {channel:<8} min {low:7.3f} s  median {median:7.3f} s  "
        f"p95 {p95:7.3f} s  max {high:7.3f} s  ({states}{got})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--absences", type=int, default=50)
    parser.add_argument("--smtp-timeout", type=float, default=10.0)
    parser.add_argument("--no-mqtt", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    broker = None
    folder = Path(tempfile.mkdtemp(prefix="bench-alerts-broker-"))
    if not args.no_mqtt:
        try:
            broker = Mosquitto(folder / "mosquitto")
            broker.start()
        except ServiceError as problem:
            print(f"no Mosquitto ({problem}): web, e-mail and webhook only")
            broker = None
    try:
        print(
            f"{args.absences} absences noticed at the same instant; e-mail timeout "
            f"{args.smtp_timeout:g} s; channels: web, email, webhook"
            + (", mqtt (real Mosquitto)" if broker else "")
        )
        run(argparse.Namespace(**{**vars(args), "absences": 5}), hang=False, broker=broker)
        reference = run(args, hang=False, broker=broker)  # after a warm-up run, not shown
        hanging = run(args, hang=True, broker=broker)
    finally:
        if broker is not None:
            broker.stop()
    used = [name for name in CHANNELS if reference["delays"][name] or hanging["delays"][name]]
    for channel in used:
        print(_line("reference", channel, reference))
    for channel in used:
        print(_line("SMTP hangs", channel, hanging))
    for channel in used:
        ref, hung = _figures(reference["delays"][channel]), _figures(hanging["delays"][channel])
        if ref and hung:
            print(
                f"ratio hanging/reference {channel:<8} median {hung[1] / ref[1]:6.2f}x  "
                f"p95 {hung[2] / ref[2]:6.2f}x  max {hung[3] / ref[3]:6.2f}x"
            )


if __name__ == "__main__":
    main()
