"""A student's erasure: the confirmation page says what goes and what stays; a wrong id
erases nothing; the erasure leaves no name, phone, e-mail or free text of the student
in the tutor's pages, the weekly report, the alerts API, the data export or the audit
log; the account and the badge are gone; a second erasure is harmless; only an admin
of the student's campus may do it, with the CSRF token."""

from __future__ import annotations

import html
import json
from datetime import UTC, date, datetime

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from server.container import services_of
from server.domain.accounts import Actor, Role
from server.domain.badges import badge_hash
from server.registry.account_models import Account, StudentNote
from server.registry.alert_models import Alert, AlertCall
from server.registry.models import (
    AuditEntry,
    Badge,
    ExcusedAbsence,
    PresenceCorrection,
    Student,
    UnknownBadge,
    WeeklyRecord,
)
from server.registry.models import Contract as ContractRow
from server.registry.privacy_store import privacy_unit_of_work
from server.services.privacy.erasure import ERASED_NAME, erase_student, pseudonym
from server.services.privacy.student_data import StudentData, as_json
from server.services.screens.student_space import StudentSpace
from tests.web.conftest import CAMPUS, PARIS, SECRET, STUDENTS, World, log_in, post_form
from tests.web.test_tutor_now import alert_of, at

CONFIRM = "/admin/students/E001/erasure"
ERASE = "/admin/students/E001/erase"
# What must not be found anywhere once E001 is erased.
TRACES = (
    "Durand",
    "Émilie",
    "e001@example.org",
    "06 12 34 56 78",
    "+33612345678",
    "Licence psychologie",  # every student has it: checked on the row only
    "Grippe carabinée",
    "fille Zoé",
    "chez sa mère",
)
PERSONAL = [trace for trace in TRACES if trace != "Licence psychologie"]


def _follow_up(world: World, client_as) -> FlaskClient:
    """E001 missed Monday 09:00: alert, call with a reason (excused), a note, two frozen
    weeks and a correction with a reason that re-opens the second; then E001 came at
    09:40 and downloaded her data. Returns Émilie's logged-in client."""
    world.readers_online(at(8, 0))
    world.clock.set(at(9, 10))
    world.check_absences()
    world.clock.set(at(9, 20))
    world.check_absences()
    alice = client_as("alice")
    call = {"outcome": "reached", "reason_category": "illness", "excused": "yes"}
    call["reason"] = "Grippe carabinée"
    answer = post_form(alice, f"/tutor/alerts/{alert_of(world, 'E001')}", call)
    assert answer.status_code == 302
    note = {"body": "Entretien : sa fille Zoé est malade."}
    assert post_form(alice, "/tutor/students/E001/notes", note).status_code == 302
    with world.registry() as session, session.begin():  # W47 is re-opened by the correction
        pk = world.student_pk("E001")
        session.add_all(
            [_week(pk, "2026-W46", world.clock()), _week(pk, "2026-W47", world.clock())]
        )
    correction = {
        "action": "session",
        "session_start": "",
        "start": "2026-11-20T09:00",
        "end": "2026-11-20T10:00",
        "reason": "Badge oublié chez sa mère",
    }
    assert post_form(alice, "/tutor/students/E001/corrections", correction).status_code == 302
    world.tap("E001", at(9, 40))
    emilie = client_as("emilie")
    assert emilie.get("/me/data.json").status_code == 200  # recorded: she downloaded
    return emilie


def _week(student_pk: int, week: str, frozen_at: datetime) -> WeeklyRecord:
    return WeeklyRecord(
        student_pk=student_pk,
        week=week,
        expected_s=12 * 3600,
        attended_s=10 * 3600,
        unverified_s=0,
        missed_slots=1,
        late_arrivals=2,
        status="short",
        frozen_at=frozen_at,
    )


def _erase(client: FlaskClient, typed: str = "E001"):
    return post_form(client, ERASE, {"confirm_id": typed}, page=CONFIRM)


def _row(world: World, pk: int) -> Student:
    with world.registry() as session:
        row = session.get(Student, pk)
        session.expunge(row)
        return row


