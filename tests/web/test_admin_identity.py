"""The admin edits a student's identity and contact on the student page: the form shows
the fields (never the phone number), a change is saved and audited without the phone,
an empty phone keeps the number on file, bad fields are refused with their message,
and only an admin of the student's campus may do it."""

from __future__ import annotations

import html

import pytest
from sqlalchemy import select

from server.container import services_of
from server.domain.accounts import Actor, Role
from server.registry.models import AuditEntry, Student
from tests.web.conftest import OTHER, PASSWORD, log_in, post_form

PAGE = "/admin/students/E001"
EDIT = "/admin/students/E001/identity"
GOOD = {
    "last_name": "Durand-Leclerc",
    "first_name": "Émilie",
    "email": "emilie.durand@example.org",
    "phone": "",
    "programme": "Licence psychologie (L2)",
    "institution": "Université Grenoble Alpes",
    "institution_type": "public",
}


def _student(world, student_id: str = "E001") -> Student:
    with world.registry() as session:
        student = session.scalar(select(Student).where(Student.student_id == student_id))
        session.expunge(student)
        return student


def _updates(world) -> list[AuditEntry]:
    with world.registry() as session:
        query = select(AuditEntry).where(AuditEntry.action == "student_updated")
        return list(session.scalars(query))


def test_the_form_shows_the_identity_but_not_the_phone(client_as) -> None:
    page = html.unescape(client_as("admin").get(PAGE).get_data(as_text=True))
    assert 'action="/admin/students/E001/identity"' in page
    assert 'id="last_name" name="last_name" type="text" autocomplete="off" value="Durand"' in page
    assert 'value="e001@example.org"' in page and 'value="Licence psychologie"' in page
    assert "Un numéro est enregistré (non affiché ici)" in page
    assert "06 12 34 56 78" not in page
    assert '<label for="phone">Téléphone</label>' in page


def test_a_change_is_saved_and_audited_without_the_phone(world, client_as) -> None:
    client = client_as("admin")
    data = {**GOOD, "phone": "06 99 88 77 66"}
    answer = post_form(client, EDIT, data, page=PAGE)
    assert (answer.status_code, answer.headers["Location"]) == (302, PAGE)
    student = _student(world)
    assert (student.last_name, student.email, student.phone) == (
        "Durand-Leclerc",
        "emilie.durand@example.org",
        "06 99 88 77 66",
    )
    assert student.programme == "Licence psychologie (L2)"
    (entry,) = _updates(world)
    assert (entry.actor, entry.entity_id) == ("admin", "E001")
    assert "Durand-Leclerc" in entry.after and "Durand" in entry.before
    assert "06 99" not in entry.after + entry.before and "06 12" not in entry.before
    page = html.unescape(client.get(PAGE).get_data(as_text=True))
    assert "L'identité de E001 est enregistrée." in page
    assert "06 99 88 77 66" not in page  # still not shown back


def test_an_empty_phone_keeps_the_number_and_the_box_removes_it(world, client_as) -> None:
    client = client_as("admin")
    post_form(client, EDIT, GOOD, page=PAGE)
    assert _student(world).phone == "06 12 34 56 78"
    answer = post_form(client, EDIT, {**GOOD, "phone_clear": "1"}, page=PAGE)
    assert answer.status_code == 302
    assert _student(world).phone == ""
    assert "Aucun numéro enregistré." in html.unescape(client.get(PAGE).get_data(as_text=True))


def test_the_same_identity_again_changes_nothing(world, client_as) -> None:
    client = client_as("admin")
    post_form(client, EDIT, GOOD, page=PAGE)
    answer = post_form(client, EDIT, GOOD, page=PAGE)
    assert answer.status_code == 302
    assert len(_updates(world)) == 1
    page = html.unescape(client.get(PAGE).get_data(as_text=True))
    assert "L'identité de E001 était déjà ainsi." in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("last_name", "", "Ce champ est obligatoire."),
        ("first_name", "x" * 201, "Au plus 200 caractères."),
        ("email", "emilie-at-example", "Une adresse e-mail est attendue."),
        ("phone", "appelez-moi", "Un numéro de téléphone est attendu, comme 06 12 34 56 78."),
        ("institution_type", "p" * 51, "Au plus 50 caractères."),
    ],
)
def test_bad_fields_are_refused_with_their_message(
    world, client_as, field: str, value: str, message: str
) -> None:
    answer = post_form(client_as("admin"), EDIT, {**GOOD, field: value}, page=PAGE)
    page = html.unescape(answer.get_data(as_text=True))
    assert answer.status_code == 400
    assert f'<p id="{field}-error" class="notice notice-error">{message}</p>' in page
    assert _student(world).last_name == "Durand" and _updates(world) == []


def test_the_form_needs_the_csrf_token(world, client_as) -> None:
    answer = client_as("admin").post(EDIT, data=GOOD)
    assert answer.status_code == 400
    assert _student(world).last_name == "Durand"


@pytest.mark.parametrize("login", ["coord", "alice", "bruno", "emilie"])
def test_only_admins_edit_an_identity(world, client_as, login: str) -> None:
    client = client_as(login)
    answer = post_form(client, EDIT, GOOD, page="/account/password")
    assert answer.status_code == 403
    assert _student(world).last_name == "Durand"


def test_anonymous_visitors_are_sent_to_the_login_page(world) -> None:
    answer = post_form(world.app.test_client(), EDIT, GOOD, page="/login")
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login")
    assert _student(world).last_name == "Durand"


def test_an_admin_of_another_campus_is_refused(world) -> None:
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
    assert client.get(PAGE).status_code == 403
    assert post_form(client, EDIT, GOOD, page="/account/password").status_code == 403
    assert client.get("/admin/students/E005").status_code == 200
    assert _student(world).last_name == "Durand"


def test_an_unknown_student_is_not_found(client_as) -> None:
    assert (
        post_form(client_as("admin"), "/admin/students/E999/identity", GOOD, page=PAGE).status_code
        == 404
    )
