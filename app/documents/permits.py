"""The permit card: one A6-landscape page per crew member, bilingual, with photo and QR code.

Why A6 landscape (148 x 105 mm): it is the size of the standard badge sleeve a journalist wears
or carries, and a quarter of A4 with the same proportions, so the same page prints well both
ways: "actual size" gives the card, "fit to page" gives an A4 sheet with everything twice as
large (the QR code only gets easier to scan). `render_permits` puts every card of a
registration in one PDF, one page each, for "print all".

What a border officer needs at a glance is largest: the holder's name, the validity dates
and the approved places (border-area places in red, marked with a diamond); then the photo
and the QR code that leads to the live answer (valid, expired, revoked...). No passport
number or other identity number is printed: the data class has no field for one.

Output is deterministic (reportlab invariant mode): the same content gives the same bytes.
"""
from __future__ import annotations

import hashlib
import io
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field, fields
from datetime import date

from PIL import Image, ImageOps
from reportlab.lib.colors import Color, white
from reportlab.lib.pagesizes import A6, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from app.documents.fonts import SANS_BOLD, SANS_ITALIC, SERIF_BOLD, register_fonts
from app.documents.qr import draw_qr

# --- layout, in mm from the top-left corner of the card -----------------------------------
PAGE_SIZE = landscape(A6)  # 148 x 105 mm
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 148.0, 105.0
FRAME_INSET = 3.5
INSET = 7.0  # text and pictures stay this far from the edge: printers cannot print to it
CONTENT_RIGHT = PAGE_WIDTH_MM - INSET
HEADER_TOP = 7.0
TITLE_BAND_TOP, TITLE_BAND_HEIGHT = 20.0, 10.5
MAIN_TOP = 33.0
PHOTO_LEFT, PHOTO_WIDTH, PHOTO_HEIGHT = INSET, 27.0, 36.0  # 3:4, like a passport photo
QR_SIZE = 37.0  # with its 4-module quiet zone: a version-8 code gets 0.65 mm modules
QR_LEFT = CONTENT_RIGHT - QR_SIZE + 2.0  # the quiet zone may reach into the margin
QR_TOP = MAIN_TOP - 2.5
DETAILS_LEFT = PHOTO_LEFT + PHOTO_WIDTH + 4.0
DETAILS_RIGHT = QR_LEFT  # nothing may print in the quiet zone
ESCORT_TOP = QR_TOP + QR_SIZE + 6.0  # under the QR code and its caption
VALIDITY_TOP, VALIDITY_HEIGHT = 71.0, 11.5
VALIDITY_RIGHT = QR_LEFT - 1.5
PLACES_TOP = 86.8
PLACES_SIZE, PLACES_LEADING, PLACES_MAX_LINES = 7.4, 3.3, 3

# --- type ----------------------------------------------------------------------------------
LABEL_SIZE = 5.6
VALUE_SIZE = 8.2
FIELD_HEIGHT = 7.4  # label and one line of value
SECOND_LINE_HEIGHT = 3.2
NAME_MAX_SIZE, NAME_MIN_SIZE = 15.0, 9.0
PHOTO_DPI = 300
PHOTO_JPEG_QUALITY = 88
PHOTO_CACHE_SIZE = 64

RED = Color(0.66, 0.07, 0.09)
RED_TINT = Color(0.99, 0.94, 0.93)
INK = Color(0.08, 0.08, 0.10)
GREY = Color(0.38, 0.38, 0.42)
LIGHT_GREY = Color(0.92, 0.92, 0.93)
WATERMARK = Color(0.85, 0.12, 0.12, alpha=0.12)

ELLIPSIS = "…"
NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO = "Độc lập - Tự do - Hạnh phúc"
MONTHS_EN = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
             "October", "November", "December")


