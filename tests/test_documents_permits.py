"""Permit cards: the text a reader extracts, the QR code a phone decodes from the printed
pixels, "print all" (the A4 sheet with crop marks), colours for a laser printer, the DEMO mark,
and what must never be printed."""
from __future__ import annotations

import dataclasses
import io
import random
import string
import unicodedata
from datetime import date

import pdfplumber
import pypdf
import pypdfium2
import pytest
import segno
from PIL import Image, ImageDraw

from app.documents.permits import (CONDITIONS_CUT_NOTE, PAGE_SIZE, QR_LEFT, QR_SIZE, QR_TOP, SHEET_SIZE,
                                   PermitContent, impose_on_sheets, render_permit, render_permit_sheet, render_permits,
                                   sheet_card_size, sheet_slots)
from app.documents.permits import _card_photo
from app.documents.qr import QUIET_ZONE_MODULES, _bits, dark_outlines, draw_qr, masked_symbols, penalty, qr_matrix
from tests.support import qr_texts

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
MOFA_PERMIT_TITLE = "GIẤY PHÉP HOẠT ĐỘNG BÁO CHÍ"  # the Ministry's own permit (form 01/BC-BNG): never ours


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
        title_vi="GIẤY XÁC NHẬN HOẠT ĐỘNG BÁO CHÍ", title_en="CONFIRMATION OF APPROVED PRESS ACTIVITY",
        place_name="Tây Ninh", issue_date=date(2027, 2, 5), approval_letter_number="12/UBND-NgV",
        conditions_vi="Không quay phim tại khu vực quân sự.", conditions_en="No filming in military areas.",
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
            pages.append(qr_texts(image))
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
        "GIẤY XÁC NHẬN HOẠT ĐỘNG BÁO CHÍ", "CONFIRMATION OF APPROVED PRESS ACTIVITY",
        "Tây Ninh, ngày 05 tháng 02 năm 2027",  # Decree 30: the place and date of issue
        "Theo văn bản chấp thuận số 12/UBND-NgV", "Issued on 5 February 2027 under approval letter No. 12/UBND-NgV",
        "ĐIỀU KIỆN / Conditions", "Không quay phim tại khu vực quân sự.", "No filming in military areas.",
        "45/GP-BC", "Nguyễn Thị Hoa", "Pháp / France", "Agence France-Presse (AFP)",
        "Phóng viên / Reporter",
        "từ ngày 01/03/2027 đến ngày 15/03/2027", "valid from 1 March 2027 to 15 March 2027",
        "TỈNH TÂY NINH", "Tay Ninh Province",
        "Phường Tân Ninh", "Cửa khẩu quốc tế Mộc Bài", "Núi Bà Đen", "khu vực biên giới / border area",
        "CÁN BỘ ĐI CÙNG / Escort", "Trần Văn Nam", "0912 345 678",
        "Quét mã để kiểm tra", "Scan to verify",
    ]:
        assert expected in " ".join(text.split()), expected  # lines wrap wherever the layout says
    assert "DEMO" not in text
    assert MOFA_PERMIT_TITLE not in text and "PRESS ACTIVITY PERMIT" not in text
    assert CONDITIONS_CUT_NOTE not in text  # short conditions are printed whole


def test_the_title_is_the_profiles_on_the_card_and_in_the_metadata():
    pdf = render_permit(_content(title_vi="VĂN BẢN XÁC NHẬN TÁC NGHIỆP", title_en="PRESS ACTIVITY APPROVAL"))
    [text] = _text(pdf)
    assert "VĂN BẢN XÁC NHẬN TÁC NGHIỆP" in text and "PRESS ACTIVITY APPROVAL" in text
    assert "GIẤY XÁC NHẬN" not in text  # the default title is not hard-coded
    metadata = pypdf.PdfReader(io.BytesIO(pdf)).metadata
    assert metadata.title == "VĂN BẢN XÁC NHẬN TÁC NGHIỆP / PRESS ACTIVITY APPROVAL 45/GP-BC"
    sheet = pypdf.PdfReader(io.BytesIO(render_permit_sheet([_content(), _content(demo=True)]))).metadata
    assert sheet.title == "DEMO – GIẤY XÁC NHẬN HOẠT ĐỘNG BÁO CHÍ / CONFIRMATION OF APPROVED PRESS ACTIVITY – bản in / print sheet"
    for title in (metadata.title, sheet.title):
        assert MOFA_PERMIT_TITLE.casefold() not in title.casefold()


