"""The tutor's *Now* page at 09:20 on Monday: E001 came at 09:05 (present), E003 at
09:18 (late), E002 never came (an absence alert with the number to call). The call
log form, acknowledging, and the live fragment."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

from flask.testing import FlaskClient
from sqlalchemy import select

from server.container import services_of
from server.registry.alert_models import Alert
from server.registry.models import AuditEntry, ExcusedAbsence, Student
from tests.web.conftest import PARIS, World, post_form

ROW = re.compile(
    r'href="/tutor/students/(E\d+)">[^<]*</a></td>\s*'
    r'(?:<td data-label="Tuteur">[^<]*</td>\s*)?'  # coordinators and admins see the tutor
    r"<td[^>]*>([^<]*)</td>\s*"
    r'<td[^>]*>\s*<span class="status [^"]+">([^<]+)</span>'
)


def at(hour: int, minute: int, day: int = 23) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=PARIS)


def morning(world: World) -> None:
    """The watcher ran since 09:10; at 09:20 E001 and E003 are in, E002 and E004 not."""
    world.readers_online(at(8, 0))
    world.clock.set(at(9, 10))
    world.check_absences()
    world.clock.set(at(9, 20))
    world.tap("E001", at(9, 5))
    world.tap("E003", at(9, 18))
    world.check_absences()


def alert_of(world: World, student_id: str) -> str:
    with world.registry() as session:
        return session.scalar(
            select(Alert.public_id)
            .join(Student, Student.id == Alert.student_pk)
            .where(Student.student_id == student_id)
        )


def page(client: FlaskClient, path: str) -> str:
    answer = client.get(path)
    assert answer.status_code == 200, (path, answer.status_code)
    return html.unescape(answer.get_data(as_text=True))


def roster(text: str) -> dict[str, tuple[str, str]]:
    """``{student_id: (slot, state)}`` of the roster table."""
    return {sid: (slot, state) for sid, slot, state in ROW.findall(text)}


def alerts_section(text: str) -> str:
    return text.split('id="alerts-title"')[1].split('id="roster-title"')[0]


def test_alice_sees_her_absent_student_first_with_the_number_to_call(world, client_as) -> None:
    morning(world)
    text = page(client_as("alice"), "/tutor/now")
    alerts = alerts_section(text)
    assert "Alertes ouvertes (1)" in alerts
    assert "Noé Martin" in alerts and "Hugo Roux" not in alerts
    assert 'href="tel:+33700000002"' in alerts and "Appeler le 07 00 00 00 02" in alerts
    assert f'href="/tutor/alerts/{alert_of(world, "E002")}"' in alerts
    assert "créneau 09:00–12:00" in alerts and "constatée à 09:20" in alerts
    assert roster(text) == {
        "E002": ("09:00–12:00", "Absent·e"),
        "E003": ("09:00–12:00", "En retard"),
        "E001": ("09:00–12:00", "Présent·e"),
    }
    assert list(roster(text)) == ["E002", "E003", "E001"]  # the absent first
    assert 'data-live-url="/tutor/now/live"' in text


def test_the_roster_shows_who_is_expected_before_the_check(world, client_as) -> None:
    world.clock.set(at(8, 58))
    world.tap("E003", at(8, 50))
    text = page(client_as("alice"), "/tutor/now")
    assert roster(text) == {
        "E001": ("09:00–12:00", "Attendu·e"),
        "E002": ("09:00–12:00", "Attendu·e"),
        "E003": ("09:00–12:00", "Présent·e"),
    }
    world.clock.set(at(7, 30))  # nothing starts within the hour
    assert roster(page(client_as("alice"), "/tutor/now")) == {}


def test_a_coordinator_sees_the_whole_campus_and_an_admin_every_campus(world, client_as) -> None:
    morning(world)
    coord = page(client_as("coord"), "/tutor/now")
    assert set(roster(coord)) == {"E001", "E002", "E003", "E004"}
    assert "Alertes ouvertes (2)" in coord
    other = page(client_as("coord-other"), "/tutor/now")
    assert set(roster(other)) == {"E005"}
    assert set(roster(page(client_as("admin"), "/tutor/now"))) == {f"E00{n}" for n in range(1, 6)}
    bruno = page(client_as("bruno"), "/tutor/now")
    assert roster(bruno) == {"E004": ("09:00–12:00", "Absent·e")}
    assert "Noé Martin" not in bruno


def test_the_live_fragment_follows_a_late_arrival(world, client_as) -> None:
    morning(world)
    client = client_as("alice")
    fragment = client.get("/tutor/now/live").get_data(as_text=True)
    assert "<html" not in fragment and "Alertes ouvertes (1)" in fragment
    world.clock.set(at(9, 25))
    world.tap("E002", at(9, 25))
    fragment = html.unescape(client.get("/tutor/now/live").get_data(as_text=True))
    assert "Alertes ouvertes (0)" in fragment
    assert roster(fragment)["E002"] == ("09:00–12:00", "En retard")
    assert re.search(r'/tutor/students/E002".*?09:25</td>', fragment, re.DOTALL)


def test_logging_a_call_closes_the_alert_and_excuses_the_slot(world, client_as) -> None:
    morning(world)
    alert_id = alert_of(world, "E002")
    client = client_as("alice")
    text = page(client, f"/tutor/alerts/{alert_id}")
    assert "Absence : Noé Martin" in text and 'href="tel:+33700000002"' in text
    world.clock.set(at(9, 24))
    answer = post_form(
        client,
        f"/tutor/alerts/{alert_id}",
        {"outcome": "reached", "reason_category": "illness", "reason": "Grippe", "excused": "yes"},
    )
    assert (answer.status_code, answer.headers["Location"]) == (302, "/tutor/now")
    recorded = services_of(world.app).alerts.get(alert_id)
    assert (recorded["status"], recorded["resolution"]) == ("closed", "called")
    assert recorded["called_at"] == at(9, 24).astimezone(UTC).isoformat()
    assert [
        (c["outcome"], c["reason_category"], c["reason"], c["excused"], c["by"])
        for c in recorded["calls"]
    ] == [("reached", "illness", "Grippe", True, "alice")]
    with world.registry() as session:
        excuse = session.scalars(select(ExcusedAbsence)).one()
        assert (excuse.start, excuse.end, excuse.category) == (at(9, 0), at(12, 0), "illness")
    now = page(client, "/tutor/now")
    assert "Appel enregistré pour Noé Martin." in now
    assert "Alertes ouvertes (0)" in now
    assert "E002" not in roster(now)  # the excused slot is no longer due
    calls = page(client, f"/tutor/alerts/{alert_id}")
    assert "Grippe" in calls and "Joint" in calls and "Close" in calls


def test_a_call_without_excuse_keeps_the_slot_due(world, client_as) -> None:
    morning(world)
    alert_id = alert_of(world, "E002")
    client = client_as("alice")
    answer = post_form(client, f"/tutor/alerts/{alert_id}", {"outcome": "voicemail"})
    assert answer.status_code == 302
    recorded = services_of(world.app).alerts.get(alert_id)
    assert recorded["status"] == "closed"
    assert [(c["outcome"], c["excused"]) for c in recorded["calls"]] == [("voicemail", False)]
    assert roster(page(client, "/tutor/now"))["E002"] == ("09:00–12:00", "Absent·e")


def test_a_bad_call_form_is_refused_with_its_message(world, client_as) -> None:
    morning(world)
    alert_id = alert_of(world, "E002")
    client = client_as("alice")
    path = f"/tutor/alerts/{alert_id}"
    cases = [
        ({"reason": "x"}, "Choisissez une des valeurs proposées."),
        ({"outcome": "shouted"}, "Choisissez une des valeurs proposées."),
        ({"outcome": "reached", "excused": "yes"}, "Choisissez un motif pour excuser"),
        ({"outcome": "reached", "reason_category": "weather"}, "Choisissez une des valeurs"),
        ({"outcome": "reached", "reason": "x" * 2001}, "Au plus 2000 caractères."),
    ]
    for data, message in cases:
        answer = post_form(client, path, data)
        assert answer.status_code == 400, data
        assert message in html.unescape(answer.get_data(as_text=True)), data
    recorded = services_of(world.app).alerts.get(alert_id)
    assert (recorded["status"], recorded["calls"]) == ("open", [])


def test_acknowledging_an_alert(world, client_as) -> None:
    morning(world)
    alert_id = alert_of(world, "E002")
    client = client_as("alice")
    answer = post_form(client, f"/tutor/alerts/{alert_id}/ack", {}, page="/tutor/now")
    assert answer.headers["Location"] == f"/tutor/alerts/{alert_id}"
    recorded = services_of(world.app).alerts.get(alert_id)
    assert recorded["status"] == "acknowledged" and recorded["acknowledged_at"]
    assert "Alerte prise en compte : Noé Martin." in page(client, f"/tutor/alerts/{alert_id}")
    now = alerts_section(page(client, "/tutor/now"))
    assert "Prise en compte" in now and "/ack" not in now


def test_the_now_page_is_recorded_as_an_access_to_personal_data(world, client_as) -> None:
    page(client_as("alice"), "/tutor/now")
    with world.registry() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "viewed")).all()
    assert [(e.actor, e.entity) for e in entries] == [("alice", "roster")]
    assert '"now_page"' in entries[0].after
