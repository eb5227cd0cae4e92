"""Permit cards: the text a reader extracts, the QR code a phone decodes from the printed
pixels, "print all", the DEMO mark, and what must never be printed."""
from __future__ import annotations

import dataclasses
import io
import random
import string
import unicodedata
from datetime import date

import pypdf
import pypdfium2
import pytest
import segno
import zxingcpp
from PIL import Image, ImageDraw

from app.documents.permits import PAGE_SIZE, QR_SIZE, PermitContent, render_permit, render_permits
from app.documents.permits import _card_photo
from app.documents.qr import QUIET_ZONE_MODULES, _bits, dark_outlines, draw_qr, masked_symbols, penalty, qr_matrix

TOKEN = "AUV6ZGEAAeJAJsEmz-J1_d4T5s9R6tOR68XQlzABSIbIBKkwRUwpksOk_6zVf9ogBscXiQOiJOvQgL27w8X_G6GD61PwTpzZzLJIvgU"
PASSPORT_NUMBER = "C7654321"  # in the crew record, never on the card


def _photo(size=(600, 800), mode="RGB", fmt="JPEG") -> bytes:
    image = Image.new(mode, size, (190, 205, 225, 255) if mode == "RGBA" else (190, 205, 225))
    draw = ImageDraw.Draw(image)
    width, height = size
    draw.ellipse((width * 0.3, height * 0.2, width * 0.7, height * 0.55), fill=(225, 185, 160))
    draw.rectangle((width * 0.2, height * 0.6, width * 0.8, height), fill=(40, 60, 110))
    output = io.BytesIO()
    image.save(output, fmt)
    return output.getvalue()


CREW_MEMBER = {"full_name": "Nguyễn Thị Hoa", "passport_number": PASSPORT_NUMBER, "nationality": "FR"}


def _content(**changes) -> PermitContent:
    content = PermitContent(
        issuing_body_vi="ỦY BAN NHÂN DÂN TỈNH TÂY NINH",
        issuing_body_en="People's Committee of Tay Ninh Province",
        province_vi="Tỉnh Tây Ninh", province_en="Tay Ninh Province",
        register_number="45/GP-BC",
        holder_name=CREW_MEMBER["full_name"],
        nationality="Pháp / France",
        outlet="Agence France-Presse (AFP)",
        role_vi="Phóng viên", role_en="Reporter",
        valid_from=date(2027, 3, 1), valid_until=date(2027, 3, 15),
        places=["Phường Tân Ninh", "Cửa khẩu quốc tế Mộc Bài", "Núi Bà Đen"],
        border_places={"Cửa khẩu quốc tế Mộc Bài"},
        escort_name="Trần Văn Nam", escort_phone="0912 345 678",
        photo=_photo(),
        verification_url="https://pressdesk.tayninh.gov.vn/v/" + TOKEN,
        demo=False,
    )
    return dataclasses.replace(content, **changes)


