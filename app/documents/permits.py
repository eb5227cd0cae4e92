"""The permit card: one A6-landscape page per crew member, bilingual, with photo and QR code,
and the A4 print sheet of four cards with crop marks.

Why A6 landscape (148 x 105 mm): it is the size of the standard badge sleeve a journalist wears
or carries. `render_permit` gives the card on its own page (printed "actual size" it is the card;
"fit to page" gives it twice as large, the QR code only easier to scan); `render_permits` puts
every card of a registration in one PDF, one A6 page each (the draft preview). `render_permit_sheet`
is "print all": an A4 portrait sheet that an office printer takes, four cards to a page, turned a
quarter so that two fit across, with crop marks at each card's corners to cut along. A4 is exactly
four A6 (210 x 297 mm against 2 x 105 by 2 x 148), which leaves no margin for crop marks, and an
office printer cannot print the last 4 mm of a sheet; so the cards are printed at 90 % (133 x 95 mm,
still a snug fit in an A6 sleeve, the QR modules still 0.58 mm) with 8 mm margins and a 5 mm gutter.
The sheet is made by placing the cards' own pages (`impose_on_sheets`), so a card on the sheet is
exactly the issued permit, and a sheet can be put together again from the stored permits
(app/documents/bundle.py) without rendering anything.

The card's title is the authority profile's (`permit_title_vi/en`): the province approves a
programme of press activities in writing; it does not license the press (the Ministry of Foreign
Affairs does, on its own permit), so the card never borrows the Ministry's name for its permit.
Its header follows Decree 30: the issuing body and the number on the left, the national name,
the motto and the place and date of issue on the right. Under the title, the approval letter the
card rests on.

What a border officer needs at a glance is largest: the holder's name, the validity dates and the
approved places (border-area places marked with a diamond, which tells them apart in greyscale
too); then the photo and the QR code that leads to the live answer (valid, expired, revoked...);
beside them the escort's phone number and the short conditions (cut, with a pointer to the
approval letter, when long). No passport number or other identity number is printed: the data
class has no field for one. Colours are for an office laser printer: ink on white, a dark red for
rules and the title, a light tint under the title, no solid colour band.

Output is deterministic (reportlab invariant mode, pypdf writes no date or id): the same content
gives the same bytes.
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
from reportlab.lib.colors import Color
from reportlab.lib.pagesizes import A4, A6, landscape
from reportlab.lib.units import mm
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from app.authority import AuthorityProfile
from app.documents.fonts import SANS, SANS_BOLD, SANS_ITALIC, SERIF_BOLD, SERIF_ITALIC, register_fonts
from app.documents.letters import DATE_BLANK, vietnamese_date_line
from app.documents.qr import draw_qr

# --- layout, in mm from the top-left corner of the card -----------------------------------
PAGE_SIZE = landscape(A6)  # 148 x 105 mm
PAGE_WIDTH_MM, PAGE_HEIGHT_MM = 148.0, 105.0
FRAME_INSET = 3.5
INSET = 7.0  # text and pictures stay this far from the edge: printers cannot print to it
CONTENT_RIGHT = PAGE_WIDTH_MM - INSET
HEADER_TOP = 7.0
HEADER_COLUMN = 66.0
NUMBER_BASELINE = 19.0  # the register number (left) and the place and date of issue (right), level
QR_SIZE = 37.0  # with its 4-module quiet zone: a version-8 code gets 0.65 mm modules
QR_LEFT = CONTENT_RIGHT - QR_SIZE + 2.0  # the quiet zone may reach into the margin
QR_TOP = 21.0  # the right column: the QR code, then the escort and the conditions under it
LEFT_RIGHT = QR_LEFT - 1.5  # the left column (title, photo, details, validity, places) ends here
TITLE_TOP, TITLE_BOTTOM = 21.0, 33.4  # a light tint between two thin rules, left of the QR code
MAIN_TOP = 35.2
PHOTO_LEFT, PHOTO_WIDTH, PHOTO_HEIGHT = INSET, 27.0, 36.0  # 3:4, like a passport photo
DETAILS_LEFT = PHOTO_LEFT + PHOTO_WIDTH + 4.0
DETAILS_RIGHT = QR_LEFT  # nothing may print in the quiet zone
RIGHT_LEFT = QR_LEFT + 1.5  # text of the right column
ESCORT_TOP = QR_TOP + QR_SIZE + 8.1  # under the QR code and its caption
VALIDITY_TOP, VALIDITY_HEIGHT = 72.6, 10.6
PLACES_TOP = 86.6
PLACES_SIZE, PLACES_LEADING, PLACES_MAX_LINES = 7.4, 3.3, 3
CONDITIONS_SIZE, CONDITIONS_LEADING = 5.9, 2.5
CONTENT_BOTTOM = PAGE_HEIGHT_MM - INSET + 0.4  # the last baseline

# --- type ----------------------------------------------------------------------------------
LABEL_SIZE = 5.6
VALUE_SIZE = 8.2
FIELD_HEIGHT = 7.4  # label and one line of value
SECOND_LINE_HEIGHT = 3.2
NAME_MAX_SIZE, NAME_MIN_SIZE = 15.0, 9.0
TITLE_MAX_SIZE, TITLE_TWO_LINES_SIZE, TITLE_MIN_SIZE = 12.0, 9.5, 6.5
PHOTO_DPI = 300
PHOTO_JPEG_QUALITY = 88
PHOTO_CACHE_SIZE = 64

# Dark enough that a monochrome laser prints it as a solid dark grey, not a speckled halftone.
RED = Color(0.58, 0.06, 0.08)
RED_TINT = Color(0.985, 0.95, 0.94)  # under the title and the validity: about 5 % toner
INK = Color(0.08, 0.08, 0.10)
GREY = Color(0.33, 0.33, 0.37)
LIGHT_GREY = Color(0.92, 0.92, 0.93)
WATERMARK = Color(0.85, 0.12, 0.12, alpha=0.12)

# --- the A4 print sheet, in mm from its top-left corner -------------------------------------
SHEET_SIZE = A4  # portrait, 210 x 297 mm
SHEET_WIDTH_MM, SHEET_HEIGHT_MM = 210.0, 297.0
SHEET_SCALE = 0.9
CARDS_PER_SHEET = 4  # two across, two down, each turned a quarter (its top to the sheet's left)
SHEET_GUTTER = 5.0
CROP_MARK_OFFSET, CROP_MARK_LENGTH = 1.0, 2.8  # from the card's corner, outwards, in the margin
CROP_MARK_WIDTH = 0.25  # points: a hairline the cutter aligns the blade on

ELLIPSIS = "…"
NATIONAL_NAME = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
NATIONAL_MOTTO = "Độc lập - Tự do - Hạnh phúc"
CONDITIONS_CUT_NOTE = "(xem văn bản chấp thuận / see the approval letter)"
SHEET_INSTRUCTION = ("In ở tỷ lệ thực tế (100 %, không co giãn), cắt theo dấu cắt / "
                     "Print at actual size (100 %, no scaling), cut along the crop marks")
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
    title_vi: str = AuthorityProfile.permit_title_vi  # the authority profile's
    title_en: str = AuthorityProfile.permit_title_en
    place_name: str = ""  # of the date of issue: "Tây Ninh, ngày 25 tháng 02 năm 2027"
    issue_date: date | None = None  # None on a draft
    approval_letter_number: str = ""  # the approval letter the permit rests on, e.g. "12/UBND-NgV"
    conditions_vi: str = ""  # one line: the registration's conditions, joined
    conditions_en: str = ""


def render_permit(content: PermitContent) -> bytes:
    """One permit as a one-page A6 PDF."""
    return render_permits([content])


def render_permits(contents: list[PermitContent]) -> bytes:
    """Several permits in one PDF, one A6 page each, in the given order."""
    if not contents:
        raise ValueError("no permits to render")
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE_SIZE, invariant=1, pageCompression=1)
    first = _normalised(contents[0])
    title = document_title(first.title_vi, first.title_en, any(content.demo for content in contents))
    if len(contents) == 1 and first.register_number:
        title += f" {first.register_number}"
    canvas.setTitle(title)
    canvas.setSubject(title)
    canvas.setAuthor(first.issuing_body_vi)
    canvas.setCreator("PressDesk")
    for content in contents:
        _draw_permit(canvas, _normalised(content))
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def render_permit_sheet(contents: list[PermitContent]) -> bytes:
    """"Print all": the permits on A4 sheets, four to a page, with crop marks (see the module's docstring)."""
    if not contents:
        raise ValueError("no permits to render")
    first = _normalised(contents[0])
    title = sheet_title(first.title_vi, first.title_en, any(content.demo for content in contents))
    return impose_on_sheets([render_permits(contents)], title=title, author=first.issuing_body_vi)


def document_title(title_vi: str, title_en: str, demo: bool = False) -> str:
    """The PDF's title: the card's own, in both languages, marked DEMO on a demo installation."""
    title = f"{_nfc(title_vi)} / {_nfc(title_en)}"
    return title if not demo or "DEMO" in title.upper() else f"DEMO – {title}"


def sheet_title(title_vi: str, title_en: str, demo: bool = False) -> str:
    return f"{document_title(title_vi, title_en, demo)} – bản in / print sheet"


def impose_on_sheets(card_pdfs: list[bytes], *, title: str, author: str = "") -> bytes:
    """Every page of `card_pdfs` (A6-landscape cards), in order, four to an A4 page with crop marks.

    Each card's page becomes a form XObject, its content stream byte for byte as it was, drawn
    scaled, turned and moved into its place: stored permits make a sheet without being rendered
    again, and nothing is parsed (merging pages operator by operator took a quarter of a second a card).
    """
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (ArrayObject, DecodedStreamObject, DictionaryObject, FloatObject, NameObject)

    cards = [page for pdf in card_pdfs for page in PdfReader(io.BytesIO(pdf)).pages]
    if not cards:
        raise ValueError("no permits to render")
    writer = PdfWriter(clone_from=io.BytesIO(_sheet_frames(len(cards), title, author)))
    for number, sheet in enumerate(writer.pages):
        operators = [sheet.get_contents().get_data()]
        forms = DictionaryObject()
        on_sheet = cards[number * CARDS_PER_SHEET:(number + 1) * CARDS_PER_SHEET]
        for index, (card, (left, top)) in enumerate(zip(on_sheet, sheet_slots()), start=1):
            box = card.mediabox
            form = DecodedStreamObject()
            form.set_data(card.get_contents().get_data())
            form.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Form"),
                         NameObject("/BBox"): ArrayObject(FloatObject(value) for value in
                                                          (box.left, box.bottom, box.right, box.top)),
                         NameObject("/Resources"): card["/Resources"].clone(writer)})
            name = f"/Card{index}"
            forms[NameObject(name)] = writer._add_object(form.flate_encode())
            # A quarter turn anticlockwise (the card's top to the left), scaled, its turned lower-left
            # corner on the slot's: x' = -s (y - bottom) + e, y' = s (x - left) + f.
            e = left * mm + float(box.top - box.bottom) * SHEET_SCALE + float(box.bottom) * SHEET_SCALE
            f = (SHEET_HEIGHT_MM - top) * mm - float(box.width) * SHEET_SCALE - float(box.left) * SHEET_SCALE
            operators.append(f"q 0 {SHEET_SCALE:g} {-SHEET_SCALE:g} 0 {e:.4f} {f:.4f} cm {name} Do Q".encode())
        resources = sheet["/Resources"].get_object()
        resources[NameObject("/XObject")] = forms
        content = DecodedStreamObject()
        content.set_data(b"\n".join(operators))
        sheet[NameObject("/Contents")] = writer._add_object(content.flate_encode())
    writer.add_metadata({"/Title": title, "/Subject": title, "/Author": author, "/Creator": "PressDesk",
                         "/Producer": "PressDesk"})
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def sheet_card_size() -> tuple[float, float]:
    """(width, height) in mm of a card as placed on the sheet: turned, so the card's height is its width."""
    return PAGE_HEIGHT_MM * SHEET_SCALE, PAGE_WIDTH_MM * SHEET_SCALE


