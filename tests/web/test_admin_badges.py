"""Unknown badges attached to a student from the admin page (the taps of that badge
count for the student, from the first time it was seen), and badges revoked."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from sqlalchemy import select

from server.domain.calendar import IsoWeek
from server.registry.models import AuditEntry, Badge
from server.registry.people_store import people_unit_of_work
from server.services.people.enrolment import unknown_badges
from tests.web.conftest import MONDAY_0920, post_form

WEEK = IsoWeek.parse("2026-W48")


def _attended_s(world, student_id: str) -> int:
    lines = world.server.ledger.weekly(WEEK, world.clock())
    return next(line.attended_s for line in lines if line.student_id == student_id)


def test_an_unknown_badge_attached_to_a_student_counts_for_them(world, client_as) -> None:
    world.tap_uid("0badcafe", MONDAY_0920)
    client = client_as("admin")
    page = client.get("/admin/badges?campus=test-campus").get_data(as_text=True)
    (sighting,) = unknown_badges(people_unit_of_work(world.registry))
    assert sighting.short_hash in page and "1 badge inconnu en attente" in page
    assert _attended_s(world, "E004") == 0

    form = {"sighting": str(sighting.id), "student_id": "E004"}
    question = post_form(client, "/admin/badges/attach", form, page="/admin/badges")
    assert question.status_code == 200  # it has a tap: the page asks first
    asked = html.unescape(question.get_data(as_text=True))
    assert "Compter les passages antérieurs de ce badge pour E004 ?" in asked
    assert "Ce badge a déjà été passé 1 fois avant d’être attribué." in asked
    assert re.search(r"<td[^>]*>23 nov. 2026, 09:20</td><td[^>]*>door-1</td>", asked)
    assert len(unknown_badges(people_unit_of_work(world.registry))) == 1  # nothing attached yet
    answer = post_form(
        client, "/admin/badges/attach", {**form, "credit_past": "yes"}, page="/admin/badges"
    )
    assert answer.status_code == 302
    world.clock.advance(hours=2)
    world.tap_uid("0badcafe", world.clock())  # leaves at 11:20

    assert _attended_s(world, "E004") == 2 * 3600
    assert unknown_badges(people_unit_of_work(world.registry)) == []
    page = client.get("/admin/badges?campus=test-campus").get_data(as_text=True)
    assert "Le badge appartient désormais à E004." in page
    assert "Aucun badge inconnu en attente." in page


def test_attaching_needs_a_known_student_of_the_campus_where_the_badge_was_seen(
    world, client_as
) -> None:
    world.tap_uid("0badcafe", MONDAY_0920)
    (sighting,) = unknown_badges(people_unit_of_work(world.registry))
    client = client_as("admin")
    answer = post_form(
        client, "/admin/badges/attach", {"sighting": str(sighting.id), "student_id": "E999"}
    )
    assert answer.status_code == 400
    assert "Il n’y a pas d’étudiant E999." in answer.get_data(as_text=True)
    answer = post_form(
        client, "/admin/badges/attach", {"sighting": str(sighting.id), "student_id": "E005"}
    )
    assert answer.status_code == 400
    assert "un autre campus" in answer.get_data(as_text=True)
    answer = post_form(client, "/admin/badges/attach", {"sighting": "abc", "student_id": "E004"})
    assert answer.status_code == 400
    assert "Un nombre entier est attendu." in answer.get_data(as_text=True)
    answer = post_form(client, "/admin/badges/attach", {"sighting": "999", "student_id": "E004"})
    assert answer.status_code == 404
    assert len(unknown_badges(people_unit_of_work(world.registry))) == 1


def test_a_student_s_badges_are_revoked_and_stop_counting(world, client_as) -> None:
    client = client_as("admin")
    answer = post_form(
        client, "/admin/badges/revoke", {"student_id": "E002", "reason": "carte perdue"}
    )
    assert answer.status_code == 302
    with world.registry() as session:
        badges = session.scalars(
            select(Badge).where(Badge.student_pk == world.student_pk("E002"))
        ).all()
    assert [(badge.revoked_reason, badge.revoked_at is not None) for badge in badges] == [
        ("carte perdue", True)
    ]
    world.clock.advance(minutes=1)
    world.tap("E002", world.clock())
    world.tap("E002", world.clock() + timedelta(hours=1))
    assert _attended_s(world, "E002") == 0
    page = client.get("/admin/badges?campus=test-campus").get_data(as_text=True)
    assert "1 badge de E002 révoqué." in page
    answer = post_form(client, "/admin/badges/revoke", {"student_id": "E002", "reason": ""})
    assert answer.status_code == 400
    assert "Ce champ est obligatoire." in answer.get_data(as_text=True)


def test_no_to_the_earlier_taps_counts_only_from_the_attachment(world, client_as) -> None:
    """A visitor's 09:20 tap must not make the new student present (issue 13 §5)."""
    world.tap_uid("0badcafe", MONDAY_0920)
    (sighting,) = unknown_badges(people_unit_of_work(world.registry))
    world.clock.advance(minutes=40)  # attached at 10:00
    client = client_as("admin")
    form = {"sighting": str(sighting.id), "student_id": "E004", "credit_past": "no"}
    answer = post_form(client, "/admin/badges/attach", form, page="/admin/badges")
    assert answer.status_code == 302
    assert _attended_s(world, "E004") == 0  # the 09:20 tap is not hers
    world.tap_uid("0badcafe", world.clock() + timedelta(minutes=5))  # 10:05 in
    world.clock.advance(hours=1)
    world.tap_uid("0badcafe", world.clock())  # 11:00 out
    assert _attended_s(world, "E004") == 55 * 60
    with world.registry() as session:
        badge = session.scalars(
            select(Badge).where(Badge.student_pk == world.student_pk("E004")).order_by(Badge.id)
        ).all()[-1]
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "badge_past_taps_not_credited")
        ).one()
    assert badge.active_from == MONDAY_0920 + timedelta(minutes=40)
    assert entry.actor == "admin" and entry.entity_id == "E004"
    assert '"past_taps": 1' in entry.after
    page = client.get("/admin/badges?campus=test-campus").get_data(as_text=True)
    assert "ses passages antérieurs ne comptent pas" in html.unescape(page)


def test_a_bad_choice_is_refused(world, client_as) -> None:
    world.tap_uid("0badcafe", MONDAY_0920)
    (sighting,) = unknown_badges(people_unit_of_work(world.registry))
    form = {"sighting": str(sighting.id), "student_id": "E004", "credit_past": "maybe"}
    answer = post_form(client_as("admin"), "/admin/badges/attach", form, page="/admin/badges")
    assert answer.status_code == 400
    assert len(unknown_badges(people_unit_of_work(world.registry))) == 1
