"""On the *Now* page (and its live fragment, and the alert page), coordinators and admins
see whose student each one is: the tutor's name, else their account's display name
(issue 13: people by name everywhere), else their e-mail, else "not assigned".
A tutor, who only sees their own students, does not get the column."""

from __future__ import annotations

import re

from sqlalchemy import update

from server.registry.models import Student, Tutor
from tests.web.test_tutor_now import alert_of, alerts_section, morning, page, roster

TUTOR_CELL = re.compile(
    r'href="/tutor/students/(E\d+)">[^<]*</a></td>\s*<td data-label="Tuteur">([^<]*)</td>'
)
CARD = re.compile(r"<h3>([^<]+?) <span.*?</h3>.*?<p>Tuteur : ([^<]+)</p>", re.DOTALL)


def tutors(text: str) -> dict[str, str]:
    """``{student_id: tutor}`` of the roster table."""
    return dict(TUTOR_CELL.findall(text))


def card_tutors(text: str) -> dict[str, str]:
    """``{student name: tutor}`` of the alert cards."""
    return {name.strip(): tutor for name, tutor in CARD.findall(alerts_section(text))}


def test_a_coordinator_sees_whose_student_is_missing(world, client_as) -> None:
    morning(world)
    text = page(client_as("coord"), "/tutor/now")
    assert '<th scope="col">Tuteur</th>' in text
    # The sheet gave the tutors' e-mails only; their accounts are named Alice and Bruno.
    assert tutors(text) == {"E001": "Alice", "E002": "Alice", "E003": "Alice", "E004": "Bruno"}
    assert card_tutors(text) == {"Noé Martin": "Alice", "Hugo Roux": "Bruno"}
    assert "@campus.test" not in text


def test_the_tutors_name_comes_first_and_a_student_may_have_none(world, client_as) -> None:
    morning(world)
    with world.registry() as session, session.begin():
        session.execute(
            update(Tutor).where(Tutor.email == "alice@campus.test").values(name="Alice Bernard")
        )
        session.execute(update(Student).where(Student.student_id == "E004").values(tutor_id=None))
    for login in ("coord", "admin"):
        text = page(client_as(login), "/tutor/now")
        found = tutors(text)
        assert (found["E002"], found["E004"]) == ("Alice Bernard", "non attribué"), login
        cards = card_tutors(text)
        assert (cards["Noé Martin"], cards["Hugo Roux"]) == ("Alice Bernard", "non attribué")
    fragment = page(client_as("coord"), "/tutor/now/live")
    assert "<html" not in fragment and tutors(fragment)["E002"] == "Alice Bernard"
    alert = page(client_as("coord"), f"/tutor/alerts/{alert_of(world, 'E004')}")
    assert "<li>Tuteur : non attribué</li>" in alert


def test_an_admin_sees_the_tutors_of_every_campus(world, client_as) -> None:
    morning(world)
    found = tutors(page(client_as("admin"), "/tutor/now"))
    assert found["E005"] == "Bruno" and len(found) == 5
    assert card_tutors(page(client_as("admin"), "/tutor/now"))["Manon Leroy"] == "Bruno"
    other = page(client_as("coord-other"), "/tutor/now")
    assert tutors(other) == {"E005": "Bruno"}


def test_a_tutor_does_not_get_the_tutor_column(world, client_as) -> None:
    morning(world)
    for login, students in (("alice", {"E001", "E002", "E003"}), ("bruno", {"E004"})):
        text = page(client_as(login), "/tutor/now")
        assert set(roster(text)) == students, login
        assert tutors(text) == {} and "Tuteur : " not in text, login
        assert 'data-label="Tuteur"' not in page(client_as(login), "/tutor/now/live")
    alert = page(client_as("alice"), f"/tutor/alerts/{alert_of(world, 'E002')}")
    assert "Tuteur : " not in alert


def test_a_tutor_without_name_nor_named_account_shows_their_e_mail(world, client_as) -> None:
    from server.registry.account_models import Account

    morning(world)
    with world.registry() as session, session.begin():
        session.execute(update(Account).where(Account.login == "bruno").values(display_name=""))
    assert tutors(page(client_as("coord"), "/tutor/now"))["E004"] == "bruno@campus.test"
