"""Coordinator pages: who may see them (role and campus), the weekly presence report
with its filters, the alert evidence, and the closures calendar with its form."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from server.container import services_of
from server.domain.accounts import Actor
from server.domain.alerts import CallLog, CallOutcome, ReasonCategory
from server.registry.models import AuditEntry, Closure
from tests.web.conftest import CAMPUS, OTHER, PARIS, post_form

PAGES = [
    "/coordinator/occupancy",
    "/coordinator/occupancy/live",
    "/coordinator/occupancy/history",
    "/coordinator/presence",
    "/coordinator/presence/export?format=csv",
    "/coordinator/alerts",
    "/coordinator/alerts/export?format=xlsx",
    "/coordinator/calendar",
]


def at(hour: int, minute: int = 0, day: int = 23) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=PARIS)


def with_campus(path: str, campus: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}campus={campus}"


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("login", ["coord", "admin"])
def test_managers_see_every_page(client_as, path: str, login: str) -> None:
    assert client_as(login).get(path).status_code == 200


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("login", ["alice", "bruno", "emilie"])
def test_tutors_and_students_are_refused(client_as, path: str, login: str) -> None:
    assert client_as(login).get(path).status_code == 403


@pytest.mark.parametrize("path", PAGES)
def test_anonymous_visitors_are_sent_to_the_login_page(world, path: str) -> None:
    answer = world.app.test_client().get(path)
    assert answer.status_code == 302
    assert answer.headers["Location"].startswith("/login")


@pytest.mark.parametrize("path", PAGES)
def test_a_coordinator_cannot_see_another_campus(client_as, path: str) -> None:
    assert client_as("coord-other").get(with_campus(path, CAMPUS)).status_code == 403
    assert client_as("coord").get(with_campus(path, OTHER)).status_code == 403
    assert client_as("coord").get(with_campus(path, CAMPUS)).status_code == 200


def test_admin_chooses_the_campus(client_as) -> None:
    admin = client_as("admin")
    here = admin.get(f"/coordinator/presence?campus={CAMPUS}").get_data(as_text=True)
    there = admin.get(f"/coordinator/presence?campus={OTHER}").get_data(as_text=True)
    assert 'id="campus-picker"' in here
    assert "E001" in here and "E004" in here and "E005" not in here
    assert "E005" in there and "E001" not in there
    assert admin.get("/coordinator/presence?campus=nowhere").status_code == 404


def test_each_coordinator_sees_only_their_students(client_as) -> None:
    mine = client_as("coord").get("/coordinator/presence").get_data(as_text=True)
    theirs = client_as("coord-other").get("/coordinator/presence").get_data(as_text=True)
    assert [sid in mine for sid in ("E001", "E002", "E003", "E004", "E005")] == [
        True,
        True,
        True,
        True,
        False,
    ]
    assert "E005" in theirs and "E001" not in theirs
    assert 'id="campus-picker"' not in mine  # one campus: no selector


def _attended_cell(page: str, student_id: str) -> str:
    row = page.split(f'id="student-{student_id}"', 1)[1].split("</tr>", 1)[0]
    return row.split('data-label="Heures effectuées"', 1)[1].split("</td>", 1)[0]


def test_weekly_report_shows_the_ledger_figures(world, client_as) -> None:
    world.tap("E001", at(9, 5))
    world.tap("E001", at(11, 5))
    world.clock.set(at(11, 30))
    page = client_as("coord").get("/coordinator/presence?week=2026-W48").get_data(as_text=True)
    assert "2 h" in _attended_cell(page, "E001")
    assert "0 h" in _attended_cell(page, "E002")
    assert "Durand Émilie" in page
    assert "Semaine 2026-W48, du lundi 23 novembre 2026 au dimanche 29 novembre 2026" in page
    # 12 h expected, 2 h done: 10 h remaining, not short before the week ends
    row = page.split('id="student-E001"', 1)[1].split("</tr>", 1)[0]
    assert ">12 h<" in row and ">10 h<" in row


def test_weekly_report_filters_by_tutor_and_programme(world, client_as) -> None:
    coord = client_as("coord")
    bruno = world.tutor_id("bruno@campus.test")
    page = coord.get(f"/coordinator/presence?tutor={bruno}").get_data(as_text=True)
    assert "E004" in page and "E001" not in page
    everyone = coord.get("/coordinator/presence?programme=Licence+psychologie").get_data(
        as_text=True
    )
    assert all(sid in everyone for sid in ("E001", "E002", "E003", "E004"))
    nobody = coord.get("/coordinator/presence?programme=BTS").get_data(as_text=True)
    assert "E001" not in nobody and "Aucun·e étudiant·e" in nobody


@pytest.mark.parametrize(
    "query, message",
    [
        ("week=2026-48", "Une semaine est attendue"),
        ("week=2026-W60", "Une semaine est attendue"),
        ("tutor=alice", "Choisissez une des valeurs proposées"),
    ],
)
def test_weekly_report_refuses_bad_parameters(client_as, query: str, message: str) -> None:
    answer = client_as("coord").get(f"/coordinator/presence?{query}")
    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True)


def test_viewing_the_weekly_report_is_recorded(world, client_as) -> None:
    client_as("coord").get("/coordinator/presence")
    with world.registry() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "viewed", AuditEntry.actor == "coord")
        ).all()
    assert [(entry.entity, entry.entity_id) for entry in entries] == [("campus", CAMPUS)]
    assert "weekly_report" in entries[0].after


def cells(row: str) -> list[str]:
    return [cell.strip() for cell in re.findall(r"<td[^>]*>([^<]*)</td>", row)]


def test_evidence_counts_the_campus_absences_and_calls(world, client_as) -> None:
    world.readers_online(at(8, 0))
    world.clock.set(at(9, 10))
    world.check_absences()
    world.clock.set(at(9, 20))
    world.tap("E001", at(9, 5))
    world.check_absences()  # E002, E003 (Alice), E004 (Bruno) here; E005 elsewhere
    alerts = services_of(world.app).alerts
    listing = [
        item for item in alerts.listing(open_only=True, since=None) if item["kind"] == "absence"
    ]
    by_student = {item["student_id"]: item["id"] for item in listing}
    assert set(by_student) == {"E002", "E003", "E004", "E005"}
    call = CallLog(
        called_at=at(9, 30),
        outcome=CallOutcome.REACHED,
        category=ReasonCategory.ILLNESS,
        excused=True,
    )
    alerts.log_call(by_student["E002"], call, Actor("alice", at(9, 30)))
    world.clock.set(at(10, 0))
    page = client_as("coord").get("/coordinator/alerts?from=2026-11-23&to=2026-11-23")
    text = page.get_data(as_text=True)
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th>(.*?)</tr>', text, re.DOTALL))
    # Tutors by name (their account's display name: the sheet gave only an e-mail).
    assert set(rows) == {"Alice", "Bruno", "Toutes et tous"}
    assert "@campus.test" not in text
    # noticed, acknowledged, called, same day, arrived first, excused, median
    assert cells(rows["Alice"])[:6] == ["2", "1", "1", "1", "0", "1"]
    assert cells(rows["Bruno"])[:6] == ["1", "0", "0", "0", "0", "0"]
    assert cells(rows["Toutes et tous"])[:3] == ["3", "1", "1"]
    assert "10 min" in rows["Alice"]
    other = client_as("coord-other").get("/coordinator/alerts?from=2026-11-23&to=2026-11-23")
    assert "Bruno" in other.get_data(as_text=True)
    assert "Alice" not in other.get_data(as_text=True)


@pytest.mark.parametrize(
    "query", ["from=2026-11-24&to=2026-11-23", "from=23/11/2026", "from=2020-01-01&to=2026-11-23"]
)
def test_evidence_refuses_bad_days(client_as, query: str) -> None:
    answer = client_as("coord").get(f"/coordinator/alerts?{query}")
    assert answer.status_code == 400
    assert 'role="alert"' in answer.get_data(as_text=True)


def test_calendar_lists_public_holidays_and_closures(world, client_as) -> None:
    page = client_as("coord").get("/coordinator/calendar").get_data(as_text=True)
    assert "Noël" in page and "vendredi 25 décembre 2026" in page
    assert "Jour de l&#39;an" in page or "Jour de l'an" in page
    assert "Aucune fermeture prévue." in page


def _closure(start: str, end: str, label: str = "Travaux") -> dict[str, str]:
    return {"campus": CAMPUS, "start": start, "end": end, "label": label}


def test_adding_a_closure_lowers_the_expected_hours(world, client_as) -> None:
    coord = client_as("coord")
    before = coord.get("/coordinator/presence").get_data(as_text=True)
    assert ">12 h<" in before.split('id="student-E001"', 1)[1].split("</tr>", 1)[0]
    answer = post_form(
        coord,
        "/coordinator/calendar/closures",
        _closure("2026-11-26", "2026-11-26"),
        page="/coordinator/calendar",
    )
    assert answer.status_code == 302
    assert answer.headers["Location"].endswith(f"/coordinator/calendar?campus={CAMPUS}")
    with world.registry() as session:
        rows = session.scalars(select(Closure)).all()
    assert [(r.campus_id, r.start, r.end, r.label) for r in rows] == [
        (CAMPUS, date(2026, 11, 26), date(2026, 11, 26), "Travaux")
    ]
    page = coord.get("/coordinator/calendar").get_data(as_text=True)
    assert "jeudi 26 novembre 2026 — Travaux" in page
    assert "Fermeture ajoutée" in page
    after = coord.get("/coordinator/presence").get_data(as_text=True)
    # Thursday 09:00-13:00 is 4 h of the 12 h of slots: 8 h are due
    assert ">8 h<" in after.split('id="student-E001"', 1)[1].split("</tr>", 1)[0]


@pytest.mark.parametrize(
    "data, message",
    [
        (_closure("2026-11-27", "2026-11-26"), "La date de fin ne peut pas précéder"),
        (_closure("2026-11-26", "2026-11-26", label=""), "Ce champ est obligatoire"),
        (_closure("26/11/2026", "2026-11-26"), "Une date est attendue"),
        (_closure("2026-01-01", "2027-06-30"), "Au plus 366 jours"),
    ],
)
def test_a_bad_closure_is_refused(world, client_as, data, message: str) -> None:
    answer = post_form(
        client_as("coord"), "/coordinator/calendar/closures", data, page="/coordinator/calendar"
    )
    assert answer.status_code == 400
    assert message in answer.get_data(as_text=True)
    with world.registry() as session:
        assert session.scalars(select(Closure)).all() == []


def test_adding_a_closure_needs_the_csrf_token(world, client_as) -> None:
    answer = client_as("coord").post(
        "/coordinator/calendar/closures", data=_closure("2026-11-26", "2026-11-26")
    )
    assert answer.status_code == 400
    with world.registry() as session:
        assert session.scalars(select(Closure)).all() == []


@pytest.mark.parametrize("login", ["coord-other", "alice", "emilie"])
def test_others_cannot_close_this_campus(world, client_as, login: str) -> None:
    client = client_as(login)
    answer = post_form(
        client,
        "/coordinator/calendar/closures",
        _closure("2026-11-26", "2026-11-26"),
        page="/password",
    )
    assert answer.status_code == 403
    with world.registry() as session:
        assert session.scalars(select(Closure)).all() == []


PILLS = {  # the status pill's class, and its words in each language
    "fr": {
        "status-ok": "Atteint",
        "status-danger": "Insuffisant",
        "status-warning": "En risque",
        "status-neutral": "Excusée",
        "status-expected": "En bonne voie",
    },
    "en": {
        "status-ok": "Met",
        "status-danger": "Short",
        "status-warning": "At risk",
        "status-neutral": "Excused",
        "status-expected": "On track",
    },
}


@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_row_of_the_weekly_report_is_labelled_and_has_its_status_pill(
    world, client_as, language: str
) -> None:
    """The labels and pills are rendered once a page (issue 16): every row still carries
    each column's header as its ``data-label`` (the narrow-screen layout) and the pill of
    its own status, in the page's language."""
    world.clock.set(at(11, 30))
    coord = client_as("coord")
    seen = set()
    for week in ("2026-W47", "2026-W48"):
        page = coord.get(f"/coordinator/presence?week={week}&lang={language}").get_data(
            as_text=True
        )
        table = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
        headers = re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', page)
        rows = table.split("</tr>")[:-1]
        assert len(rows) == 4 and len(headers) == 9
        for row in rows:
            assert re.findall(r'data-label="([^"]*)"', row) == headers
            pills = re.findall(r'<span class="status (status-[a-z]+)">([^<]*)</span>', row)
            assert len(pills) == 1
            assert PILLS[language][pills[0][0]] == pills[0][1]
            seen.add((week, pills[0][0]))
    assert ("2026-W48", "status-expected") in seen  # the week under way: on track
    assert ("2026-W47", "status-expected") not in seen  # a week over is decided


def test_the_campus_list_is_read_for_each_request_even_in_one_application_context(
    world, client_as
) -> None:
    """A page reads the campuses its principal sees once (``visible_campuses``): never
    an earlier request's list, even when ``g`` outlives requests (an application context
    pushed around them, as in scripts and tests)."""
    admin, coord = client_as("admin"), client_as("coord")
    with world.app.app_context():
        first = admin.get("/coordinator/presence").get_data(as_text=True)
        second = coord.get("/coordinator/presence").get_data(as_text=True)
    assert 'id="campus-picker"' in first  # two campuses: the picker
    assert 'id="campus-picker"' not in second and "E005" not in second
