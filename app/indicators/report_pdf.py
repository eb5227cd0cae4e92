"""The indicators of a period as an official report ("BÁO CÁO") in PDF, Decree 30/2020/ND-CP layout.

The report is always Vietnamese, the official language: the labels in the ``IndicatorReport``
are already translated, and the fixed words are written here in Vietnamese, as
``app.documents.texts`` writes the letters. The page, margins, fonts and heading helpers are
the letters' own (``app.documents.letters``), so a report and a letter of the same authority
look alike.

Choices a clerk will notice:

- Number: ``Số:        /BC-<symbol>``, the number left blank for the clerk to write when the
  report is registered. ``<symbol>`` is the profile's ``document_symbols["report"]`` when
  configured, else its letter symbol (``"letter"``, else ``"approval_letter"``, the series the
  letters use), e.g. ``/BC-UBND-NgV``. A "report" symbol that already starts with "BC-" is used
  as it is.
- Date: ``Tây Ninh, ngày ..... tháng ..... năm .......``, day, month and year left as dotted
  placeholders: the report is dated when it is signed, often the month (or, for the fourth
  quarter, the year) after the one it is printed in, and the PDF then never depends on the clock.
- Addressee and recipients: "Kính gửi: Bộ Ngoại giao (Cục Báo chí)." under the title, so that
  "Nơi nhận: - Như trên; - Lưu: VT, <unit>." has something to refer to; <unit> is the drafting
  unit at the end of the symbol ("NgV" in "UBND-NgV").
- Signer: the profile's ``signer_titles_vi`` as the letters print them ("TM. ỦY BAN NHÂN DÂN",
  "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"), then room for the signature and seal; no name, because the
  signer is chosen when the report is signed.
- The PDF's creation date is the last day of the period (reportlab invariant mode otherwise), so
  the same report gives the same bytes. A demo authority profile puts "DEMO" across every page,
  as the permits do.
"""
from __future__ import annotations

import datetime
import io
import math
from decimal import ROUND_HALF_UP, Decimal
from typing import Optional, Union

from reportlab.graphics.charts.barcharts import HorizontalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.linecharts import HorizontalLineChart
from reportlab.graphics.shapes import Drawing
from reportlab.graphics.widgets.markers import makeMarker
from reportlab.lib.colors import Color, black
from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (BaseDocTemplate, CondPageBreak, Frame, KeepTogether, PageTemplate, Paragraph,
                                Spacer, TableStyle)
from reportlab.platypus import Table as GridTable

from app.authority import AuthorityProfile, authority_profile
from app.documents.fonts import SANS_BOLD, SERIF, SERIF_BOLD, SERIF_BOLD_ITALIC, SERIF_ITALIC, register_fonts
from app.documents.letters import (BODY_FIRST_LINE_INDENT_MM, BODY_PT, BOTTOM_MARGIN_MM, CONTENT_WIDTH,
                                   DATE_LINE_PT, ISSUING_BODY_PT, ISSUING_BODY_RULE_RATIO, LEFT_COLUMN_MM,
                                   LEFT_MARGIN_MM, MOTTO_PT, NATIONAL_NAME_PT, NUMBER_PT,
                                   PARAGRAPH_SPACING_PT, PARENT_BODY_PT, RECIPIENTS_HEADING_PT, RECIPIENTS_PT,
                                   RIGHT_COLUMN_MM, RIGHT_MARGIN_MM, SIGNER_PT, TOP_MARGIN_MM, _draw_page_number,
                                   _fit_lines, _lines_para, _listed, _para, _rule, _SignatureSpace,
                                   _table, nfc)
from app.documents.permits import WATERMARK
from app.indicators.tables import Cell, Figure, IndicatorReport
from app.indicators.tables import Table as IndicatorTable

Number = Union[int, float, Decimal]

