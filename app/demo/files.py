"""DEMO files made at load time: one-page PDFs (reportlab) and images (Pillow), each marked DEMO.

Nothing here is a real document or a real face: portraits are a drawn silhouette with initials,
passport scans a drawn data page with "DEMO" across it and a specimen machine-readable zone.
Everything is drawn from the names and dates given, so two loads make the same pictures, and
no file of it is kept in git.
"""
from __future__ import annotations

import hashlib
import io
import unicodedata
from datetime import date
from functools import lru_cache
from importlib.resources import as_file, files

from PIL import Image, ImageDraw, ImageFont
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from app.documents.fonts import SANS, SANS_BOLD, register_fonts

DEMO_MARK = "DEMO"
PORTRAIT_SIZE = (450, 600)  # pixels, 3:4 like a passport photo
PASSPORT_SIZE = (1240, 874)  # pixels: an ID-3 data page at 300 dpi
PRESS_CARD_SIZE = (1012, 638)  # pixels: an ID-1 card at 300 dpi
JPEG_QUALITY = 85
PAGE_MARGIN = 20 * mm
LINE = 6.2 * mm
WATERMARK_GREY = Color(0.85, 0.1, 0.1, alpha=0.18)
# Soft backgrounds for the portraits, picked by the name so each person keeps theirs.
BACKGROUNDS = ["#d7e3f4", "#e4ecd9", "#f3e1d4", "#e6dcef", "#d9ecec", "#f1e6c8"]
SKIN_TONES = ["#8d5524", "#c68642", "#e0ac69", "#f1c27d", "#ffdbac", "#a0522d"]


# --- images ------------------------------------------------------------------------------

@lru_cache(maxsize=16)
def _font(size: int, bold: bool = True) -> ImageFont.FreeTypeFont:
    name = "files/BeVietnamPro-Bold.ttf" if bold else "files/BeVietnamPro-Regular.ttf"
    with as_file(files("fontpkg_be_vietnam_pro").joinpath(name)) as path:
        return ImageFont.truetype(str(path), size)


def initials(full_name: str) -> str:
    """"Nguyễn Thị Hoa" -> "NTH", "Sato Haruki" -> "SH": the first letter of each word, up to three."""
    letters = [word[0] for word in unicodedata.normalize("NFC", full_name).split() if word[0].isalpha()]
    return "".join(letters[:3]).upper() or "?"


def _pick(options: list[str], key: str) -> str:
    return options[hashlib.sha256(key.encode("utf-8")).digest()[0] % len(options)]


def _jpeg(image: Image.Image) -> bytes:
    output = io.BytesIO()
    image.save(output, "JPEG", quality=JPEG_QUALITY)
    return output.getvalue()


def _centred_text(draw: ImageDraw.ImageDraw, centre: tuple[float, float], text: str, font, fill) -> None:
    draw.text(centre, text, font=font, fill=fill, anchor="mm")


def _portrait_image(full_name: str, size: tuple[int, int] = PORTRAIT_SIZE) -> Image.Image:
    width, height = size
    image = Image.new("RGB", size, _pick(BACKGROUNDS, full_name))
    draw = ImageDraw.Draw(image)
    skin = _pick(SKIN_TONES, full_name[::-1])
    # Shoulders, neck and head: a plain silhouette, nobody's face.
    draw.ellipse((width * 0.08, height * 0.70, width * 0.92, height * 1.25), fill="#44546a")
    draw.rectangle((width * 0.42, height * 0.52, width * 0.58, height * 0.74), fill=skin)
    draw.ellipse((width * 0.27, height * 0.16, width * 0.73, height * 0.62), fill=skin)
    _centred_text(draw, (width / 2, height * 0.39), initials(full_name), _font(int(height * 0.12)), "white")
    draw.rectangle((0, height * 0.86, width, height), fill="#b3261e")
    _centred_text(draw, (width / 2, height * 0.93), f"{DEMO_MARK} PHOTO", _font(int(height * 0.055)), "white")
    return image


def demo_portrait(full_name: str) -> bytes:
    """A JPEG placeholder portrait: a drawn silhouette with the person's initials and a DEMO band."""
    return _jpeg(_portrait_image(full_name))


@lru_cache(maxsize=4)
def _diagonal_stamp(text: str, size: int) -> Image.Image:
    """`text` in translucent red, turned 25 degrees, on a transparent background just large enough."""
    font = _font(size)
    left, top, right, bottom = font.getbbox(text)
    stamp = Image.new("RGBA", (right - left + 20, bottom - top + 20), (0, 0, 0, 0))
    ImageDraw.Draw(stamp).text((10 - left, 10 - top), text, font=font, fill=(200, 30, 30, 70))
    return stamp.rotate(25, resample=Image.Resampling.BICUBIC, expand=True)