@dataclass
class PermitContent:
    """Everything printed on one permit, as display text. Deliberately no identity numbers."""

    issuing_body_vi: str
    issuing_body_en: str
    province_vi: str
    province_en: str
    register_number: str
    holder_name: str
    nationality: str
    outlet: str
    role_vi: str
    role_en: str
    valid_from: date
    valid_until: date
    places: list[str]
    border_places: set[str] = field(default_factory=set)  # those of `places` in a border area
    escort_name: str = ""
    escort_phone: str = ""
    photo: bytes | None = None  # JPEG or PNG
    verification_url: str = ""
    demo: bool = False
    draft: bool = False  # a preview: no number, no QR token, watermarked DỰ THẢO / DRAFT


def render_permit(content: PermitContent) -> bytes:
    """One permit as a one-page PDF."""
    return render_permits([content])


def render_permits(contents: list[PermitContent]) -> bytes:
    """Several permits in one PDF, one page each, in the given order ("print all")."""
    if not contents:
        raise ValueError("no permits to render")
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE_SIZE, invariant=1, pageCompression=1)
    first = _normalised(contents[0])
    title = "Giấy phép hoạt động báo chí / Press activity permit"
    if len(contents) == 1 and first.register_number:
        title += f" {first.register_number}"
    if any(content.demo for content in contents):
        title = "DEMO – " + title
    canvas.setTitle(title)
    canvas.setSubject(title)
    canvas.setAuthor(first.issuing_body_vi)
    canvas.setCreator("PressDesk")
    for content in contents:
        _draw_permit(canvas, _normalised(content))
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


# --- drawing -------------------------------------------------------------------------------

def _draw_permit(canvas: Canvas, permit: PermitContent) -> None:
    if permit.demo:
        _draw_demo_watermark(canvas)
    if permit.draft:
        _draw_draft_watermark(canvas)
    _draw_frame(canvas)
    _draw_header(canvas, permit)
    _draw_title_band(canvas, permit)
    _draw_photo(canvas, permit.photo)
    _draw_details(canvas, permit)
    _draw_qr_block(canvas, permit.verification_url, permit.draft)
    _draw_validity(canvas, permit)
    _draw_places(canvas, permit)
    _draw_escort(canvas, permit)


def _draw_frame(canvas: Canvas) -> None:
    canvas.setStrokeColor(RED)
    canvas.setLineWidth(1.4)
    width, height = PAGE_WIDTH_MM - 2 * FRAME_INSET, PAGE_HEIGHT_MM - 2 * FRAME_INSET
    canvas.rect(FRAME_INSET * mm, FRAME_INSET * mm, width * mm, height * mm, stroke=1, fill=0)
    canvas.setLineWidth(0.4)
    canvas.rect((FRAME_INSET + 1) * mm, (FRAME_INSET + 1) * mm, (width - 2) * mm, (height - 2) * mm,
                stroke=1, fill=0)


def _draw_header(canvas: Canvas, permit: PermitContent) -> None:
    # Decree 30 habit: the issuing body on the left, the national name and motto on the right.
    column = 66.0
    left_centre = INSET + column / 2
    right_centre = CONTENT_RIGHT - column / 2 + 3
    body_size, body_lines = _fit_lines(permit.issuing_body_vi.upper(), SERIF_BOLD, 7.0, 5.5, column, 2)
    english_size, english = _fit_one_line(permit.issuing_body_en, SANS_ITALIC, 5.4, 4.6, column)
    leading = body_size * 0.37 + 0.2
    # Laid out from the register number up, so a two-line body never reaches the title band.
    number_baseline = min(HEADER_TOP + 2.6 + len(body_lines) * leading + 3.4, TITLE_BAND_TOP - 1.7)
    english_baseline = number_baseline - 3.4
    baseline = english_baseline - len(body_lines) * leading + (0.4 if len(body_lines) > 1 else 0.0)
    for line in body_lines:
        _centred(canvas, line, SERIF_BOLD, body_size, left_centre, baseline)
        baseline += leading
    _centred(canvas, english, SANS_ITALIC, english_size, left_centre, english_baseline, GREY)
    if permit.register_number:
        _centred(canvas, f"Số / No.: {permit.register_number}", SANS_BOLD, 7.5, left_centre, number_baseline, RED)

    _centred(canvas, NATIONAL_NAME, SERIF_BOLD, 6.6, right_centre, HEADER_TOP + 2.6)
    _centred(canvas, NATIONAL_MOTTO, SERIF_BOLD, 7.2, right_centre, HEADER_TOP + 5.7)
    motto_half = stringWidth(NATIONAL_MOTTO, SERIF_BOLD, 7.2) / 2
    canvas.setStrokeColor(INK)
    canvas.setLineWidth(0.5)
    canvas.line(right_centre * mm - motto_half, _y(HEADER_TOP + 6.7), right_centre * mm + motto_half,
                _y(HEADER_TOP + 6.7))
    _centred(canvas, "Socialist Republic of Viet Nam", SANS_ITALIC, 5.4, right_centre, HEADER_TOP + 9.4, GREY)


