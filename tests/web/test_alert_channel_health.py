"""A channel that keeps failing shows on the admin's and the coordinator's pages and in
``/healthz`` (without personal data); the admin's test button sends a real test e-mail
to a local SMTP server (aiosmtpd). Real app (``build_server``), real SQLite registry."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes, policy

import pytest

from server.container import services_of
from server.registry.alert_models import AlertChannelSettings
from server.registry.models import AuditEntry
from tests.alert_receivers import SmtpServer
from tests.services import free_port
from tests.web.conftest import CAMPUS, PARIS, World, post_form


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, second, tzinfo=PARIS)


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    server = SmtpServer()
    yield server
    server.close()


def _email_to(world: World, port: int) -> None:
    with world.registry() as session, session.begin():
        session.merge(
            AlertChannelSettings(
                campus_id=CAMPUS,
                coordinator_emails="coord@campus.test",
                email_enabled=True,
                smtp_host="127.0.0.1",
                smtp_port=port,
                smtp_security="none",
                from_address="presence@campus.test",
                mqtt_enabled=False,
            )
        )


def _email_failing_twice(world: World) -> None:
    """E001-E004 are absent at 09:15 (E005 at the other campus); this campus's SMTP
    server refuses every connection: four e-mails, each tried twice."""
    _email_to(world, free_port())
    world.readers_online(at(8, 0))
    world.clock.set(at(9, 10))
    world.check_absences()
    world.clock.set(at(9, 16))
    world.check_absences()
    notifications = services_of(world.app).alerts.notifications
    assert notifications.retry_due(world.clock()) == 1  # the other campus's MQTT event
    world.clock.advance(minutes=1)
    assert notifications.retry_due(world.clock()) == 0  # both retried, both refused again


def _text(answer) -> str:
    assert answer.status_code == 200, answer.status_code
    return html.unescape(answer.get_data(as_text=True))


def test_a_failing_channel_shows_on_the_admin_and_coordinator_pages(world, client_as) -> None:
    _email_failing_twice(world)
    admin = _text(client_as("admin").get("/admin/"))
    assert "1 canal d’alerte échoue sans cesse" in admin
    assert "E-mail</strong> — Campus de test" in admin
    assert "en échec depuis 23 nov. 2026, 09:16" in admin
    assert "8 tentatives échouées d’affilée" in admin
    assert "ConnectionRefusedError" in admin
    coordinator = _text(client_as("coord").get("/coordinator/occupancy"))
    assert "1 canal d’alerte échoue sans cesse" in coordinator
    assert "ConnectionRefusedError" in coordinator
    calls = _text(client_as("coord").get("/coordinator/alerts"))
    assert "1 canal d’alerte échoue sans cesse" in calls
    # The coordinator of another campus is not told about this one.
    other = _text(client_as("coord-other").get("/coordinator/occupancy"))
    assert "échoue sans cesse" not in other
    channels = _text(client_as("admin").get(f"/admin/channels?campus={CAMPUS}"))
    assert "en échec depuis 23 nov. 2026, 09:16" in channels
    english = _text(client_as("admin").get("/admin/?lang=en"))
    assert "1 alert channel keeps failing" in english
    assert "8 failed attempts in a row" in english
    for page in (admin, coordinator, channels):
        errors = re.findall(r"<code>([^<]*)</code>", page)
        assert errors and all("Connection refused" in error for error in errors)
        assert not any("@" in error or "07 00" in error for error in errors)
        assert "Martin" not in page and "07 00 00 00" not in page


def test_healthz_answers_degraded_without_personal_data(world) -> None:
    client = world.app.test_client()  # not logged in
    assert client.get("/healthz").get_json()["status"] == "ok"
    _email_failing_twice(world)
    answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    report = answer.get_json()
    assert report["status"] == "degraded"
    assert report["channels"] == [
        {"channel": "email", "campuses": 1, "since": "2026-11-23T08:16:00+00:00"}
    ]
    assert report["counters"]["deliveries"]["email"] == {
        "sent": 0,
        "pending": 0,
        "retrying": 4,
        "given_up": 0,
    }
    assert report["counters"]["deliveries"]["web"]["sent"] == 5
    body = json.dumps(report)
    assert "@" not in body and "E00" not in body and CAMPUS not in body


def test_the_test_button_sends_a_real_test_email_and_clears_the_failure(
    world, client_as, smtp
) -> None:
    _email_failing_twice(world)
    _email_to(world, smtp.port)  # the admin fixed the port
    client = client_as("admin")
    page = f"/admin/channels?campus={CAMPUS}"
    answer = post_form(
        client, "/admin/channels/test", {"campus": CAMPUS, "channel": "email"}, page=page
    )
    assert answer.status_code == 302
    shown = _text(client.get(page))
    assert "Le message de test a été envoyé par E-mail." in shown
    ((_, content),) = smtp.received
    mail = message_from_bytes(content, policy=policy.default)
    assert mail["To"] == "coord@campus.test"
    assert mail["Subject"] == "Message de test de Campus connecté"
    assert "échoue sans cesse" not in _text(client.get("/admin/"))
    with world.registry() as session:
        entry = session.query(AuditEntry).filter_by(action="alert_channel_tested").one()
    assert entry.actor == "admin" and json.loads(entry.after) == {
        "channel": "email",
        "error": "",
        "ok": True,
    }


def test_the_test_button_shows_the_error(world, client_as) -> None:
    _email_to(world, free_port())
    client = client_as("admin")
    page = f"/admin/channels?campus={CAMPUS}"
    post_form(client, "/admin/channels/test", {"campus": CAMPUS, "channel": "email"}, page=page)
    shown = _text(client.get(page))
    assert "Le message de test n’a pas pu être envoyé par E-mail : SMTP: ConnectionRefused" in shown


def test_only_an_admin_may_send_a_test_message(world, client_as) -> None:
    _email_to(world, free_port())
    client = client_as("coord")
    answer = post_form(
        client,
        "/admin/channels/test",
        {"campus": CAMPUS, "channel": "email"},
        page="/coordinator/occupancy",
    )
    assert answer.status_code == 403
    no_token = client_as("admin").post(
        "/admin/channels/test", data={"campus": CAMPUS, "channel": "email"}
    )
    assert no_token.status_code == 400  # CSRF
    with world.registry() as session:
        assert session.query(AuditEntry).filter_by(action="alert_channel_tested").count() == 0
