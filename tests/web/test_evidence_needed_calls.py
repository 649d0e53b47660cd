"""The evidence counts only the absences that still needed a call (issue 13 §3): a
student who came in before a first call was due is no missed call; tutors appear by
name on the page, in its exports and in the API."""

from __future__ import annotations

import html
import re

from server.container import services_of
from server.domain.accounts import Actor, Role
from server.domain.alerts import CallLog, CallOutcome
from tests.web.test_api_scope import _token
from tests.web.test_coordinator_exports import sheet_of
from tests.web.test_tutor_now import at

DAY = "from=2026-11-23&to=2026-11-23"


def _morning(world) -> None:
    """09:20: absences of E002, E003 (Alice) and E004 (Bruno). E003 comes in at 09:25,
    before a first call was due (15 minutes); Alice reaches E002 at 09:30; nobody calls
    E004."""
    world.readers_online(at(8, 0))
    world.clock.set(at(9, 10))
    world.check_absences()
    world.clock.set(at(9, 20))
    world.tap("E001", at(9, 5))
    world.check_absences()
    world.clock.set(at(9, 25))
    world.tap("E003", at(9, 25))
    alerts = services_of(world.app).alerts
    (e002,) = [
        item["id"]
        for item in alerts.listing(open_only=True, since=None)
        if item["student_id"] == "E002"
    ]
    alerts.log_call(e002, CallLog(at(9, 30), CallOutcome.REACHED), Actor("alice", at(9, 30)))
    world.clock.set(at(10, 0))


def test_a_student_who_came_first_needed_no_call(world, client_as) -> None:
    _morning(world)
    text = html.unescape(
        client_as("coord").get(f"/coordinator/alerts?{DAY}").get_data(as_text=True)
    )
    assert "50 % des absences qui demandaient un appel (2)" in text.replace("\u202f", " ")
    rows = dict(re.findall(r'<th scope="row">([^<]+)</th>(.*?)</tr>', text, re.DOTALL))
    assert set(rows) == {"Alice", "Bruno", "Toutes et tous"}
    # noticed, acknowledged, called, same day, came before a call was needed
    cells = [c.strip() for c in re.findall(r"<td[^>]*>([^<]*)</td>", rows["Alice"])]
    assert cells[:5] == ["2", "1", "1", "1", "1"]


def test_the_export_and_the_api_agree(world, client_as) -> None:
    _morning(world)
    sheet = sheet_of(client_as("coord").get(f"/coordinator/alerts/export?format=xlsx&{DAY}"))
    header = [cell.value for cell in sheet[1]]
    lines = {
        row[2]: dict(zip(header, row, strict=True))
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert set(lines) == {"Alice", "Bruno", "Toutes et tous"}
    total = lines["Toutes et tous"]
    assert (total["Absences constatées"], total["Appel nécessaire"]) == (3, 2)
    assert total["Part appelée le jour même"] == 0.5
    answer = world.app.test_client().get(
        f"/api/v1/alerts/evidence?{DAY}&campus=test-campus", headers=_token(world, Role.COORDINATOR)
    )
    body = answer.get_json()
    assert [line["tutor"] for line in body["tutors"]] == ["Alice", "Bruno"]
    assert body["total"]["needing_call"] == 2 and body["total"]["called_same_day_share"] == 0.5