def _draw_title_band(canvas: Canvas, permit: PermitContent) -> None:
    canvas.setFillColor(RED)
    canvas.rect(FRAME_INSET * mm, _y(TITLE_BAND_TOP + TITLE_BAND_HEIGHT),
                (PAGE_WIDTH_MM - 2 * FRAME_INSET) * mm, TITLE_BAND_HEIGHT * mm, stroke=0, fill=1)
    centre = PAGE_WIDTH_MM / 2
    _centred(canvas, "GIẤY PHÉP HOẠT ĐỘNG BÁO CHÍ", SANS_BOLD, 12.5, centre, TITLE_BAND_TOP + 5.2, white)
    subtitle = "PRESS ACTIVITY PERMIT"
    if permit.demo:
        subtitle += "  ·  DEMO – KHÔNG CÓ GIÁ TRỊ / NOT VALID"
    _centred(canvas, subtitle, SANS_BOLD, 7.0, centre, TITLE_BAND_TOP + 8.8, white)


def _draw_photo(canvas: Canvas, photo: bytes | None) -> None:
    x, y = PHOTO_LEFT * mm, _y(MAIN_TOP + PHOTO_HEIGHT)
    width, height = PHOTO_WIDTH * mm, PHOTO_HEIGHT * mm
    if photo:
        canvas.drawImage(ImageReader(io.BytesIO(_card_photo(photo))), x, y, width, height)
    else:
        canvas.setFillColor(LIGHT_GREY)
        canvas.rect(x, y, width, height, stroke=0, fill=1)
        _centred(canvas, "Không có ảnh", SANS_BOLD, 6.5, PHOTO_LEFT + PHOTO_WIDTH / 2,
                 MAIN_TOP + PHOTO_HEIGHT / 2 - 0.5, GREY)
        _centred(canvas, "No photo", SANS_ITALIC, 6.0, PHOTO_LEFT + PHOTO_WIDTH / 2,
                 MAIN_TOP + PHOTO_HEIGHT / 2 + 2.5, GREY)
    canvas.setStrokeColor(GREY)
    canvas.setLineWidth(0.5)
    canvas.rect(x, y, width, height, stroke=1, fill=0)


