"""CSV and XLSX exports of the product list.

Headers are in the user's language (Vietnamese for staff by default). Cells keep their type:
dates are dates and money and reach are numbers, so a spreadsheet can sum and sort them.
A text cell that starts with =, +, -, @ (or a tab or carriage return) would be read as a formula
by Excel or LibreOffice; it gets a leading apostrophe (OWASP "CSV injection").
A character XML cannot hold (a control character stored before the forms refused them) is
replaced by U+FFFD in the XLSX file, so one bad row never stops the export of all the others.
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from app.products.labels import (CHANNEL_LABELS, COOPERATION_LABELS, EVALUATION_LABELS, REPORT_STATE_LABELS,
                                 STATUS_LABELS, TYPE_LABELS, language_name, sector_name)

MAX_ROWS = 100_000
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "dd/mm/yyyy"
NUMBER_FORMAT = "#,##0"
# Everything outside XML 1.0's Char production: C0 controls but tab and line breaks,
# lone surrogates, U+FFFE and U+FFFF.
NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass
class ExportTable:
    headers: list[str]
    rows: list[list]
    widths: list[int]


def neutralise(value):
    """A text cell that a spreadsheet would run as a formula, made inert."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def xml_safe(value):
    """A text cell with the characters an XLSX file cannot hold replaced by U+FFFD."""
    if isinstance(value, str):
        return NOT_XML.sub("\ufffd", value)
    return value


def product_table(products) -> ExportTable:
    from flask_babel import get_locale

    from app.countries import country_name

    locale = get_locale()
    columns = [
        (_("Row no."), 6, lambda index, product: index),
        (_("Title"), 40, lambda index, product: product.title),
        (_("Title in the original language"), 30, lambda index, product: product.original_title or ""),
        (_("Outlet"), 24, lambda index, product: product.outlet.name),
        (_("Outlet country"), 16, lambda index, product: country_name(product.outlet.country, locale)),
        (_("Registration"), 16, lambda index, product: product.registration.reference if product.registration
         else ""),
        (_("Type"), 14, lambda index, product: str(TYPE_LABELS[product.type])),
        (_("Channel"), 14, lambda index, product: str(CHANNEL_LABELS[product.channel])),
        (_("Name of the channel or programme"), 20, lambda index, product: product.channel_name or ""),
        (_("Languages"), 18, lambda index, product: ", ".join(language_name(code) for code in product.languages)),
        (_("Target countries"), 22, lambda index, product: ", ".join(country_name(code, locale)
                                                                       for code in product.countries)),
        (_("Publication date"), 12, lambda index, product: product.publication_date),
        (_("URL"), 40, lambda index, product: product.url or ""),
        (_("Spearhead sectors"), 24, lambda index, product: ", ".join(sector_name(code)
                                                                        for code in product.sectors)),
        (_("Reach"), 14, lambda index, product: product.reach),
        (_("What the reach counts"), 20, lambda index, product: product.reach_note or ""),
        (_("Province contribution (VND)"), 18, lambda index, product: product.contribution_vnd),
        (_("Cooperation"), 14, lambda index, product: str(COOPERATION_LABELS[product.cooperation_type])),
        (_("Status"), 14, lambda index, product: str(STATUS_LABELS[product.status])),
        (_("Evaluation"), 12, lambda index, product: str(EVALUATION_LABELS[product.evaluation])
         if product.evaluation else ""),
        (_("Post-visit report"), 16, lambda index, product: str(REPORT_STATE_LABELS[product.report_state])
         if product.report_state else ""),
        (_("Flagged: sovereignty or borders"), 12, lambda index, product: _("yes") if product.cases else ""),
    ]
    rows = [[value(index, product) for _header, _width, value in columns]
            for index, product in enumerate(products, start=1)]
    return ExportTable([header for header, _width, _value in columns], rows, [width for _h, width, _v in columns])


def to_csv(table: ExportTable) -> bytes:
    """UTF-8 with a byte-order mark, so Excel shows Vietnamese correctly; dates as ISO 8601."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(table.headers)
    for row in table.rows:
        writer.writerow(["" if cell is None else cell.isoformat() if isinstance(cell, (date, datetime))
                         else neutralise(cell) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(table: ExportTable, sheet_title: str) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = xml_safe(sheet_title)[:31]
    sheet.append(table.headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in table.rows:
        sheet.append([neutralise(xml_safe(cell)) for cell in row])
    for column_index, width in enumerate(table.widths, start=1):
        letter = get_column_letter(column_index)
        sheet.column_dimensions[letter].width = width
        for (cell,) in sheet.iter_rows(min_row=2, min_col=column_index, max_col=column_index):
            if isinstance(cell.value, (date, datetime)):
                cell.number_format = DATE_FORMAT
            elif isinstance(cell.value, int) and column_index > 1:
                cell.number_format = NUMBER_FORMAT
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