# --- layout constants (the page and the heading are the letters'; these are the report's own) -------
DOCUMENT_TYPE = "BÁO CÁO"
DOCUMENT_TYPE_CODE = "BC"
DOCUMENT_TYPE_PT = 14           # tên loại: 13-14, bold capitals
SUMMARY_PT = 14                 # trích yếu: 13-14, bold
PERIOD_PT = 13
SECTION_PT = 14                 # "I. SỐ LIỆU CHÍNH"
SUBSECTION_PT = 14              # "1. <table title>"
TABLE_PT = 12                   # table cells; the header row bold
TABLE_PADDING_PT = 3
GRID_LINE_PT = 0.5
NOTE_PT = 12                    # notes and chart captions, italic
CHART_PT = 10                   # chart axis and value labels
CHART_BAR_PT = 15               # height of one bar's slot in a horizontal bar chart
CHART_LINE_HEIGHT_MM = 70
CHART_MAX_BARS = 15
CHART_MAX_LINE_LABELS = 12      # value labels on a line chart's points up to this many months
CHART_ROTATE_LABELS_FROM = 9    # month labels are set at an angle from this many months
CHART_COLOUR = Color(0.20, 0.33, 0.52)
CHART_GRID_COLOUR = Color(0.80, 0.80, 0.82)
CHART_SECOND_COLOUR = Color(0.18, 0.55, 0.34)  # the second line of a trend
SECTION_KEEP_MM = 45            # a subsection heading starts a page rather than leaving less than this
WATERMARK_PT = 150
WATERMARK_ANGLE = 35

ADDRESSEES = ["Bộ Ngoại giao (Cục Báo chí)"]
NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"
SUMMARY = "Kết quả công tác thông tin đối ngoại đối với phóng viên nước ngoài"
NO_DATA = "Không có số liệu trong kỳ."
FIGURES_SECTION = "I. SỐ LIỆU CHÍNH"
TABLES_SECTION = "II. SỐ LIỆU CHI TIẾT"
FIGURE_COLUMNS = ["TT", "Chỉ tiêu", "Kỳ này", "Kỳ trước", "Tăng (+)/ giảm (-)"]
DATE_PLACEHOLDER = "ngày ..... tháng ..... năm ......."
NUMBER_BLANK = "\u00a0" * 10   # non-breaking: a Paragraph keeps the clerk's room
MISSING = "-"
UNITS_VI = {"%": "%", "VND": "đồng", "working days": "ngày làm việc", "days": "ngày"}
PERIOD_WORDS = ("Quý", "Năm", "Tháng", "Tuần", "Kỳ", "Đợt")


def render_report(report: IndicatorReport) -> bytes:
    """The report as PDF bytes, A4 portrait; needs an application context (the authority profile)."""
    register_fonts()
    profile = authority_profile()
    buffer = io.BytesIO()
    title = nfc(f"Báo cáo {_subject_in_text(report)}")
    if profile.is_demo:
        title = "DEMO – " + title
    doc = _ReportDocTemplate(buffer, report.end, demo=profile.is_demo, title=title, subject=nfc(_period_dates(report)),
                             author=nfc(" ".join(profile.issuing_body_vi.split())), creator="PressDesk", lang="vi",
                             keywords=[nfc(report.period_label), report.start.isoformat(), report.end.isoformat()])
    doc.build(_story(report, profile))
    return buffer.getvalue()


# --- numbers, dates and symbols, the Vietnamese way ------------------------------------------------

def format_number(value: Optional[Number], *, signed: bool = False) -> str:
    """1234567 -> "1.234.567", 87.5 -> "87,5", at most two decimals; None -> "-"."""
    if value is None:
        return MISSING
    if isinstance(value, float) and not math.isfinite(value):
        return MISSING
    exact = _decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if exact == exact.to_integral_value():
        exact = exact.quantize(Decimal(1))
    else:
        exact = exact.normalize()
    text = f"{abs(exact):,f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    if exact < 0:
        return "-" + text
    return ("+" + text) if signed and exact > 0 else text