def _draw_details(canvas: Canvas, permit: PermitContent) -> None:
    width = DETAILS_RIGHT - DETAILS_LEFT
    top = MAIN_TOP + 1.6
    _label(canvas, "Họ và tên", "Full name", DETAILS_LEFT, top)
    size, lines = _fit_lines(permit.holder_name, SANS_BOLD, NAME_MAX_SIZE, NAME_MIN_SIZE, width, 2)
    baseline = top + 1.0 + size * 0.353
    for line in lines:
        _text(canvas, line, SANS_BOLD, size, DETAILS_LEFT, baseline, INK)
        baseline += size * 0.40
    top = baseline + 1.4
    fields = [("Quốc tịch", "Nationality", permit.nationality),
              ("Cơ quan báo chí", "Media outlet", permit.outlet),
              ("Chức danh", "Role", f"{permit.role_vi} / {permit.role_en}")]
    # Each value gets one line, shrinking to fit; one that still does not fit gets a second line
    # while there is room above the bottom of the photo, else it is cut with an ellipsis.
    spare = MAIN_TOP + PHOTO_HEIGHT - (top + len(fields) * FIELD_HEIGHT)
    for label_vi, label_en, value in fields:
        _label(canvas, label_vi, label_en, DETAILS_LEFT, top)
        value_size, value_lines = _fit_shrinking_first(value, SANS_BOLD, VALUE_SIZE, 6.2, width,
                                                       2 if spare >= SECOND_LINE_HEIGHT else 1)
        spare -= SECOND_LINE_HEIGHT * (len(value_lines) - 1)
        baseline = top + 3.4
        for line in value_lines:
            _text(canvas, line, SANS_BOLD, value_size, DETAILS_LEFT, baseline, INK)
            baseline += SECOND_LINE_HEIGHT
        top = baseline - SECOND_LINE_HEIGHT + FIELD_HEIGHT - 3.4


def _draw_qr_block(canvas: Canvas, url: str, draft: bool = False) -> None:
    centre = QR_LEFT + QR_SIZE / 2
    if url:
        draw_qr(canvas, url, QR_LEFT * mm, _y(QR_TOP + QR_SIZE), QR_SIZE * mm)
    elif draft:  # no token before the permit is numbered: where the code will be
        canvas.saveState()
        canvas.setStrokeColor(GREY)
        canvas.setDash(2, 2)
        canvas.rect((QR_LEFT + 4) * mm, _y(QR_TOP + QR_SIZE - 4), (QR_SIZE - 8) * mm, (QR_SIZE - 8) * mm)
        canvas.restoreState()
        _centred(canvas, "Mã QR khi ban hành", SANS_ITALIC, 6.2, centre, QR_TOP + QR_SIZE / 2, GREY)
        _centred(canvas, "QR code at issue", SANS_ITALIC, 5.8, centre, QR_TOP + QR_SIZE / 2 + 2.8, GREY)
    _centred(canvas, "Quét mã để kiểm tra", SANS_BOLD, 6.2, centre, QR_TOP + QR_SIZE + 0.5, INK)
    _centred(canvas, "Scan to verify", SANS_ITALIC, 5.8, centre, QR_TOP + QR_SIZE + 2.8, GREY)


def _draw_validity(canvas: Canvas, permit: PermitContent) -> None:
    left, width = INSET, VALIDITY_RIGHT - INSET
    canvas.setFillColor(RED_TINT)
    canvas.setStrokeColor(RED)
    canvas.setLineWidth(0.6)
    canvas.roundRect(left * mm, _y(VALIDITY_TOP + VALIDITY_HEIGHT), width * mm, VALIDITY_HEIGHT * mm,
                     1.2 * mm, stroke=1, fill=1)
    _label(canvas, f"Thời hạn hoạt động tại {permit.province_vi}", f"Valid in {permit.province_en}", left + 2,
           VALIDITY_TOP + 2.8, colour=RED, max_width=width - 4)
    start, end = permit.valid_from, permit.valid_until
    vietnamese = f"từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}"
    english = f"valid from {_english_date(start)} to {_english_date(end)}"
    size, line = _fit_one_line(vietnamese, SANS_BOLD, 10.5, 8.0, width - 4)
    _text(canvas, line, SANS_BOLD, size, left + 2, VALIDITY_TOP + 6.8, INK)
    size, line = _fit_one_line(english, SANS_ITALIC, 7.0, 5.5, width - 4)
    _text(canvas, line, SANS_ITALIC, size, left + 2, VALIDITY_TOP + 9.6, INK)


