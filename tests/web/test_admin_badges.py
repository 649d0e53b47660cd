"""Unknown badges attached to a student from the admin page (the taps of that badge
count for the student, from the first time it was seen), and badges revoked."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from server.domain.calendar import IsoWeek
from server.registry.models import Badge
from server.services.enrolment import unknown_badges
from tests.web.conftest import MONDAY_0920, post_form

WEEK = IsoWeek.parse("2026-W48")


def _attended_s(world, student_id: str) -> int:
    lines = world.server.ledger.weekly(WEEK, world.clock())
    return next(line.attended_s for line in lines if line.student_id == student_id)


def test_an_unknown_badge_attached_to_a_student_counts_for_them(world, client_as) -> None:
    world.tap_uid("0badcafe", MONDAY_0920)
    client = client_as("admin")
    page = client.get("/admin/badges?campus=test-campus").get_data(as_text=True)
    (sighting,) = unknown_badges(world.registry)
    assert sighting.short_hash in page and "1 badge(s) inconnu(s) en attente" in page
    assert _attended_s(world, "E004") == 0

    answer = post_form(
        client, "/admin/badges/attach", {"sighting": str(sighting.id), "student_id": "E004"}
    )
    assert answer.status_code == 302
    world.clock.advance(hours=2)
    world.tap_uid("0badcafe", world.clock())  # leaves at 11:20

    assert _attended_s(world, "E004") == 2 * 3600
    assert unknown_badges(world.registry) == []
    page = client.get("/admin/badges?campus=test-campus").get_data(as_text=True)
    assert "Le badge appartient désormais à E004." in page
    assert "Aucun badge inconnu en attente." in page


def test_attaching_needs_a_known_student_of_the_campus_where_the_badge_was_seen(
    world, client_as
) -> None:
    world.tap_uid("0badcafe", MONDAY_0920)
    (sighting,) = unknown_badges(world.registry)
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
    assert len(unknown_badges(world.registry)) == 1


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
    assert "1 badge(s) de E002 révoqué(s)." in page
    answer = post_form(client, "/admin/badges/revoke", {"student_id": "E002", "reason": ""})
    assert answer.status_code == 400
    assert "Ce champ est obligatoire." in answer.get_data(as_text=True)