def test_the_demo_profile_does_not_borrow_the_ministrys_permit_title():
    import json

    from app.authority import DEMO_PROFILE, AuthorityProfile

    demo = json.loads(DEMO_PROFILE.read_text(encoding="utf-8"))
    for title in (demo["permit_title_vi"], AuthorityProfile.permit_title_vi):
        assert MOFA_PERMIT_TITLE.casefold() not in title.casefold()
    for title in (demo["permit_title_en"], AuthorityProfile.permit_title_en):
        assert "permit" not in title.casefold()


def test_long_conditions_are_cut_and_point_to_the_approval_letter():
    vietnamese = " ".join(f"Điều kiện số {number} về việc quay phim tại khu vực biên giới;" for number in range(1, 13))
    english = " ".join(f"Condition number {number} on filming in the border area;" for number in range(1, 13))
    [text] = _text(render_permit(_content(conditions_vi=vietnamese, conditions_en=english)))
    folded = " ".join(text.split())
    assert "Điều kiện số 1 về việc" in folded and "Condition number 1 on" in folded  # both languages begin
    assert "Điều kiện số 12" not in folded and "Condition number 12" not in folded
    assert folded.count("…") >= 2  # each language cut with an ellipsis
    assert "(xem văn bản chấp thuận / see the approval letter)" in folded


def test_a_draft_leaves_the_number_date_and_letter_blank():
    [text] = _text(render_permit(_content(draft=True, register_number="", verification_url="", issue_date=None,
                                          approval_letter_number="")))
    folded = " ".join(text.split())
    assert "Tây Ninh, ngày tháng năm" in folded  # the blanks the clerk's office fills in at issue
    assert "Theo văn bản chấp thuận số / Under approval letter No." in folded
    assert "DỰ THẢO / DRAFT" in folded and "45/GP-BC" not in folded


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


# --- "print all": the A4 sheet ----------------------------------------------------------------

MM = 72 / 25.4


def _crew(count: int) -> list[PermitContent]:
    return [_content(holder_name=f"Journalist Number {number}", photo=None if number % 2 else _photo(),
                     verification_url=f"https://pressdesk.tayninh.gov.vn/v/{TOKEN[:-3]}{number:03d}")
            for number in range(1, count + 1)]


def _crop_marks(page) -> list[tuple[float, float, float, float]]:
    """The hairlines of a pdfplumber page that are crop marks: 2.8 mm long, outside every card's place."""
    width, height = sheet_card_size()
    cards = [(left * MM, top * MM, (left + width) * MM, (top + height) * MM) for left, top in sheet_slots()]
    marks = []
    for line in page.lines:
        x0, top, x1, bottom = line["x0"], line["top"], line["x1"], line["bottom"]
        if abs(max(x1 - x0, bottom - top) - 2.8 * MM) < 0.2 and not any(
                x0 < right - 0.01 and x1 > left + 0.01 and top < lower - 0.01 and bottom > upper + 0.01
                for left, upper, right, lower in cards):
            marks.append((round(x0 / MM, 1), round(top / MM, 1), round(x1 / MM, 1), round(bottom / MM, 1)))
    return sorted(marks)


def test_print_all_is_an_a4_sheet_of_four_cards_to_a_page():
    crew = _crew(5)
    pdf = render_permit_sheet(crew)
    pages = pypdf.PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) == 2
    for page in pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (
            round(SHEET_SIZE[0]), round(SHEET_SIZE[1])) == (595, 842)  # A4 portrait
    first, second = _text(pdf)
    for content in crew[:4]:
        assert content.holder_name in first and content.holder_name not in second
    assert crew[4].holder_name in second
    assert first.count("GIẤY XÁC NHẬN HOẠT ĐỘNG BÁO CHÍ") == 4 and second.count("GIẤY XÁC NHẬN HOẠT ĐỘNG BÁO CHÍ") == 1
    assert "cắt theo dấu cắt / Print at actual size" in first and "Trang / Page 2/2" in second
    # Every card's code still reads from the printed sheet, its modules at 90 %.
    decoded = _decoded_qr_codes(pdf, 300)
    assert sorted(decoded[0]) == sorted(content.verification_url for content in crew[:4])
    assert decoded[1] == [crew[4].verification_url]


