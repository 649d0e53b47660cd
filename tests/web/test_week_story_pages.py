"""Why this week, on the web (Flask test client, real SQLite registry and event store):
the tutor's and coordinator's page of a student's week, the student's own, the API, and
clear refusals for a week or student that does not exist, a future week, or someone
else's student."""

from __future__ import annotations

import html
from datetime import date, datetime, time

import pytest
from sqlalchemy import select

from server.container import services_of
from server.domain.accounts import Actor, Role
from server.registry.alert_models import Alert
from server.registry.models import OpeningException
from tests.web.conftest import CAMPUS, PARIS

W48 = "2026-W48"
MONDAY = date(2026, 11, 23)


def _morning(world) -> None:
    """E001 (Monday 09:00-12:00) in at 09:05, out at 11:05; it is now 11:30."""
    world.tap("E001", datetime(2026, 11, 23, 9, 5, tzinfo=PARIS))
    world.clock.set(datetime(2026, 11, 23, 11, 30, tzinfo=PARIS))
    world.tap("E001", datetime(2026, 11, 23, 11, 5, tzinfo=PARIS))


@pytest.mark.parametrize("login", ["alice", "coord", "admin"])
def test_the_tutor_the_coordinator_and_an_admin_see_why_a_students_week(
    world, client_as, login
) -> None:
    _morning(world)
    page = client_as(login).get(f"/tutor/students/E001/weeks/{W48}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Pourquoi cette semaine" in text and "Émilie Durand" in text
    assert "Présent·e" in text  # Monday's slot, arrival at 09:05
    assert "Passage à 09:05 : entrée" in text and "Passage à 11:05 : sortie" in text
    assert "4 créneaux" in text
    assert "/tutor/students/E001/weeks/2026-W47" in text  # the previous week
    assert "2026-W49" not in text  # the next week has not begun


@pytest.mark.parametrize(("login", "status"), [("bruno", 403), ("coord-other", 403)])
def test_another_tutor_or_campus_is_refused(client_as, login, status) -> None:
    assert client_as(login).get(f"/tutor/students/E001/weeks/{W48}").status_code == status


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/tutor/students/E999/weeks/2026-W48", 404, ""),
        ("/tutor/students/E001/weeks/2026-W60", 404, "semaine n&#39;existe pas"),
        ("/tutor/students/E001/weeks/hier", 404, "semaine n&#39;existe pas"),
        ("/tutor/students/E001/weeks/2026-W49", 404, "pas encore commencé"),
        ("/me/weeks/2025-W53", 404, "semaine n&#39;existe pas"),
        ("/me/weeks/2027-W02", 404, "pas encore commencé"),
    ],
)
def test_bad_weeks_and_students_get_a_clear_page(client_as, path, status, words) -> None:
    login = "emilie" if path.startswith("/me") else "alice"
    answer = client_as(login).get(path)
    assert answer.status_code == status
    text = answer.get_data(as_text=True)
    assert words in text and "Traceback" not in text


def test_the_student_sees_their_own_week_and_is_linked_to_it(world, client_as) -> None:
    _morning(world)
    client = client_as("emilie")
    page = client.get(f"/me/weeks/{W48}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Pourquoi cette semaine" in text and "Présent·e" in text
    assert "Émilie Durand" not in text  # their own page does not name them
    assert "/me/weeks/2026-W48" in client.get("/me").get_data(as_text=True)
    assert "/me/weeks/2026-W47" in client.get("/me").get_data(as_text=True)
    assert client.get("/me/weeks/2026-W47").status_code == 200  # a past week


@pytest.mark.parametrize("login", ["admin", "coord", "alice"])
def test_staff_cannot_use_the_students_own_page(client_as, login) -> None:
    assert client_as(login).get(f"/me/weeks/{W48}").status_code == 403


def test_the_tutors_student_page_links_to_the_weeks(client_as) -> None:
    text = client_as("alice").get("/tutor/students/E001").get_data(as_text=True)
    assert f"/tutor/students/E001/weeks/{W48}" in text


def _token(world, role: Role, campus: str | None) -> dict[str, str]:
    accounts = services_of(world.app).accounts
    secret, _view = accounts.create_token(
        name="weeks", role=role, campus_id=campus, actor=Actor("t", world.clock())
    )
    return {"Authorization": f"Bearer {secret}"}


def test_the_api_explains_a_week_and_refuses_clearly(world) -> None:
    _morning(world)
    client = world.app.test_client()
    headers = _token(world, Role.COORDINATOR, CAMPUS)
    answer = client.get(f"/api/v1/presence/students/E001/weeks/{W48}", headers=headers)
    assert answer.status_code == 200
    story = answer.get_json()
    assert story["week"] == W48 and story["source"] == "live"
    monday = story["slots"][0]
    assert (monday["state"], monday["arrived_at"]) == ("present", "2026-11-23T08:05:00+00:00")
    refusals = {
        "E005/weeks/2026-W48": (403, "forbidden"),  # another campus
        "E999/weeks/2026-W48": (404, "unknown_student"),
        "E001/weeks/2026-W60": (404, "bad_week"),
        "E001/weeks/2027-W10": (404, "future_week"),
    }
    for path, (status, code) in refusals.items():
        refused = client.get(f"/api/v1/presence/students/{path}", headers=headers)
        assert refused.status_code == status, path
        assert refused.get_json()["error"]["code"] == code


def test_a_slot_outside_exceptional_hours_is_not_due_on_every_screen(world, client_as) -> None:
    """Issue 13, case (b), through the real app: Monday opens 14:00-18:00 only, the
    09:00-12:00 slot was never due; at 13:00 no screen calls it missed."""
    with world.registry() as session, session.begin():
        session.add(OpeningException(campus_id=CAMPUS, day=MONDAY, opens=time(14), closes=time(18)))
    world.clock.set(datetime(2026, 11, 23, 8, 58, tzinfo=PARIS))
    world.readers_online(world.clock())
    world.check_absences()  # the watcher's first run: its mark
    world.clock.set(datetime(2026, 11, 23, 13, 0, tzinfo=PARIS))
    world.check_absences()
    with world.registry() as session:
        kinds = session.scalars(select(Alert.kind).where(Alert.campus_id == CAMPUS)).all()
    assert "absence" not in kinds, kinds  # the other campus had its usual hours
    me = html.unescape(client_as("emilie").get("/me").get_data(as_text=True))
    monday = me.split("<tbody>")[1].split("</tr>")[0]
    assert "lundi 23 novembre 2026" in monday
    assert "Campus fermé" in monday and "Manqué" not in monday
    why = html.unescape(client_as("alice").get(f"/tutor/students/E001/weeks/{W48}").get_data(True))
    assert "Non dû : hors des horaires d'ouverture" in why
    board = html.unescape(client_as("alice").get("/tutor/now").get_data(as_text=True))
    assert "E001" not in board.split('id="roster-title"')[1]
