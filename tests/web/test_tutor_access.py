"""Every tutor route for every role: tutors see only their own students, coordinators
their campus, admins everything; students and visitors nothing here. CSRF on POSTs."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from server.container import services_of
from server.registry.account_models import StudentNote
from tests.web.conftest import post_form
from tests.web.test_tutor_now import alert_of, morning

PAGES = ["/tutor/now", "/tutor/now/live", "/tutor/students"]
E001 = "/tutor/students/E001"


@pytest.mark.parametrize("path", PAGES)
def test_staff_pages_answer_staff_only(world, client_as, path: str) -> None:
    for login in ("alice", "bruno", "coord", "coord-other", "admin"):
        assert client_as(login).get(path).status_code == 200, login
    assert client_as("emilie").get(path).status_code == 403
    anonymous = world.app.test_client().get(path)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")


def test_a_student_page_is_for_their_tutor_and_their_campus_managers(world, client_as) -> None:
    expected = {"alice": 200, "coord": 200, "admin": 200, "bruno": 403, "coord-other": 403}
    for login, status in {**expected, "emilie": 403}.items():
        assert client_as(login).get(E001).status_code == status, login
    assert client_as("bruno").get("/tutor/students/E004").status_code == 200
    assert client_as("alice").get("/tutor/students/E004").status_code == 403
    assert client_as("coord-other").get("/tutor/students/E005").status_code == 200
    assert client_as("alice").get("/tutor/students/E999").status_code == 404
    assert world.app.test_client().get(E001).status_code == 302


def test_an_alert_page_is_for_whoever_sees_its_student(world, client_as) -> None:
    morning(world)
    path = f"/tutor/alerts/{alert_of(world, 'E002')}"
    expected = {"alice": 200, "coord": 200, "admin": 200}
    expected |= {"bruno": 403, "coord-other": 403, "emilie": 403}
    for login, status in expected.items():
        assert client_as(login).get(path).status_code == status, login
    assert client_as("alice").get("/tutor/alerts/alert-nothing").status_code == 404


def test_posts_are_refused_to_those_who_do_not_see_the_student(world, client_as) -> None:
    morning(world)
    alert = alert_of(world, "E002")
    posts = [
        (f"/tutor/alerts/{alert}", {"outcome": "reached"}),
        (f"/tutor/alerts/{alert}/ack", {}),
        (f"{E001.replace('E001', 'E002')}/notes", {"body": "Entretien"}),
        ("/tutor/students/E002/corrections", {"action": "session"}),
        ("/tutor/students/E002/confirm", {"session_start": "2026-11-23T08:05:00+00:00"}),
    ]
    for login in ("bruno", "coord-other", "emilie"):
        client = client_as(login)
        for path, data in posts:
            answer = post_form(client, path, data, page="/account/password")
            assert answer.status_code == 403, (login, path)
    visitor = world.app.test_client()
    for path, data in posts:
        answer = post_form(visitor, path, data, page="/login")
        assert answer.status_code == 302 and "/login" in answer.headers["Location"]
    recorded = services_of(world.app).alerts.get(alert)
    assert (recorded["status"], recorded["calls"]) == ("open", [])


def test_a_post_without_the_csrf_token_is_refused(world, client_as) -> None:
    client = client_as("alice")
    answer = client.post("/tutor/students/E001/notes", data={"body": "Sans jeton"})
    assert answer.status_code == 400
    assert "Ce formulaire a expiré" in answer.get_data(as_text=True)
    with world.registry() as session:
        assert session.scalar(select(func.count()).select_from(StudentNote)) == 0
