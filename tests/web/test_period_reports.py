"""The presence report over a period (issue 14, item 5): the page, its CSV/XLSX exports
(student-weeks and totals per student) and ``/api/v1/presence/period``, on the web
fixture's real SQLite registry and event store; bad periods are refused with a reason."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook

from server.container import services_of
from server.domain.calendar import IsoWeek
from tests.web.conftest import CAMPUS, PARIS
from tests.web.test_api_inputs import _token

SPAN = "from=2026-11-16&to=2026-11-29"  # ISO weeks 2026-W47 and 2026-W48


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=PARIS)


@pytest.fixture
def fortnight(world):
    """E001: 1 h on Monday of W47, 2 h on Monday of W48; E002: 1.5 h in W48."""
    world.clock.set(at(16, 8))
    world.tap("E001", at(16, 9))
    world.tap("E001", at(16, 10))
    world.clock.set(at(23, 8))
    world.tap("E001", at(23, 9, 5))
    world.tap("E002", at(23, 9, 10))
    world.tap("E002", at(23, 10, 40))
    world.tap("E001", at(23, 11, 5))
    world.clock.set(at(23, 11, 30))
    return world


def _ledger(world, *weeks: str):
    ledger = services_of(world.app).ledger
    found = ledger.weeks([IsoWeek.parse(week) for week in weeks], world.clock(), campus=CAMPUS)
    return {(str(w), line.student_id): line for w, lines in found.items() for line in lines}


def test_the_page_shows_totals_per_student_and_each_week(fortnight, client_as) -> None:
    answer = client_as("coord").get(f"/coordinator/presence/period?{SPAN}")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "Présence sur une période" in page and "2 semaines" in page
    row = page.split('id="total-E001"', 1)[1].split("</tr>", 1)[0]
    assert "Durand" in row and "3 h" in row and "24 h" in row
    assert "0 sur 2 semaines" in row
    assert "E005" not in page  # the other campus


def test_the_totals_workbook_has_the_ledger_sums(fortnight, client_as) -> None:
    answer = client_as("coord").get(
        f"/coordinator/presence/period/export?format=xlsx&part=students&{SPAN}"
    )
    assert answer.status_code == 200
    assert (
        "presence-etudiants-test-campus-2026-11-16-2026-11-29.xlsx"
        in (answer.headers["Content-Disposition"])
    )
    sheet = load_workbook(io.BytesIO(answer.data)).active
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Du", "Au", "N° étudiant"]
    assert "Semaines où l'engagement est tenu" in header
    rows = {row[2]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert sorted(rows) == ["E001", "E002", "E003", "E004"]
    lines = _ledger(fortnight, "2026-W47", "2026-W48")
    for student, row in rows.items():
        attended = sum(line.attended_s for (w, s), line in lines.items() if s == student) / 3600
        assert row[header.index("Heures effectuées")] == pytest.approx(attended)
    assert rows["E001"][header.index("Heures effectuées")] == 3
    assert rows["E001"][header.index("Semaines sous contrat")] == 2
    assert rows["E001"][0].date().isoformat() == "2026-11-16"


def test_the_weeks_csv_has_one_row_per_student_week(fortnight, client_as) -> None:
    answer = client_as("coord").get(f"/coordinator/presence/period/export?format=csv&{SPAN}")
    assert answer.status_code == 200
    rows = list(csv.reader(io.StringIO(answer.data.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Semaine", "Lundi", "N° étudiant"]
    keys = [(row[0], row[2]) for row in rows[1:]]
    assert keys == [
        (w, s) for w in ("2026-W47", "2026-W48") for s in ("E001", "E002", "E003", "E004")
    ]
    (e001_w47,) = [row for row in rows[1:] if row[:3] == ["2026-W47", "16/11/2026", "E001"]]
    assert e001_w47[8] == "1,00"


def test_an_academic_year_without_data_is_an_empty_report(world, client_as) -> None:
    answer = client_as("coord").get("/coordinator/presence/period?year=2024-2025")
    assert answer.status_code == 200
    page = answer.get_data(as_text=True)
    assert "Aucun étudiant n&#39;avait de contrat pendant cette période." in page
    assert "53 semaines" in page


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("from=2026-09-01&to=2031-09-01", "au plus 5 ans"),
        ("from=2026-09-02&to=2026-09-01", "précéder la date de début"),
        ("year=2026-2028", "2026 ou 2026-2027"),
        ("from=01/09/2026", "Une date est attendue"),
    ],
)
def test_a_bad_period_is_refused_with_a_reason(world, client_as, query, reason) -> None:
    for path in ("/coordinator/presence/period", "/coordinator/presence/period/export"):
        answer = client_as("coord").get(f"{path}?format=xlsx&{query}")
        assert answer.status_code == 400
        assert reason in answer.get_data(as_text=True)


def test_tutors_may_not_see_it(world, client_as) -> None:
    for path in ("/coordinator/presence/period", "/coordinator/presence/period/export"):
        assert client_as("alice").get(f"{path}?format=csv").status_code == 403


def test_the_api_gives_rows_and_totals_in_json_and_xlsx(fortnight) -> None:
    api, token = fortnight.app.test_client(), _token(fortnight)
    answer = api.get(f"/api/v1/presence/period?{SPAN}&campus={CAMPUS}", headers=token)
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["weeks"] == ["2026-W47", "2026-W48"]
    assert len(body["rows"]) == 8
    e001 = next(item for item in body["students"] if item["student_id"] == "E001")
    assert e001["attended_hours"] == 3.0 and e001["weeks"] == 2
    book = api.get(f"/api/v1/presence/period?{SPAN}&campus={CAMPUS}&format=xlsx", headers=token)
    assert book.status_code == 200 and book.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(book.data)).active
    cells = [(row[0], row[1], row[3]) for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert ("2026-W47", "E001", 1) in cells and ("2026-W48", "E001", 2) in cells
    year = api.get(f"/api/v1/presence/period?year=2026&campus={CAMPUS}", headers=token)
    assert year.get_json()["weeks"][0] == "2026-W01" and year.get_json()["to"] == "2027-01-03"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("from=2026-09-01&to=2031-09-01", "bad_period"),
        ("from=2026-09-02&to=2026-09-01", "bad_period"),
        ("from=2026-09-01", "bad_period"),
        ("", "bad_period"),
        ("year=2026&from=2026-09-01&to=2026-09-30", "bad_period"),
        ("year=2026-2028", "bad_year"),
        ("year=9999", "bad_year"),
        ("from=2026-13-01&to=2026-12-31", "bad_from"),
        (f"{SPAN}&format=pdf", "bad_format"),
        (f"{SPAN}&campus=nowhere", "bad_campus"),
    ],
)
def test_the_api_refuses_a_bad_period_with_a_reason(world, query, code) -> None:
    answer = world.app.test_client().get(f"/api/v1/presence/period?{query}", headers=_token(world))
    assert answer.status_code == 400
    assert answer.get_json()["error"]["code"] == code
    assert answer.get_json()["error"]["message"]
