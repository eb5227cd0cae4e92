"""Official letters (công văn) as PDF bytes, laid out as Decree 30/2020/ND-CP, Appendix I, asks.

A pure module: no database and no request. The caller builds a ``LetterContent`` (see
``app.documents.texts``) and ``render_letter`` returns the PDF. The same content always gives
the same bytes, so a stored letter can be rebuilt and compared.

Page 1 carries the two-column heading (issuing body, number and subject on the left; national
name, motto and place/date on the right), then "Kính gửi", the body, and at the end "Nơi nhận"
beside the signer block. Pages from 2 on are numbered at the top centre. An optional English
courtesy translation follows on pages of its own.
"""
from __future__ import annotations

import datetime
import io
import unicodedata
from dataclasses import dataclass
from functools import cache
from xml.sax.saxutils import escape

from reportlab.lib.enums import TA_CENTER, TA_JUSTIFY, TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import (BaseDocTemplate, Flowable, Frame, HRFlowable, KeepTogether, NextPageTemplate,
                                PageBreak, PageTemplate, Paragraph, Spacer, Table, TableStyle)

from app.documents.fonts import (SANS, SANS_BOLD, SANS_BOLD_ITALIC, SANS_ITALIC, SERIF, SERIF_BOLD,
                                 SERIF_BOLD_ITALIC, SERIF_ITALIC, has_glyph, register_fonts)

# --- layout constants (Decree 30/2020/ND-CP, Appendix I) ---------------------------------------
PAGE_WIDTH, PAGE_HEIGHT = A4
TOP_MARGIN_MM = 20          # 20-25 mm
BOTTOM_MARGIN_MM = 20       # 20-25 mm
LEFT_MARGIN_MM = 30         # 30-35 mm
RIGHT_MARGIN_MM = 15        # 15-20 mm
CONTENT_WIDTH = PAGE_WIDTH - (LEFT_MARGIN_MM + RIGHT_MARGIN_MM) * mm
CONTENT_HEIGHT = PAGE_HEIGHT - (TOP_MARGIN_MM + BOTTOM_MARGIN_MM) * mm

# The heading and the closing are two columns; the right one holds the 13 pt national name.
LEFT_COLUMN_MM = 70
RIGHT_COLUMN_MM = 210 - LEFT_MARGIN_MM - RIGHT_MARGIN_MM - LEFT_COLUMN_MM

# Font sizes in points.
PARENT_BODY_PT = 13         # 12-13, regular capitals
ISSUING_BODY_PT = 13        # 12-13, bold capitals
NATIONAL_NAME_PT = 13       # 12-13, bold capitals
MOTTO_PT = 14               # 13-14, bold
NUMBER_PT = 13              # 13
SUBJECT_PT = 13             # 12-13
DATE_LINE_PT = 14           # 13-14, italic
SALUTATION_PT = 14          # 13-14
BODY_PT = 14                # 13-14
RECIPIENTS_HEADING_PT = 12  # 12, bold italic
RECIPIENTS_PT = 11          # 11
SIGNER_PT = 14              # 13-14, bold capitals; the name bold
PAGE_NUMBER_PT = 13         # 13-14, from page 2, top centre

LINE_SPACING = 1.3          # leading / size: the face's own single spacing (ascent + descent = 1.3 em)
BODY_FIRST_LINE_INDENT_MM = 12.7   # 1-1.27 cm
PARAGRAPH_SPACING_PT = 6
RULE_THICKNESS_PT = 0.75
ISSUING_BODY_RULE_RATIO = 0.4      # the rule under the issuing body: 1/3-1/2 of its line
SIGNATURE_SPACE_MM = 28            # room for the hand or digital signature and the seal
SIGNATURE_BOX_WIDTH_MM = 70

COURTESY_NOTICE = "Courtesy translation — the Vietnamese text prevails"


@dataclass(frozen=True)
class EnglishCourtesy:
    """The English courtesy translation printed after the Vietnamese letter."""

    title: str
    number_symbol: str
    date_text: str
    recipients: list[str]
    body: list[str]
    signer: list[str]  # authority and title lines, then the signer's name last


