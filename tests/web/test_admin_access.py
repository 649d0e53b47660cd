"""Who may open the admin pages: every route × role (admin 200; coordinator, tutor,
student 403; anonymous visitor sent to the login page), CSRF required on every form, an
admin tied to one campus kept out of the others, and the overview's counts."""

from __future__ import annotations

import re

import pytest

from server.container import services_of
from server.domain.accounts import Actor, Role
from tests.web.conftest import OTHER, PASSWORD, log_in, post_form

PAGES = [
    "/admin/",
    "/admin/students",
    "/admin/students?campus=test-campus&q=dur",
    "/admin/students/import",
    "/admin/students/new",
    "/admin/students/E001",
    "/admin/students/E001/erasure",
    "/admin/badges",
    "/admin/places",
    "/admin/accounts",
    "/admin/tokens",
    "/admin/channels",
]
FORMS = [
    "/admin/students/import",
    "/admin/students/new",
    "/admin/students/E001/contract",
    "/admin/students/E001/tutor",
    "/admin/students/E001/identity",
    "/admin/students/E001/erase",
    "/admin/badges/attach",
    "/admin/badges/revoke",
    "/admin/places/capacity",
    "/admin/places/rooms",
    "/admin/places/rooms/1",
    "/admin/places/readers/door-1",
    "/admin/accounts",
    "/admin/accounts/active",
    "/admin/accounts/password",
    "/admin/tokens",
    "/admin/tokens/revoke",
    "/admin/channels",
]
OTHERS = ["coord", "coord-other", "alice", "bruno", "emilie"]


@pytest.mark.parametrize("path", PAGES)
def test_an_admin_opens_every_admin_page(world, client_as, path: str) -> None:
    answer = client_as("admin").get(path)
    assert answer.status_code == 200, path
    page = answer.get_data(as_text=True)
    assert page.count("<h1") == 1
    assert 'lang="fr"' in page


@pytest.mark.parametrize("login", OTHERS)
def test_no_other_role_opens_an_admin_page(world, client_as, login: str) -> None:
    client = client_as(login)
    for path in PAGES:
        assert client.get(path).status_code == 403, (login, path)


@pytest.mark.parametrize("login", OTHERS)
def test_no_other_role_sends_an_admin_form(world, client_as, login: str) -> None:
    client = client_as(login)
    for path in FORMS:
        answer = post_form(client, path, {}, page="/account/password")
        assert answer.status_code == 403, (login, path)


def test_an_anonymous_visitor_is_sent_to_the_login_page(world) -> None:
    client = world.app.test_client()
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == 302, path
        assert answer.headers["Location"].startswith("/login?next=/admin/")


def test_every_admin_form_needs_the_csrf_token(world, client_as) -> None:
    client = client_as("admin")
    for path in FORMS:
        answer = client.post(path, data={"name": "x", "login": "x-y-z"})
        assert answer.status_code == 400, path
        assert "Ce formulaire a expiré" in answer.get_data(as_text=True)


def test_an_admin_of_one_campus_stays_out_of_the_others(world) -> None:
    accounts = services_of(world.app).accounts
    accounts.create(
        login="admin-other",
        password=PASSWORD,
        role=Role.ADMIN,
        actor=Actor("tests", world.clock()),
        campus_id=OTHER,
    )
    client = world.app.test_client()

    assert log_in(client, "admin-other").status_code == 302
    assert client.get("/admin/students/E001").status_code == 403
    assert client.get("/admin/students?campus=test-campus").status_code == 403
    assert client.get("/admin/places?campus=test-campus").status_code == 403
    page = client.get("/admin/students").get_data(as_text=True)
    assert "E005" in page and "E001" not in page
    answer = post_form(client, "/admin/badges/revoke", {"student_id": "E001", "reason": "perdu"})
    assert answer.status_code == 403


def test_the_overview_counts_students_badges_accounts_and_readers(world, client_as) -> None:
    world.tap_uid("0badcafe", world.clock())
    page = client_as("admin").get("/admin/").get_data(as_text=True)
    kpis = re.findall(r'<p class="kpi">(\d+)</p>', page)
    # 5 students, 1 unknown badge, 6 accounts, no reader offline (never heard from)
    assert kpis == ["5", "1", "6", "0"]
    assert "sur 3 lecteurs" in page
