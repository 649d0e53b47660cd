"""Reports written as files French spreadsheets open cleanly.

- CSV: ``;``-separated (the list separator of French Excel), UTF-8 with a byte order
  mark (without it Excel reads the accents as Windows-1252), decimal comma for numbers.
- XLSX (openpyxl): dates as real dates (``dd/mm/yyyy``), hours as numbers (``0.0``), a
  bold header row frozen at the top, and column widths fitted to the content.

The caller gives the header already translated; cells are plain Python values.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

BOM = "\ufeff"
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_WIDTH = 60
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | float | date | datetime | None


class Kind(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    HOURS = "hours"  # a decimal number of hours, one digit shown
    DECIMAL = "decimal"  # any other decimal number, one digit shown
    SHARE = "share"  # 0.25 shown as 25 %
    DATE = "date"
    MOMENT = "moment"  # a local date and time (naive: spreadsheets know no zones)


_FORMATS = {
    Kind.INTEGER: "0",
    Kind.HOURS: "0.0",
    Kind.DECIMAL: "0.0",
    Kind.SHARE: "0%",
    Kind.DATE: "dd/mm/yyyy",
    Kind.MOMENT: "dd/mm/yyyy hh:mm",
}


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    kind: Kind = Kind.TEXT


def csv_bytes(columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow([column.header for column in columns])
    for row in rows:
        writer.writerow(
            [_csv_cell(value, column.kind) for value, column in zip(row, columns, strict=True)]
        )
    return (BOM + buffer.getvalue()).encode("utf-8")


def _csv_cell(value: Cell, kind: Kind) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float):
        digits = 3 if kind is Kind.SHARE else 2
        return f"{value:.{digits}f}".replace(".", ",")
    if isinstance(value, int):
        return str(value)
    return _defused(value)


def _defused(text: str) -> str:
    """A text that a spreadsheet would run as a formula is quoted (CSV injection)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def xlsx_bytes(title: str, columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = _sheet_title(title)
    sheet.append([column.header for column in columns])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_xlsx_cell(value) for value in row])
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        number_format = _FORMATS.get(column.kind)
        if number_format is not None:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = number_format
        sheet.column_dimensions[letter].width = _width(column, [row[index - 1] for row in rows])
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(value: Cell) -> Cell:
    if isinstance(value, datetime):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        return _defused(value)
    return value


def _width(column: Column, values: Sequence[Cell]) -> float:
    longest = max([len(column.header), *(len(_csv_cell(value, column.kind)) for value in values)])
    return min(MAX_WIDTH, longest + 2)


def _sheet_title(title: str) -> str:
    """Excel refuses ``[]:*?/\\`` in a sheet name and more than 31 characters."""
    cleaned = "".join(" " if char in "[]:*?/\\" else char for char in title).strip()
    return (cleaned or "Report")[:31]