def _decimal(value: Number) -> Decimal:
    # repr gives the shortest text that reads back as the same float: 2.675 stays 2.675, not 2.67499...
    return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)


def format_date(day: datetime.date) -> str:
    return day.strftime("%d/%m/%Y")


def format_cell(value: Cell) -> str:
    if value is None:
        return MISSING
    if isinstance(value, datetime.date):
        return format_date(value)
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return format_number(value)
    return str(value)


def report_symbol(profile: AuthorityProfile) -> str:
    """ "BC-UBND-NgV": the report symbol when configured, else "BC-" and the letter symbol."""
    symbols = profile.document_symbols
    symbol = symbols.get("report") or symbols.get("letter") or symbols.get("approval_letter") or ""
    symbol = symbol.strip().strip("/")
    if symbol.upper().startswith(DOCUMENT_TYPE_CODE + "-"):
        return symbol
    return f"{DOCUMENT_TYPE_CODE}-{symbol}" if symbol else DOCUMENT_TYPE_CODE


def number_line(profile: AuthorityProfile) -> str:
    return f"Số:{NUMBER_BLANK}/{report_symbol(profile)}"


def date_line(profile: AuthorityProfile) -> str:
    return nfc(f"{profile.place_name}, {DATE_PLACEHOLDER}")


def _filing_line(profile: AuthorityProfile) -> str:
    """ "Lưu: VT, NgV": the archive (VT) and the drafting unit, the symbol's last part when it has one."""
    parts = report_symbol(profile).split("-")
    return f"Lưu: VT, {parts[-1]}" if len(parts) > 2 else "Lưu: VT"


def _period_in_text(label: str) -> str:
    """ "Quý III/2026" mid-sentence is "quý III/2026"."""
    label = nfc(label.strip())
    first = label.split(" ", 1)[0].split("/", 1)[0]
    return label[0].lower() + label[1:] if first in PERIOD_WORDS else label


def _subject_in_text(report: IndicatorReport) -> str:
    """The summary as written after "báo cáo": "kết quả công tác ... quý III/2026"."""
    return f"{SUMMARY[0].lower()}{SUMMARY[1:]} {_period_in_text(report.period_label)}"


def _period_dates(report: IndicatorReport) -> str:
    return f"Từ ngày {format_date(report.start)} đến ngày {format_date(report.end)}"


# --- page templates ---------------------------------------------------------------------------------

class _ReportDocTemplate(BaseDocTemplate):
    """A4 with the Decree 30 margins; pages numbered at the top centre from 2 on; DEMO across demo pages."""

    def __init__(self, buffer, period_end: datetime.date, *, demo: bool, **metadata):
        super().__init__(buffer, pagesize=A4, leftMargin=LEFT_MARGIN_MM * mm, rightMargin=RIGHT_MARGIN_MM * mm,
                         topMargin=TOP_MARGIN_MM * mm, bottomMargin=BOTTOM_MARGIN_MM * mm, invariant=True,
                         initialFontName=SERIF, initialFontSize=BODY_PT, **metadata)
        self.demo = demo
        self.pdf_date = f"D:{period_end:%Y%m%d}000000+07'00'"

        def frame(name):
            return Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id=name,
                         leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)

        self.addPageTemplates([
            PageTemplate("first", frames=[frame("first")], onPage=self._first_page, autoNextPageTemplate="later"),
            PageTemplate("later", frames=[frame("later")], onPage=self._later_page),
        ])

    def beforeDocument(self):
        self.canv.setDateFormatter(lambda *_: self.pdf_date)

    def _first_page(self, canvas, doc):
        if self.demo:
            _draw_demo_watermark(canvas)

    def _later_page(self, canvas, doc):
        self._first_page(canvas, doc)
        _draw_page_number(canvas, doc.page)


