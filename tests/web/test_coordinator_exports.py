"""Exports of the coordinator's reports: the XLSX opens with the same figures as the
page and the ledger (dates as dates, hours as numbers, French header, frozen first row),
the CSV is ``;``-separated UTF-8 with a BOM, and every download is recorded."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from server.container import services_of
from server.domain.calendar import IsoWeek
from server.registry.models import AuditEntry
from tests.web.conftest import CAMPUS, PARIS

WEEK = "2026-W48"


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=PARIS)


@pytest.fixture
def morning(world):
    """E001 in at 09:05, out at 11:05 (2 h); E002 from 09:10 to 10:40 (1.5 h); 11:30."""
    world.tap("E001", at(9, 5))
    world.tap("E002", at(9, 10))
    world.tap("E002", at(10, 40))
    world.tap("E001", at(11, 5))
    world.clock.set(at(11, 30))
    return world


def sheet_of(answer):
    book = load_workbook(io.BytesIO(answer.data))
    return book.active


def test_weekly_xlsx_has_the_ledger_figures(morning, client_as) -> None:
    answer = client_as("coord").get(f"/coordinator/presence/export?format=xlsx&week={WEEK}")
    assert answer.status_code == 200
    assert answer.mimetype.endswith("spreadsheetml.sheet")
    assert f'filename="presence-{CAMPUS}-{WEEK}.xlsx"' in answer.headers["Content-Disposition"]
    sheet = sheet_of(answer)
    header = [cell.value for cell in sheet[1]]
    assert header[:9] == [
        "Semaine",
        "Lundi",
        "N° étudiant",
        "Nom",
        "Prénom",
        "Formation",
        "Tuteur",
        "Heures attendues",
        "Heures effectuées",
    ]
    assert sheet.freeze_panes == "A2"
    rows = {row[2]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert sorted(rows) == ["E001", "E002", "E003", "E004"]
    ledger = services_of(morning.app).ledger
    lines = {line.student_id: line for line in ledger.weekly(IsoWeek.parse(WEEK), at(11, 30))}
    e001 = rows["E001"]
    assert e001[8] == 2.0 == lines["E001"].attended_s / 3600
    assert e001[7] == 12.0 and e001[10] == 10.0  # expected, remaining
    assert isinstance(e001[1], datetime) and e001[1].date().isoformat() == "2026-11-23"
    assert rows["E002"][8] == 1.5 and isinstance(rows["E002"][8], float)
    assert sheet["I2"].data_type == "n"  # a number, not a text (2.0 is stored as 2)
    cells = {cell.column_letter: cell for cell in sheet[2]}
    assert cells["B"].number_format == "dd/mm/yyyy"
    assert cells["I"].number_format == "0.0"
    assert sheet.column_dimensions["D"].width >= len("Durand")


def test_weekly_xlsx_matches_the_page(morning, client_as) -> None:
    coord = client_as("coord")
    page = coord.get(f"/coordinator/presence?week={WEEK}").get_data(as_text=True)
    row = page.split('id="student-E001"', 1)[1].split("</tr>", 1)[0]
    cell = row.split('data-label="Heures effectuées" class="num">', 1)[1].split("<", 1)[0]
    sheet = sheet_of(coord.get(f"/coordinator/presence/export?format=xlsx&week={WEEK}"))
    (e001,) = [r for r in sheet.iter_rows(min_row=2, values_only=True) if r[2] == "E001"]
    assert cell.strip() == f"{e001[8]:g} h" == "2 h"


def test_weekly_export_keeps_the_filters(world, client_as) -> None:
    bruno = world.tutor_id("bruno@campus.test")
    answer = client_as("coord").get(f"/coordinator/presence/export?format=xlsx&tutor={bruno}")
    ids = [row[2] for row in sheet_of(answer).iter_rows(min_row=2, values_only=True)]
    assert ids == ["E004"]


def test_weekly_csv_opens_in_french_excel(morning, client_as) -> None:
    answer = client_as("coord").get(f"/coordinator/presence/export?format=csv&week={WEEK}")
    assert answer.status_code == 200
    assert answer.mimetype == "text/csv"
    assert answer.data.startswith(b"\xef\xbb\xbf")
    text = answer.data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][:4] == ["Semaine", "Lundi", "N° étudiant", "Nom"]
    (e001,) = [row for row in rows[1:] if row[2] == "E001"]
    assert e001[1] == "23/11/2026"
    assert e001[3:5] == ["Durand", "Émilie"]
    assert e001[8] == "2,00"  # attended, decimal comma


def test_downloads_are_recorded(world, client_as) -> None:
    coord = client_as("coord")
    coord.get("/coordinator/presence/export?format=xlsx")
    coord.get("/coordinator/alerts/export?format=csv")
    with world.registry() as session:
        entries = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "viewed").order_by(AuditEntry.id)
        ).all()
    whats = [entry.after for entry in entries]
    assert len(whats) == 2
    assert "weekly_report.xlsx" in whats[0] and "evidence_report.csv" in whats[1]
    assert {(entry.actor, entry.entity_id) for entry in entries} == {("coord", CAMPUS)}


@pytest.mark.parametrize(
    "path",
    [
        "/coordinator/presence/export?format=pdf",
        "/coordinator/presence/export",
        "/coordinator/presence/export?format=csv&week=W48",
        "/coordinator/alerts/export?format=ods",
        "/coordinator/alerts/export?format=csv&from=2026-11-30&to=2026-11-23",
    ],
)
def test_bad_export_parameters_are_refused(client_as, path: str) -> None:
    answer = client_as("coord").get(path)
    assert answer.status_code == 400
    assert 'role="alert"' in answer.get_data(as_text=True)


def test_evidence_xlsx_has_dates_and_counts(client_as) -> None:
    answer = client_as("coord").get(
        "/coordinator/alerts/export?format=xlsx&from=2026-11-16&to=2026-11-23"
    )
    sheet = sheet_of(answer)
    assert [cell.value for cell in sheet[1]][:4] == ["Du", "Au", "Tuteur", "Absences constatées"]
    (total,) = list(sheet.iter_rows(min_row=2, values_only=True))
    assert total[0] == datetime(2026, 11, 16) and total[1] == datetime(2026, 11, 23)
    assert total[2] == "Toutes et tous" and total[3] == 0
