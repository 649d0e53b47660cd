"""The pure pieces under the coordinator pages: SVG charts (accessible, escaped, readable
heatmap text), spreadsheet writers, and the report rules added to the ledger."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook

from server.adapters.spreadsheets import Column, Kind, csv_bytes, xlsx_bytes
from server.domain.calendar import IsoWeek
from server.domain.coordinator_reports import StudentInfo, hourly_peaks, report_line, totals
from server.domain.ledger import WeekLine, WeekStatus
from server.web import charts

PARIS = ZoneInfo("Europe/Paris")
T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # 09:00 in Paris


def test_step_chart_is_an_accessible_image_with_escaped_text() -> None:
    spans = [
        (T0, T0 + timedelta(hours=1), 3),
        (T0 + timedelta(hours=1), T0 + timedelta(hours=2), 1),
    ]
    svg = str(
        charts.step_chart(
            spans,
            start=T0,
            end=T0 + timedelta(hours=2),
            ticks=[(T0, "9h <b>")],
            capacity=4,
            label='Pic 3 & "capacité" 4',
            capacity_label="capacité",
        )
    )
    assert svg.startswith("<svg") and 'role="img"' in svg
    assert 'aria-label="Pic 3 &amp; &#34;capacité&#34; 4"' in svg
    assert "<title>Pic 3 &amp; &#34;capacité&#34; 4</title>" in svg
    assert "9h &lt;b&gt;" in svg and "<b>" not in svg
    assert 'stroke-dasharray="6 4"' in svg  # the capacity line
    assert "style=" not in svg  # the CSP refuses inline styles


def test_nice_steps() -> None:
    assert [charts.nice_step(n) for n in (1, 6, 7, 30, 120)] == [1, 1, 2, 5, 20]


@pytest.mark.parametrize("share", [i / 100 for i in range(101)])
def test_heatmap_text_keeps_aa_contrast_on_every_shade(share: float) -> None:
    background = charts.shade(share)
    assert charts.contrast(charts.text_colour(background), background) >= 4.5


def test_heatmap_prints_each_value() -> None:
    svg = str(
        charts.heatmap(
            {(0, 9): 1.5, (0, 10): 12.0},
            rows=["lun.", "mar.", "mer.", "jeu.", "ven.", "sam.", "dim."],
            hours=[9, 10],
            label="Occupation moyenne",
            value_text=lambda value: f"{value:g}".replace(".", ","),
            maximum=12,
        )
    )
    assert ">1,5<" in svg and ">12<" in svg and 'role="img"' in svg
    assert svg.count("<rect") == 14  # 7 days x 2 hours, the closed cells too
    assert 'fill="#ffffff">12<' in svg  # white on the darkest cell


def test_csv_is_semicolon_utf8_with_bom_and_defuses_formulas() -> None:
    columns = [Column("Nom"), Column("Jour", Kind.DATE), Column("Heures", Kind.HOURS)]
    data = csv_bytes(columns, [["=HYPERLINK(1)", date(2026, 11, 23), 2.5], ["Émilie", None, 0.0]])
    assert data.startswith("\ufeff".encode())
    lines = data.decode("utf-8-sig").splitlines()
    assert lines == ["Nom;Jour;Heures", "'=HYPERLINK(1);23/11/2026;2,50", "Émilie;;0,00"]


def test_xlsx_types_formats_and_frozen_header() -> None:
    columns = [Column("Jour", Kind.DATE), Column("Heures", Kind.HOURS), Column("Nom")]
    data = xlsx_bytes("Présence: 2026/W48", columns, [[date(2026, 11, 23), 1.5, "+33 6"]])
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.title == "Présence  2026 W48"
    assert sheet.freeze_panes == "A2"
    assert sheet["A1"].font.bold
    assert sheet["A2"].value == datetime(2026, 11, 23) and sheet["A2"].number_format == "dd/mm/yyyy"
    assert sheet["B2"].value == 1.5 and sheet["B2"].number_format == "0.0"
    assert sheet["C2"].value == "'+33 6"


def _student() -> StudentInfo:
    return StudentInfo(1, "E001", "Durand", "Émilie", "Licence", 7, "Alice")


def _line(expected_h: float, attended_h: float, unverified_h: float, status: WeekStatus):
    week = IsoWeek(2026, 48)
    return WeekLine(
        "E001",
        week,
        int(expected_h * 3600),
        int(attended_h * 3600),
        int(unverified_h * 3600),
        0,
        0,
        status,
    )


def test_remaining_counts_only_verified_hours_and_shortfall_only_once_short() -> None:
    mid_week = report_line(_line(12, 5, 1, WeekStatus.AT_RISK), _student())
    assert (mid_week.remaining, mid_week.shortfall, mid_week.at_risk) == (8.0, 0.0, True)
    over = report_line(_line(12, 9.5, 0, WeekStatus.SHORT), _student())
    assert (over.remaining, over.shortfall, over.at_risk) == (2.5, 2.5, False)
    met = report_line(_line(12, 14, 0, WeekStatus.MET), _student())
    assert (met.remaining, met.shortfall) == (0.0, 0.0)
    summary = totals([mid_week, over, met])
    assert (summary.students, summary.attended, summary.at_risk, summary.short) == (3, 28.5, 1, 1)


def test_hourly_peaks_split_spans_at_local_hours() -> None:
    half = timedelta(minutes=30)
    spans = [(T0, T0 + half, 1), (T0 + half, T0 + 3 * half, 2), (T0 + 3 * half, T0 + 4 * half, 0)]
    peaks = hourly_peaks(spans, PARIS)
    assert [(p.start.astimezone(PARIS).hour, p.peak, p.average) for p in peaks] == [
        (9, 2, 1.5),
        (10, 2, 1.0),
    ]