def _text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def _decoded_qr_codes(pdf: bytes, dpi: int) -> list[list[str]]:
    """What a scanner reads from each page rendered to pixels at `dpi`."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        pages = []
        for index in range(len(document)):
            page = document[index]
            bitmap = page.render(scale=dpi / 72)
            image = bitmap.to_pil().convert("L")
            pages.append([barcode.text for barcode in zxingcpp.read_barcodes(image)
                          if barcode.format == zxingcpp.BarcodeFormat.QRCode])
            bitmap.close()
            page.close()
        return pages
    finally:
        document.close()


def test_the_card_says_everything_in_vietnamese_and_english():
    pdf = render_permit(_content())
    assert pdf.startswith(b"%PDF-")
    [text] = _text(pdf)
    for expected in [
        "ỦY BAN NHÂN DÂN TỈNH TÂY NINH", "People's Committee of Tay Ninh Province",
        "GIẤY PHÉP HOẠT ĐỘNG BÁO CHÍ", "PRESS ACTIVITY PERMIT",
        "45/GP-BC", "Nguyễn Thị Hoa", "Pháp / France", "Agence France-Presse (AFP)",
        "Phóng viên / Reporter",
        "từ ngày 01/03/2027 đến ngày 15/03/2027", "valid from 1 March 2027 to 15 March 2027",
        "TỈNH TÂY NINH", "Tay Ninh Province",
        "Phường Tân Ninh", "Cửa khẩu quốc tế Mộc Bài", "Núi Bà Đen", "khu vực biên giới / border area",
        "Trần Văn Nam", "0912 345 678",
        "Quét mã để kiểm tra", "Scan to verify",
    ]:
        assert expected in text, expected
    assert "DEMO" not in text


def test_the_page_is_a6_landscape():
    pdf = render_permit(_content())
    [page] = pypdf.PdfReader(io.BytesIO(pdf)).pages
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert (round(width), round(height)) == (round(PAGE_SIZE[0]), round(PAGE_SIZE[1])) == (420, 298)


@pytest.mark.parametrize("dpi", [200, 300])
def test_a_scanner_reads_exactly_the_verification_url(dpi):
    content = _content()
    assert _decoded_qr_codes(render_permit(content), dpi) == [[content.verification_url]]


def test_print_all_puts_each_crew_member_on_a_page_with_a_readable_code():
    first = _content()
    second = _content(holder_name="John Smith", role_vi="Quay phim", role_en="Camera operator", photo=None,
                      verification_url="https://pressdesk.tayninh.gov.vn/v/" + TOKEN[::-1])
    pdf = render_permits([first, second])
    assert len(pypdf.PdfReader(io.BytesIO(pdf)).pages) == 2
    assert _decoded_qr_codes(pdf, 200) == [[first.verification_url], [second.verification_url]]
    first_text, second_text = _text(pdf)
    assert "Nguyễn Thị Hoa" in first_text and "John Smith" not in first_text
    assert "John Smith" in second_text and "Quay phim / Camera operator" in second_text
    assert "Không có ảnh" in second_text and "No photo" in second_text


def test_demo_permits_say_so():
    [text] = _text(render_permit(_content(demo=True)))
    assert "DEMO" in text
    assert "KHÔNG CÓ GIÁ TRỊ / NOT VALID" in text


def test_no_passport_number_is_printed():
    assert not [item.name for item in dataclasses.fields(PermitContent) if "passport" in item.name]
    pdf = render_permits([_content(), _content(demo=True, photo=None)])
    for text in _text(pdf):
        assert PASSPORT_NUMBER not in text
    assert PASSPORT_NUMBER.encode() not in pdf


def test_text_is_nfc_normalised():
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hoa")
    assert decomposed != "Nguyễn Thị Hoa"
    [text] = _text(render_permit(_content(holder_name=decomposed, places=[unicodedata.normalize("NFD", "Núi Bà Đen")],
                                          border_places={"Núi Bà Đen"})))
    assert "Nguyễn Thị Hoa" in text  # composed, as typed on a Vietnamese keyboard
    assert "Núi Bà Đen" in text and "border area" in text  # the NFD place still matches its NFC mark


def test_output_is_deterministic():
    assert render_permit(_content()) == render_permit(_content())
    assert render_permits([_content(), _content(photo=None)]) == render_permits([_content(), _content(photo=None)])


def test_many_places_are_cut_with_a_count_of_the_rest():
    places = [f"Xã Biên Giới Số {number}" for number in range(1, 31)]
    [text] = _text(render_permit(_content(places=places, border_places=set(places[::2]))))
    assert "Xã Biên Giới Số 1" in text
    assert "Xã Biên Giới Số 30" not in text
    lines = [line.strip() for line in text.splitlines()]
    shown = sum(place in lines for place in places)
    assert 5 <= shown < 30
    assert f"+{30 - shown} (quét mã / scan QR)" in text


def test_long_names_shrink_and_wrap_rather_than_overflow():
    name = "Maximilian Alexander Friedrich von Hohenzollern-Sigmaringen"
    pdf = render_permit(_content(holder_name=name, outlet="Deutsche Welle " * 8))
    [text] = _text(pdf)
    assert "Maximilian Alexander Friedrich" in text and "Hohenzollern-Sigmaringen" in text
    assert "…" in text  # the outlet was cut
    assert _decoded_qr_codes(pdf, 200) == [[_content().verification_url]]


def test_no_places_and_no_escort_still_render():
    [text] = _text(render_permit(_content(places=[], border_places=set(), escort_name="", escort_phone="")))
    assert "—" in text
    assert "border area" not in text


def test_photos_of_any_common_kind_are_embedded_small():
    big_phone_photo = _photo(size=(3000, 4000))
    assert len(big_phone_photo) > 150_000
    pdf = render_permit(_content(photo=big_phone_photo))
    assert len(pdf) < 150_000  # resampled to 300 dpi at the printed size, not embedded whole
    render_permit(_content(photo=_photo(mode="RGBA", fmt="PNG")))
    render_permit(_content(photo=_photo(size=(800, 600), fmt="PNG")))  # landscape: cropped to 3:4


def test_an_unreadable_photo_is_an_error():
    with pytest.raises(ValueError, match="photo"):
        render_permit(_content(photo=b"not an image"))


def test_nothing_to_render_is_an_error():
    with pytest.raises(ValueError):
        render_permits([])


def test_the_qr_code_is_large_enough_for_a_phone():
    modules = len(qr_matrix(_content().verification_url))
    assert modules == 49  # version 8 at error level M, for a 103-character token
    module_mm = QR_SIZE / (modules + 2 * QUIET_ZONE_MODULES)
    assert module_mm >= 0.6


@pytest.mark.parametrize("data", ["x", "https://pressdesk.example/v/" + TOKEN, "Ω" * 300])
def test_qr_outlines_cover_exactly_the_dark_modules(data):
    matrix = qr_matrix(data)
    edges = [(x1, y1, y2) for outline in dark_outlines(matrix)
             for (x1, y1), (x2, y2) in zip(outline, outline[1:] + outline[:1]) if x1 == x2]
    for row, cells in enumerate(matrix):
        # Winding number at each module's centre: the vertical edges a ray to the right crosses.
        centre = row + 0.5
        crossings = [(x, 1 if y2 > y1 else -1) for x, y1, y2 in edges if min(y1, y2) < centre < max(y1, y2)]
        for column, dark in enumerate(cells):
            winding = sum(direction for x, direction in crossings if x > column + 0.5)
            assert winding == (1 if dark else 0), (row, column)


def test_draw_qr_on_a_bare_canvas_decodes():
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas

    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=(60 * mm, 60 * mm), invariant=1)
    canvas.setFillColorRGB(0.8, 0.1, 0.1)
    canvas.rect(0, 0, 60 * mm, 60 * mm, stroke=0, fill=1)  # the quiet zone must be painted white
    url = "https://pressdesk.example/v/abc"
    assert draw_qr(canvas, url, 10 * mm, 10 * mm, 40 * mm) == len(qr_matrix(url))
    canvas.showPage()
    canvas.save()
    assert _decoded_qr_codes(buffer.getvalue(), 150) == [[url]]


def test_a_photo_taken_sideways_prints_upright():
    stored = Image.new("RGB", (800, 600), (0, 0, 255))
    stored.paste((255, 0, 0), (0, 0, 400, 600))  # left half red: the top, once turned as EXIF says
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    output = io.BytesIO()
    stored.save(output, "JPEG", exif=exif)
    with Image.open(io.BytesIO(_card_photo(output.getvalue()))) as card:
        width, height = card.size
        assert height > width  # portrait, 3:4
        top, bottom = card.getpixel((width // 2, 3)), card.getpixel((width // 2, height - 4))
    assert top[0] > 200 and top[2] < 60
    assert bottom[2] > 200 and bottom[0] < 60


# --- the QR code: our mask choice on top of segno's encoding ---------------------------------

def _random_texts():
    generator = random.Random(2027)
    alphabet = string.ascii_letters + string.digits + "-_"
    texts = ["x", "PressDesk", "https://pressdesk.example/v/" + TOKEN, "Ω" * 120, "Nguyễn Thị Hoa " * 30]
    texts += ["https://pressdesk.tayninh.gov.vn/v/" + "".join(generator.choice(alphabet) for _ in range(103))
              for _ in range(4)]
    texts += ["".join(generator.choice(string.printable) for _ in range(length)) for length in (15, 90, 400, 1500)]
    return texts


@pytest.mark.parametrize("text", _random_texts())
def test_every_derived_mask_is_exactly_what_segno_builds(text):
    """The eight candidates are derived from segno's mask-0 symbol by XOR: each must equal segno's own."""
    size, candidates = masked_symbols(text)
    for mask, (rows, columns) in enumerate(candidates):
        reference = segno.make_qr(text, error="m", mask=mask).matrix
        assert len(reference) == size
        assert rows == [_bits(row) for row in reference], mask
        assert columns == [_bits(column) for column in zip(*reference)], mask


def _reference_penalty(matrix) -> int:
    """ISO/IEC 18004 N1-N4 the slow, obvious way, module by module."""
    size = len(matrix)
    lines = [list(row) for row in matrix] + [list(column) for column in zip(*matrix)]
    score = 0
    for line in lines:
        run, previous = 0, None
        for module in line + [None]:
            if module == previous:
                run += 1
            else:
                if previous is not None and run >= 5:
                    score += 3 + (run - 5)
                run, previous = 1, module
        padded = [0] * 4 + line + [0] * 4  # outside the symbol is light
        for start in range(4, len(padded) - 10):
            if padded[start:start + 7] == [1, 0, 1, 1, 1, 0, 1] and (
                    not any(padded[start - 4:start]) or not any(padded[start + 7:start + 11])):
                score += 40
    for i in range(size - 1):
        for j in range(size - 1):
            if matrix[i][j] == matrix[i][j + 1] == matrix[i + 1][j] == matrix[i + 1][j + 1]:
                score += 3
    dark = sum(map(sum, matrix))
    return score + 10 * (abs(20 * dark - 10 * size * size) // (size * size))


def test_the_penalty_follows_the_iso_rules():
    generator = random.Random(18004)
    matrices = [segno.make_qr(text, error="m", mask=mask).matrix for text in _random_texts()[:4] for mask in (0, 5)]
    for _ in range(12):
        size, density = generator.choice([21, 25, 49, 57]), generator.random()
        matrices.append([bytearray(generator.random() < density for _ in range(size)) for _ in range(size)])
    matrices.append([bytearray(21) for _ in range(21)])
    matrices.append([bytearray(b"\x01" * 21) for _ in range(21)])
    for matrix in matrices:
        rows, columns = [_bits(row) for row in matrix], [_bits(column) for column in zip(*matrix)]
        assert penalty(rows, columns, len(matrix)) == _reference_penalty(matrix)


@pytest.mark.parametrize("text", _random_texts()[:6])
def test_the_chosen_mask_has_the_lowest_penalty(text):
    chosen = qr_matrix(text)
    scores = [_reference_penalty(segno.make_qr(text, error="m", mask=mask).matrix) for mask in range(8)]
    best = scores.index(min(scores))
    assert [bytes(row) for row in chosen] == [bytes(row) for row in segno.make_qr(text, error="m", mask=best).matrix]