def _draw_places(canvas: Canvas, permit: PermitContent) -> None:
    left, width = INSET, CONTENT_RIGHT - INSET
    border = {place for place in permit.places if place in permit.border_places}
    legend = "khu vực biên giới / border area"
    legend_width = _width_mm(legend, SANS_BOLD, LABEL_SIZE) + 3.0 if border else 0.0
    _label(canvas, "Địa điểm được phép hoạt động", "Approved places", left, PLACES_TOP,
           max_width=width - legend_width)
    if border:
        legend_left = CONTENT_RIGHT - legend_width + 3.0
        _text(canvas, legend, SANS_BOLD, LABEL_SIZE, legend_left, PLACES_TOP, RED)
        _diamond(canvas, legend_left - 1.6, PLACES_TOP - 0.7, 1.0)
    lines = _flow_places(permit.places, border, width, PLACES_SIZE)
    baseline = PLACES_TOP + 3.6
    if not lines:
        _text(canvas, "—", SANS_BOLD, PLACES_SIZE, left, baseline, INK)
    for line in lines:
        x = left
        for text, is_border, is_separator in line:
            if is_border:
                _diamond(canvas, x + 0.9, baseline - 0.95, 0.95)
                x += 2.3
            _text(canvas, text, SANS_BOLD, PLACES_SIZE, x, baseline,
                  RED if is_border else (GREY if is_separator else INK))
            x += _width_mm(text, SANS_BOLD, PLACES_SIZE)
        baseline += PLACES_LEADING


def _draw_escort(canvas: Canvas, permit: PermitContent) -> None:
    """The escort officer, whom a checkpoint can call: under the QR code, in at most three lines."""
    left, width = QR_LEFT + 1.5, CONTENT_RIGHT - QR_LEFT - 1.0
    _label(canvas, "Cán bộ hướng dẫn", "Escort", left, ESCORT_TOP)
    # The phone number matters most at a checkpoint: it gets its lines first.
    phone = (_fit_shrinking_first(f"ĐT / Tel. {permit.escort_phone}", SANS_BOLD, 7.6, 5.6, width, 2)
             if permit.escort_phone else (0.0, []))
    name = _fit_shrinking_first(permit.escort_name or "—", SANS_BOLD, 7.6, 6.4, width, min(2, 3 - len(phone[1])))
    blocks = [name, phone]
    baseline = ESCORT_TOP + 3.2
    for size, lines in blocks:
        for line in lines:
            _text(canvas, line, SANS_BOLD, size, left, baseline, INK)
            baseline += 2.9


def _draw_draft_watermark(canvas: Canvas) -> None:
    canvas.saveState()
    canvas.setFillColor(WATERMARK)
    canvas.translate(PAGE_WIDTH_MM / 2 * mm, PAGE_HEIGHT_MM / 2 * mm)
    canvas.rotate(-28)
    canvas.setFont(SANS_BOLD, 40)
    canvas.drawCentredString(0, -14, "DỰ THẢO / DRAFT")
    canvas.restoreState()


def _draw_demo_watermark(canvas: Canvas) -> None:
    canvas.saveState()
    canvas.setFillColor(WATERMARK)
    canvas.translate(PAGE_WIDTH_MM / 2 * mm, PAGE_HEIGHT_MM / 2 * mm)
    canvas.rotate(28)
    canvas.setFont(SANS_BOLD, 96)
    canvas.drawCentredString(0, -34, "DEMO")
    canvas.restoreState()


# --- text helpers (positions in mm from the top-left corner, baselines) -------------------

def _y(top_mm: float) -> float:
    return (PAGE_HEIGHT_MM - top_mm) * mm


def _text(canvas, text, font, size, left_mm, baseline_mm, colour=INK) -> None:
    canvas.setFillColor(colour)
    canvas.setFont(font, size)
    canvas.drawString(left_mm * mm, _y(baseline_mm), text)


def _centred(canvas, text, font, size, centre_mm, baseline_mm, colour=INK) -> None:
    canvas.setFillColor(colour)
    canvas.setFont(font, size)
    canvas.drawCentredString(centre_mm * mm, _y(baseline_mm), text)