def test_each_card_on_the_sheet_has_crop_marks_at_its_corners_in_the_margins():
    pdf = render_permit_sheet(_crew(5))
    width, height = sheet_card_size()
    assert (round(width, 1), round(height, 1)) == (94.5, 133.2)  # A6 at 90 %, turned a quarter
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        full, partial = (_crop_marks(page) for page in document.pages)
    expected = []
    for left, top in sheet_slots():
        for x, out_x in ((left, -1), (left + width, 1)):
            for y, out_y in ((top, -1), (top + height, 1)):
                near, far = x + out_x * 1.0, x + out_x * 3.8
                expected.append((round(min(near, far), 1), round(y, 1), round(max(near, far), 1), round(y, 1)))
                near, far = y + out_y * 1.0, y + out_y * 3.8
                expected.append((round(x, 1), round(min(near, far), 1), round(x, 1), round(max(near, far), 1)))
    assert full == sorted(expected)  # 8 marks a card, where the cutter needs them
    assert len(partial) == 8  # the second page holds one card and its marks only
    # The marks stay in what an office printer prints: at least 4 mm from the sheet's edges.
    for x0, top, x1, bottom in full:
        assert x0 >= 4.0 and top >= 4.0 and x1 <= 210 - 4.0 and bottom <= 297 - 4.0


def test_the_sheet_puts_stored_permits_together_without_rendering_them_again():
    first, second = _content(), _content(holder_name="John Smith", photo=None)
    single = render_permit(first)
    sheet = impose_on_sheets([single, render_permit(second)], title="x")
    [text] = _text(sheet)
    assert "Nguyễn Thị Hoa" in text and "John Smith" in text
    [card] = _text(single)
    sheet_lines = {line.strip() for line in text.splitlines()}
    assert [line for line in card.splitlines() if line.strip() and line.strip() not in sheet_lines] == []
    [page] = pypdf.PdfReader(io.BytesIO(sheet)).pages
    assert page.mediabox.height > 800  # on A4
    # The card's drawing, byte for byte, placed as a form.
    placed = page["/Resources"]["/XObject"]["/Card1"].get_object().get_data()
    assert placed == pypdf.PdfReader(io.BytesIO(single)).pages[0].get_contents().get_data()
    with pytest.raises(ValueError):
        impose_on_sheets([], title="x")


def test_the_sheet_is_deterministic():
    assert render_permit_sheet(_crew(3)) == render_permit_sheet(_crew(3))


def _reddish_rows(pdf: bytes, dpi: int = 100) -> tuple[int, float]:
    """(rows more than half covered by strong red, share of strong red pixels) on the first page."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        page = document[0]
        image = page.render(scale=dpi / 72).to_pil().convert("RGB")
        page.close()
    finally:
        document.close()
    width, height = image.size
    pixels = image.load()
    red = [[pixels[x, y][0] > 110 and pixels[x, y][0] - max(pixels[x, y][1:]) > 60 for x in range(width)]
           for y in range(height)]
    rows = sum(sum(row) > width / 2 for row in red)
    return rows, sum(map(sum, red)) / (width * height)


@pytest.mark.parametrize("render", [render_permit, lambda content: render_permit_sheet([content] * 4)])
def test_no_solid_red_band_only_thin_rules(render):
    rows, share = _reddish_rows(render(_content(demo=True)))
    # A solid band under the title covered some 50 rows at 100 dpi and 12 % of the card;
    # the frame, the thin rules and the red text, a few rows and a few per cent.
    assert rows <= 12
    assert share < 0.06


def test_the_quiet_zone_of_the_qr_code_is_free():
    """Nothing but the code's own white square touches the ring of 4 modules round the code."""
    url = _content().verification_url
    quiet = QR_SIZE * QUIET_ZONE_MODULES / (len(qr_matrix(url)) + 2 * QUIET_ZONE_MODULES)
    left, top, right, bottom = QR_LEFT * MM, QR_TOP * MM, (QR_LEFT + QR_SIZE) * MM, (QR_TOP + QR_SIZE) * MM
    inner = (left + quiet * MM, top + quiet * MM, right - quiet * MM, bottom - quiet * MM)

    def touches_the_ring(item):
        x0, y0, x1, y1 = item["x0"], item["top"], item["x1"], item["bottom"]
        overlaps = x0 < right - 0.05 and x1 > left + 0.05 and y0 < bottom - 0.05 and y1 > top + 0.05
        in_code = x0 >= inner[0] - 0.05 and y0 >= inner[1] - 0.05 and x1 <= inner[2] + 0.05 and y1 <= inner[3] + 0.05
        round_it = x0 <= left and y0 <= top and x1 >= right and y1 >= bottom  # the card's frame, drawn round it
        return overlaps and not in_code and not round_it

    with pdfplumber.open(io.BytesIO(render_permit(_content()))) as document:
        page = document.pages[0]
        assert not [char["text"] for char in page.chars if touches_the_ring(char)]
        assert not [line for line in page.lines if touches_the_ring(line)]
        others = [rect for rect in page.rects if touches_the_ring(rect)]
        assert len(others) == 1 and tuple(others[0]["non_stroking_color"]) == (1, 1, 1)  # the quiet zone itself
        assert abs(others[0]["width"] - QR_SIZE * MM) < 0.1


