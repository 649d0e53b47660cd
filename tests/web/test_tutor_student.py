"""My students and the student page: this week's ledger, contact, contract, sessions,
history, notes; corrections, excused absences and confirming an unverified session,
with their effects on the weekly ledger."""

from __future__ import annotations

import html
import re

from sqlalchemy import select

from server.domain.calendar import IsoWeek
from server.registry.account_models import StudentNote
from server.registry.models import AuditEntry, ExcusedAbsence, PresenceCorrection
from tests.web.conftest import CAMPUS, World, post_form
from tests.web.test_tutor_now import at, page

W48 = IsoWeek(2026, 48)
STUDENT_ROW = re.compile(r'href="/tutor/students/(E\d+)">.*?</tr>', re.DOTALL)


def rows(text: str) -> dict[str, list[str]]:
    """``{student_id: [cell texts]}`` of the students table."""
    found = {}
    for match in STUDENT_ROW.finditer(text):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", match.group(0), re.DOTALL)
        found[match.group(1)] = [" ".join(re.sub(r"<[^>]+>", " ", cell).split()) for cell in cells]
    return found


def line(world: World, student_id: str, week: IsoWeek = W48):
    lines = world.server.ledger.weekly(week, world.clock(), campus=CAMPUS)
    return next(item for item in lines if item.student_id == student_id)


def test_my_students_with_this_weeks_hours(world, client_as) -> None:
    world.tap("E001", at(9, 0))
    world.clock.set(at(10, 0))
    alice = rows(page(client_as("alice"), "/tutor/students"))
    assert list(alice) == ["E001", "E002", "E003"]
    # Monday 10:00; open 07:00-22:00 Monday to Saturday: 12 h today + 5 × 15 h left.
    reachable = "reste atteignable : 87 h, manque : {} h"
    assert alice["E001"] == ["12 h", "1 h", "11 h", "0 h", f"En bonne voie {reachable.format(11)}"]
    # E002 missed an hour of Monday's slot: hours outside the slots can make it up.
    assert alice["E002"] == ["12 h", "0 h", "12 h", "0 h", f"En bonne voie {reachable.format(12)}"]
    coord = rows(page(client_as("coord"), "/tutor/students"))
    assert list(coord) == ["E001", "E002", "E003", "E004"]
    assert coord["E004"][0] == "Bruno"  # the tutor column, by name (not e-mail)
    assert list(rows(page(client_as("bruno"), "/tutor/students"))) == ["E004"]


def test_the_student_page_shows_the_follow_up_and_records_the_access(world, client_as) -> None:
    world.clock.set(at(11, 0))
    world.tap("E001", at(9, 0))
    world.tap("E001", at(10, 30))
    text = page(client_as("alice"), "/tutor/students/E001")
    assert 'href="tel:+33612345678"' in text and "e001@example.org" in text
    assert "12 h par semaine, à partir du 1 sept. 2026 jusqu'au 30 juin 2027" in text
    assert "lundi 09:00–12:00" in text and "vendredi 09:00–10:00" in text
    assert re.search(r"09:00</td>\s*<td[^>]*>10:30</td>\s*<td[^>]*>1,5 h</td>", text)
    assert "Entrée et sortie badgées" in text
    assert ">2026-W48</a></th>" in text and ">2026-W39</a></th>" in text
    assert "2026-W38" not in text
    with world.registry() as session:
        entry = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "viewed", AuditEntry.entity == "student")
        ).one()
    assert (entry.actor, entry.entity_id) == ("alice", "E001")
    assert '"student_page"' in entry.after


def test_a_note_is_added_and_listed(world, client_as) -> None:
    client = client_as("alice")
    answer = post_form(
        client, "/tutor/students/E002/notes", {"body": "Entretien : revoit son planning."}
    )
    assert answer.status_code == 302
    with world.registry() as session:
        note = session.scalars(select(StudentNote)).one()
        assert (note.author, note.body) == ("alice", "Entretien : revoit son planning.")
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "note_added")).one()
        assert "revoit" not in audit.after  # the audit never holds the note itself
    text = page(client, "/tutor/students/E002")
    assert "Note ajoutée." in text and "Entretien : revoit son planning." in text
    refused = post_form(client, "/tutor/students/E002/notes", {"body": "   "})
    assert refused.status_code == 400
    assert "Ce champ est obligatoire." in html.unescape(refused.get_data(as_text=True))