def _count(world: World, column, *conditions) -> int:
    with world.registry() as session:
        return session.scalar(select(func.count(column)).where(*conditions)) or 0


def _text(answer) -> str:
    assert answer.status_code == 200, answer.status_code
    return html.unescape(answer.get_data(as_text=True))


def test_the_confirmation_page_says_what_goes_and_what_stays(world, client_as) -> None:
    _follow_up(world, client_as)
    page = _text(client_as("admin").get(CONFIRM))
    assert "Étudiant·e : Durand Émilie" in page
    assert "Notes des tuteurs : 1 supprimée." in page
    assert "Textes des absences excusées : 1 effacé " in page
    assert "Notes d'appel : 1 effacée." in page
    assert "Motifs des corrections de présence : 1 effacé." in page
    assert "Comptes de l'étudiant·e : 1 supprimé ;" in page
    assert "Badges : 1 détaché." in page and "durée de conservation (400 jours)" in page
    assert "Contrats : 1 terminé à la veille, et 0 alerte ouverte clôturée" in page
    assert "1 semaine arrêtée, 1 alerte et 1 appel restent" in page
    assert '<label for="confirm_id">Saisissez l\'identifiant E001 pour confirmer</label>' in page
    assert 'action="/admin/students/E001/erase"' in page
    assert page.count("<h1") == 1
    student_page = _text(client_as("admin").get("/admin/students/E001"))
    assert 'href="/admin/students/E001/erasure"' in student_page


def test_a_wrong_id_is_refused_and_erases_nothing(world, client_as) -> None:
    _follow_up(world, client_as)
    answer = _erase(client_as("admin"), "E002")
    assert answer.status_code == 400
    assert "Saisissez exactement l'identifiant E001 pour confirmer : rien n'a été effacé." in (
        html.unescape(answer.get_data(as_text=True))
    )
    row = _row(world, world.student_pk("E001"))
    assert (row.last_name, row.phone) == ("Durand", "06 12 34 56 78")
    assert _count(world, Account.id, Account.login == "emilie") == 1
    assert _count(world, StudentNote.id) == 1
    assert _count(world, AuditEntry.id, AuditEntry.action == "student_erased") == 0


def test_the_erasure_clears_the_student_and_keeps_anonymous_counts(world, client_as) -> None:
    _follow_up(world, client_as)
    pk = world.student_pk("E001")
    alert_id = alert_of(world, "E001")
    client = client_as("admin")
    answer = _erase(client)
    assert (answer.status_code, answer.headers["Location"]) == (
        302,
        "/admin/students?campus=test-campus",
    )
    erased_id = pseudonym("E001", SECRET.encode())
    assert f"Ses données anonymes portent désormais le code {erased_id}." in _text(
        client.get(answer.headers["Location"])
    )
    row = _row(world, pk)
    assert (row.student_id, row.first_name, row.last_name) == (
        erased_id,
        ERASED_NAME,
        erased_id.removeprefix("erased-"),
    )
    assert (row.email, row.phone, row.programme, row.institution, row.tutor_id) == (
        "",
        "",
        "",
        "",
        None,
    )
    assert _count(world, StudentNote.id) == 0
    assert _count(world, Account.id, Account.student_pk == pk) == 0
    assert _count(world, Badge.id, Badge.student_pk == pk) == 0
    with world.registry() as session:
        excuse = session.scalars(select(ExcusedAbsence)).one()
        assert (excuse.note, excuse.category, excuse.start) == ("", "illness", at(9, 0))
        call = session.scalars(select(AlertCall)).one()  # the proof of the call stays
        assert (call.reason, call.outcome, call.called_at.tzinfo) == ("", "reached", UTC)
        correction = session.scalars(select(PresenceCorrection)).one()
        assert (correction.reason, correction.kind) == ("", "add")
        alert = session.scalars(select(Alert).where(Alert.public_id == alert_id)).one()
        assert (alert.student_pk, alert.status) == (pk, "closed")
        week = session.scalars(select(WeeklyRecord)).one()
        assert (week.student_pk, week.attended_s, week.status) == (pk, 10 * 3600, "short")
        contract = session.scalars(select(ContractRow).where(ContractRow.student_pk == pk)).one()
        assert contract.valid_to == date(2026, 11, 22)  # no slot after the erasure


