"""The annual grid as an XLSX workbook (openpyxl), one column per campus, and back.

The visible sheet is for people (labels in the request's language, shares as per cent,
"not recorded" where nothing was). A hidden sheet ``data`` carries the format id, its
version and each grid's JSON export, which is what a merge reads: a workbook made by
another server merges without guessing at translated labels."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Sequence

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from server.domain.annual_report import (
    FORMAT_ID,
    FORMAT_VERSION,
    Grid,
    GridFormatError,
    Value,
    from_dict,
)
from server.i18n import _
from server.texts import annual_texts as texts

DATA_SHEET = "data"
BOLD = Font(bold=True)


def workbook_bytes(grids: Sequence[Grid]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = _("Annual grid")[:31]
    sheet.append([_("Annual report"), ", ".join(sorted({g.period.label for g in grids}))])
    sheet.append([_("Format"), FORMAT_ID, FORMAT_VERSION])
    sheet.append([])
    sheet.append(["", _("Indicator"), *[g.campus_name or g.campus for g in grids]])
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD
    for section, keys in texts.SECTIONS:
        sheet.append(["", texts.section_title(section)])
        sheet.cell(sheet.max_row, 2).font = BOLD
        for key in keys:
            _figures(sheet, key, texts.indicator_label(key), [g.indicators.get(key) for g in grids])
    sheet.append(["", _("Eligibility criteria")])
    sheet.cell(sheet.max_row, 2).font = BOLD
    for index, criterion in enumerate(grids[0].criteria if grids else []):
        label = texts.criterion_label(criterion.key)
        figures = [g.criteria[index].figure if index < len(g.criteria) else None for g in grids]
        _figures(sheet, criterion.key, label, figures)
        verdicts = [texts.met_text(g.criteria[index].met) for g in grids if index < len(g.criteria)]
        sheet.append([f"{criterion.key}.met", label, *verdicts])
    for name in sorted({name for g in grids for name in g.breakdowns}):
        sheet.append(["", texts.breakdown_label(name)])
        sheet.cell(sheet.max_row, 2).font = BOLD
        values = sorted({v for g in grids for v in g.breakdowns.get(name, {})})
        for value in values:
            counts = [g.breakdowns.get(name, {}).get(value, 0) for g in grids]
            sheet.append([f"{name}.{value}", texts.value_label(value), *counts])
    sheet.append(["", _("Headcount by academic year")])
    sheet.cell(sheet.max_row, 2).font = BOLD
    for label in sorted({label for g in grids for label, _count in g.trend}):
        counts = [dict(g.trend).get(label) for g in grids]
        _figures(sheet, f"trend.{label}", label, counts)
    sheet.column_dimensions["A"].hidden = True
    sheet.column_dimensions["B"].width = 48
    for index in range(len(grids)):
        sheet.column_dimensions[get_column_letter(index + 3)].width = 18
    sheet.freeze_panes = "C5"
    data = book.create_sheet(DATA_SHEET)
    data.append(["format", FORMAT_ID])
    data.append(["version", FORMAT_VERSION])
    for grid in grids:
        data.append([json.dumps(grid.as_dict(), ensure_ascii=False)])
    data.sheet_state = "hidden"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _figures(sheet: Worksheet, key: str, label: str, values: Sequence[Value]) -> None:
    row: list[Value] = [key, label]
    for value in values:
        row.append(texts.shown(key, value) if value is None else value)
    sheet.append(row)
    if key in texts.SHARES:
        for cell in sheet[sheet.max_row][2:]:
            if isinstance(cell.value, int | float):
                cell.number_format = "0%"


def read_grids(data: bytes) -> list[Grid]:
    """The grids of an exported file (this workbook, or the JSON export: one grid or a
    list), checked; :class:`GridFormatError` says why a file cannot be read."""
    if data.startswith(b"PK"):
        return _read_workbook(data)
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise GridFormatError("This file is neither an XLSX workbook nor JSON.") from None
    items = document if isinstance(document, list) else [document]
    if not items:
        raise GridFormatError("This file holds no grid.")
    return [from_dict(item) for item in items]


def _read_workbook(data: bytes) -> list[Grid]:
    try:
        book = load_workbook(io.BytesIO(data), read_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError):
        raise GridFormatError("This workbook cannot be opened.") from None
    try:
        if DATA_SHEET not in book.sheetnames:
            raise GridFormatError("This file is not an annual grid of campus-presence.")
        rows = [row for row in book[DATA_SHEET].iter_rows(values_only=True)]
    finally:
        book.close()
    if len(rows) < 2 or rows[0][:2] != ("format", FORMAT_ID):
        raise GridFormatError("This file is not an annual grid of campus-presence.")
    if rows[1][:2] != ("version", FORMAT_VERSION):
        raise GridFormatError("This grid has another format version.")
    grids = []
    for row in rows[2:]:
        try:
            grids.append(from_dict(json.loads(str(row[0]))))
        except json.JSONDecodeError:
            raise GridFormatError("This grid is incomplete or damaged.") from None
    if not grids:
        raise GridFormatError("This file holds no grid.")
    return grids
