"""The coordinator downloads the weekly presence report as an XLSX file, as French Excel
would open it: hours are numbers, dates are dates."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.browser.conftest import PageFactory
from tests.web.conftest import PARIS, World

pytestmark = pytest.mark.browser


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=PARIS)


def test_the_coordinator_downloads_the_weekly_report_as_xlsx(
    world: World, page_as: PageFactory, tmp_path: Path
):
    world.tap("E001", at(9, 5))
    world.tap("E001", at(11, 5))  # out: 2 h in the place
    world.tap("E003", at(9, 30))  # still inside at 12:30: 3 h so far
    world.clock.set(at(12, 30))  # the 09:00-12:00 slot is over
    page = page_as("coord")
    page.locator("nav a[href='/coordinator/presence']").click()
    page.wait_for_url("**/coordinator/presence")
    expect(page.locator("h1")).to_be_visible()

    with page.expect_download() as started:
        page.locator("a[href*='/coordinator/presence/export'][href*='format=xlsx']").click()
    download = started.value
    assert download.suggested_filename == "presence-test-campus-2026-W48.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)
    sheet = load_workbook(saved).active

    rows = list(sheet.iter_rows())
    header = [cell.value for cell in rows[0]]
    assert header[:3] == ["Semaine", "Lundi", "N° étudiant"]
    by_student = {row[2].value: {header[i]: cell for i, cell in enumerate(row)} for row in rows[1:]}
    assert sorted(by_student) == ["E001", "E002", "E003", "E004"]  # E005: other campus
    emilie = by_student["E001"]
    assert emilie["Semaine"].value == "2026-W48"
    assert emilie["Lundi"].is_date and emilie["Lundi"].value.date() == date(2026, 11, 23)
    assert emilie["Lundi"].number_format == "dd/mm/yyyy"
    attended = emilie["Heures effectuées"]
    assert attended.data_type == "n" and attended.value == pytest.approx(2.0)
    assert attended.number_format == "0.0"
    assert emilie["Heures attendues"].value == pytest.approx(12.0)
    assert emilie["Heures restantes"].value == pytest.approx(10.0)
    assert by_student["E002"]["Heures effectuées"].value == pytest.approx(0.0)
    assert by_student["E002"]["Créneaux manqués"].value == 1
    assert by_student["E003"]["Heures effectuées"].value == pytest.approx(3.0)