def _draw_demo_watermark(canvas) -> None:
    # As on the permits: a pale, turned "DEMO" under the text, so a demo report is never taken for real.
    width, height = A4
    canvas.saveState()
    canvas.setFillColor(WATERMARK)
    canvas.translate(width / 2, height / 2)
    canvas.rotate(WATERMARK_ANGLE)
    canvas.setFont(SANS_BOLD, WATERMARK_PT)
    canvas.drawCentredString(0, -WATERMARK_PT / 3, "DEMO")
    canvas.restoreState()


# --- the story ------------------------------------------------------------------------------------

def _story(report: IndicatorReport, profile: AuthorityProfile) -> list:
    story = [_heading(profile), Spacer(0, 14), *_title(report), Spacer(0, 8), _addressees(), Spacer(0, 10)]
    story += _body_paragraphs([f"{profile.issuing_body_in_text('vi')} báo cáo {_subject_in_text(report)} như sau:"])
    story += _section(FIGURES_SECTION)
    story += _figures(report)
    # Section II's heading and its first subsection's heading go to a new page together.
    story += _section(TABLES_SECTION, SECTION_KEEP_MM + 12)
    if not report.tables:
        story.append(_note(NO_DATA))
    for number, table in enumerate(report.tables, start=1):
        story += _indicator_table(number, table, first=number == 1)
    ending = _body_paragraphs([f"Trên đây là báo cáo {_subject_in_text(report)} của "
                               f"{profile.issuing_body_in_text('vi')}./."])
    # The signature never stands alone on a page: the closing sentence goes with it.
    story.append(KeepTogether([Spacer(0, 6), *ending, Spacer(0, 4), _closing(profile)]))
    return story


def _heading(profile: AuthorityProfile) -> GridTable:
    """The letters' two-column heading, with the blank number and the dotted date."""
    left_width, right_width = LEFT_COLUMN_MM * mm, RIGHT_COLUMN_MM * mm
    issuing_lines = _fit_lines(profile.issuing_body_vi.upper(), SERIF_BOLD, ISSUING_BODY_PT, left_width)
    issuing_rule = ISSUING_BODY_RULE_RATIO * max(stringWidth(line, SERIF_BOLD, ISSUING_BODY_PT)
                                                  for line in issuing_lines)
    body_block = []
    parent = profile.parent_body_vi if profile.parent_body_vi != profile.issuing_body_vi else None
    if parent:
        body_block.append(_lines_para(_fit_lines(parent.upper(), SERIF, PARENT_BODY_PT, left_width),
                                      SERIF, PARENT_BODY_PT))
    body_block += [_lines_para(issuing_lines, SERIF_BOLD, ISSUING_BODY_PT), _rule(issuing_rule, space_before=4)]
    nation_block = [_para(NATIONAL_NAME, SERIF_BOLD, NATIONAL_NAME_PT), _para(MOTTO, SERIF_BOLD, MOTTO_PT),
                    _rule(stringWidth(MOTTO, SERIF_BOLD, MOTTO_PT), space_before=4)]
    table = _table([[body_block, nation_block],
                    [_para(number_line(profile), SERIF, NUMBER_PT), _para(date_line(profile), SERIF_ITALIC,
                                                                          DATE_LINE_PT)]],
                   [left_width, right_width])
    table.setStyle(TableStyle([("TOPPADDING", (0, 1), (-1, 1), 8)]))
    return table


def _title(report: IndicatorReport) -> list:
    summary = _fit_lines(f"{SUMMARY} {_period_in_text(report.period_label)}", SERIF_BOLD, SUMMARY_PT,
                         CONTENT_WIDTH)
    summary_width = max(stringWidth(line, SERIF_BOLD, SUMMARY_PT) for line in summary)
    return [_para(DOCUMENT_TYPE, SERIF_BOLD, DOCUMENT_TYPE_PT),
            _lines_para(summary, SERIF_BOLD, SUMMARY_PT),
            _para(f"({_period_dates(report)})", SERIF_ITALIC, PERIOD_PT),
            # Decree 30: a rule of a third to a half of the summary line under the summary.
            _rule(summary_width * 0.4, space_before=4)]