def _diagonal_mark(image: Image.Image, text: str) -> Image.Image:
    stamp = _diagonal_stamp(text, int(image.height * 0.28))
    marked = image.copy()
    marked.paste(stamp, ((image.width - stamp.width) // 2, (image.height - stamp.height) // 2), stamp)
    return marked


def _mrz_name(full_name: str) -> str:
    plain = unicodedata.normalize("NFKD", full_name.replace("Đ", "D").replace("đ", "d"))
    letters = "".join(character for character in plain if character.isascii() and (character.isalpha() or
                                                                                   character == " "))
    words = letters.upper().split()
    return (words[0] + "<<" + "<".join(words[1:])) if words else "DEMO"


@lru_cache(maxsize=64)  # each crew member's scan is attached to each of their registrations
def demo_passport_scan(full_name: str, nationality: str, passport_number: str, date_of_birth: date,
                       passport_expiry: date) -> bytes:
    """A JPEG "scan" of a passport data page, drawn, crossed with DEMO, with a specimen MRZ."""
    width, height = PASSPORT_SIZE
    image = Image.new("RGB", PASSPORT_SIZE, "#eef1e6")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 110), fill="#2f4858")
    draw.text((40, 55), f"{DEMO_MARK} PASSPORT · SPECIMEN · NOT A TRAVEL DOCUMENT", font=_font(40), fill="white",
              anchor="lm")
    image.paste(_portrait_image(full_name, (300, 400)), (40, 150))
    fields = [("Surname / Given names", full_name), ("Nationality", nationality),
              ("Date of birth", date_of_birth.strftime("%d %b %Y")), ("Passport No.", passport_number),
              ("Date of expiry", passport_expiry.strftime("%d %b %Y")), ("Authority", f"{DEMO_MARK} issuing office")]
    for row, (label, value) in enumerate(fields):
        top = 150 + row * 64
        draw.text((380, top), label, font=_font(22, bold=False), fill="#5b6770")
        draw.text((380, top + 24), value, font=_font(32), fill="#1b1f23")
    code = (nationality.upper() + "<<<")[:3]
    line_one = f"P<{code}{_mrz_name(full_name)}".ljust(44, "<")[:44]
    line_two = (passport_number.upper().replace("-", "<") + "<" * 9)[:9] + "0" + code + \
        date_of_birth.strftime("%y%m%d") + "0<" + passport_expiry.strftime("%y%m%d") + "0" + DEMO_MARK
    line_two = line_two.ljust(44, "<")[:44]
    draw.rectangle((0, height - 170, width, height), fill="#f7f7f2")
    for number, line in enumerate((line_one, line_two)):
        draw.text((40, height - 150 + number * 64), line, font=_font(40, bold=False), fill="#1b1f23")
    return _jpeg(_diagonal_mark(image, DEMO_MARK))


def demo_press_card(full_name: str, outlet_name: str, card_number: str) -> bytes:
    """A PNG press card of the outlet, drawn, with a DEMO band."""
    width, height = PRESS_CARD_SIZE
    image = Image.new("RGB", PRESS_CARD_SIZE, "white")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, width, 120), fill="#1f3b73")
    draw.text((36, 60), "PRESS", font=_font(64), fill="white", anchor="lm")
    draw.text((width - 36, 60), outlet_name[:32], font=_font(28, bold=False), fill="white", anchor="rm")
    image.paste(_portrait_image(full_name, (240, 320)), (36, 150))
    draw.text((310, 170), full_name, font=_font(40), fill="#1b1f23")
    draw.text((310, 240), f"Card No. {card_number}", font=_font(30, bold=False), fill="#1b1f23")
    draw.rectangle((0, height - 90, width, height), fill="#b3261e")
    _centred_text(draw, (width / 2, height - 45), f"{DEMO_MARK} PRESS CARD · NOT VALID", _font(38), "white")
    output = io.BytesIO()
    image.save(output, "PNG")
    return output.getvalue()


# --- one-page PDFs ------------------------------------------------------------------------

class _Page:
    """A one-page A4 document with a DEMO watermark and a running text position."""

    def __init__(self, title: str, author: str):
        register_fonts()
        self.output = io.BytesIO()
        self.canvas = Canvas(self.output, pagesize=A4, invariant=1)
        self.canvas.setTitle(f"{DEMO_MARK} {title}")
        self.canvas.setAuthor(author)
        self.canvas.setSubject(f"{DEMO_MARK} data of PressDesk: not a real document")
        width, height = A4
        self.canvas.saveState()
        self.canvas.setFillColor(WATERMARK_GREY)
        self.canvas.setFont(SANS_BOLD, 150)
        self.canvas.translate(width / 2, height / 2)
        self.canvas.rotate(40)
        self.canvas.drawCentredString(0, -50, DEMO_MARK)
        self.canvas.restoreState()
        self.canvas.setFillColor(HexColor("#b3261e"))
        self.canvas.setFont(SANS_BOLD, 9)
        self.canvas.drawCentredString(width / 2, height - 10 * mm,
                                      f"{DEMO_MARK} DOCUMENT · generated by PressDesk's demo data · not real")
        self.canvas.drawCentredString(width / 2, 10 * mm, f"{DEMO_MARK} · {title}")
        self.canvas.setFillColor(HexColor("#1b1f23"))
        self.y = height - PAGE_MARGIN - 8 * mm

    def line(self, text: str, *, size: float = 11, bold: bool = False, gap: float = LINE, x: float = PAGE_MARGIN,
             centred: bool = False) -> None:
        self.canvas.setFont(SANS_BOLD if bold else SANS, size)
        if centred:
            self.canvas.drawCentredString(A4[0] / 2, self.y, text)
        else:
            self.canvas.drawString(x, self.y, text)
        self.y -= gap

    def paragraph(self, text: str, *, size: float = 11) -> None:
        """Words wrapped to the text width."""
        width = A4[0] - 2 * PAGE_MARGIN
        words, current = text.split(), ""
        for word in words:
            candidate = f"{current} {word}".strip()
            if self.canvas.stringWidth(candidate, SANS, size) > width and current:
                self.line(current, size=size)
                current = word
            else:
                current = candidate
        if current:
            self.line(current, size=size)
        self.y -= LINE / 2

    def finish(self) -> bytes:
        self.canvas.showPage()
        self.canvas.save()
        return self.output.getvalue()


