"""The link of a real alert e-mail, followed in the real browser: the absence watcher
raises an alert, the e-mail channel sends it to a real SMTP server (aiosmtpd on
loopback), the test reads the link in the received message, opens it in headless
Chromium without a session, logs in on the page it is sent to, lands on the alert and
records the call through the form; the registry has the call."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from playwright.sync_api import expect

from server.container import services_of
from server.registry.alert_models import AlertChannelSettings
from tests.browser.conftest import PHONE, PageFactory
from tests.services import free_port
from tests.web.conftest import CAMPUS, PARIS, PASSWORD, World

pytestmark = pytest.mark.browser

NOE = "Noé Martin"  # E002, Alice's student, absent on Monday at 09:00
LINK = re.compile(r"https?://\S+/tutor/alerts/alert-[0-9a-f]+")


def at(hour: int, minute: int, second: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, second, tzinfo=PARIS)


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.messages.append(envelope.content)
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def test_the_emailed_link_leads_to_the_alert_after_login_and_the_call_is_recorded(
    world: World, site: str, smtp: tuple[Inbox, int], new_page: PageFactory
) -> None:
    inbox, port = smtp
    with world.registry() as session, session.begin():
        session.add(
            AlertChannelSettings(
                campus_id=CAMPUS,
                base_url=site,
                coordinator_emails="coord@campus.test",
                email_enabled=True,
                smtp_host="127.0.0.1",
                smtp_port=port,
                smtp_security="none",
                from_address="presence@campus.test",
                mqtt_enabled=False,
            )
        )
    world.readers_online(at(8, 55))
    world.tap("E001", at(9, 5))
    world.tap("E003", at(9, 10))
    world.clock.set(at(9, 15, 30))
    world.check_absences()
    alerts = services_of(world.app).alerts
    alerts.notifications.retry_due(world.clock())  # the delivery lanes of ``serve``

    mails = [message_from_bytes(item, policy=policy.default) for item in inbox.messages]
    (mail,) = [item for item in mails if NOE in item["Subject"]]
    assert mail["To"] == "alice@campus.test"
    text = mail.get_body(("plain",)).get_content()
    (link,) = LINK.findall(text)
    assert link.startswith(site)
    html_links = re.findall(
        r'href="([^"]+/tutor/alerts/[^"]+)"', mail.get_body(("html",)).get_content()
    )
    assert html_links == [link]
    public_id = link.rsplit("/", 1)[1]

    world.clock.set(at(9, 20))
    page = new_page(viewport=PHONE)  # no session: as a tutor opening the e-mail on a phone
    page.goto(link)
    assert page.url == f"{site}/login?next=/tutor/alerts/{public_id}", page.url
    page.get_by_label("Identifiant").fill("alice")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(link)
    expect(page.locator("h1")).to_contain_text(NOE)
    expect(page.locator("a.call-link")).to_have_attribute("href", "tel:+33700000002")

    page.locator("label[for=outcome-reached]").click()
    page.locator("#reason_category").select_option("transport")
    page.locator("#reason").fill("Train supprimé, arrive à 10 h.")
    page.locator(f"form[action$='/tutor/alerts/{public_id}'] button[type=submit]").click()
    page.wait_for_url("**/tutor/now")
    expect(page.locator(".notice-success")).to_contain_text(NOE)

    recorded = alerts.get(public_id)
    assert recorded["status"] == "closed" and recorded["resolution"] == "called"
    assert [(c["outcome"], c["reason_category"], c["by"]) for c in recorded["calls"]] == [
        ("reached", "transport", "alice")
    ]