def _addressees() -> Paragraph:
    return _para(f"Kính gửi: {'; '.join(ADDRESSEES)}.", SERIF, BODY_PT)


def _body_paragraphs(paragraphs: list[str]) -> list[Paragraph]:
    return [_para(text, SERIF, BODY_PT, TA_JUSTIFY, firstLineIndent=BODY_FIRST_LINE_INDENT_MM * mm,
                  spaceAfter=PARAGRAPH_SPACING_PT) for text in paragraphs]


def _section(title: str, keep_mm: float = SECTION_KEEP_MM) -> list:
    # A heading starts a page rather than end one; a table below it may then split (its header repeats).
    return [CondPageBreak(keep_mm * mm), _para(title, SERIF_BOLD, SECTION_PT, TA_LEFT, spaceBefore=8, spaceAfter=6)]


def _note(text: str, alignment=TA_LEFT) -> Paragraph:
    return _para(text, SERIF_ITALIC, NOTE_PT, alignment, spaceBefore=2, spaceAfter=6)


def _closing(profile: AuthorityProfile) -> GridTable:
    dash = stringWidth("- ", SERIF, RECIPIENTS_PT)
    recipients_block = [_para("Nơi nhận:", SERIF_BOLD_ITALIC, RECIPIENTS_HEADING_PT, TA_LEFT)] + [
        _para(line, SERIF, RECIPIENTS_PT, TA_LEFT, leftIndent=dash, firstLineIndent=-dash)
        for line in _listed(["Như trên", _filing_line(profile)])]
    titles = profile.signer_titles_vi
    signer_lines = [line.upper() for line in (titles.get("signing_for"), titles.get("deputy"), titles.get("title"))
                    if line and line.strip()]
    signer_block = [_lines_para(signer_lines, SERIF_BOLD, SIGNER_PT), _SignatureSpace(None)]
    return _table([[recipients_block, signer_block]], [LEFT_COLUMN_MM * mm, RIGHT_COLUMN_MM * mm])


# --- I. the headline figures --------------------------------------------------------------------------

def _figure_label(figure: Figure) -> str:
    unit = UNITS_VI.get(figure.unit.strip(), figure.unit.strip())
    return f"{figure.label} ({unit})" if unit else figure.label


def _figure_change(figure: Figure) -> Optional[Number]:
    try:
        return figure.change
    except TypeError:  # Decimal and float do not subtract; the report only prints the result
        return _decimal(figure.value) - _decimal(figure.previous)


def _figures(report: IndicatorReport) -> list:
    if not report.figures:
        return [_note(NO_DATA)]
    rows = [[str(number), _figure_label(figure), format_number(figure.value), format_number(figure.previous),
             format_number(_figure_change(figure), signed=True)]
            for number, figure in enumerate(report.figures, start=1)]
    kinds = ["number", "text", "number", "number", "number"]
    previous = f"Kỳ trước: từ ngày {format_date(report.previous_start)} đến ngày {format_date(report.previous_end)}."
    return [_grid(FIGURE_COLUMNS, rows, kinds), _note(previous)]


# --- II. the tables and their charts --------------------------------------------------------------

def _indicator_table(number: int, table: IndicatorTable, *, first: bool) -> list:
    flowables = [] if first else [CondPageBreak(SECTION_KEEP_MM * mm)]
    flowables.append(_para(f"{number}. {table.title}", SERIF_BOLD, SUBSECTION_PT, TA_LEFT, spaceBefore=8,
                           spaceAfter=4))
    if not table.rows:
        flowables.append(_note(NO_DATA))
        return flowables
    kinds = [_column_kind([row[index] if index < len(row) else None for row in table.rows])
             for index in range(len(table.columns))]
    rows = [[format_cell(row[index]) if index < len(row) else "" for index in range(len(table.columns))]
            for row in table.rows]
    flowables.append(_grid(table.columns, rows, kinds))
    if table.note:
        flowables.append(_note(table.note))
    chart = _chart(table)
    if chart is not None:
        caption = f"Biểu đồ {number}. {table.title}"
        if table.chart == "bar" and len(table.rows) > CHART_MAX_BARS:
            caption += f" ({CHART_MAX_BARS} dòng đầu của bảng)"
        flowables.append(KeepTogether([Spacer(0, 6), chart, _note(caption, TA_CENTER)]))
    return flowables