@dataclass(frozen=True)
class LetterContent:
    """What one official letter says; the module decides where and how it is printed."""

    parent_body: str | None       # "cơ quan chủ quản"; None when the issuing body has none above it
    issuing_body: str             # a "\n" forces a line break
    number_symbol: str            # "123/UBND-NgV"
    place: str                    # "Tây Ninh"
    date: datetime.date | None    # None on a draft: the clerk's office dates it at issue
    subject: str                  # the "V/v" text without the prefix
    salutation_recipients: list[str]
    body: list[str]
    recipients: list[str]         # "Nơi nhận" without "- "; the last one "Lưu: VT, ..."
    signer_authority: list[str]   # ["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH"]
    signer_title: str             # "PHÓ CHỦ TỊCH"
    signer_name: str
    english: EnglishCourtesy | None = None
    signature_note: str | None = None   # e.g. "(Đã ký)" on a copy; printed in the signature space
    draft: bool = False           # a preview: watermarked DỰ THẢO / DRAFT on every page


@dataclass(frozen=True)
class SignatureBox:
    """Where the signature space is: page index from 0, rectangle in PDF points from bottom-left."""

    page_index: int
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def box(self) -> tuple[float, float, float, float]:
        return (self.x0, self.y0, self.x1, self.y1)


@dataclass(frozen=True)
class RenderedLetter:
    pdf: bytes
    page_count: int
    signature_box: SignatureBox


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


DRAFT_WATERMARK = "DỰ THẢO / DRAFT"
DRAFT_WATERMARK_PT = 64
DATE_BLANK = "\u00a0" * 5


def vietnamese_date_line(place: str, date: datetime.date | None) -> str:
    """ "Tây Ninh, ngày 05 tháng 02 năm 2027": a 0 before days below 10 and months below 3 (Decree 30).
    A draft has no date yet: the blanks the office fills in at issue."""
    if date is None:
        return nfc(f"{place}, ngày {DATE_BLANK} tháng {DATE_BLANK} năm {DATE_BLANK}")
    day = f"{date.day:02d}"
    month = f"{date.month:02d}" if date.month < 3 else str(date.month)
    return nfc(f"{place}, ngày {day} tháng {month} năm {date.year}")


def render_letter(content: LetterContent) -> bytes:
    """The letter as PDF bytes (deterministic: the same content gives the same bytes)."""
    return layout_letter(content).pdf


def layout_letter(content: LetterContent) -> RenderedLetter:
    """The letter as PDF bytes with its page count and where the signature space lies."""
    register_fonts()
    buffer = io.BytesIO()
    signature = _SignatureSpace(content.signature_note)
    doc = _LetterDocTemplate(
        buffer, content.date, draft=content.draft, title=nfc(f"Công văn số {content.number_symbol}"), subject=nfc(f"V/v {content.subject}"),
        author=nfc(" ".join(content.issuing_body.split())), creator="PressDesk", lang="vi",
        keywords=[nfc(content.number_symbol), content.date.isoformat() if content.date else "draft"])
    story = _vietnamese_story(content, signature)
    if content.english is not None:
        story += [NextPageTemplate("english_first"), PageBreak(), *_english_story(content.english)]
    doc.build(story)
    if signature.box is None:  # pragma: no cover - the signature space is always drawn
        raise RuntimeError("the signature space was not laid out")
    return RenderedLetter(pdf=buffer.getvalue(), page_count=doc.page, signature_box=signature.box)


# --- page templates ------------------------------------------------------------------------------

class _LetterDocTemplate(BaseDocTemplate):
    """A4 with the Decree 30 margins; numbers pages from 2 on (and English pages on their own)."""

    def __init__(self, buffer, issue_date: datetime.date | None, draft: bool = False, **metadata):
        super().__init__(buffer, pagesize=A4, leftMargin=LEFT_MARGIN_MM * mm, rightMargin=RIGHT_MARGIN_MM * mm,
                         topMargin=TOP_MARGIN_MM * mm, bottomMargin=BOTTOM_MARGIN_MM * mm, invariant=True,
                         initialFontName=SERIF, initialFontSize=BODY_PT, **metadata)
        self.english_first_page = None
        self.draft = draft
        # The PDF's creation date is the letter's date (midnight, Vietnam time), never the clock;
        # a draft has none (a fixed date keeps its bytes deterministic).
        self.pdf_date = f"D:{issue_date:%Y%m%d}000000+07'00'" if issue_date else "D:20000101000000+07'00'"

        def frame(name):
            return Frame(self.leftMargin, self.bottomMargin, self.width, self.height, id=name,
                         leftPadding=0, rightPadding=0, topPadding=0, bottomPadding=0)

        self.addPageTemplates([
            PageTemplate("first", frames=[frame("first")], autoNextPageTemplate="later", onPage=self._watermark),
            PageTemplate("later", frames=[frame("later")], onPage=self._number_vietnamese_page),
            PageTemplate("english_first", frames=[frame("english_first")], onPage=self._start_english,
                         autoNextPageTemplate="english_later"),
            PageTemplate("english_later", frames=[frame("english_later")], onPage=self._number_english_page),
        ])

    def beforeDocument(self):
        self.canv.setDateFormatter(lambda *_: self.pdf_date)

    def _watermark(self, canvas, doc):
        if self.draft:
            draw_draft_watermark(canvas)

    def _number_vietnamese_page(self, canvas, doc):
        self._watermark(canvas, doc)
        _draw_page_number(canvas, doc.page)

    def _start_english(self, canvas, doc):
        self._watermark(canvas, doc)
        self.english_first_page = doc.page

    def _number_english_page(self, canvas, doc):
        self._watermark(canvas, doc)
        _draw_page_number(canvas, doc.page - self.english_first_page + 1)