def test_the_erasure_is_audited_and_the_audit_log_keeps_no_trace(world, client_as) -> None:
    _follow_up(world, client_as)
    _erase(client_as("admin"))
    erased_id = pseudonym("E001", SECRET.encode())
    with world.registry() as session:
        entries = list(session.scalars(select(AuditEntry)))
    (erased,) = [entry for entry in entries if entry.action == "student_erased"]
    assert (erased.actor, erased.entity, erased.entity_id) == ("admin", "student", erased_id)
    summary = json.loads(erased.after)
    assert (summary["notes"], summary["accounts"], summary["badges"]) == (1, 1, 1)
    assert summary["audit_entries"] > 5
    created = [e for e in entries if e.action == "student_created" and e.entity_id == erased_id]
    assert len(created) == 1 and '"last_name": ""' in created[0].after
    reopened = [e.entity_id for e in entries if e.action == "week_reopened"]
    assert reopened == [f"{erased_id}/2026-W47"]
    everything = " ".join(
        f"{entry.actor} {entry.entity_id} {entry.before} {entry.after}" for entry in entries
    )
    for trace in [*PERSONAL, "E001", "Badge oublié"]:
        assert trace not in everything, trace
    assert "emilie" not in {entry.actor for entry in entries}
    viewed = [e for e in entries if e.action == "viewed" and e.entity_id == erased_id]
    assert {e.actor for e in viewed} >= {"alice", erased_id}  # who looked stays known


def test_no_page_report_api_or_export_shows_the_student_any_more(world, client_as) -> None:
    _follow_up(world, client_as)
    pk, alert_id = world.student_pk("E001"), alert_of(world, "E001")
    alice, coord = client_as("alice"), client_as("coord")
    before = _text(alice.get("/tutor/students")) + json.dumps(as_json(_export(world, pk)))
    assert "Durand" in before and "e001@example.org" in before  # what the search looks for
    _erase(client_as("admin"))
    seen = {
        "now": _text(alice.get("/tutor/now")),
        "students": _text(alice.get("/tutor/students")),
        "weekly": _text(coord.get("/coordinator/presence?week=2026-W48")),
        "weekly.csv": coord.get("/coordinator/presence/export?week=2026-W48&format=csv")
        .get_data()
        .decode("utf-8-sig"),
        "evidence": _text(coord.get("/coordinator/alerts")),
        "api": world.app.test_client()
        .get("/api/v1/alerts?status=all", headers={"Authorization": _token(world)})
        .get_data(as_text=True),
        "admin": _text(client_as("admin").get("/admin/students?campus=test-campus")),
    }
    api = json.loads(seen["api"])["alerts"]
    seen["api"] = json.dumps(api, ensure_ascii=False)  # "Émilie", not "\\u00c9milie"
    assert len(api) == 4  # E001, E002, E003, E004: the erased student's alert still counts
    erased = next(alert for alert in api if alert["id"] == alert_id)
    assert erased["student_name"].startswith(ERASED_NAME) and not erased["student_phone"]
    assert "Martin" in seen["weekly"] and "Noé" in seen["api"]  # the others are still there
    data = _export(world, pk)
    assert data["identity"]["first_name"] == ERASED_NAME and data["accounts"] == []
    assert data["notes"] == [] and data["badges"] == []
    seen["export"] = json.dumps(as_json(data), ensure_ascii=False)
    for where, text in seen.items():
        for trace in [*PERSONAL, "E001"]:
            assert trace not in text, (where, trace)
    assert "Licence psychologie" not in json.dumps(as_json(data["identity"]), ensure_ascii=False)


def _token(world: World) -> str:
    accounts = services_of(world.app).accounts
    secret, _view = accounts.create_token(
        name="alerts", role=Role.COORDINATOR, campus_id=CAMPUS, actor=Actor("t", world.clock())
    )
    return f"Bearer {secret}"