def sheet_slots() -> list[tuple[float, float]]:
    """The (left, top) corners in mm of the four cards on a sheet, row by row."""
    width, height = sheet_card_size()
    left = (SHEET_WIDTH_MM - 2 * width - SHEET_GUTTER) / 2
    top = (SHEET_HEIGHT_MM - 2 * height - SHEET_GUTTER) / 2
    return [(left + column * (width + SHEET_GUTTER), top + row * (height + SHEET_GUTTER))
            for row in range(2) for column in range(2)]


def _sheet_frames(count: int, title: str, author: str) -> bytes:
    """The A4 pages for `count` cards: crop marks round each card's place, and how to print and cut."""
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=SHEET_SIZE, invariant=1, pageCompression=1)
    canvas.setTitle(title)
    canvas.setAuthor(author)
    canvas.setCreator("PressDesk")
    pages = -(-count // CARDS_PER_SHEET)
    width, height = sheet_card_size()
    slots = sheet_slots()
    for page in range(pages):
        on_page = min(CARDS_PER_SHEET, count - page * CARDS_PER_SHEET)
        canvas.setStrokeColor(INK)
        canvas.setLineWidth(CROP_MARK_WIDTH)
        for left, top in slots[:on_page]:
            _crop_marks(canvas, left, top, width, height)
        top_margin = slots[0][1]
        canvas.setFillColor(GREY)
        canvas.setFont(SANS_ITALIC, 6.5)
        canvas.drawString(slots[0][0] * mm, (SHEET_HEIGHT_MM - top_margin / 2 - 0.8) * mm,
                          _truncate(SHEET_INSTRUCTION, SANS_ITALIC, 6.5, 2 * width + SHEET_GUTTER - 30))
        canvas.setFont(SANS_BOLD, 6.5)
        canvas.drawRightString((slots[1][0] + width) * mm, (SHEET_HEIGHT_MM - top_margin / 2 - 0.8) * mm,
                               f"Trang / Page {page + 1}/{pages}")
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _crop_marks(canvas: Canvas, left: float, top: float, width: float, height: float) -> None:
    """At each corner, one short line on each edge's extension, starting a little off the corner."""
    near, far = CROP_MARK_OFFSET, CROP_MARK_OFFSET + CROP_MARK_LENGTH

    def line(x1, y1, x2, y2):  # mm from the sheet's top-left
        canvas.line(x1 * mm, (SHEET_HEIGHT_MM - y1) * mm, x2 * mm, (SHEET_HEIGHT_MM - y2) * mm)

    for x, outwards_x in ((left, -1), (left + width, 1)):
        for y, outwards_y in ((top, -1), (top + height, 1)):
            line(x + outwards_x * near, y, x + outwards_x * far, y)
            line(x, y + outwards_y * near, x, y + outwards_y * far)


# --- drawing -------------------------------------------------------------------------------

def _draw_permit(canvas: Canvas, permit: PermitContent) -> None:
    if permit.demo:
        _draw_demo_watermark(canvas)
    if permit.draft:
        _draw_draft_watermark(canvas)
    _draw_frame(canvas)
    _draw_header(canvas, permit)
    _draw_title(canvas, permit)
    _draw_photo(canvas, permit.photo)
    _draw_details(canvas, permit)
    _draw_qr_block(canvas, permit.verification_url, permit.draft)
    _draw_validity(canvas, permit)
    _draw_places(canvas, permit)
    _draw_escort_and_conditions(canvas, permit)


def _draw_frame(canvas: Canvas) -> None:
    canvas.setStrokeColor(RED)
    canvas.setLineWidth(0.9)
    width, height = PAGE_WIDTH_MM - 2 * FRAME_INSET, PAGE_HEIGHT_MM - 2 * FRAME_INSET
    canvas.rect(FRAME_INSET * mm, FRAME_INSET * mm, width * mm, height * mm, stroke=1, fill=0)
    canvas.setLineWidth(0.3)
    canvas.rect((FRAME_INSET + 0.8) * mm, (FRAME_INSET + 0.8) * mm, (width - 1.6) * mm, (height - 1.6) * mm,
                stroke=1, fill=0)


def _draw_header(canvas: Canvas, permit: PermitContent) -> None:
    # Decree 30 habit: the issuing body and the number on the left, the national name, the motto
    # and the place and date on the right, the number and the date on one level.
    column = HEADER_COLUMN
    left_centre = INSET + column / 2
    right_centre = CONTENT_RIGHT - column / 2 + 3
    body_size, body_lines = _fit_lines(permit.issuing_body_vi.upper(), SERIF_BOLD, 7.0, 5.5, column, 2)
    english_size, english = _fit_one_line(permit.issuing_body_en, SANS_ITALIC, 5.4, 4.6, column)
    leading = body_size * 0.37 + 0.2
    baseline = HEADER_TOP + 2.6
    for line in body_lines:
        _centred(canvas, line, SERIF_BOLD, body_size, left_centre, baseline)
        baseline += leading
    english_baseline = baseline - leading + 2.7
    _centred(canvas, english, SANS_ITALIC, english_size, left_centre, english_baseline, GREY)
    _short_rule(canvas, left_centre, english_baseline + 1.2, 14.0)
    number = permit.register_number or (DATE_BLANK if permit.draft else "")
    if number:
        _centred(canvas, f"Số / No.: {number}", SANS_BOLD, 7.5, left_centre, NUMBER_BASELINE, RED)

    _centred(canvas, NATIONAL_NAME, SERIF_BOLD, 6.6, right_centre, HEADER_TOP + 2.6)
    _centred(canvas, NATIONAL_MOTTO, SERIF_BOLD, 7.2, right_centre, HEADER_TOP + 5.7)
    _short_rule(canvas, right_centre, HEADER_TOP + 6.7, _width_mm(NATIONAL_MOTTO, SERIF_BOLD, 7.2))
    _centred(canvas, "Socialist Republic of Viet Nam", SANS_ITALIC, 5.2, right_centre, HEADER_TOP + 9.3, GREY)
    if permit.place_name:
        size, line = _fit_one_line(vietnamese_date_line(permit.place_name, permit.issue_date), SERIF_ITALIC,
                                   7.4, 6.0, column)
        _centred(canvas, line, SERIF_ITALIC, size, right_centre, NUMBER_BASELINE)


def _draw_title(canvas: Canvas, permit: PermitContent) -> None:
    """The title on a light tint between two thin rules, and the approval letter it rests on."""
    left, right = FRAME_INSET + 0.8, LEFT_RIGHT
    canvas.setFillColor(RED_TINT)
    canvas.rect(left * mm, _y(TITLE_BOTTOM), (right - left) * mm, (TITLE_BOTTOM - TITLE_TOP) * mm, stroke=0, fill=1)
    canvas.setStrokeColor(RED)
    canvas.setLineWidth(0.6)
    for top in (TITLE_TOP, TITLE_BOTTOM):
        canvas.line(left * mm, _y(top), right * mm, _y(top))
    centre, width = (INSET + LEFT_RIGHT) / 2, LEFT_RIGHT - INSET - 2.0
    # One line, shrinking; a title too long even then takes two smaller lines.
    size, lines = _fit_shrinking_first(permit.title_vi, SANS_BOLD, TITLE_MAX_SIZE, TITLE_TWO_LINES_SIZE, width, 2)
    if len(lines) > 1:
        size, lines = _fit_lines(permit.title_vi, SANS_BOLD, TITLE_TWO_LINES_SIZE, TITLE_MIN_SIZE, width, 2)
    leading = size * 0.36
    baseline = TITLE_TOP + 1.4 + size * 0.3 - (leading / 2 if len(lines) > 1 else 0.0)
    for line in lines:
        _centred(canvas, line, SANS_BOLD, size, centre, baseline, RED)
        baseline += leading
    subtitle = permit.title_en
    if permit.demo:
        subtitle += "  ·  DEMO – KHÔNG CÓ GIÁ TRỊ / NOT VALID"
    size, line = _fit_one_line(subtitle, SANS_BOLD, 6.8, 5.2, width)
    _centred(canvas, line, SANS_BOLD, size, centre, TITLE_BOTTOM - 4.2, INK)
    if permit.approval_letter_number or permit.draft:
        size, line = _fit_one_line(_approval_line(permit), SANS_ITALIC, 5.6, 4.8, width)
        _centred(canvas, line, SANS_ITALIC, size, centre, TITLE_BOTTOM - 1.4, INK)


def _approval_line(permit: PermitContent) -> str:
    """ "Theo văn bản chấp thuận số 12/UBND-NgV / Issued on 25 February 2027 under approval letter No. 12/UBND-NgV"."""
    number = permit.approval_letter_number or DATE_BLANK
    issued = f"Issued on {_english_date(permit.issue_date)} under" if permit.issue_date else "Under"
    return f"Theo văn bản chấp thuận số {number} / {issued} approval letter No. {number}"


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
    # Under the quiet zone, not in it: the caption's tallest letters stay below the code's square.
    _centred(canvas, "Quét mã để kiểm tra", SANS_BOLD, 6.2, centre, QR_TOP + QR_SIZE + 2.3, INK)
    _centred(canvas, "Scan to verify", SANS_ITALIC, 5.8, centre, QR_TOP + QR_SIZE + 4.6, GREY)


def _draw_validity(canvas: Canvas, permit: PermitContent) -> None:
    left, width = INSET, LEFT_RIGHT - INSET
    canvas.setFillColor(RED_TINT)
    canvas.setStrokeColor(RED)
    canvas.setLineWidth(0.5)
    canvas.roundRect(left * mm, _y(VALIDITY_TOP + VALIDITY_HEIGHT), width * mm, VALIDITY_HEIGHT * mm,
                     1.2 * mm, stroke=1, fill=1)
    _label(canvas, f"Thời hạn hoạt động tại {permit.province_vi}", f"Valid in {permit.province_en}", left + 2,
           VALIDITY_TOP + 2.7, colour=RED, max_width=width - 4)
    start, end = permit.valid_from, permit.valid_until
    vietnamese = f"từ ngày {start:%d/%m/%Y} đến ngày {end:%d/%m/%Y}"
    english = f"valid from {_english_date(start)} to {_english_date(end)}"
    size, line = _fit_one_line(vietnamese, SANS_BOLD, 10.5, 8.0, width - 4)
    _text(canvas, line, SANS_BOLD, size, left + 2, VALIDITY_TOP + 6.5, INK)
    size, line = _fit_one_line(english, SANS_ITALIC, 7.0, 5.5, width - 4)
    _text(canvas, line, SANS_ITALIC, size, left + 2, VALIDITY_TOP + 9.2, INK)


def _draw_places(canvas: Canvas, permit: PermitContent) -> None:
    left, width = INSET, LEFT_RIGHT - INSET
    border = {place for place in permit.places if place in permit.border_places}
    legend = "khu vực biên giới / border area"
    legend_width = _width_mm(legend, SANS_BOLD, LABEL_SIZE) + 3.0 if border else 0.0
    _label(canvas, "Địa điểm được phép hoạt động", "Approved places", left, PLACES_TOP,
           max_width=width - legend_width)
    if border:
        legend_left = LEFT_RIGHT - legend_width + 3.0
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


def _draw_escort_and_conditions(canvas: Canvas, permit: PermitContent) -> None:
    """Under the QR code: the escort officer, whom a checkpoint can call (at most three lines),
    then the conditions, to the bottom of the card."""
    left, width = RIGHT_LEFT, CONTENT_RIGHT - RIGHT_LEFT + 0.5
    _label(canvas, "Cán bộ đi cùng", "Escort", left, ESCORT_TOP, max_width=width)
    # The phone number matters most at a checkpoint: it gets its lines first.
    phone = (_fit_shrinking_first(f"ĐT / Tel. {permit.escort_phone}", SANS_BOLD, 7.6, 5.6, width, 2)
             if permit.escort_phone else (0.0, []))
    name = _fit_shrinking_first(permit.escort_name or "—", SANS_BOLD, 7.6, 6.4, width, min(2, 3 - len(phone[1])))
    baseline = ESCORT_TOP + 3.2
    for size, lines in (name, phone):
        for line in lines:
            _text(canvas, line, SANS_BOLD, size, left, baseline, INK)
            baseline += 2.9
    top = baseline + 1.3
    _label(canvas, "Điều kiện", "Conditions", left, top, max_width=width)
    max_lines = int((CONTENT_BOTTOM - (top + 2.9)) // CONDITIONS_LEADING) + 1
    baseline = top + 2.9
    for text, font, colour in _condition_lines(permit.conditions_vi, permit.conditions_en, width, max_lines):
        _text(canvas, text, font, CONDITIONS_SIZE, left, baseline, colour)
        baseline += CONDITIONS_LEADING


def _condition_lines(vietnamese: str, english: str, width: float, max_lines: int) -> list[tuple[str, str, Color]]:
    """(text, font, colour) lines: the Vietnamese, then the English in italics. When both do not fit
    in `max_lines`, each is cut with an ellipsis and the last lines point to the approval letter."""
    size = CONDITIONS_SIZE
    vi = _wrap(vietnamese, SANS, size, width) if vietnamese else []
    en = _wrap(english, SANS_ITALIC, size, width) if english else []
    if not vi and not en:
        return [("—", SANS_BOLD, INK)]
    if len(vi) + len(en) > max_lines:
        # The Vietnamese (the legal text) first; the English gets at most half of what is left.
        note = _wrap(CONDITIONS_CUT_NOTE, SANS_ITALIC, size, width)
        budget = max(1, max_lines - len(note))
        vi_budget = min(len(vi), budget - min(len(en), budget // 2))
        en_budget = min(len(en), budget - vi_budget)
        return ([(line, SANS, INK) for line in _cut(vietnamese, SANS, vi, vi_budget, width)]
                + [(line, SANS_ITALIC, GREY) for line in _cut(english, SANS_ITALIC, en, en_budget, width)]
                + [(line, SANS_ITALIC, INK) for line in note])
    return [(line, SANS, INK) for line in vi] + [(line, SANS_ITALIC, GREY) for line in en]


def _cut(text: str, font: str, lines: list[str], count: int, width: float) -> list[str]:
    """The first `count` of `text`'s wrapped `lines`, the last ending with an ellipsis if any text is left."""
    if count >= len(lines):
        return lines
    kept = lines[:count]
    if kept:
        kept[-1] = _truncate(kept[-1].rstrip(" ;,."), font, CONDITIONS_SIZE, width, always=True)
    return kept


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


def _short_rule(canvas, centre_mm, top_mm, length_mm) -> None:
    """The thin line Decree 30 sets under the issuing body and under the motto."""
    canvas.setStrokeColor(INK)
    canvas.setLineWidth(0.5)
    canvas.line((centre_mm - length_mm / 2) * mm, _y(top_mm), (centre_mm + length_mm / 2) * mm, _y(top_mm))


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


def _truncate(text: str, font: str, size: float, width_mm: float, always: bool = False) -> str:
    """`text`, cut and ended with an ellipsis if it is wider than `width_mm` (or `always`, as far as needed)."""
    if _width_mm(text, font, size) <= width_mm and not always:
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