def draw_draft_watermark(canvas) -> None:
    """ "DỰ THẢO / DRAFT" across the page, light enough to read the text under it."""
    canvas.saveState()
    canvas.setFillColorRGB(0.75, 0.1, 0.1, alpha=0.14)
    canvas.setFont(SERIF_BOLD, DRAFT_WATERMARK_PT)
    canvas.translate(PAGE_WIDTH / 2, PAGE_HEIGHT / 2)
    canvas.rotate(55)
    canvas.drawCentredString(0, -DRAFT_WATERMARK_PT / 3, nfc(DRAFT_WATERMARK))
    canvas.restoreState()


def _draw_page_number(canvas, number: int) -> None:
    # Decree 30: Arabic numerals, upright, centred in the top margin; page 1 carries none.
    canvas.saveState()
    canvas.setFont(SERIF, PAGE_NUMBER_PT)
    baseline = PAGE_HEIGHT - TOP_MARGIN_MM * mm / 2 - PAGE_NUMBER_PT * 0.3
    canvas.drawCentredString(LEFT_MARGIN_MM * mm + CONTENT_WIDTH / 2, baseline, str(number))
    canvas.restoreState()


# --- flowables -----------------------------------------------------------------------------------

class _SignatureSpace(Flowable):
    """Blank room for the signature and seal; remembers where it was drawn (for a visible signature)."""

    def __init__(self, note: str | None):
        super().__init__()
        self.note = nfc(note) if note else None
        self.height = SIGNATURE_SPACE_MM * mm
        self.box = None

    def wrap(self, available_width, available_height):
        self.width = available_width
        return available_width, self.height

    def draw(self):
        box_width = min(SIGNATURE_BOX_WIDTH_MM * mm, self.width)
        left = (self.width - box_width) / 2
        x0, y0 = self.canv.absolutePosition(left, 0)
        x1, y1 = self.canv.absolutePosition(left + box_width, self.height)
        self.box = SignatureBox(self.canv.getPageNumber() - 1, round(x0, 2), round(y0, 2), round(x1, 2),
                                round(y1, 2))
        if self.note:
            self.canv.setFont(SERIF_ITALIC, SIGNER_PT)
            self.canv.drawCentredString(self.width / 2, self.height / 2 - SIGNER_PT / 3, self.note)


def _rule(width: float, space_before: float = 1, space_after: float = 0) -> HRFlowable:
    return HRFlowable(width=width, thickness=RULE_THICKNESS_PT, lineCap="butt", color="black",
                      spaceBefore=space_before, spaceAfter=space_after, hAlign="CENTER")


# --- text ----------------------------------------------------------------------------------------

_FALLBACK_FONT = {SERIF: SANS, SERIF_BOLD: SANS_BOLD, SERIF_ITALIC: SANS_ITALIC, SERIF_BOLD_ITALIC: SANS_BOLD_ITALIC}


def _markup(text: str, font: str) -> str:
    """NFC text escaped for a Paragraph; a character the serif lacks (e.g. "₫") is set in the sans."""
    parts = []
    for char in nfc(text):
        if char in "\n\r\t" or has_glyph(font, char) or not has_glyph(_FALLBACK_FONT[font], char):
            parts.append(escape(char))
        else:
            parts.append(f'<font name="{_FALLBACK_FONT[font]}">{escape(char)}</font>')
    return "".join(parts)


@cache
def _style(name: str, font: str, size: float, alignment=TA_CENTER, **extra) -> ParagraphStyle:
    attributes = dict(fontName=font, fontSize=size, leading=size * LINE_SPACING, alignment=alignment)
    attributes.update(extra)
    return ParagraphStyle(name, **attributes)