def _column_kind(values: list[Cell]) -> str:
    present = [value for value in values if value is not None]
    if present and all(isinstance(value, (int, float, Decimal)) and not isinstance(value, bool)
                       for value in present):
        return "number"
    if present and all(isinstance(value, datetime.date) for value in present):
        return "date"
    return "text"


def _cell_width(text: str, font: str) -> float:
    return stringWidth(nfc(text), font, TABLE_PT) + 2 * TABLE_PADDING_PT + 1


def _longest_word(text: str, font: str) -> float:
    return max((_cell_width(word, font) for word in nfc(text).split()), default=2 * TABLE_PADDING_PT)


def _column_widths(header: list[str], rows: list[list[str]], kinds: list[str]) -> list[float]:
    """Every column gets its longest word; then numbers and dates their header on one line (when that
    leaves room), then text columns what they need; the grid spans the text width."""
    columns = range(len(header))
    least = [max([_longest_word(header[i], SERIF_BOLD)] + [_longest_word(row[i], SERIF) for row in rows])
             for i in columns]
    natural = [max([_cell_width(header[i], SERIF_BOLD)] + [_cell_width(row[i], SERIF) for row in rows])
               for i in columns]
    widths = list(least)
    text_columns = [i for i in columns if kinds[i] == "text"]
    other_columns = [i for i in columns if kinds[i] != "text"]
    for group, share in ((other_columns, 0.5), (text_columns, 1.0)):
        spare = max(0.0, CONTENT_WIDTH - sum(widths)) * share
        deficit = sum(natural[i] - widths[i] for i in group)
        if deficit > 0:
            for i in group:
                widths[i] += (natural[i] - widths[i]) * min(1.0, spare / deficit)
    spare = CONTENT_WIDTH - sum(widths)
    receivers = text_columns or list(columns)
    base = sum(widths[i] for i in receivers)
    for i in receivers:
        widths[i] += spare * widths[i] / base
    return widths


def _grid(header: list[str], rows: list[list[str]], kinds: list[str]) -> GridTable:
    align = {"number": TA_RIGHT, "date": TA_CENTER, "text": TA_LEFT}
    cells = [[_para(text, SERIF_BOLD, TABLE_PT, TA_CENTER) for text in header]]
    cells += [[_para(text, SERIF, TABLE_PT, align[kinds[i]]) for i, text in enumerate(row)] for row in rows]
    grid = GridTable(cells, colWidths=_column_widths(header, rows, kinds), repeatRows=1, hAlign="LEFT")
    grid.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), SERIF),  # else empty cells select Helvetica, unembedded
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("GRID", (0, 0), (-1, -1), GRID_LINE_PT, black),
        ("LEFTPADDING", (0, 0), (-1, -1), TABLE_PADDING_PT), ("RIGHTPADDING", (0, 0), (-1, -1), TABLE_PADDING_PT),
        ("TOPPADDING", (0, 0), (-1, -1), 2), ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]))
    return grid


