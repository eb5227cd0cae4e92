"""Official letters as PDFs: Decree 30/2020 layout, Vietnamese text that extracts, same bytes each time."""
from __future__ import annotations

import dataclasses
import datetime
import io
import unicodedata
from importlib.resources import files

import pdfplumber
import pypdf
import pytest
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics

from app.documents import fonts
from app.documents.letters import (BOTTOM_MARGIN_MM, COURTESY_NOTICE, LEFT_MARGIN_MM, RIGHT_MARGIN_MM,
                                   TOP_MARGIN_MM, EnglishCourtesy, LetterContent, layout_letter, render_letter,
                                   vietnamese_date_line)

MM = mm  # points per millimetre
TOLERANCE_MM = 0.05

VIETNAMESE_LETTERS = (
    "ăâđêôơư"
    "àảãáạ ằẳẵắặ ầẩẫấậ èẻẽéẹ ềểễếệ ìỉĩíị òỏõóọ ồổỗốộ ờởỡớợ ùủũúụ ừửữứự ỳỷỹýỵ"
).replace(" ", "")
VIETNAMESE_ALPHABET = VIETNAMESE_LETTERS + VIETNAMESE_LETTERS.upper()

TONE_MARK_SENTENCE = ("Đề nghị Văn phòng thường trú thực hiện đúng chương trình đã được chấp thuận, "
                      "tuân thủ quy định của pháp luật Việt Nam về hoạt động báo chí.")
SUBJECT = "chấp thuận hoạt động báo chí của Văn phòng thường trú Đài Truyền hình NHK tại Tỉnh DEMO Tây Ninh"
SIGNER_NAME = "Nguyễn Thị Ngọc Hường"

BODY = [
    "Xét đề nghị của Văn phòng thường trú Đài Truyền hình NHK (Nhật Bản) tại Hà Nội (hồ sơ số PD-2027-00042) "
    "về việc thực hiện chương trình hoạt động báo chí tại Tỉnh DEMO Tây Ninh từ ngày 10/3/2027 đến ngày "
    "14/3/2027, Ủy ban nhân dân tỉnh có ý kiến như sau:",
    "1. Chấp thuận cho đoàn phóng viên gồm: Tanaka Hiroshi (Nhật Bản, phóng viên); Suzuki Yuki (Nhật Bản, quay "
    "phim) thực hiện chương trình hoạt động báo chí với mục đích: giới thiệu tiềm năng du lịch, văn hóa và đời "
    "sống người dân vùng biên giới; nội dung: ghi hình Núi Bà Đen, Tòa Thánh Cao Đài, làng nghề bánh tráng phơi "
    "sương Trảng Bàng và phỏng vấn đại diện Sở Văn hóa, Thể thao và Du lịch.",
    "2. Địa điểm hoạt động: phường Tân Ninh, xã Trảng Bàng, xã Tân Biên và cửa khẩu quốc tế Xa Mát (khu vực "
    "biên giới, đã có ý kiến của Bộ Chỉ huy Bộ đội Biên phòng tỉnh).",
    "3. Điều kiện: không sử dụng thiết bị bay không người lái khi chưa có giấy phép bay; không ghi hình tại khu "
    "vực quân sự; tuân thủ hướng dẫn của cán bộ đi cùng.",
    "4. Cán bộ đi cùng, đầu mối liên hệ: bà Nguyễn Thị Thu Hường, chuyên viên Sở Ngoại vụ, điện thoại "
    "0276 000 0000.",
    TONE_MARK_SENTENCE + " Đoàn mang theo giấy phép khi tác nghiệp./.",
]
# Enough text to run onto a second page.
LONG_BODY = BODY[:-1] + [
    f"{n}. Nội dung bổ sung số {n}: chương trình ghi hình lễ hội văn hóa truyền thống, phỏng vấn nghệ nhân "
    "làng nghề, doanh nghiệp chế biến nông sản xuất khẩu và người dân ở các xã biên giới về đời sống, sinh kế; "
    "lịch trình cụ thể thống nhất với cơ quan chủ trì đón tiếp trước ít nhất một ngày làm việc."
    for n in range(5, 12)] + BODY[-1:]

