"""The indicators of a period as an XLSX workbook: a summary sheet, then one sheet per table.

Cells keep their types: numbers are numbers, dates real dates with a date format, so a
spreadsheet can add them up. Text that a spreadsheet would run as a formula (starting with
=, +, -, @, a tab or a carriage return; outlet names and product titles come from outside)
is prefixed with a single quote (OWASP "CSV injection").
"""
from __future__ import annotations

import io
import re
from datetime import date, datetime
from decimal import Decimal

from flask_babel import force_locale
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

from app.indicators.service import unit_name
from app.indicators.tables import IndicatorReport, Table
from app.products.exports import xml_safe

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SHEET_NAME_LENGTH = 31
FORBIDDEN_IN_SHEET_NAMES = re.compile(r"[\[\]:*?/\\]")
DATE_FORMATS = {"vi": "dd/mm/yyyy", "en": "d mmm yyyy"}
INTEGER_FORMAT = "#,##0"
DECIMAL_FORMAT = "#,##0.0"
MIN_WIDTH, MAX_WIDTH = 8, 60
BOLD = Font(bold=True)


def safe_text(text: str) -> str:
    """Text as a spreadsheet shows it and never runs: a leading quote before formula characters."""
    text = xml_safe(text)  # U+FFFE, U+FFFF and lone surrogates too, which openpyxl's own pattern lets by
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unique sheet name from a title: no []:*?/\\, at most 31 characters."""
    name = FORBIDDEN_IN_SHEET_NAMES.sub(" ", title)
    name = " ".join(name.split()).strip("'") or "Sheet"
    name = name[:SHEET_NAME_LENGTH].rstrip()
    candidate, number = name, 1
    while candidate.casefold() in taken:
        number += 1
        suffix = f" ({number})"
        candidate = name[:SHEET_NAME_LENGTH - len(suffix)].rstrip() + suffix
    taken.add(candidate.casefold())
    return candidate


def build_workbook(report: IndicatorReport) -> bytes:
    """The XLSX file of `report`, its headers in the report's language."""
    with force_locale(report.locale):
        workbook = Workbook()
        taken: set[str] = set()
        summary = workbook.active
        summary.title = sheet_name(_("Summary"), taken)
        _write_summary(summary, report)
        for table in report.tables:
            _write_table(workbook.create_sheet(sheet_name(table.title, taken)), table, report.locale)
        output = io.BytesIO()
        workbook.save(output)
        return output.getvalue()


def _put(sheet, row: int, column: int, value, locale: str, number_format: str | None = None):
    if isinstance(value, str):
        value = safe_text(value)
    elif isinstance(value, Decimal):
        value = float(value)
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, (date, datetime)):
        cell.number_format = DATE_FORMATS.get(locale, DATE_FORMATS["en"])
    elif number_format:
        cell.number_format = number_format
    elif isinstance(value, bool):
        pass
    elif isinstance(value, int):
        cell.number_format = INTEGER_FORMAT
    elif isinstance(value, float):
        cell.number_format = DECIMAL_FORMAT
    return cell


def _header(sheet, columns: list[str], locale: str) -> None:
    for number, heading in enumerate(columns, start=1):
        cell = _put(sheet, 1, number, str(heading), locale)
        cell.font = BOLD
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"


def _fit_columns(sheet) -> None:
    widths: dict[int, int] = {}
    for row in sheet.iter_rows():
        for cell in row:
            if cell.value is None:
                continue
            if isinstance(cell.value, (date, datetime)):
                length = 12
            elif isinstance(cell.value, (int, float)):
                length = len(f"{cell.value:,}")
            else:
                length = max(len(line) for line in str(cell.value).splitlines() or [""])
            widths[cell.column] = max(widths.get(cell.column, 0), length)
    for column, length in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = min(max(length + 2, MIN_WIDTH), MAX_WIDTH)


def _write_summary(sheet, report: IndicatorReport) -> None:
    locale = report.locale
    _header(sheet, [_("Indicator"), _("This period"), _("Previous period"), _("Change"), _("Unit")], locale)
    row = 2
    for figure in report.figures:
        _put(sheet, row, 1, figure.label, locale)
        for column, value in ((2, figure.value), (3, figure.previous), (4, figure.change)):
            if value is not None:
                _put(sheet, row, column, value, locale)
        _put(sheet, row, 5, unit_name(figure.unit), locale)
        row += 1
    row += 1
    for label, value in ((_("Period"), report.period_label), (_("From"), report.start), (_("To"), report.end),
                         (_("Previous period from"), report.previous_start),
                         (_("Previous period to"), report.previous_end)):
        _put(sheet, row, 1, label, locale).font = BOLD
        _put(sheet, row, 2, value, locale)
        row += 1
    _fit_columns(sheet)


def _write_table(sheet, table: Table, locale: str) -> None:
    _header(sheet, table.columns, locale)
    row = 2
    for values in table.rows:
        for column, value in enumerate(values, start=1):
            if value is not None:
                _put(sheet, row, column, value, locale)
        row += 1
    _fit_columns(sheet)
    if table.note:  # below the data, outside the measured columns so it does not widen the first one
        _put(sheet, row + 1, 1, table.note, locale).font = Font(italic=True)
