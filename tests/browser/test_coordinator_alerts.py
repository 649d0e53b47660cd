"""The coordinator's alerts page in a real browser (issue 13 §4): reached from their
menu, filtered by tutor, and live like the tutor's *Now* page: an alert the tutor
closes moves to "closed" without a reload; no accessibility violation (axe)."""

from __future__ import annotations

from datetime import datetime

import pytest
from playwright.sync_api import expect

from server.container import services_of
from server.domain.accounts import Actor
from server.domain.alerts import CallLog, CallOutcome
from tests.browser.conftest import PageFactory, describe
from tests.web.conftest import PARIS, World
from tests.web.test_tutor_now import alert_of, morning

pytestmark = pytest.mark.browser


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=PARIS)


def test_the_coordinator_follows_the_campus_alerts_live(
    world: World, page_as: PageFactory, axe_check
) -> None:
    morning(world)  # 09:20: absences of Noé Martin (Alice) and Hugo Roux (Bruno)
    page = page_as("coord", axe=True)
    page.clock.install(time=at(9, 20))
    page.get_by_role("link", name="Alertes ouvertes").click()
    page.wait_for_url("**/coordinator/alerts/board")
    opened = page.locator("section[aria-labelledby=open-title] tbody tr")
    expect(opened).to_have_count(2)
    assert not (violations := axe_check(page)), describe(violations)

    page.locator("#tutor").select_option(label="Alice")
    page.locator("form[aria-label='Filtrer les alertes'] button[type=submit]").click()
    page.wait_for_url("**tutor=*")
    expect(opened).to_have_count(1)
    expect(opened.first).to_contain_text("Noé Martin")
    page.evaluate("() => { window.__same_page = true; }")

    world.clock.set(at(9, 25))
    call = CallLog(at(9, 24), CallOutcome.REACHED)
    alerts = services_of(world.app).alerts
    alerts.log_call(alert_of(world, "E002"), call, Actor("alice", at(9, 25)))
    page.clock.run_for(16_000)  # one polling period (15 s) and a bit

    expect(opened).to_have_count(0)
    closed = page.locator("section[aria-labelledby=closed-title] tbody tr")
    expect(closed).to_have_count(1)
    expect(closed.first).to_contain_text("Noé Martin")
    expect(closed.first).to_contain_text("après un appel")
    assert page.evaluate("() => window.__same_page === true"), "the page was reloaded"