ENGLISH = EnglishCourtesy(
    title="Approval of press activities (courtesy translation)", number_symbol="123/UBND-NgV",
    date_text="05 February 2027", recipients=["NHK Hanoi Bureau"],
    body=["Further to the request of NHK Hanoi Bureau (registration PD-2027-00042), the People's Committee of "
          "DEMO Tay Ninh Province approves the programme of the crew.",
          "Please carry out only the approved programme, respect Vietnamese law and carry your permits."],
    signer=["On behalf of the People's Committee", "p.p. Chairman", "Vice Chairman", SIGNER_NAME])


def make_content(**changes) -> LetterContent:
    content = LetterContent(
        parent_body=None, issuing_body="ỦY BAN NHÂN DÂN TỈNH DEMO TÂY NINH", number_symbol="123/UBND-NgV",
        place="Tây Ninh", date=datetime.date(2027, 2, 5), subject=SUBJECT,
        salutation_recipients=["Văn phòng thường trú Đài Truyền hình NHK tại Hà Nội"], body=BODY,
        recipients=["Như trên", "Bộ Ngoại giao (Cục Báo chí)", "Công an tỉnh", "Lưu: VT, NgV"],
        signer_authority=["TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH"], signer_title="PHÓ CHỦ TỊCH",
        signer_name=SIGNER_NAME, english=None)
    return dataclasses.replace(content, **changes)


def nfd(value):
    if isinstance(value, str):
        return unicodedata.normalize("NFD", value)
    if isinstance(value, list):
        return [nfd(item) for item in value]
    if dataclasses.is_dataclass(value):
        return dataclasses.replace(value, **{f.name: nfd(getattr(value, f.name)) for f in dataclasses.fields(value)})
    return value


