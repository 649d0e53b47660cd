"""The admin's student pages: list and search, CSV import through the browser (good
file, dry run, bad row, bad file), the contract editor and the tutor assignment, with
their effects checked in the registry and the audit log."""

from __future__ import annotations

import io
from datetime import datetime

from sqlalchemy import select

from server.domain.calendar import IsoWeek
from server.registry.models import AuditEntry, Student
from server.registry.models import Contract as ContractRow
from tests.web.conftest import HEADER, PARIS, SLOTS, csrf_of, post_form

NEW_ROW = (
    f"E006;Bernard;Lou;e006@example.org;07 00 00 00 06;alice@campus.test;04a1b2c8;14;{SLOTS};"
    "2026-09-01;2027-06-30;BTS SIO;CNED;public"
)
BAD_ROW = (
    f"E007;Moreau;Léa;e007@example.org;07 00 00 00 07;alice@campus.test;;douze;{SLOTS};"
    "2026-09-01;;DAEU;Université Grenoble Alpes;public"
)


def _upload(client, data: bytes, *, dry_run: bool, filename: str = "etudiants.csv"):
    form = {
        "csrf_token": csrf_of(client, "/admin/students/import"),
        "campus": "test-campus",
        "file": (io.BytesIO(data), filename),
    }
    if dry_run:
        form["dry_run"] = "1"
    return client.post("/admin/students/import", data=form, content_type="multipart/form-data")


def _sheet(*rows: str) -> bytes:
    return ("\n".join([HEADER, *rows]) + "\n").encode("utf-8")


def _students(world) -> set[str]:
    with world.registry() as session:
        return set(session.scalars(select(Student.student_id)))


def test_the_list_shows_a_campus_s_students_and_searches_by_name_or_id(world, client_as) -> None:
    client = client_as("admin")
    page = client.get("/admin/students?campus=test-campus").get_data(as_text=True)
    assert all(f">{sid}</a>" in page for sid in ("E001", "E002", "E003", "E004"))
    assert "E005" not in page and "06 12 34 56 78" not in page  # no phone numbers
    page = client.get("/admin/students?campus=test-campus&q=rou").get_data(as_text=True)
    assert ">E004</a>" in page and ">E001</a>" not in page
    page = client.get("/admin/students?campus=other-campus&q=E005").get_data(as_text=True)
    assert ">E005</a>" in page
    with world.registry() as session:
        viewed = session.scalars(
            select(AuditEntry.entity_id).where(AuditEntry.action == "viewed")
        ).all()
    assert viewed.count("test-campus") == 2


def test_a_good_file_creates_the_new_student_and_keeps_the_others(world, client_as) -> None:
    client = client_as("admin")
    answer = _upload(client, _sheet(NEW_ROW), dry_run=False)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Import terminé : 1 créé, 0 mis à jour, 0 inchangé, 0 refusé." in page
    assert "E006" in _students(world)
    with world.registry() as session:
        student = session.scalar(select(Student).where(Student.student_id == "E006"))
        assert student.campus_id == "test-campus"
        assert [contract.weekly_minutes for contract in student.contracts] == [14 * 60]


def test_a_dry_run_reports_the_counts_and_changes_nothing(world, client_as) -> None:
    client = client_as("admin")
    answer = _upload(client, _sheet(NEW_ROW), dry_run=True)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "Résultat de l’essai à blanc" in page
    assert '<th scope="row">Créés</th><td class="num">1</td>' in page
    assert "E006" not in _students(world)


def test_a_bad_row_is_reported_with_its_line_and_the_good_rows_are_imported(
    world, client_as
) -> None:
    client = client_as("admin")
    answer = _upload(client, _sheet(NEW_ROW, BAD_ROW), dry_run=False)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "1 ligne refusée : corrigez-la" in page
    assert '<td data-label="Ligne" class="num">3</td>' in page
    assert "weekly_hours" in page
    assert "E006" in _students(world) and "E007" not in _students(world)


def test_a_bad_file_gets_a_clear_message_not_an_error_page(world, client_as) -> None:
    client = client_as("admin")
    cases = [
        (b"", "etudiants.csv", "Le fichier est vide."),
        (b"PK\x03\x04\x14\x00\x06\x00", "etudiants.xlsx", "Ce n’est pas un fichier CSV."),
        (HEADER.encode("utf-16"), "etudiants.csv", "pas du texte en UTF-8"),
    ]
    for data, name, message in cases:
        answer = _upload(client, data, dry_run=True, filename=name)
        assert answer.status_code == 400, name
        assert message in answer.get_data(as_text=True)
    answer = post_form(client, "/admin/students/import", {"campus": "test-campus"})
    assert answer.status_code == 400
    assert "Choisissez un fichier CSV." in answer.get_data(as_text=True)


def test_a_file_without_the_required_columns_says_which_are_missing(world, client_as) -> None:
    answer = _upload(client_as("admin"), b"nom;prenom\nDurand;Emilie\n", dry_run=True)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "student_id" in page and "weekly_hours" in page
    assert '<td data-label="Ligne" class="num">1</td>' in page


