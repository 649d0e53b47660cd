"""The absences-and-calls evidence, one row per absence with its calls (issue 14, item
5): time noticed, student, tutor by name, slot, acknowledged, closed how, and each call's
time, outcome and author; on the web fixture's real SQLite registry, alerts raised by
the real absence check."""

from __future__ import annotations

import csv
import io

from sqlalchemy import select

from server.registry.models import AuditEntry
from tests.web.conftest import CAMPUS
from tests.web.test_coordinator_exports import sheet_of
from tests.web.test_evidence_needed_calls import DAY, _morning

EXPORT = f"/coordinator/alerts/export?part=absences&{DAY}"


def test_one_row_per_absence_with_its_calls(world, client_as) -> None:
    _morning(world)
    answer = client_as("coord").get(f"{EXPORT}&format=xlsx")
    assert answer.status_code == 200
    assert (
        "absences-test-campus-2026-11-23-2026-11-23.xlsx" in (answer.headers["Content-Disposition"])
    )
    sheet = sheet_of(answer)
    header = [cell.value for cell in sheet[1]]
    assert header[:5] == ["Constatée le", "N° étudiant", "Nom", "Prénom", "Tuteur"]
    assert header[-3:] == ["Appel 1 : heure", "Appel 1 : résultat", "Appel 1 : par"]
    rows = {
        row[1]: dict(zip(header, row, strict=True))
        for row in sheet.iter_rows(min_row=2, values_only=True)
    }
    assert sorted(rows) == ["E002", "E003", "E004"]
    e002 = rows["E002"]
    assert e002["Tuteur"] == "Alice" and e002["Nom"] == "Martin"
    assert e002["Constatée le"].strftime("%H:%M") == "09:20"
    assert e002["Début du créneau"].strftime("%H:%M") == "09:00"
    assert e002["Appels"] == 1
    assert e002["Appel 1 : heure"].strftime("%d/%m/%Y %H:%M") == "23/11/2026 09:30"
    assert (e002["Appel 1 : résultat"], e002["Appel 1 : par"]) == ("Joint", "alice")
    assert e002["Close comment"] == "par un appel"
    assert rows["E003"]["Close comment"] == "l'étudiant est arrivé"
    assert rows["E003"]["Appels"] == 0 and rows["E003"]["Appel 1 : heure"] is None
    assert rows["E004"]["Tuteur"] == "Bruno" and rows["E004"]["Close comment"] == "encore ouverte"


def test_the_csv_and_the_access_log(world, client_as) -> None:
    _morning(world)
    answer = client_as("coord").get(f"{EXPORT}&format=csv")
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) == 4
    (e002,) = [row for row in rows[1:] if row[1] == "E002"]
    assert e002[0] == "23/11/2026 09:20" and e002[-2:] == ["Joint", "alice"]
    with world.registry() as session:
        whats = session.scalars(select(AuditEntry.after).where(AuditEntry.action == "viewed")).all()
    assert any("evidence_absences.csv" in what for what in whats)


def test_an_empty_day_and_a_too_long_period(world, client_as) -> None:
    coord = client_as("coord")
    empty = coord.get(
        "/coordinator/alerts/export?part=absences&format=csv&from=2026-11-20&to=2026-11-20"
    )
    assert empty.status_code == 200
    assert len(empty.data.decode("utf-8-sig").splitlines()) == 1  # the header alone
    long = coord.get(
        "/coordinator/alerts/export?part=absences&format=csv&from=2020-01-01&to=2026-11-20"
    )
    assert long.status_code == 400 and "au plus 5 ans" in long.get_data(as_text=True)
    assert client_as("alice").get(f"{EXPORT}&format=csv").status_code == 403


def test_the_api_gives_each_absence_with_its_calls(world) -> None:
    from tests.web.test_api_inputs import _token

    _morning(world)
    api, token = world.app.test_client(), _token(world)
    whole = api.get(f"/api/v1/alerts/evidence?{DAY}", headers=token).get_json()
    assert "E005" in {item["student_id"] for item in whole["absences"]}  # every campus
    body = api.get(f"/api/v1/alerts/evidence?{DAY}&campus={CAMPUS}", headers=token).get_json()
    by_student = {item["student_id"]: item for item in body["absences"]}
    assert sorted(by_student) == ["E002", "E003", "E004"]
    e002 = by_student["E002"]
    assert e002["tutor"] == "Alice" and e002["resolution"] == "called"
    assert e002["noticed_at"].startswith("2026-11-23T08:20")  # 09:20 in Paris
    assert [(c["called_at"][:16], c["outcome"], c["by"]) for c in e002["calls"]] == [
        ("2026-11-23T08:30", "reached", "alice")
    ]
    assert body["total"]["absences_noticed"] == len(body["absences"])
    too_long = api.get("/api/v1/alerts/evidence?from=2020-01-01&to=2026-11-23", headers=token)
    assert too_long.status_code == 400 and too_long.get_json()["error"]["code"] == "bad_period"
