"""Channels against real servers: an SMTP server (aiosmtpd) on a free port, a local
HTTP server for the webhook (failing, then recovering), and the real Mosquitto."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from server.adapters.alert_channels import (
    SIGNATURE_HEADER,
    EmailChannel,
    MqttChannel,
    SmtpSettings,
    WebhookChannel,
)
from server.domain.alerts import AlertKind
from server.services.notifications import DeliveryFailed, Notice, NoticeKind, Person
from tests.integration.alerts.conftest import mqtt_event_of
from tests.services import Mosquitto, free_port

NOTICE = Notice(
    alert_id="alert-0123456789abcdef",
    kind=AlertKind.ABSENCE,
    notice=NoticeKind.RAISED,
    campus="campus-a",
    ts=datetime(2026, 11, 23, 8, 15, 30, tzinfo=UTC),
    timezone="Europe/Paris",
    url="https://presence.example.org/alerts/alert-0123456789abcdef",
    tutor=Person("Tutrice", "tutrice@campus.fr", "0600000000"),
    coordinators=("coord@campus.fr",),
    student_id="E001",
    student=Person("Émilie Durand", "emilie@example.org", "06 12 34 56 78"),
    slot_start=datetime(2026, 11, 23, 8, tzinfo=UTC),
    slot_end=datetime(2026, 11, 23, 11, tzinfo=UTC),
)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content))
        return "250 OK"


def _authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"s3cret"
    return AuthResult(success=ok)


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticator,
        auth_require_tls=False,
    )
    controller.start()
    yield inbox, port
    controller.stop()


def test_email_in_french_with_name_slot_tel_link_and_url(smtp) -> None:
    inbox, port = smtp
    settings = SmtpSettings(
        "127.0.0.1",
        port,
        security="none",
        username="campus",
        password="s3cret",
        from_address="presence@campus.fr",
    )
    EmailChannel(settings).send(NOTICE)
    ((sender, recipients, content),) = inbox.messages
    assert sender == "presence@campus.fr" and recipients == ["tutrice@campus.fr"]
    message = message_from_bytes(content, policy=policy.default)
    assert message["Subject"] == "Absence constatée : Émilie Durand, créneau 23/11/2026 09:00-12:00"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "06 12 34 56 78" in text and "Appelez" in text
    assert 'href="tel:+33612345678"' in html
    assert NOTICE.url in text and f'href="{NOTICE.url}"' in html


def test_email_login_refused_is_a_delivery_failure(smtp) -> None:
    _, port = smtp
    settings = SmtpSettings("127.0.0.1", port, security="none", username="campus", password="no")
    with pytest.raises(DeliveryFailed) as failure:
        EmailChannel(settings).send(NOTICE)
    assert "@" not in str(failure.value)


class Gateway:
    """A webhook receiver answering 500 to the first ``failures`` requests."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.received: list[tuple[dict, str]] = []
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                gateway.received.append((body, self.headers[SIGNATURE_HEADER]))
                status = 500 if gateway.failures > 0 else 204
                gateway.failures -= 1
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/sms"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_webhook_retries_then_delivers_a_signed_body() -> None:
    gateway = Gateway(failures=2)
    try:
        WebhookChannel(gateway.url, "hook-secret", pause_s=0.01).send(NOTICE)
    finally:
        gateway.close()
    assert len(gateway.received) == 3
    body, signature = gateway.received[-1]
    expected = hmac.new(b"hook-secret", body, hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"
    payload = json.loads(body)
    assert payload["to"] == "0600000000" and "Émilie Durand" in payload["text"]


def test_webhook_that_keeps_failing_raises() -> None:
    gateway = Gateway(failures=10)
    try:
        with pytest.raises(DeliveryFailed, match="HTTP 500 after 3 attempts"):
            WebhookChannel(gateway.url, "s", pause_s=0.01).send(NOTICE)
    finally:
        gateway.close()


@pytest.mark.broker
def test_mqtt_event_has_the_documented_shape_and_no_personal_data(mosquitto: Mosquitto) -> None:
    received = mqtt_event_of(mosquitto.port, NOTICE)
    event = json.loads(received)
    assert event == {
        "v": 1,
        "kind": "absence",
        "id": "alert-0123456789abcdef",
        "ts": "2026-11-23T09:15:30.000+01:00",
        "campus": "campus-a",
        "state": "raised",
        "student": "E001",
        "slot_start": "2026-11-23T09:00:00.000+01:00",
        "slot_end": "2026-11-23T12:00:00.000+01:00",
        "url": NOTICE.url,
    }
    assert b"Durand" not in received and b"06 12" not in received


def test_mqtt_without_a_client_is_unavailable_not_failed() -> None:
    from server.services.notifications import ChannelUnavailable

    with pytest.raises(ChannelUnavailable):
        MqttChannel(None).send(NOTICE)