def _chart(table: IndicatorTable) -> Optional[Drawing]:
    if table.chart not in ("bar", "line") or len(table.columns) < 2:
        return None
    points = [(row[0], row[1]) for row in table.rows
              if len(row) > 1 and (row[1] is None or isinstance(row[1], (int, float, Decimal)))]
    if not points or all(value is None for _, value in points):
        return None
    if table.chart == "bar":
        return _bar_chart(points[:CHART_MAX_BARS])
    # A trend draws every numeric column as its own line (e.g. registrations and products by month).
    series = [(nfc(str(table.columns[index])), [row[index] if len(row) > index else None for row in table.rows])
              for index in range(1, len(table.columns))
              if all(row[index] is None or isinstance(row[index], (int, float, Decimal))
                     for row in table.rows if len(row) > index)]
    return _line_chart([row[0] for row in table.rows], series)


def _nice_scale(values: list[float]) -> tuple[float, float, float]:
    """(lowest, highest, step) of a value axis with about five round steps, from 0 unless values are negative."""
    low, high = min(0.0, *values), max(0.0, *values)
    if high == low:
        return 0.0, 1.0, 1.0
    raw = (high - low) / 5
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(factor * magnitude for factor in (1, 2, 2.5, 5, 10) if factor * magnitude >= raw)
    if all(float(value).is_integer() for value in values):
        step = max(1.0, math.ceil(step))
    return math.floor(low / step) * step, math.ceil(high / step) * step, step


def _chart_label(value: Cell) -> str:
    if isinstance(value, datetime.date):
        return value.strftime("%m/%Y") if value.day == 1 else format_date(value)
    return nfc(format_cell(value))


def _clip(text: str, width: float) -> str:
    if stringWidth(text, SERIF, CHART_PT) <= width:
        return text
    while text and stringWidth(text + "…", SERIF, CHART_PT) > width:
        text = text[:-1]
    return text.rstrip() + "…"


def _axis_number(value) -> str:
    return format_number(value)


def _bar_chart(points: list[tuple[Cell, Optional[Number]]]) -> Drawing:
    """Horizontal bars, the first row at the top, each bar with its value at its end."""
    labels = [_chart_label(label) for label, _ in points]
    values = [float(value) if value is not None else 0.0 for _, value in points]
    label_width = min(max(stringWidth(label, SERIF, CHART_PT) for label in labels) + 8, CONTENT_WIDTH * 0.38)
    value_room = max(stringWidth(format_number(value), SERIF, CHART_PT) for value in values) + 10
    low, high, step = _nice_scale(values)
    height = len(points) * CHART_BAR_PT
    drawing = Drawing(CONTENT_WIDTH, height + 2.2 * CHART_PT + 4, initialFontName=SERIF, initialFontSize=CHART_PT)
    chart = HorizontalBarChart()
    chart.x, chart.y = label_width, 2.2 * CHART_PT
    chart.width, chart.height = CONTENT_WIDTH - label_width - value_room, height
    chart.data = [list(reversed(values))]
    chart.categoryAxis.categoryNames = [_clip(label, label_width - 8) for label in reversed(labels)]
    chart.categoryAxis.labels.fontName, chart.categoryAxis.labels.fontSize = SERIF, CHART_PT
    chart.categoryAxis.labels.boxAnchor, chart.categoryAxis.labels.dx = "e", -4
    chart.categoryAxis.tickLeft = 0
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = low, high, step
    chart.valueAxis.labels.fontName, chart.valueAxis.labels.fontSize = SERIF, CHART_PT
    chart.valueAxis.labelTextFormat = _axis_number
    chart.valueAxis.visibleGrid, chart.valueAxis.gridStrokeColor = 1, CHART_GRID_COLOUR
    chart.valueAxis.gridStrokeWidth = 0.4
    chart.bars[0].fillColor, chart.bars[0].strokeColor = CHART_COLOUR, None
    chart.barWidth, chart.groupSpacing = 10, 5
    chart.barLabelFormat = _axis_number
    chart.barLabels.fontName, chart.barLabels.fontSize = SERIF, CHART_PT
    chart.barLabels.boxAnchor, chart.barLabels.boxTarget, chart.barLabels.dx = "w", "hi", 3
    drawing.add(chart)
    return drawing