def _para(text: str, font: str, size: float, alignment=TA_CENTER, **extra) -> Paragraph:
    style = _style(f"{font}-{size}-{alignment}-{sorted(extra.items())}", font, size, alignment, **extra)
    return Paragraph(_markup(text, font), style)


def _lines_para(lines: list[str], font: str, size: float, alignment=TA_CENTER) -> Paragraph:
    style = _style(f"{font}-{size}-{alignment}-lines", font, size, alignment)
    return Paragraph("<br/>".join(_markup(line, font) for line in lines), style)


def _fit_lines(text: str, font: str, size: float, width: float) -> list[str]:
    r"""Split a heading in capitals into balanced lines that fit ``width``.

    An explicit "\n" always breaks. Otherwise a name too long for one line breaks before the
    administrative level ("TỈNH", "THÀNH PHỐ") when both halves fit, else into two balanced
    lines, else word by word.
    """
    lines = []
    for line in nfc(text).split("\n"):
        words = line.split()
        if not words:
            continue
        if stringWidth(" ".join(words), font, size) <= width:
            lines.append(" ".join(words))
            continue
        splits = [(" ".join(words[:i]), " ".join(words[i:])) for i in range(1, len(words))]
        fitting = [pair for pair in splits if all(stringWidth(part, font, size) <= width for part in pair)]
        preferred = [pair for pair in fitting if pair[1].startswith(("TỈNH ", "THÀNH PHỐ "))]
        if preferred or fitting:
            widest = lambda pair: max(stringWidth(part, font, size) for part in pair)  # noqa: E731
            lines.extend(min(preferred or fitting, key=widest))
            continue
        current = []
        for word in words:  # greedy, for a name too long for two lines
            if current and stringWidth(" ".join(current + [word]), font, size) > width:
                lines.append(" ".join(current))
                current = []
            current.append(word)
        lines.append(" ".join(current))
    return lines


def _listed(items: list[str]) -> list[str]:
    """ "- A;" for each item and "- Z." for the last, as the Decree writes lists of addressees."""
    cleaned = [nfc(item).strip().rstrip(";.").rstrip() for item in items if item.strip()]
    return [f"- {item};" for item in cleaned[:-1]] + [f"- {item}." for item in cleaned[-1:]]


# --- the Vietnamese letter -----------------------------------------------------------------------

def _table(rows, col_widths, **kwargs) -> Table:
    table = Table(rows, colWidths=col_widths, **kwargs)
    table.setStyle(TableStyle([
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (0, 0), (-1, -1), "CENTER"),
        ("FONTNAME", (0, 0), (-1, -1), SERIF),  # else the cells select Helvetica, unembedded
        ("LEFTPADDING", (0, 0), (-1, -1), 0), ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ("TOPPADDING", (0, 0), (-1, -1), 0), ("BOTTOMPADDING", (0, 0), (-1, -1), 0),
    ]))
    return table


def _heading(content: LetterContent) -> Table:
    left_width, right_width = LEFT_COLUMN_MM * mm, RIGHT_COLUMN_MM * mm
    issuing_lines = _fit_lines(content.issuing_body.upper(), SERIF_BOLD, ISSUING_BODY_PT, left_width)
    issuing_rule = ISSUING_BODY_RULE_RATIO * max(stringWidth(line, SERIF_BOLD, ISSUING_BODY_PT)
                                                  for line in issuing_lines)
    body_block = []
    if content.parent_body:
        body_block.append(_lines_para(_fit_lines(content.parent_body.upper(), SERIF, PARENT_BODY_PT, left_width),
                                      SERIF, PARENT_BODY_PT))
    body_block += [_lines_para(issuing_lines, SERIF_BOLD, ISSUING_BODY_PT), _rule(issuing_rule, space_before=4)]

    national_name, motto = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc"
    nation_block = [_para(national_name, SERIF_BOLD, NATIONAL_NAME_PT),
                    _para(motto, SERIF_BOLD, MOTTO_PT),
                    _rule(stringWidth(motto, SERIF_BOLD, MOTTO_PT), space_before=4)]

    number_block = [_para(f"Số: {content.number_symbol}", SERIF, NUMBER_PT)]
    if content.subject:
        number_block.append(_para(f"V/v {content.subject}", SERIF, SUBJECT_PT, spaceBefore=2))
    date_block = [_para(vietnamese_date_line(content.place, content.date), SERIF_ITALIC, DATE_LINE_PT)]

    table = _table([[body_block, nation_block], [number_block, date_block]], [left_width, right_width])
    table.setStyle(TableStyle([("TOPPADDING", (0, 1), (-1, 1), 8)]))
    return table