def test_a_forgotten_badge_becomes_a_session_with_its_reason(world, client_as) -> None:
    world.clock.set(at(12, 30))
    client = client_as("alice")
    data = {
        "action": "session",
        "session_start": "",
        "start": "2026-11-23T09:00",
        "end": "2026-11-23T12:00",
        "reason": "Badge oublié",
    }
    answer = post_form(client, "/tutor/students/E002/corrections", data)
    assert answer.status_code == 302
    with world.registry() as session:
        row = session.scalars(select(PresenceCorrection)).one()
        assert (row.kind, row.start, row.end) == ("add", at(9, 0), at(12, 0))
        assert (row.reason, row.author) == ("Badge oublié", "alice")
    assert line(world, "E002").attended_s == 3 * 3600
    text = page(client, "/tutor/students/E002")
    assert "Présence enregistrée." in text and "Saisie à la main" in text


def test_a_session_gets_other_times(world, client_as) -> None:
    world.tap("E001", at(9, 0))
    world.tap("E001", at(9, 30))
    world.clock.set(at(12, 30))
    data = {
        "action": "session",
        "session_start": at(9, 0).isoformat(),
        "start": "2026-11-23T09:00",
        "end": "2026-11-23T11:30",
        "reason": "Sortie badgée par erreur",
    }
    answer = post_form(client_as("alice"), "/tutor/students/E001/corrections", data)
    assert answer.status_code == 302
    with world.registry() as session:
        row = session.scalars(select(PresenceCorrection)).one()
        assert (row.kind, row.session_start, row.end) == ("amend", at(9, 0), at(11, 30))
    assert line(world, "E001").attended_s == 2.5 * 3600


def test_an_excused_absence_lowers_the_expected_hours(world, client_as) -> None:
    data = {
        "action": "excuse",
        "excuse_start": "2026-11-23T09:00",
        "excuse_end": "2026-11-23T12:00",
        "category": "exam",
        "note": "Partiel à Grenoble",
    }
    answer = post_form(client_as("alice"), "/tutor/students/E002/corrections", data)
    assert answer.status_code == 302
    with world.registry() as session:
        excuse = session.scalars(select(ExcusedAbsence)).one()
        assert (excuse.start, excuse.category, excuse.created_by) == (at(9, 0), "exam", "alice")
    assert line(world, "E002").expected_s == 9 * 3600
    assert "Examen — Partiel à Grenoble" in page(client_as("alice"), "/tutor/students/E002")


def test_an_unverified_session_is_confirmed(world, client_as) -> None:
    world.tap("E003", at(9, 18))  # and never badged out
    world.clock.set(at(8, 0, 24))  # Tuesday: closed at 22:00 on Monday, unverified
    client = client_as("alice")
    text = page(client, "/tutor/students/E003")
    assert "Non vérifiée" in text and "1 présence close automatiquement" in text
    assert line(world, "E003").unverified_s == 12 * 3600  # cut at the maximum duration
    start = at(9, 18).astimezone().isoformat()
    answer = post_form(client, "/tutor/students/E003/confirm", {"session_start": start})
    assert answer.status_code == 302
    with world.registry() as session:
        row = session.scalars(select(PresenceCorrection)).one()
        assert (row.kind, row.session_start, row.reason) == (
            "confirm",
            at(9, 18),
            "confirmed by tutor",
        )
    assert line(world, "E003").unverified_s == 0
    text = page(client, "/tutor/students/E003")
    assert "Présence confirmée." in text and "Confirmée" in text
    again = post_form(client, "/tutor/students/E003/confirm", {"session_start": start})
    assert again.status_code == 400
    assert "n'a pas besoin d'être confirmée" in html.unescape(again.get_data(as_text=True))


def test_bad_correction_forms_are_refused_with_their_message(world, client_as) -> None:
    world.clock.set(at(12, 30))
    client = client_as("alice")
    good = {
        "action": "session",
        "start": "2026-11-23T09:00",
        "end": "2026-11-23T12:00",
        "reason": "Badge oublié",
    }
    cases = [
        ({**good, "start": "lundi"}, "Une date et une heure sont attendues."),
        ({**good, "reason": ""}, "Ce champ est obligatoire."),
        ({**good, "end": "2026-11-23T08:00"}, "une présence ne peut pas finir avant de commencer"),
        ({**good, "start": "2026-11-23T13:00", "end": "2026-11-23T14:00"}, "dans le futur"),
        ({**good, "session_start": "2026-11-23T08:00:00+00:00"}, "cette présence n'existe pas"),
        ({**good, "action": "other"}, "La demande n'a pas pu être comprise."),
        ({"action": "excuse", "excuse_start": "2026-11-26T09:00"}, "Une date et une heure"),
    ]
    for data, message in cases:
        answer = post_form(client, "/tutor/students/E002/corrections", data)
        assert answer.status_code == 400, data
        assert message in html.unescape(answer.get_data(as_text=True)), data
    with world.registry() as session:
        assert session.scalars(select(PresenceCorrection)).all() == []