def _label(canvas, vietnamese, english, left_mm, baseline_mm, colour=GREY, max_width=None) -> None:
    """A field label: Vietnamese upper-case first, then the English, e.g. "HỌ VÀ TÊN / Full name"."""
    first = vietnamese.upper() + " / "
    _text(canvas, first, SANS_BOLD, LABEL_SIZE, left_mm, baseline_mm, colour)
    offset = stringWidth(first, SANS_BOLD, LABEL_SIZE) / mm
    english_width = (max_width - offset) if max_width else 200.0
    english = _truncate(english, SANS_ITALIC, LABEL_SIZE, english_width)
    _text(canvas, english, SANS_ITALIC, LABEL_SIZE, left_mm + offset, baseline_mm, colour)


def _diamond(canvas, centre_mm, middle_mm, half_mm) -> None:
    """A small filled red diamond: the border-area mark (drawn, so no font needs the glyph)."""
    path = canvas.beginPath()
    x, y, half = centre_mm * mm, _y(middle_mm), half_mm * mm
    path.moveTo(x, y + half)
    path.lineTo(x + half, y)
    path.lineTo(x, y - half)
    path.lineTo(x - half, y)
    path.close()
    canvas.setFillColor(RED)
    canvas.drawPath(path, stroke=0, fill=1)


def _width_mm(text: str, font: str, size: float) -> float:
    return stringWidth(text, font, size) / mm


def _truncate(text: str, font: str, size: float, width_mm: float) -> str:
    """`text`, cut and ended with an ellipsis if it is wider than `width_mm`."""
    if _width_mm(text, font, size) <= width_mm:
        return text
    while text and _width_mm(text.rstrip() + ELLIPSIS, font, size) > width_mm:
        text = text[:-1]
    return text.rstrip() + ELLIPSIS


def _fit_one_line(text: str, font: str, max_size: float, min_size: float, width_mm: float):
    """(size, text): the largest size from max_size down to min_size at which `text` fits; else cut."""
    size = max_size
    while size > min_size and _width_mm(text, font, size) > width_mm:
        size = max(min_size, size - 0.25)
    return size, _truncate(text, font, size, width_mm)


def _fit_lines(text: str, font: str, max_size: float, min_size: float, width_mm: float, max_lines: int):
    """(size, lines): word-wrapped into at most `max_lines`, shrinking first, cutting the last line last."""
    size = max_size
    while True:
        lines = _wrap(text, font, size, width_mm)
        if len(lines) <= max_lines:
            return size, lines
        if size <= min_size:
            kept = lines[:max_lines]
            kept[-1] = _truncate(kept[-1] + " " + " ".join(lines[max_lines:]), font, size, width_mm)
            return size, kept
        size = max(min_size, size - 0.25)


def _fit_shrinking_first(text: str, font: str, max_size: float, min_size: float, width_mm: float,
                         max_lines: int):
    """(size, lines): one line, shrinking down to min_size; only then wrapped (from max_size again)."""
    if max_lines > 1 and _width_mm(text, font, min_size) > width_mm:
        return _fit_lines(text, font, max_size, min_size, width_mm, max_lines)
    size, line = _fit_one_line(text, font, max_size, min_size, width_mm)
    return size, [line]


def _wrap(text: str, font: str, size: float, width_mm: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}" if current else word
        if _width_mm(candidate, font, size) <= width_mm or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return [_truncate(line, font, size, width_mm) for line in lines]