def pypdf_text(pdf: bytes) -> str:
    """All pages' text, whitespace collapsed (a sentence may break across lines)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def find_chars(page, text: str) -> list[dict]:
    """The characters of the first occurrence of ``text`` on ``page``, spaces left out."""
    matches = page.search(text, regex=False)
    assert matches, f"{text!r} not found on page {page.page_number}"
    return [char for char in matches[0]["chars"] if char["text"].strip()]


def sizes_and_fonts(chars) -> tuple[set[float], set[str]]:
    return {round(char["size"], 2) for char in chars}, {char["fontname"] for char in chars}


@pytest.fixture(scope="module")
def one_page_pdf() -> bytes:
    return render_letter(make_content())


@pytest.fixture(scope="module")
def long_letter():
    return layout_letter(make_content(body=LONG_BODY, english=ENGLISH, signature_note="(Đã ký)"))


# --- helpers ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("date, expected", [
    (datetime.date(2027, 2, 5), "Tây Ninh, ngày 05 tháng 02 năm 2027"),
    (datetime.date(2027, 1, 10), "Tây Ninh, ngày 10 tháng 01 năm 2027"),
    (datetime.date(2027, 3, 5), "Tây Ninh, ngày 05 tháng 3 năm 2027"),
    (datetime.date(2027, 9, 30), "Tây Ninh, ngày 30 tháng 9 năm 2027"),
    (datetime.date(2027, 10, 9), "Tây Ninh, ngày 09 tháng 10 năm 2027"),
    (datetime.date(2027, 12, 25), "Tây Ninh, ngày 25 tháng 12 năm 2027"),
])
def test_date_line_puts_a_zero_before_days_below_10_and_months_below_3(date, expected):
    assert vietnamese_date_line("Tây Ninh", date) == expected


def test_date_line_is_nfc():
    line = vietnamese_date_line(unicodedata.normalize("NFD", "Tây Ninh"), datetime.date(2027, 2, 5))
    assert unicodedata.is_normalized("NFC", line)


# --- fonts -----------------------------------------------------------------------------------------

def test_fonts_register_once_and_come_from_the_font_packages():
    names = fonts.register_fonts()
    assert fonts.register_fonts() == names
    assert {fonts.SERIF, fonts.SERIF_BOLD, fonts.SERIF_ITALIC, fonts.SERIF_BOLD_ITALIC,
            fonts.SANS, fonts.SANS_BOLD} <= set(names)
    for name in names:
        font = pdfmetrics.getFont(name)
        assert font.face.filename.endswith(".ttf")
        assert "fontpkg_" in font.face.filename
    assert str(files("fontpkg_crimson_text")) in pdfmetrics.getFont(fonts.SERIF).face.filename


@pytest.mark.parametrize("font_name", [fonts.SERIF, fonts.SERIF_BOLD, fonts.SERIF_ITALIC, fonts.SERIF_BOLD_ITALIC,
                                       fonts.SANS, fonts.SANS_BOLD])
def test_every_vietnamese_letter_has_a_glyph(font_name):
    missing = [char for char in VIETNAMESE_ALPHABET if not fonts.has_glyph(font_name, char)]
    assert missing == []


# --- text ------------------------------------------------------------------------------------------

def test_vietnamese_text_extracts_exactly(one_page_pdf):
    text = pypdf_text(one_page_pdf)
    for expected in ["CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc", "Số: 123/UBND-NgV",
                     "Tây Ninh, ngày 05 tháng 02 năm 2027", "V/v chấp thuận hoạt động báo chí",
                     "Kính gửi: Văn phòng thường trú Đài Truyền hình NHK tại Hà Nội", TONE_MARK_SENTENCE,
                     "Nơi nhận:", "- Như trên;", "- Công an tỉnh;", "- Lưu: VT, NgV.", "TM. ỦY BAN NHÂN DÂN",
                     "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", SIGNER_NAME]:
        assert unicodedata.normalize("NFC", expected) in text
    assert unicodedata.is_normalized("NFC", text)
    assert "tại Hà Nội." not in text  # "Kính gửi: X" has no final full stop


def test_every_vietnamese_letter_extracts():
    pdf = render_letter(make_content(body=[VIETNAMESE_ALPHABET, " ".join(VIETNAMESE_ALPHABET)]))
    text = pypdf_text(pdf)
    assert VIETNAMESE_ALPHABET in text.replace(" ", "")
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        plumbed = "".join(char["text"] for page in document.pages for char in page.chars)
    assert VIETNAMESE_ALPHABET in plumbed


def test_decomposed_input_gives_the_same_pdf_as_composed_input(one_page_pdf):
    content = make_content()
    decomposed = nfd(content)
    assert decomposed.body != content.body  # the test really feeds NFD text
    pdf = render_letter(decomposed)
    assert pdf == one_page_pdf
    text = pypdf_text(pdf)
    assert not any(unicodedata.combining(char) for char in text)
    assert SIGNER_NAME in text


def test_a_character_the_serif_lacks_is_set_in_the_sans_and_still_extracts():
    assert not fonts.has_glyph(fonts.SERIF, "₫")  # why the fallback exists
    pdf = render_letter(make_content(body=["Kinh phí hỗ trợ: 5.000.000 ₫ (năm triệu đồng)./."]))
    assert "5.000.000 ₫ (năm triệu đồng)" in pypdf_text(pdf)
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        dong = [char for char in document.pages[0].chars if char["text"] == "₫"]
    assert dong and "BeVietnamPro" in dong[0]["fontname"]


def test_metadata_names_the_letter_and_the_issuing_body(one_page_pdf):
    metadata = pypdf.PdfReader(io.BytesIO(one_page_pdf)).metadata
    assert metadata.title == "Công văn số 123/UBND-NgV"
    assert metadata.subject == f"V/v {SUBJECT}"
    assert metadata.author == "ỦY BAN NHÂN DÂN TỈNH DEMO TÂY NINH"
    assert metadata.creation_date.date() == datetime.date(2027, 2, 5)


# --- layout ----------------------------------------------------------------------------------------

def test_a4_portrait_with_the_decree_margins_on_every_page(long_letter):
    with pdfplumber.open(io.BytesIO(long_letter.pdf)) as document:
        assert len(document.pages) >= 3  # two Vietnamese pages and the English one
        for page in document.pages:
            assert (round(page.width / MM), round(page.height / MM)) == (210, 297)
            # The page number (from page 2) sits in the top margin; everything else inside the margins.
            chars = [char for char in page.chars if char["top"] >= TOP_MARGIN_MM * MM / 2 + 8]
            left = min(char["x0"] for char in chars) / MM
            right = (page.width - max(char["x1"] for char in chars)) / MM
            top = min(char["top"] for char in chars) / MM
            bottom = (page.height - max(char["bottom"] for char in chars)) / MM
            assert 30 - TOLERANCE_MM <= left <= 35, page.page_number
            assert 15 - TOLERANCE_MM <= right <= 20, page.page_number
            assert 20 - TOLERANCE_MM <= top <= 25, page.page_number
            assert bottom >= 20 - TOLERANCE_MM, page.page_number
        # Justified body lines reach the right margin exactly.
        first = document.pages[0]
        assert abs((first.width - max(char["x1"] for char in first.chars)) / MM - RIGHT_MARGIN_MM) < TOLERANCE_MM
        assert abs(min(char["x0"] for char in first.chars) / MM - LEFT_MARGIN_MM) < TOLERANCE_MM
    assert 20 <= TOP_MARGIN_MM <= 25 and 20 <= BOTTOM_MARGIN_MM <= 25
    assert 30 <= LEFT_MARGIN_MM <= 35 and 15 <= RIGHT_MARGIN_MM <= 20


def test_font_sizes_and_faces_follow_the_decree(one_page_pdf):
    with pdfplumber.open(io.BytesIO(one_page_pdf)) as document:
        page = document.pages[0]
        cases = [
            ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 12, 13, "CrimsonText-Bold"),
            ("Độc lập - Tự do - Hạnh phúc", 13, 14, "CrimsonText-Bold"),
            ("ỦY BAN NHÂN DÂN", 12, 13, "CrimsonText-Bold"),
            ("Số: 123/UBND-NgV", 13, 13, "CrimsonText-Regular"),
            ("V/v chấp thuận", 12, 13, "CrimsonText-Regular"),
            ("Tây Ninh, ngày 05 tháng 02 năm 2027", 13, 14, "CrimsonText-Italic"),
            ("Kính gửi:", 13, 14, "CrimsonText-Regular"),
            ("Xét đề nghị của Văn phòng thường trú", 13, 14, "CrimsonText-Regular"),
            ("Nơi nhận:", 12, 12, "CrimsonText-BoldItalic"),
            ("- Bộ Ngoại giao (Cục Báo chí);", 11, 11, "CrimsonText-Regular"),
            ("- Lưu: VT, NgV.", 11, 11, "CrimsonText-Regular"),
            ("TM. ỦY BAN NHÂN DÂN", 13, 14, "CrimsonText-Bold"),
            ("PHÓ CHỦ TỊCH", 13, 14, "CrimsonText-Bold"),
            (SIGNER_NAME, 13, 14, "CrimsonText-Bold"),
        ]
        for text, low, high, face in cases:
            sizes, font_names = sizes_and_fonts(find_chars(page, text))
            assert len(sizes) == 1 and low <= sizes.pop() <= high, text
            # Embedded subsets ("ABCDEF+CrimsonText-Bold"), never a base-14 font.
            assert {name.split("+", 1)[1] for name in font_names} == {face}, text
            assert all("+" in name for name in font_names), text
        assert all("Helvetica" not in char["fontname"] and "Times" not in char["fontname"] for char in page.chars)


def test_fonts_are_embedded_with_a_tounicode_map(long_letter):
    reader = pypdf.PdfReader(io.BytesIO(long_letter.pdf))
    for page in reader.pages:
        font_objects = page["/Resources"]["/Font"]
        assert font_objects
        for reference in font_objects.values():
            font = reference.get_object()
            assert "/ToUnicode" in font
            descriptor = font["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor  # an embedded TrueType program
            assert "CrimsonText" in font["/BaseFont"]


def test_heading_has_two_columns_and_the_two_rules(one_page_pdf):
    with pdfplumber.open(io.BytesIO(one_page_pdf)) as document:
        page = document.pages[0]
        issuing_top = find_chars(page, "ỦY BAN NHÂN DÂN")
        issuing_bottom = find_chars(page, "TỈNH DEMO TÂY NINH")
        national = find_chars(page, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
        motto = find_chars(page, "Độc lập - Tự do - Hạnh phúc")
        number = find_chars(page, "Số: 123/UBND-NgV")
        date_line = find_chars(page, "Tây Ninh, ngày 05 tháng 02 năm 2027")

        def span(chars):
            return min(c["x0"] for c in chars), max(c["x1"] for c in chars), max(c["bottom"] for c in chars)

        # The issuing body breaks before the province; left column beside the national name.
        assert issuing_bottom[0]["top"] > issuing_top[0]["top"]
        assert national[0]["top"] == pytest.approx(issuing_top[0]["top"], abs=1)
        assert span(issuing_top)[1] < span(national)[0]
        # "Số" and the date line on one level, under the two blocks.
        assert number[0]["top"] == pytest.approx(date_line[0]["top"], abs=1)
        assert number[0]["top"] > span(issuing_bottom)[2] and date_line[0]["top"] > span(motto)[2]

        rules = sorted(page.lines, key=lambda line: line["x0"])
        assert len(rules) == 2
        issuing_rule, motto_rule = rules
        motto_left, motto_right, motto_bottom = span(motto)
        assert motto_rule["x0"] == pytest.approx(motto_left, abs=1)  # as long as the motto
        assert motto_rule["x1"] == pytest.approx(motto_right, abs=1)
        assert motto_bottom < motto_rule["top"] < date_line[0]["top"]
        issuing_left, issuing_right, issuing_bottom_y = span(issuing_bottom)
        ratio = (issuing_rule["x1"] - issuing_rule["x0"]) / (issuing_right - issuing_left)
        assert 1 / 3 <= ratio <= 1 / 2  # a short rule, centred under the issuing body
        assert (issuing_rule["x0"] + issuing_rule["x1"]) / 2 == pytest.approx((issuing_left + issuing_right) / 2,
                                                                              abs=2)
        assert issuing_bottom_y < issuing_rule["top"] < number[0]["top"]


def test_body_is_justified_with_a_first_line_indent(one_page_pdf):
    with pdfplumber.open(io.BytesIO(one_page_pdf)) as document:
        page = document.pages[0]
        first_word = find_chars(page, "Xét đề nghị")
        indent_mm = first_word[0]["x0"] / MM - LEFT_MARGIN_MM
        assert 10 <= indent_mm <= 12.7 + TOLERANCE_MM
        # The paragraph's next line starts at the margin and its first line ends at the right margin.
        first_line = [c for c in page.chars if abs(c["top"] - first_word[0]["top"]) < 1]
        assert max(c["x1"] for c in first_line) == pytest.approx(page.width - RIGHT_MARGIN_MM * MM, abs=0.5)
        next_line_top = min(c["top"] for c in page.chars if c["top"] > first_word[0]["top"] + 1)
        next_line = [c for c in page.chars if abs(c["top"] - next_line_top) < 1]
        assert min(c["x0"] for c in next_line) == pytest.approx(LEFT_MARGIN_MM * MM, abs=0.5)
        assert next_line_top - first_word[0]["top"] >= 14  # at least single spacing for 13-14 pt


def test_closing_puts_recipients_left_and_the_signer_right(one_page_pdf):
    with pdfplumber.open(io.BytesIO(one_page_pdf)) as document:
        page = document.pages[0]
        heading = find_chars(page, "Nơi nhận:")
        authority = find_chars(page, "TM. ỦY BAN NHÂN DÂN")
        title = find_chars(page, "PHÓ CHỦ TỊCH")
        name = find_chars(page, SIGNER_NAME)
        assert heading[0]["top"] == pytest.approx(authority[0]["top"], abs=2)
        assert max(c["x1"] for c in heading) < min(c["x0"] for c in authority)
        assert name[0]["top"] - title[0]["top"] > 20 * MM  # room for the signature and the seal


def test_signature_box_lies_between_the_signer_title_and_name(long_letter):
    box = long_letter.signature_box
    with pdfplumber.open(io.BytesIO(long_letter.pdf)) as document:
        page = document.pages[box.page_index]
        title = find_chars(page, "PHÓ CHỦ TỊCH")
        name = find_chars(page, SIGNER_NAME)
        note = find_chars(page, "(Đã ký)")
        height = page.height
    # Box in PDF coordinates (origin bottom-left), as pyHanko's SigFieldSpec(box=...) expects.
    assert height - box.y1 >= max(c["bottom"] for c in title) - 1
    assert height - box.y0 <= min(c["top"] for c in name) + 1
    assert box.x0 <= min(c["x0"] for c in note) and max(c["x1"] for c in note) <= box.x1
    assert box.x1 <= page.width - RIGHT_MARGIN_MM * MM
    assert box.box == (box.x0, box.y0, box.x1, box.y1)


def test_multiple_addressees_are_listed_after_kinh_gui():
    pdf = render_letter(make_content(salutation_recipients=["Bộ Ngoại giao (Cục Báo chí)", "Công an tỉnh",
                                                            "Bộ Chỉ huy Bộ đội Biên phòng tỉnh;"]))
    text = pypdf_text(pdf)
    assert "Kính gửi:" in text
    assert "- Bộ Ngoại giao (Cục Báo chí);" in text
    assert "- Công an tỉnh;" in text
    # The last addressee has no final mark (Decree 30/2020, as the province writes it).
    assert "- Bộ Chỉ huy Bộ đội Biên phòng tỉnh" in text and "Biên phòng tỉnh." not in text
    assert "Biên phòng tỉnh;" not in text


def test_markup_characters_are_printed_as_text():
    pdf = render_letter(make_content(salutation_recipients=["Báo A&B <Tin tức> \"Đông Nam Á\""],
                                     body=["Điểm 1 < điểm 2 & điểm 3 > 0./."]))
    text = pypdf_text(pdf)
    assert 'Kính gửi: Báo A&B <Tin tức> "Đông Nam Á"' in text
    assert "Điểm 1 < điểm 2 & điểm 3 > 0./." in text


def test_a_newline_in_the_issuing_body_forces_the_line_break():
    pdf = render_letter(make_content(issuing_body="Sở Ngoại vụ\ntỉnh Demo"))
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        page = document.pages[0]
        first, second = find_chars(page, "SỞ NGOẠI VỤ"), find_chars(page, "TỈNH DEMO")
    assert second[0]["top"] > first[-1]["top"]


def test_parent_body_is_printed_above_the_issuing_body():
    pdf = render_letter(make_content(parent_body="ỦY BAN NHÂN DÂN TỈNH DEMO TÂY NINH", issuing_body="SỞ NGOẠI VỤ"))
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        page = document.pages[0]
        parent = find_chars(page, "ỦY BAN NHÂN DÂN")
        issuing = find_chars(page, "SỞ NGOẠI VỤ")
    assert parent[0]["top"] < issuing[0]["top"]
    assert {c["fontname"].split("+")[1] for c in parent} == {"CrimsonText-Regular"}
    assert {c["fontname"].split("+")[1] for c in issuing} == {"CrimsonText-Bold"}


# --- long letters and the English courtesy translation ----------------------------------------------

def test_a_long_letter_flows_on_and_numbers_pages_from_two(long_letter):
    reader = pypdf.PdfReader(io.BytesIO(long_letter.pdf))
    assert len(reader.pages) == long_letter.page_count
    english_page = next(i for i, page in enumerate(reader.pages) if COURTESY_NOTICE in page.extract_text())
    assert english_page >= 2  # the Vietnamese letter took two pages at least
    with pdfplumber.open(io.BytesIO(long_letter.pdf)) as document:
        def top_margin_text(page):
            return "".join(c["text"] for c in page.chars if c["bottom"] <= TOP_MARGIN_MM * MM)

        assert top_margin_text(document.pages[0]) == ""
        for index in range(1, english_page):
            page = document.pages[index]
            number = [c for c in page.chars if c["bottom"] <= TOP_MARGIN_MM * MM]
            assert "".join(c["text"] for c in number) == str(index + 1)
            assert 13 <= number[0]["size"] <= 14
            centre = (min(c["x0"] for c in number) + max(c["x1"] for c in number)) / 2
            assert centre == pytest.approx(LEFT_MARGIN_MM * MM + (page.width - (LEFT_MARGIN_MM + RIGHT_MARGIN_MM)
                                                                   * MM) / 2, abs=1)
        assert top_margin_text(document.pages[english_page]) == ""
    vietnamese = " ".join(" ".join(reader.pages[i].extract_text().split()) for i in range(english_page))
    assert TONE_MARK_SENTENCE in vietnamese and SIGNER_NAME in vietnamese
    # The signature page carries body text too, and the signature is on the last Vietnamese page.
    assert long_letter.signature_box.page_index == english_page - 1
    assert "./." in reader.pages[english_page - 1].extract_text()


def test_english_courtesy_translation_follows(long_letter):
    reader = pypdf.PdfReader(io.BytesIO(long_letter.pdf))
    english = " ".join(" ".join(page.extract_text().split()) for page in reader.pages[-1:])
    for expected in [COURTESY_NOTICE, ENGLISH.title, "No. 123/UBND-NgV", "05 February 2027", "To: NHK Hanoi Bureau",
                     "respect Vietnamese law", "On behalf of the People's Committee", "Vice Chairman", SIGNER_NAME]:
        assert expected in english
    assert "Courtesy translation" not in pypdf_text(render_letter(make_content()))


# --- determinism -----------------------------------------------------------------------------------

def test_same_content_gives_the_same_bytes(one_page_pdf, long_letter):
    assert render_letter(make_content()) == one_page_pdf
    again = layout_letter(make_content(body=LONG_BODY, english=ENGLISH, signature_note="(Đã ký)"))
    assert again == long_letter
    assert render_letter(make_content(number_symbol="124/UBND-NgV")) != one_page_pdf