# --- issued: what texts.permit takes from the profile, the approval letter and the decision ---------

def test_issued_permits_cite_the_approval_letter_and_print_on_the_a4_sheet(app, db, make_registration, make_user):
    import sqlalchemy as sa

    from app.auth.models import Role, User
    from app.documents.models import DocumentKind, IssuedDocument
    from app.documents.service import document_bytes, render_preview
    from app.extensions import db as app_db
    from app.registrations.models import Registration, Status
    from tests.support import decide

    registration, _correspondent = make_registration(Status.in_review)
    officer, leader = make_user(Role.officer), make_user(Role.leader)
    with app.test_request_context():
        stored = app_db.session.get(Registration, registration.id)
        preview = render_preview(stored, "permits", None)
        decide(stored, app_db.session.get(User, officer.id), app_db.session.get(User, leader.id),
               conditions_vi="Đi cùng cán bộ đi cùng trong suốt chương trình.\nKhông sử dụng flycam.",
               conditions_en="Stay with the escort.\nNo drones.")
        app_db.session.commit()
        documents = app_db.session.scalars(sa.select(IssuedDocument).where(
            IssuedDocument.registration_id == registration.id).order_by(IssuedDocument.id)).all()
        letter = documents[0]
        [permit] = [document for document in documents if document.kind is DocumentKind.permit]
        [sheet] = [document for document in documents if document.kind is DocumentKind.permit_set]
        card, sheet_pdf = document_bytes(permit), document_bytes(sheet)
        issue_date, letter_number = permit.issue_date, letter.register_number
        assert permit.holder.approval_letter_number == letter_number
    [text] = _text(card)
    folded = " ".join(text.split())
    for expected in ("GIẤY XÁC NHẬN HOẠT ĐỘNG BÁO CHÍ (DEMO)", "CONFIRMATION OF APPROVED PRESS ACTIVITY (DEMO)",
                     f"ngày {issue_date.day:02d} tháng", f"Theo văn bản chấp thuận số {letter_number}",
                     f"under approval letter No. {letter_number}",
                     "Đi cùng cán bộ đi cùng trong suốt chương trình; Không sử dụng flycam.",
                     "Stay with the escort; No drones."):
        assert expected in folded, expected
    assert MOFA_PERMIT_TITLE not in folded
    [page] = pypdf.PdfReader(io.BytesIO(sheet_pdf)).pages
    assert round(float(page.mediabox.height)) == 842  # the print-all set is the A4 sheet
    # The draft preview stays one A6 page a card, to read on screen, with the letter's number left blank.
    [draft] = pypdf.PdfReader(io.BytesIO(preview)).pages
    assert round(float(draft.mediabox.width)) == 420
    assert "Theo văn bản chấp thuận số /UBND-NgV" in " ".join(draft.extract_text().split())