def _export(world: World, pk: int) -> dict:
    services = services_of(world.app)
    space = StudentSpace(
        services.screen_reads, services.store, services.ledger, services.settings.presence
    )
    return StudentData(
        privacy_unit_of_work(services.registry, services.settings.presence),
        space,
        retention_days=400,
    ).everything(pk, world.clock())


def test_the_account_can_no_longer_log_in(world, client_as) -> None:
    emilie = _follow_up(world, client_as)
    _erase(client_as("admin"))
    answer = emilie.get("/me/data")  # her open session ends
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    assert log_in(world.app.test_client(), "emilie").status_code == 401  # refused


def test_a_later_tap_of_the_old_badge_is_an_unknown_badge(world, client_as) -> None:
    _follow_up(world, client_as)
    _erase(client_as("admin"))
    world.clock.set(at(10, 30))
    world.tap("E001", at(10, 30))
    old_hash = badge_hash(SECRET.encode(), STUDENTS["E001"][4])
    with world.registry() as session:
        sighting = session.scalars(select(UnknownBadge)).one()
    assert (sighting.badge_hash, sighting.attached_at, sighting.student_pk) == (
        old_hash,
        None,
        None,
    )
    page = _text(client_as("admin").get("/admin/badges?campus=test-campus"))
    assert "1 badge inconnu" in page or old_hash[:8] in page


def test_a_second_erasure_is_harmless(world, client_as) -> None:
    _follow_up(world, client_as)
    client = client_as("admin")
    _erase(client)
    answer = _erase(client)
    assert answer.status_code == 302
    assert "était déjà effacé·e : rien n'a changé." in _text(client.get(answer.headers["Location"]))
    assert "déjà effacé·e : il ne reste rien" in _text(client.get(CONFIRM))
    erased_id = pseudonym("E001", SECRET.encode())
    page = _text(client.get(f"/admin/students/{erased_id}"))
    assert "seuls des décomptes anonymes sont conservés" in page
    assert 'action="/admin/students/E001/identity"' not in page
    assert _count(world, AuditEntry.id, AuditEntry.action == "student_erased") == 1
    report = erase_student(
        privacy_unit_of_work(world.registry, world.settings.presence),
        "E001",
        Actor("t", world.clock()),
        secret=b"x",
        zone=PARIS,
    )
    assert report is None  # another secret: the old id leads nowhere


def test_an_erased_student_cannot_be_named_again(world, client_as) -> None:
    client = client_as("admin")
    _erase(client)
    erased_id = pseudonym("E001", SECRET.encode())
    data = {"last_name": "Durand", "first_name": "Émilie"}
    answer = post_form(client, f"/admin/students/{erased_id}/identity", data, page=CONFIRM)
    assert answer.status_code == 400
    assert _row(world, world.student_pk(erased_id)).first_name == ERASED_NAME


def test_the_erasure_needs_the_csrf_token(world, client_as) -> None:
    answer = client_as("admin").post(ERASE, data={"confirm_id": "E001"})
    assert answer.status_code == 400
    assert _row(world, world.student_pk("E001")).last_name == "Durand"


@pytest.mark.parametrize("login", ["coord", "coord-other", "alice", "bruno", "emilie"])
def test_only_admins_erase(world, client_as, login: str) -> None:
    client = client_as(login)
    assert client.get(CONFIRM).status_code == 403
    answer = post_form(client, ERASE, {"confirm_id": "E001"}, page="/account/password")
    assert answer.status_code == 403
    assert _row(world, world.student_pk("E001")).last_name == "Durand"


def test_anonymous_visitors_are_sent_to_the_login_page(world) -> None:
    client = world.app.test_client()
    answer = client.get(CONFIRM)
    assert answer.status_code == 302 and answer.headers["Location"].startswith("/login")
    answer = post_form(client, ERASE, {"confirm_id": "E001"}, page="/login")
    assert answer.status_code == 302
    assert _row(world, world.student_pk("E001")).last_name == "Durand"


def test_an_unknown_student_is_not_found(client_as) -> None:
    assert client_as("admin").get("/admin/students/E999/erasure").status_code == 404