def _salutation(recipients: list[str]):
    """ "Kính gửi: X" with no final full stop; several addressees one per line, "- A;" then "- Z"."""
    label, lines = "Kính gửi:", [line[:-1] if line.endswith(".") else line for line in _listed(recipients)[-1:]]
    lines = _listed(recipients)[:-1] + lines
    if not lines:
        return Spacer(0, 0)
    if len(lines) == 1:
        return _para(f"{label} {lines[0][2:]}", SERIF, SALUTATION_PT)
    label_width = stringWidth(label, SERIF, SALUTATION_PT) + 6
    lines_width = min(max(stringWidth(line, SERIF, SALUTATION_PT) for line in lines) + 2,
                      CONTENT_WIDTH - label_width - 20 * mm)
    style = dict(leftIndent=stringWidth("- ", SERIF, SALUTATION_PT))
    style["firstLineIndent"] = -style["leftIndent"]
    cells = [[_para(label, SERIF, SALUTATION_PT, TA_LEFT),
              [_para(line, SERIF, SALUTATION_PT, TA_LEFT, **style) for line in lines]]]
    return _table(cells, [label_width, lines_width], hAlign="CENTER")


def _body(paragraphs: list[str]) -> list[Paragraph]:
    return [_para(text, SERIF, BODY_PT, TA_JUSTIFY, firstLineIndent=BODY_FIRST_LINE_INDENT_MM * mm,
                  spaceAfter=PARAGRAPH_SPACING_PT) for text in paragraphs if text.strip()]


def _closing(content: LetterContent, signature: _SignatureSpace) -> Table:
    recipients_block = []
    if content.recipients:
        dash = stringWidth("- ", SERIF, RECIPIENTS_PT)
        recipients_block = [_para("Nơi nhận:", SERIF_BOLD_ITALIC, RECIPIENTS_HEADING_PT, TA_LEFT)] + [
            _para(line, SERIF, RECIPIENTS_PT, TA_LEFT, leftIndent=dash, firstLineIndent=-dash)
            for line in _listed(content.recipients)]
    signer_lines = [line.upper() for line in [*content.signer_authority, content.signer_title] if line.strip()]
    signer_block = [_lines_para(signer_lines, SERIF_BOLD, SIGNER_PT), signature,
                    _para(content.signer_name, SERIF_BOLD, SIGNER_PT)]
    return _table([[recipients_block, signer_block]], [LEFT_COLUMN_MM * mm, RIGHT_COLUMN_MM * mm])


def _vietnamese_story(content: LetterContent, signature: _SignatureSpace) -> list:
    story = [_heading(content), Spacer(0, 14), _salutation(content.salutation_recipients), Spacer(0, 10)]
    body = _body(content.body)
    # The signature never stands alone on a page: the last paragraph goes with it.
    return story + body[:-1] + [KeepTogether(body[-1:] + [Spacer(0, 4), _closing(content, signature)])]


# --- the English courtesy translation -----------------------------------------------------------

def _english_story(english: EnglishCourtesy) -> list:
    half = CONTENT_WIDTH / 2
    story = [_para(COURTESY_NOTICE, SERIF_ITALIC, RECIPIENTS_HEADING_PT),
             _rule(CONTENT_WIDTH, space_before=4, space_after=14),
             _para(english.title, SERIF_BOLD, SALUTATION_PT, spaceAfter=10),
             _table([[_para(f"No. {english.number_symbol}", SERIF, NUMBER_PT, TA_LEFT),
                      _para(english.date_text, SERIF_ITALIC, NUMBER_PT, TA_RIGHT)]], [half, half]),
             Spacer(0, 12)]
    if english.recipients:
        story.append(_para("To: " + "; ".join(nfc(r).strip().rstrip(";.") for r in english.recipients),
                           SERIF, SALUTATION_PT, TA_LEFT, spaceAfter=10))
    story += _body(english.body)
    if english.signer:
        *titles, name = english.signer
        signer_block = []
        if titles:
            signer_block.append(_lines_para(titles, SERIF_BOLD, SIGNER_PT))
        signer_block += [Spacer(0, 12 * mm), _para(name, SERIF_BOLD, SIGNER_PT)]
        story += [Spacer(0, 4), _table([["", signer_block]], [LEFT_COLUMN_MM * mm, RIGHT_COLUMN_MM * mm])]
    return story