def _flow_places(places: list[str], border: set[str], width_mm: float, size: float):
    """Lay the places out in at most PLACES_MAX_LINES lines of (text, is_border, is_separator) runs.

    Places that do not fit are counted in a closing "… +N (quét mã / scan QR)": the
    verification page lists them all.
    """
    separator = ";  "
    marker_width = 2.3

    def run_width(place: str) -> float:
        return _width_mm(place, SANS_BOLD, size) + (marker_width if place in border else 0.0)

    def layout(budget_last_line: float):
        lines, line, used, placed = [], [], 0.0, 0
        for index, place in enumerate(places):
            line_budget = budget_last_line if len(lines) == PLACES_MAX_LINES - 1 else width_mm
            needed = run_width(place) + (_width_mm(separator, SANS_BOLD, size) if line else 0.0)
            if line and used + needed > line_budget:
                lines.append(line)
                if len(lines) == PLACES_MAX_LINES:
                    return lines, placed
                line, used = [], 0.0
                line_budget = budget_last_line if len(lines) == PLACES_MAX_LINES - 1 else width_mm
                needed = run_width(place)
            text = place
            if needed > line_budget:  # a single place wider than the line: cut it
                text = _truncate(place, SANS_BOLD, size, line_budget - (marker_width if place in border else 0))
                needed = line_budget
            if line:
                line.append((separator, False, True))
            line.append((text, place in border, False))
            used += needed
            placed = index + 1
        if line:
            lines.append(line)
        return lines, placed

    lines, placed = layout(width_mm)
    if placed == len(places):
        return lines
    more = lambda count: f"{separator}{ELLIPSIS} +{count} (quét mã / scan QR)"  # noqa: E731
    lines, placed = layout(width_mm - _width_mm(more(len(places)), SANS_BOLD, size))
    if placed < len(places):
        lines[-1].append((more(len(places) - placed), False, True))
    return lines


def _english_date(day: date) -> str:
    return f"{day.day} {MONTHS_EN[day.month - 1]} {day.year}"


def _normalised(content: PermitContent) -> PermitContent:
    """A copy with every text in NFC, so that text in the PDF extracts and compares as expected."""
    values = {}
    for item in fields(content):
        value = getattr(content, item.name)
        if isinstance(value, str):
            value = _nfc(value)
        elif item.name == "places":
            value = [_nfc(place) for place in value]
        elif item.name == "border_places":
            value = {_nfc(place) for place in value}
        values[item.name] = value
    return PermitContent(**values)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", " ".join(text.split()))


def _card_photo(photo: bytes) -> bytes:
    """The photo as printed: upright, cropped to 3:4 (centred a little high, where the face is), 300 dpi, JPEG.

    A phone photo of several megabytes would otherwise be embedded whole in every permit.
    Kept per process by content (a few dozen small JPEGs), so printing a crew's cards again,
    or one card and then "print all", decodes each photo once.
    """
    digest = hashlib.sha256(photo).digest()
    with _photo_cache_lock:
        if digest in _photo_cache:
            _photo_cache.move_to_end(digest)
            return _photo_cache[digest]
    try:
        size = (round(PHOTO_WIDTH / 25.4 * PHOTO_DPI), round(PHOTO_HEIGHT / 25.4 * PHOTO_DPI))
        with Image.open(io.BytesIO(photo)) as image:
            # A JPEG can be decoded at 1/2, 1/4 or 1/8 scale for a fraction of the work; ask for
            # at least the longer printed side both ways, since EXIF may turn the picture.
            image.draft("RGB", (max(size), max(size)))
            image = ImageOps.exif_transpose(image)
            if image.mode in ("RGBA", "LA", "P", "PA"):
                image = image.convert("RGBA")
                background = Image.new("RGB", image.size, "white")
                background.paste(image, mask=image.getchannel("A"))
                image = background
            image = image.convert("RGB")
            image = ImageOps.fit(image, size, method=Image.Resampling.LANCZOS, centering=(0.5, 0.4))
            output = io.BytesIO()
            image.save(output, format="JPEG", quality=PHOTO_JPEG_QUALITY)
    except (OSError, ValueError, Image.DecompressionBombError) as error:
        raise ValueError(f"the holder's photo cannot be read as an image: {error}") from error
    card_photo = output.getvalue()
    with _photo_cache_lock:
        _photo_cache[digest] = card_photo
        while len(_photo_cache) > PHOTO_CACHE_SIZE:
            _photo_cache.popitem(last=False)
    return card_photo


_photo_cache: OrderedDict[bytes, bytes] = OrderedDict()
_photo_cache_lock = threading.Lock()