def test_the_contract_page_shows_the_contract_in_force(world, client_as) -> None:
    page = client_as("admin").get("/admin/students/E001").get_data(as_text=True)
    assert "lun 09:00-12:00; mar 14:00-18:00; jeu 09:00-13:00; ven 09:00-10:00" in page
    assert 'value="2026-09-01"' in page and 'value="2027-06-30"' in page
    assert "06 12 34 56 78" not in page


def test_a_new_contract_keeps_the_history_and_is_audited(world, client_as) -> None:
    client = client_as("admin")
    slots = "lun 09:00-12:00; mar 14:00-18:00; jeu 09:00-13:00; ven 09:00-12:00"
    answer = post_form(
        client,
        "/admin/students/E001/contract",
        {"weekly_hours": "13,5", "slots": slots, "valid_from": "2027-01-04", "valid_to": ""},
        page="/admin/students/E001",
    )
    assert answer.status_code == 302
    with world.registry() as session:
        rows = session.scalars(
            select(ContractRow)
            .where(ContractRow.student_pk == world.student_pk("E001"))
            .order_by(ContractRow.id)
        ).all()
        terms = [(row.weekly_minutes, str(row.valid_from), str(row.valid_to)) for row in rows]
        actions = session.scalars(
            select(AuditEntry.action).where(
                AuditEntry.actor == "admin", AuditEntry.entity == "contract"
            )
        ).all()
    assert terms == [(720, "2026-09-01", "2027-01-03"), (810, "2027-01-04", "None")]
    assert sorted(actions) == ["contract_created", "contract_ended"]
    page = client.get("/admin/students/E001").get_data(as_text=True)
    assert "Le contrat de E001 est enregistré." in page


def test_a_bad_contract_field_is_refused_with_its_message(world, client_as) -> None:
    client = client_as("admin")
    good = {"weekly_hours": "12", "slots": "lun 09:00-12:00", "valid_from": "2026-09-01"}
    cases = [
        ({"weekly_hours": "douze"}, "Un nombre d’heures de 0,5 à 70 est attendu."),
        ({"slots": "lun 12:00-09:00"}, "finit avant de commencer"),
        ({"slots": "lundi matin"}, "créneau illisible"),
        ({"valid_from": "demain"}, "Une date est attendue"),
        ({"valid_to": "2026-08-01"}, "La date de fin est avant la date de début."),
    ]
    for change, message in cases:
        answer = post_form(
            client, "/admin/students/E001/contract", good | change, page="/admin/students/E001"
        )
        assert answer.status_code == 400, change
        assert message in answer.get_data(as_text=True), change
    with world.registry() as session:
        count = session.scalars(
            select(ContractRow).where(ContractRow.student_pk == world.student_pk("E001"))
        ).all()
    assert len(count) == 1


def test_the_tutor_of_a_student_is_changed_and_audited(world, client_as) -> None:
    client = client_as("admin")
    alice = world.tutor_id("alice@campus.test")
    answer = post_form(
        client, "/admin/students/E004/tutor", {"tutor_id": str(alice)}, page="/admin/students/E004"
    )
    assert answer.status_code == 302
    with world.registry() as session:
        student = session.scalar(select(Student).where(Student.student_id == "E004"))
        assert student.tutor_id == alice
        audited = session.scalar(
            select(AuditEntry).where(
                AuditEntry.action == "student_updated", AuditEntry.entity_id == "E004"
            )
        )
        assert audited is not None and audited.actor == "admin"
    answer = post_form(
        client, "/admin/students/E004/tutor", {"tutor_id": "9999"}, page="/admin/students/E004"
    )
    assert answer.status_code == 400
    assert "Choisissez une des valeurs proposées." in answer.get_data(as_text=True)


def test_an_unknown_student_is_not_found(world, client_as) -> None:
    assert client_as("admin").get("/admin/students/E999").status_code == 404


def test_a_contract_changed_from_a_past_day_says_which_closed_weeks_are_recomputed(
    world, client_as
) -> None:
    world.clock.set(datetime(2026, 12, 21, 10, tzinfo=PARIS))
    for day in (23, 24, 26, 27):  # in and out on four days of week 48
        world.tap("E001", datetime(2026, 11, day, 9, tzinfo=PARIS))
        world.tap("E001", datetime(2026, 11, day, 13, tzinfo=PARIS))
    ledger = world.app.extensions["campus"]["ledger"]
    # The job froze W47 and W48 once their window closed (14 December).
    ledger.freeze_due(datetime(2026, 12, 14, 10, tzinfo=PARIS), weeks_back=2)
    client = client_as("admin")
    slots = "lun 09:00-13:00; mar 09:00-13:00; jeu 09:00-13:00; ven 09:00-13:00"
    answer = post_form(
        client,
        "/admin/students/E001/contract",
        {"weekly_hours": "16", "slots": slots, "valid_from": "2026-11-16", "valid_to": ""},
        page="/admin/students/E001",
    )
    assert answer.status_code == 302
    page = client.get("/admin/students/E001").get_data(as_text=True)
    assert (
        "Le contrat de E001 est enregistré. Les semaines déjà closes, de celle du "
        "16 novembre 2026 à celle du 23 novembre 2026, seront recalculées avec lui."
    ) in page
    week = next(
        line
        for line in ledger.weekly(IsoWeek.parse("2026-W48"), world.clock())
        if line.student_id == "E001"
    )
    assert (week.expected_s, week.attended_s) == (16 * 3600, 16 * 3600)
