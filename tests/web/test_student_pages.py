"""The student's pages: my week, my history, my data. Only the student role, and only
their own record (the principal's ``student_pk``, whatever the URL says)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest

from server.container import services_of
from server.domain.accounts import Actor
from server.domain.contracts import ExcuseCategory
from tests.web.conftest import PARIS

PAGES = ["/me", "/me/history", "/me/data", "/me/data.json"]
STAFF = ["admin", "coord", "coord-other", "alice", "bruno"]


def _morning(world) -> None:
    """E001 in at 09:05, out at 11:05; it is now 11:30."""
    world.tap("E001", datetime(2026, 11, 23, 9, 5, tzinfo=PARIS))
    world.clock.set(datetime(2026, 11, 23, 11, 30, tzinfo=PARIS))
    world.tap("E001", datetime(2026, 11, 23, 11, 5, tzinfo=PARIS))


@pytest.mark.parametrize("path", PAGES)
def test_the_student_opens_their_pages(client_as, path: str) -> None:
    assert client_as("emilie").get(path).status_code == 200


@pytest.mark.parametrize("login", STAFF)
@pytest.mark.parametrize("path", PAGES)
def test_staff_are_refused_the_student_pages(client_as, login: str, path: str) -> None:
    assert client_as(login).get(path).status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_the_login(world, path: str) -> None:
    answer = world.app.test_client().get(path)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login")


def test_my_week_shows_two_hours_of_twelve_and_what_is_left(world, client_as) -> None:
    _morning(world)
    page = client_as("emilie").get("/me").get_data(as_text=True)
    assert "2 h sur 12 h" in page
    # 10 h missing; Monday's slot (until 12:00), Tuesday, Thursday and Friday remain.
    assert "Encore 10 h, il reste 4 créneaux." in page
    # 0.5 + 4 + 4 + 1 = 9.5 h of slots left < 10 h, but the campus is open 10 h 30 more
    # today and 15 h a day until Saturday: hours outside the slots make it up.
    assert "ne suffisent plus" not in page
    assert "reste atteignable : 85,5 h, manque : 10 h" in page
    today = re.search(r'<tr class="today" aria-current="date">(.*?)</tr>', page, re.DOTALL)
    assert today and "lundi 23 novembre 2026" in today[1] and "09:00 à 12:00" in today[1]
    assert page.count('aria-current="date"') == 1
    assert "Vous êtes au campus" not in page


def test_my_week_says_when_i_am_in(world, client_as) -> None:
    world.tap("E001", datetime(2026, 11, 23, 8, 55, tzinfo=PARIS))
    page = client_as("emilie").get("/me").get_data(as_text=True)
    assert "Vous êtes au campus depuis 08:55." in page
    assert "0,4 h sur 12 h" in page  # 08:55 to 09:20: 25 minutes
    assert "dans les temps" in page


def test_an_excused_slot_is_taken_off_what_is_expected(world, client_as) -> None:
    _morning(world)
    corrections = services_of(world.app).alerts.corrections
    tuesday = datetime(2026, 11, 24, 14, 0, tzinfo=PARIS)
    corrections.excuse(
        "E001",
        tuesday,
        tuesday + timedelta(hours=4),
        ExcuseCategory.EXAM,
        actor=Actor("alice", world.clock()),
    )
    page = client_as("emilie").get("/me").get_data(as_text=True)
    assert "2 h sur 8 h" in page
    assert "Encore 6 h, il reste 3 créneaux." in page
    tuesday_row = re.search(r"mardi 24 novembre 2026.*?</tr>", page, re.DOTALL)
    assert tuesday_row and "Excusé" in tuesday_row[0]


def test_my_week_in_english(world, client_as) -> None:
    _morning(world)
    page = client_as("emilie").get("/me?lang=en").get_data(as_text=True)
    assert "2 h of 12 h" in page and "10 h to go, 4 slots left." in page


def test_my_history_has_a_chart_and_its_table(world, client_as) -> None:
    _morning(world)
    page = client_as("emilie").get("/me/history").get_data(as_text=True)
    svg = re.search(r"<svg[^>]*>", page)
    assert svg and 'role="img"' in svg[0]
    label = re.search(r'aria-label="([^"]+)"', svg[0])
    assert label and "engagement tenu 0 semaines sur 13" in label[1]
    # The contract starts on 1 September 2026: 13 weeks, one bar and one row each.
    assert page.count("<rect ") == 13
    rows = re.findall(r'<th scope="row" data-label="Semaine du"><a [^>]*>(.*?)</a></th>', page)
    assert rows[0] == "23 nov. 2026" and rows[-1] == "31 août 2026" and len(rows) == 13
    this_week = page.split(">23 nov. 2026</a></th>")[1].split("</tr>")[0]
    assert ">12 h<" in this_week and ">2 h<" in this_week


def test_a_student_has_no_history_before_the_contract(world, client_as) -> None:
    world.clock.set(datetime(2026, 8, 20, 10, 0, tzinfo=PARIS))
    page = client_as("emilie").get("/me/history").get_data(as_text=True)
    assert "Pas encore de semaine sous contrat" in page
    assert "<svg" not in page


def test_every_page_has_one_heading_one(world, client_as) -> None:
    _morning(world)
    client = client_as("emilie")
    for path in PAGES[:3]:
        page = client.get(path).get_data(as_text=True)
        assert page.count("<h1>") == 1, path
        assert "<caption" in page or path == "/me", path


def test_the_menu_of_a_student_lists_the_three_pages(client_as) -> None:
    page = client_as("emilie").get("/me").get_data(as_text=True)
    assert '<a href="/me" aria-current="page">Ma semaine</a>' in page
    assert 'href="/me/history"' in page and 'href="/me/data"' in page
