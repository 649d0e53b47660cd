"""The admin's student pages: list and search, CSV import through the browser (good
file, dry run, bad row, bad file), the contract editor and the tutor assignment, with
their effects checked in the registry and the audit log."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from sqlalchemy import select

from server.container import services_of
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
    ledger = services_of(world.app).ledger
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


# --------------------------------------------------------------------------- the add form

NEW = "/admin/students/new"


def _new_student(world, **changes: str) -> dict[str, str]:
    return {
        "campus": "test-campus",
        "student_id": "E010",
        "last_name": "Garnier",
        "first_name": "Zoé",
        "email": "zoe@example.org",
        "phone": "06 11 22 33 44",
        "programme": "DAEU",
        "institution": "Université Grenoble Alpes",
        "institution_type": "public",
        "tutor_id": str(world.tutor_id("alice@campus.test")),
        "weekly_hours": "12,5",
        "slots": "lun 09:00-12:00 | mar 14:00-18:00\njeu 09:00-13:00 / ven 09:00-10:30",
        "valid_from": "2026-11-30",
        "valid_to": "2027-06-30",
        "badge_uid": "04 A1 B2 D9",
        **changes,
    }


def _added(world, student_id: str = "E010") -> Student | None:
    with world.registry() as session:
        return session.scalar(select(Student).where(Student.student_id == student_id))


def test_the_form_adds_a_student_with_contract_tutor_and_hashed_badge(world, client_as) -> None:
    client = client_as("admin")
    page = client.get(f"{NEW}?campus=test-campus").get_data(as_text=True)
    assert 'name="badge_uid"' in page and "Ajouter un·e étudiant·e" in page
    answer = post_form(client, NEW, _new_student(world), page=f"{NEW}?campus=test-campus")
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/students/E010")
    student = _added(world)
    assert student is not None
    assert (student.campus_id, student.last_name, student.phone) == (
        "test-campus",
        "Garnier",
        "06 11 22 33 44",
    )
    assert student.tutor_id == world.tutor_id("alice@campus.test")
    with world.registry() as session:
        student = session.merge(student)
        [contract] = student.contracts
        assert contract.weekly_minutes == 750 and len(contract.slots) == 4
        [badge] = student.badges
        assert len(badge.badge_hash) == 64 and "a1b2d9" not in badge.badge_hash.lower()
        actions = set(session.scalars(select(AuditEntry.action)))
        audited = " ".join(str(e.after) for e in session.scalars(select(AuditEntry)))
    assert {"student_created", "contract_created", "badge_attached"} <= actions
    assert "04A1B2D9" not in audited.upper().replace(" ", "")
    page = client.get("/admin/students/E010").get_data(as_text=True)
    assert "Étudiant·e E010 ajouté·e." in page and "Badges" in page


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("student_id", "E 010!", "Lettres, chiffres, points"),
        ("student_id", "E001", "existe déjà"),
        ("last_name", "", "Ce champ est obligatoire."),
        ("email", "pas-une-adresse", "adresse e-mail"),
        ("weekly_hours", "douze", "heures"),
        ("slots", "lun 09:00-12:00 | lun 11:00-13:00", "se chevauchent"),
        ("slots", "lundi matin", "créneau"),
        ("valid_from", "demain", "date"),
        ("valid_to", "2026-01-01", "avant"),
        ("badge_uid", "04A1B2", "octets en hexadécimal"),
        ("tutor_id", "99999", "Choisissez"),
    ],
)
def test_bad_fields_get_a_french_message_and_nothing_is_saved(
    world, client_as, field: str, value: str, message: str
) -> None:
    client = client_as("admin")
    answer = post_form(client, NEW, _new_student(world, **{field: value}), page=NEW)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 400
    assert message in page
    assert f'id="{field}-error"' in page
    assert "04 A1 B2 D9" not in page  # the badge UID is never sent back
    assert _added(world, "E010") is None


def test_a_badge_held_by_another_student_is_refused_and_nothing_is_saved(world, client_as) -> None:
    client = client_as("admin")
    answer = post_form(client, NEW, _new_student(world, badge_uid="04a1b2c3"), page=NEW)
    assert answer.status_code == 400
    assert _added(world) is None


def test_the_add_form_needs_the_csrf_token(world, client_as) -> None:
    answer = client_as("admin").post(NEW, data=_new_student(world))
    assert answer.status_code == 400 and _added(world) is None


@pytest.mark.parametrize("login", ["coord", "alice", "emilie"])
def test_only_admins_add_a_student(world, client_as, login: str) -> None:
    client = client_as(login)
    assert client.get(NEW).status_code == 403
    answer = post_form(client, NEW, _new_student(world), page="/account/password")
    assert answer.status_code == 403 and _added(world) is None


def test_strict_web_import_saves_nothing_when_a_row_is_refused(world, client_as) -> None:
    client = client_as("admin")
    form = {
        "csrf_token": csrf_of(client, "/admin/students/import"),
        "campus": "test-campus",
        "strict": "1",
        "file": (io.BytesIO(_sheet(NEW_ROW, BAD_ROW)), "etudiants.csv"),
    }
    answer = client.post("/admin/students/import", data=form, content_type="multipart/form-data")
    page = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert "rien n’a été enregistré (tout ou rien)" in page
    assert "E006" not in _students(world)


def test_the_template_download_is_french(world, client_as) -> None:
    answer = client_as("admin").get("/admin/students/import/modele-etudiants.csv")
    assert answer.status_code == 200 and answer.mimetype == "text/csv"
    first = answer.get_data().decode("utf-8-sig").splitlines()[0]
    assert first.startswith("identifiant;nom;prénom;") and "créneaux" in first
    assert client_as("coord").get("/admin/students/import/modele-etudiants.csv").status_code == 403


def _badge_hashes(world, student_id: str) -> list[str]:
    with world.registry() as session:
        student = session.scalar(select(Student).where(Student.student_id == student_id))
        return [badge.badge_hash for badge in student.badges if badge.revoked_at is None]


def test_the_student_page_gives_a_new_badge_hashed_and_audited(world, client_as) -> None:
    client, page = client_as("admin"), "/admin/students/E001"
    before = _badge_hashes(world, "E001")
    assert 'name="badge_uid"' in client.get(page).get_data(as_text=True)
    answer = post_form(client, f"{page}/badge", {"badge_uid": "04 C0 FF EE 01 02 03"}, page=page)
    assert answer.status_code == 302
    after = _badge_hashes(world, "E001")
    assert len(after) == len(before) + 1
    (new,) = set(after) - set(before)
    assert len(new) == 64 and "c0ffee" not in new.lower()
    assert "Le badge est donné à E001." in client.get(page).get_data(as_text=True)
    with world.registry() as session:
        audited = session.scalars(select(AuditEntry).where(AuditEntry.action == "badge_attached"))
        assert any('"student_id": "E001"' in str(entry.after) for entry in audited)
    again = post_form(client, f"{page}/badge", {"badge_uid": "04C0FFEE010203"}, page=page)
    assert again.status_code == 302 and len(_badge_hashes(world, "E001")) == len(after)


@pytest.mark.parametrize(
    ("uid", "message"),
    [
        ("", "octets en hexadécimal"),
        ("04A1B2", "octets en hexadécimal"),
        ("04a1b2c4", "appartient déjà"),  # E002's badge in the furnished world
    ],
)
def test_a_bad_or_taken_badge_is_refused_on_the_student_page(
    world, client_as, uid: str, message: str
) -> None:
    client, page = client_as("admin"), "/admin/students/E001"
    before = _badge_hashes(world, "E001")
    answer = post_form(client, f"{page}/badge", {"badge_uid": uid}, page=page)
    assert answer.status_code == 400 and message in answer.get_data(as_text=True)
    assert _badge_hashes(world, "E001") == before


def test_a_badge_seen_at_a_reader_is_attached_from_the_badges_page(world, client_as) -> None:
    world.tap_uid("04deadbeef0104", datetime(2026, 11, 23, 9, 0, tzinfo=PARIS))
    client, page = client_as("admin"), "/admin/students/E001"
    answer = post_form(client, f"{page}/badge", {"badge_uid": "04deadbeef0104"}, page=page)
    assert answer.status_code == 400
    assert "badges vus" in answer.get_data(as_text=True)


@pytest.mark.parametrize("login", ["coord", "alice", "emilie"])
def test_only_admins_give_a_badge(world, client_as, login: str) -> None:
    answer = post_form(
        client_as(login),
        "/admin/students/E001/badge",
        {"badge_uid": "04C0FFEE010203"},
        page="/account/password",
    )
    assert answer.status_code == 403
