"""Real receivers of alert channels on loopback, for tests and ``bench/alerts.py``: an
SMTP server (aiosmtpd) that answers or hangs (accepts, takes the message, never replies
to it), and a webhook receiver (``http.server``) that answers 204 at once. Each records
when things arrived (``time.monotonic()``). Plus a campus of students absent together."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from aiosmtpd.controller import Controller
from sqlalchemy import orm, update

from server.domain.accounts import Actor
from server.domain.events import ReaderStatusRecord
from server.registry.alert_models import AlertChannelSettings
from server.registry.models import Campus, Tutor
from server.registry.people_store import people_unit_of_work
from server.services.people.student_import import import_students
from tests.services import free_port

MONDAY_0900 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 in Paris
WEBHOOK_SECRET = "a-webhook-secret-long-enough-0123"
ENVIRON = {"CAMPUS_WEBHOOK_SECRET": WEBHOOK_SECRET}


class SmtpServer:
    """aiosmtpd on a free loopback port. ``hang=True``: every message is accepted up to
    its end, then never answered (until :meth:`close`)."""

    def __init__(self, *, hang: bool = False) -> None:
        self.hang = hang
        self.received: list[tuple[float, bytes]] = []
        self.waiting = 0  # messages held unanswered right now
        self._released = False
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if self.hang:
            self.waiting += 1
            while not self._released:
                await asyncio.sleep(0.05)
            self.waiting -= 1
            return "421 closing"
        self.received.append((time.monotonic(), envelope.content))
        return "250 OK"

    def close(self) -> None:
        self._released = True
        self._controller.stop()


class WebhookReceiver:
    """Answers every POST with 204 at once; keeps (monotonic time, body) of each."""

    def __init__(self) -> None:
        self.received: list[tuple[float, bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((time.monotonic(), body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/sms"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


SHEET_HEADER = (
    "student_id;last_name;first_name;phone;tutor_email;badge_uid;weekly_hours;slots;"
    "contract_start\n"
)


def absent_students(
    registry: Callable[[], orm.Session],
    campus: str,
    count: int,
    *,
    secret: bytes,
    smtp_port: int,
    webhook_url: str,
    email: bool = True,
    webhook: bool = True,
    mqtt: bool = False,
) -> None:
    """``count`` students with a Monday 09:00-12:00 slot and no tap (tutor with a phone),
    and the campus's channels: e-mail to ``smtp_port``, the webhook, MQTT if asked."""
    rows = "".join(
        f"S{index:03d};Nom{index};Prénom{index};06 00 00 {index // 100:02d} {index % 100:02d};"
        f'tutrice@campus.fr;04{index:06x};12;"lun 09:00-12:00; mar 14:00-18:00; '
        f'jeu 09:00-13:00";01/09/2026\n'
        for index in range(1, count + 1)
    )
    report = import_students(
        people_unit_of_work(registry),
        (SHEET_HEADER + rows).encode(),
        campus_id=campus,
        secret=secret,
        timezone="Europe/Paris",
        retention_days=400,
        actor=Actor("tests", MONDAY_0900 - timedelta(days=30)),
    )
    assert len(report.created) == count, report.errors
    with registry() as session, session.begin():
        session.execute(update(Campus).values(closes_on_public_holidays=True))
        session.execute(update(Tutor).values(phone="04 76 00 00 01"))
        session.merge(
            AlertChannelSettings(
                campus_id=campus,
                base_url="https://presence.example.org",
                coordinator_emails="coord@campus.fr",
                email_enabled=email,
                smtp_host="127.0.0.1",
                smtp_port=smtp_port,
                smtp_security="none",
                from_address="presence@campus.fr",
                webhook_enabled=webhook,
                webhook_url=webhook_url,
                mqtt_enabled=mqtt,
            )
        )


def doors_online(store, campus: str, readers: tuple[str, ...], until: datetime) -> None:
    """Heartbeats every minute from 08:00 to ``until``: the door readers were up."""
    moment, records = MONDAY_0900 - timedelta(hours=1), []
    while moment <= until:
        records += [ReaderStatusRecord(campus, r, "online", moment, moment) for r in readers]
        moment += timedelta(seconds=60)
    store.write_statuses(records)