def _period(start: date, end: date) -> str:
    return f"{start:%d %B %Y} to {end:%d %B %Y}"


def demo_request_letter(outlet_name: str, author: str, purpose: str, start: date, end: date,
                        places: list[str], crew: list[str], written_on: date) -> bytes:
    """The outlet's request letter to the province (what a resident office sends), one page."""
    page = _Page("Request letter", outlet_name)
    page.line(outlet_name, size=14, bold=True)
    page.line(f"{DEMO_MARK} address: 1 Tràng Tiền, Hà Nội", size=10, gap=LINE * 2)
    page.line(f"Hà Nội, {written_on:%d %B %Y}", gap=LINE * 1.5)
    page.line(f"To: {DEMO_MARK} Department of Foreign Affairs of the province", bold=True, gap=LINE * 1.5)
    page.line(f"Re: request to report in the province ({DEMO_MARK})", bold=True, gap=LINE * 1.5)
    page.paragraph("Dear Sir or Madam,")
    page.paragraph(f"We respectfully ask for permission to report in the province from {_period(start, end)}. "
                   f"Purpose: {purpose}.")
    page.paragraph("Places we would like to visit: " + ("; ".join(places) or "to be agreed") + ".")
    page.paragraph("Our crew: " + ("; ".join(crew) or "to be named") + ".")
    page.paragraph("We will follow the programme approved by the province and work with the officer it "
                   "designates. Thank you for your consideration.")
    page.y -= LINE
    page.line("Yours faithfully,")
    page.line(author, bold=True)
    page.line(f"Head of office ({DEMO_MARK} signature)", size=10)
    return page.finish()


def demo_mofa_permit(permit_number: str, outlet_name: str, crew: list[str], start: date, end: date,
                     issued_on: date) -> bytes:
    """The Ministry of Foreign Affairs' press permit of a non-resident crew, one page."""
    page = _Page("MOFA press permit", f"{DEMO_MARK} Ministry of Foreign Affairs")
    page.line("BỘ NGOẠI GIAO", size=12, bold=True, centred=True, gap=LINE * 0.9)
    page.line(f"{DEMO_MARK} MINISTRY OF FOREIGN AFFAIRS", size=12, bold=True, centred=True, gap=LINE * 0.9)
    page.line("Press and Information Department", size=10, centred=True, gap=LINE * 2)
    page.line("GIẤY PHÉP HOẠT ĐỘNG BÁO CHÍ / PRESS PERMIT", size=15, bold=True, centred=True, gap=LINE)
    page.line(f"No. {permit_number}", size=11, centred=True, gap=LINE * 2)
    page.paragraph(f"The Ministry permits the following journalists of {outlet_name} to carry out press "
                   f"activities in Viet Nam from {_period(start, end)}, in the provinces whose authorities agree "
                   "to receive them:")
    for name in crew:
        page.line(f"•  {name}", x=PAGE_MARGIN + 6 * mm)
    page.y -= LINE
    page.paragraph("The journalists shall present this permit and their passports to the provincial "
                   "authorities and follow the programme those authorities approve.")
    page.y -= LINE
    page.line(f"Hà Nội, {issued_on:%d %B %Y}", x=A4[0] / 2)
    page.line(f"For the Minister ({DEMO_MARK} signature)", bold=True, x=A4[0] / 2)
    return page.finish()


def demo_document(kind_label: str, outlet_name: str, purpose: str) -> bytes:
    """Any other attachment kind: a one-page DEMO document that says what it stands for."""
    page = _Page(kind_label, outlet_name)
    page.line(f"{DEMO_MARK} {kind_label}", size=16, bold=True, gap=LINE * 2)
    page.paragraph(f"This page stands for the {kind_label.lower()} that {outlet_name} would attach to its "
                   f"registration \u201c{purpose}\u201d. It is demo data, not a real document.")
    return page.finish()
