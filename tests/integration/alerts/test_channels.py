"""Channels against real servers: an SMTP server (aiosmtpd) on a free port, a local
HTTP server for the webhook (failing, then recovering), and the real Mosquitto.

``docs/alerts.md`` describes the webhook's body; ``tests/integration/alerts/
test_webhook_receiver_doc.py`` runs the receiver the page shows against it."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from server.adapters import alert_channels
from server.adapters.alert_channels import (
    SIGNATURE_HEADER,
    CampusChannelConfig,
    EmailChannel,
    MqttChannel,
    SmtpSettings,
    WebhookChannel,
    WebhookSecretError,
    build_channels,
    check_webhook_secrets,
)
from server.domain.alerts import AlertKind
from server.domain.notices import DeliveryFailed, Notice, NoticeKind, Person
from tests.integration.alerts.conftest import mqtt_event_of
from tests.services import Mosquitto, free_port

NOTICE = Notice(
    alert_id="alert-0123456789abcdef",
    kind=AlertKind.ABSENCE,
    notice=NoticeKind.RAISED,
    campus="campus-a",
    ts=datetime(2026, 11, 23, 8, 15, 30, tzinfo=UTC),
    timezone="Europe/Paris",
    url="https://presence.example.org/tutor/alerts/alert-0123456789abcdef",
    tutor=Person("Tutrice", "tutrice@campus.fr", "0600000000"),
    coordinators=("coord@campus.fr",),
    coordinator_phones=("04 76 00 00 01", "+33 4 76 00 00 02"),
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


SECRET = "hook-secret-0123456789"
SENT_AT = datetime(2026, 11, 23, 8, 15, 31, tzinfo=UTC)


def _webhook(url: str, secret: str = SECRET) -> WebhookChannel:
    return WebhookChannel(url, secret, pause_s=0.01, clock=lambda: SENT_AT)


def test_webhook_retries_then_delivers_a_signed_body() -> None:
    gateway = Gateway(failures=2)
    try:
        _webhook(gateway.url).send(NOTICE)
    finally:
        gateway.close()
    assert len(gateway.received) == 3
    body, signature = gateway.received[-1]
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert signature == f"sha256={expected}"
    assert json.loads(body) == {
        "v": 2,
        "id": "alert-0123456789abcdef.raised",
        "ts": "2026-11-23T08:15:31.000Z",
        "alert": "alert-0123456789abcdef",
        "kind": "absence",
        "notice": "raised",
        "campus": "campus-a",
        "to": ["+33600000000"],
        "text": "Absence constatée : Émilie Durand, créneau 23/11/2026 09:00-12:00 - "
        "06 12 34 56 78 - https://presence.example.org/tutor/alerts/alert-0123456789abcdef",
        "url": "https://presence.example.org/tutor/alerts/alert-0123456789abcdef",
    }
    assert b"@" not in body, "no e-mail address in what the gateway receives"


def test_an_escalation_is_texted_to_the_coordinators_numbers_in_e164() -> None:
    gateway = Gateway(failures=0)
    escalated = replace(NOTICE, notice=NoticeKind.ESCALATED)
    try:
        _webhook(gateway.url).send(escalated)
    finally:
        gateway.close()
    ((body, _signature),) = gateway.received
    payload = json.loads(body)
    assert payload["to"] == ["+33476000001", "+33476000002"]
    assert (payload["id"], payload["notice"]) == ("alert-0123456789abcdef.escalated", "escalated")
    assert payload["url"] == NOTICE.url  # the coordinator may open the same page
    assert b"@" not in body


def test_an_unreadable_number_is_left_out_logged_and_counted_without_the_number(
    caplog: pytest.LogCaptureFixture,
) -> None:
    gateway = Gateway(failures=0)
    before = alert_channels.counters["webhook_invalid_phone"]
    wrong = replace(NOTICE, tutor=Person("Tutrice", "tutrice@campus.fr", "06 00 00 0x 00"))
    partly = replace(
        NOTICE, notice=NoticeKind.ESCALATED, coordinator_phones=("04 76", "04 76 00 00 03")
    )
    try:
        with caplog.at_level(logging.INFO), pytest.raises(DeliveryFailed, match="no valid phone"):
            _webhook(gateway.url).send(wrong)
        _webhook(gateway.url).send(partly)
    finally:
        gateway.close()
    ((body, _signature),) = gateway.received  # the first was never sent: nobody to text
    assert json.loads(body)["to"] == ["+33476000003"]
    assert alert_channels.counters["webhook_invalid_phone"] == before + 2
    assert "left out" in caplog.text
    assert "0x" not in caplog.text and "06 00" not in caplog.text


def test_webhook_that_keeps_failing_raises() -> None:
    gateway = Gateway(failures=10)
    try:
        with pytest.raises(DeliveryFailed, match="HTTP 500 after 3 attempts"):
            _webhook(gateway.url).send(NOTICE)
    finally:
        gateway.close()


@pytest.mark.parametrize("secret", ["", "fifteen-chars!!"])
def test_no_webhook_channel_without_a_secret_of_16_characters(secret: str) -> None:
    with pytest.raises(WebhookSecretError):
        WebhookChannel("http://127.0.0.1:9/sms", secret)
    config = CampusChannelConfig(webhook_enabled=True, webhook_url="http://127.0.0.1:9/sms")
    before = alert_channels.counters["webhook_secret_refused"]
    refused = build_channels(config, publish=None, environ={"CAMPUS_WEBHOOK_SECRET": secret})
    assert alert_channels.counters["webhook_secret_refused"] == before + 1
    channel = refused["webhook"]
    assert channel.handles(NOTICE)
    with pytest.raises(DeliveryFailed, match="CAMPUS_WEBHOOK_SECRET"):
        channel.send(NOTICE)  # shows with the deliveries, sends nothing unsigned
    with pytest.raises(WebhookSecretError, match=r"campus campus-a.*CAMPUS_WEBHOOK_SECRET"):
        check_webhook_secrets({"campus-a": "CAMPUS_WEBHOOK_SECRET"}, {"X": SECRET, "": secret})
    check_webhook_secrets({"campus-a": "HOOK"}, {"HOOK": "sixteen-chars-ok"})
    built = build_channels(config, publish=None, environ={"CAMPUS_WEBHOOK_SECRET": SECRET})
    assert isinstance(built["webhook"], WebhookChannel)


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
        "slot_start": "2026-11-23T09:00:00.000+01:00",
        "slot_end": "2026-11-23T12:00:00.000+01:00",
        "url": NOTICE.url,
    }
    assert b"Durand" not in received and b"06 12" not in received
    assert b"E001" not in received  # the spreadsheet's student id is not an opaque id


def test_mqtt_without_a_client_is_unavailable_not_failed() -> None:
    from server.domain.notices import ChannelUnavailable

    with pytest.raises(ChannelUnavailable):
        MqttChannel(None).send(NOTICE)


def test_a_test_message_by_webhook_says_test_and_texts_nobody() -> None:
    from server.domain.notices import TestMessage
    from tests.alert_receivers import WEBHOOK_SECRET, WebhookReceiver

    receiver = WebhookReceiver()
    try:
        message = TestMessage("campus-a", NOTICE.ts, "Test", "Ceci est un test.", id="test-1")
        WebhookChannel(receiver.url, WEBHOOK_SECRET).send_test(message)
    finally:
        receiver.close()
    ((_, body),) = receiver.received
    payload = json.loads(body)
    assert (payload["kind"], payload["id"], payload["to"]) == ("test", "test-1", [])
    assert payload["text"] == "Ceci est un test." and "@" not in body.decode()