def _line_chart(months: list[Cell], series: list[tuple[str, list[Optional[Number]]]]) -> Drawing:
    """A trend by month: one line per series, one point a month; with one series, the value over each
    point when there is room; with several, a legend under the chart."""
    labels = [_chart_label(label) for label in months]
    lines = [[float(value) if value is not None else None for value in values] for _name, values in series]
    present = [value for values in lines for value in values if value is not None]
    # Value labels are keyed by position, which a missing month would shift: only on complete series.
    value_labels = (len(lines) == 1 and len(months) <= CHART_MAX_LINE_LABELS
                    and all(value is not None for value in lines[0]))
    low, high, step = _nice_scale(present)
    if value_labels and max(present) > high - step / 3:
        high += step  # room for the label over the highest point
    rotate = len(months) >= CHART_ROTATE_LABELS_FROM
    widest_label = max(stringWidth(label, SERIF, CHART_PT) for label in labels)
    # A label turned 45 degrees reaches down (width + height) / sqrt(2), below the tick and its gap.
    axis_room = (widest_label + CHART_PT) * 0.71 + 12 if rotate else 2 * CHART_PT
    legend_room = 2 * CHART_PT if len(lines) > 1 else 0
    value_room = max(stringWidth(_axis_number(value), SERIF, CHART_PT) for value in (low, high)) + 8
    height = CHART_LINE_HEIGHT_MM * mm + legend_room
    drawing = Drawing(CONTENT_WIDTH, height, initialFontName=SERIF, initialFontSize=CHART_PT)
    chart = HorizontalLineChart()
    chart.x, chart.y = value_room, axis_room + legend_room
    chart.width, chart.height = CONTENT_WIDTH - value_room - 10, height - axis_room - legend_room - CHART_PT
    chart.data = lines
    chart.categoryAxis.categoryNames = labels
    chart.categoryAxis.labels.fontName, chart.categoryAxis.labels.fontSize = SERIF, CHART_PT
    if rotate:
        chart.categoryAxis.labels.angle, chart.categoryAxis.labels.boxAnchor = 45, "ne"
        chart.categoryAxis.labels.dx, chart.categoryAxis.labels.dy = 4, -4
    chart.valueAxis.valueMin, chart.valueAxis.valueMax, chart.valueAxis.valueStep = low, high, step
    chart.valueAxis.labels.fontName, chart.valueAxis.labels.fontSize = SERIF, CHART_PT
    chart.valueAxis.labelTextFormat = _axis_number
    chart.valueAxis.visibleGrid, chart.valueAxis.gridStrokeColor = 1, CHART_GRID_COLOUR
    chart.valueAxis.gridStrokeWidth = 0.4
    colours = [CHART_COLOUR, CHART_SECOND_COLOUR, CHART_GRID_COLOUR]
    for index in range(len(lines)):
        colour = colours[index % len(colours)]
        chart.lines[index].strokeColor, chart.lines[index].strokeWidth = colour, 1.5
        chart.lines[index].symbol = makeMarker("FilledCircle" if index == 0 else "FilledSquare", size=4,
                                               fillColor=colour, strokeColor=colour)
    if value_labels:
        chart.lineLabelFormat = _axis_number
        chart.lineLabelNudge = 5
        chart.lineLabels.fontName, chart.lineLabels.fontSize = SERIF, CHART_PT
        chart.lineLabels.boxAnchor = "s"
    if len(lines) > 1:
        legend = Legend()
        legend.x, legend.y = value_room, CHART_PT
        legend.alignment, legend.columnMaximum, legend.deltax = "right", 1, 0
        legend.fontName, legend.fontSize = SERIF, CHART_PT
        legend.dxTextSpace, legend.dx, legend.dy = 4, 10, 6
        legend.colorNamePairs = [(colours[index % len(colours)], name) for index, (name, _values) in
                                 enumerate(series)]
        legend.autoXPadding = 24
        drawing.add(legend)
    drawing.add(chart)
    return drawing
