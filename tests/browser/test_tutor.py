"""A tutor on a phone, Monday morning: sees the open alert of an absent student, calls
(``tel:`` link), records the call on one screen; the *Now* page updates itself when a
student taps in."""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import Page, expect

from server.container import services_of
from tests.browser.conftest import PHONE, PageFactory
from tests.web.conftest import PARIS, World

pytestmark = pytest.mark.browser

NOE = "Noé Martin"  # E002
INES = "Inès Petit"  # E003


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=PARIS)


def alert_cards(page: Page):
    return page.locator("section[aria-labelledby=alerts-title] article.alert-card")


def roster_row(page: Page, name: str):
    return page.locator("section[aria-labelledby=roster-title] tbody tr").filter(has_text=name)


def test_the_tutor_calls_the_absent_student_and_records_the_call(world: World, page_as):
    world.readers_online(at(8, 55))
    world.tap("E001", at(9, 5))
    world.tap("E003", at(9, 10))
    # The watcher runs every 15 s in ``serve``: at 09:15:30 E002 is missing from the 09:00
    # slot (15 min of grace). A first run at 09:20 would not look back that far.
    world.clock.set(at(9, 15).replace(second=30))
    world.check_absences()
    world.clock.set(at(9, 20))
    page = page_as("alice", viewport=PHONE)
    assert page.url.endswith("/tutor/now")

    cards = alert_cards(page)
    expect(cards).to_have_count(1)
    card = cards.first
    expect(card).to_contain_text(NOE)
    call = card.locator("a.call-link")
    expect(call).to_have_attribute("href", "tel:+33700000002")
    assert call.bounding_box()["height"] >= 44, "the call link is too small to tap"
    expect(roster_row(page, NOE)).to_contain_text("Absent")

    card.locator("a[href*='/tutor/alerts/']").click()
    page.wait_for_url("**/tutor/alerts/*")
    alert_path = page.url.split("/tutor/alerts/")[1]
    expect(page.locator("h1")).to_contain_text(NOE)
    expect(page.locator("a.call-link")).to_have_attribute("href", "tel:+33700000002")
    page.locator("label[for=outcome-reached]").click()
    page.locator("#reason_category").select_option("illness")
    page.locator("#reason").click()
    page.keyboard.type("Grippe, revient jeudi.")
    page.locator("#excused").press("Space")
    page.locator(f"form[action$='/tutor/alerts/{alert_path}'] button[type=submit]").click()

    page.wait_for_url("**/tutor/now")
    expect(page.locator(".notice-success")).to_contain_text(NOE)
    expect(alert_cards(page)).to_have_count(0)
    recorded = services_of(world.app).alerts.get(alert_path)
    assert recorded["status"] == "closed" and recorded["resolution"] == "called"
    assert [
        (c["outcome"], c["reason_category"], c["reason"], c["excused"], c["by"])
        for c in recorded["calls"]
    ] == [("reached", "illness", "Grippe, revient jeudi.", True, "alice")]

    page.goto(f"/tutor/alerts/{alert_path}")
    calls = page.locator("section[aria-labelledby=calls-title] tbody tr")
    expect(calls).to_have_count(1)
    expect(calls.first).to_contain_text("Grippe, revient jeudi.")
    expect(page.locator("form[action$='/ack']")).to_have_count(0)


def test_the_now_page_shows_an_arrival_without_reloading(world: World, page_as: PageFactory):
    world.clock.set(at(8, 58))  # the 09:00 slot starts within the hour: all are expected
    page = page_as("alice", viewport=PHONE)
    page.clock.install(time=at(8, 58))
    page.reload()  # live.js now runs on the controlled timers
    expect(roster_row(page, INES)).to_contain_text("Attendu")
    page.evaluate("() => { window.__same_page = true; }")

    world.clock.set(at(9, 1))
    world.tap("E003", at(9, 1))
    page.clock.run_for(16_000)  # one polling period (15 s) and a bit

    expect(roster_row(page, INES)).to_contain_text("Présent")
    expect(roster_row(page, INES)).to_contain_text("09:01")
    expect(roster_row(page, "Noé Martin")).to_contain_text("Attendu")
    expect(page.locator("#live-status")).to_have_text("Mis à jour à 08:58:16")  # browser time
    assert page.evaluate("() => window.__same_page === true"), "the page was reloaded"
