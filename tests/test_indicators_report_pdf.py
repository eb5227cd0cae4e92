"""The indicators report as an official PDF: Decree 30 heading, Vietnamese numbers, tables, charts."""
from __future__ import annotations

import dataclasses
import datetime
import io
import re
import unicodedata
from decimal import Decimal

import pdfplumber
import pypdf
import pypdfium2
import pytest
from reportlab.lib.units import mm

from app.indicators.report_pdf import (CHART_COLOUR, CHART_SECOND_COLOUR, NO_DATA, date_line, format_cell, format_number,
                                       render_report, report_symbol)
from app.indicators.tables import Figure, IndicatorReport, Table

MM = mm  # points per millimetre
TOLERANCE_MM = 0.05
TOP_MM, BOTTOM_MM, LEFT_MM, RIGHT_MM = 20, 20, 30, 15

COUNTRIES = ["Hàn Quốc", "Nhật Bản", "Hoa Kỳ", "Đức", "Pháp", "Vương quốc Liên hiệp Anh và Bắc Ai-len",
             "Ô-xtrây-li-a", "Trung Quốc"]
LONG_TITLE = ("phóng sự về làng nghề bánh tráng phơi sương Trảng Bàng và đời sống người dân vùng biên giới "
              "Tây Ninh")


def make_report(**changes) -> IndicatorReport:
    report = IndicatorReport(
        start=datetime.date(2026, 7, 1), end=datetime.date(2026, 9, 30),
        previous_start=datetime.date(2026, 4, 1), previous_end=datetime.date(2026, 6, 30),
        period_label="Quý III/2026", locale="vi",
        figures=[
            Figure("reporters_hosted", "Phóng viên nước ngoài được đón tiếp", 1234567, 1200000),
            Figure("registrations_received", "Hồ sơ đăng ký nhận được", 48, 52),
            Figure("answered_within_deadline", "Tỷ lệ trả lời đúng hạn", 87.5, 90.25, "%"),
            Figure("median_processing", "Thời gian xử lý trung vị", Decimal("2.5"), 3, "working days"),
            Figure("total_reach", "Tổng lượt tiếp cận", None, 5000),
        ],
        tables=[
            Table("by_country", "Phóng viên theo quốc tịch", ["Quốc tịch", "Số phóng viên", "Tỷ lệ (%)"],
                  [[country, 1000 - 90 * i, 12.5 - i] for i, country in enumerate(COUNTRIES)], chart="bar",
                  note="Một phóng viên có thể đến nhiều lần trong kỳ."),
            Table("by_month", "Hồ sơ theo tháng", ["Tháng", "Số hồ sơ"],
                  [[datetime.date(2026, month, 1), count]
                   for month, count in zip(range(1, 10), [3, 5, 4, 8, 12, 9, 15, 11, 14])], chart="line"),
            Table("flagged_products", "Tác phẩm xuyên tạc chủ quyền", ["Tác phẩm", "Cơ quan báo chí"], []),
            Table("products", "Tác phẩm báo chí về tỉnh", ["Ngày đăng", "Tiêu đề", "Cơ quan báo chí", "Lượt tiếp cận"],
                  [[datetime.date(2026, 7, 1) + datetime.timedelta(days=i), f"Tác phẩm số {i}: {LONG_TITLE}",
                    "Đài Truyền hình NHK", 1000 * i + 37] for i in range(40)]),
        ])
    return dataclasses.replace(report, **changes)


def render(app, report=None, **profile_changes) -> bytes:
    if profile_changes:
        profile = app.extensions["authority_profile"]
        app.extensions["authority_profile"] = dataclasses.replace(profile, **profile_changes)
    with app.test_request_context():
        return render_report(report or make_report())


_rendered: dict[str, bytes] = {}


@pytest.fixture
def report_pdf(app) -> bytes:
    """The example report with the demo authority profile (rendered once; the profile is the same file)."""
    if "demo" not in _rendered:
        _rendered["demo"] = render(app)
    return _rendered["demo"]


def pypdf_text(pdf: bytes) -> str:
    """All pages' text, whitespace collapsed (a sentence may break across lines)."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def page_texts(pdf: bytes) -> list[str]:
    return [" ".join(page.extract_text().split()) for page in pypdf.PdfReader(io.BytesIO(pdf)).pages]


def serif_chars(page) -> list[dict]:
    """The report's own text: the Crimson Text characters (the DEMO watermark is set in the sans)."""
    return [char for char in page.chars if "CrimsonText" in char["fontname"]]


def find_chars(page, text: str) -> list[dict]:
    matches = page.search(text, regex=False)
    assert matches, f"{text!r} not found on page {page.page_number}"
    return [char for char in matches[0]["chars"] if char["text"].strip()]


def faces(chars) -> set[str]:
    return {char["fontname"].split("+", 1)[1] for char in chars}


# --- formatting -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value, expected", [
    (0, "0"), (7, "7"), (1234, "1.234"), (1234567, "1.234.567"), (-1234567, "-1.234.567"),
    (87.5, "87,5"), (90.25, "90,25"), (2.675, "2,68"), (3.0, "3"), (1234.5, "1.234,5"),
    (Decimal("2.50"), "2,5"), (Decimal("1000000"), "1.000.000"), (Decimal("-0.004"), "0"), (None, "-"),
])
def test_numbers_are_written_the_vietnamese_way(value, expected):
    assert format_number(value) == expected


def test_changes_carry_their_sign():
    assert format_number(34567, signed=True) == "+34.567"
    assert format_number(-4, signed=True) == "-4"
    assert format_number(0, signed=True) == "0"


def test_cells_format_dates_and_keep_text():
    assert format_cell(datetime.date(2026, 7, 5)) == "05/07/2026"
    assert format_cell("Hàn Quốc") == "Hàn Quốc"
    assert format_cell(None) == "-"


def test_symbol_is_the_report_entry_else_bc_and_the_letter_symbol(app):
    profile = app.extensions["authority_profile"]
    assert "report" not in profile.document_symbols and "letter" not in profile.document_symbols
    assert report_symbol(profile) == "BC-UBND-NgV"  # the demo profile's letter series
    with_letter = dataclasses.replace(profile, document_symbols={"letter": "SNgV-LS"})
    assert report_symbol(with_letter) == "BC-SNgV-LS"
    with_report = dataclasses.replace(profile, document_symbols={"report": "UBND", "letter": "UBND-NgV"})
    assert report_symbol(with_report) == "BC-UBND"
    already_typed = dataclasses.replace(profile, document_symbols={"report": "BC-UBND"})
    assert report_symbol(already_typed) == "BC-UBND"
    assert date_line(profile) == "Tây Ninh, ngày ..... tháng ..... năm ......."


# --- the document -----------------------------------------------------------------------------------

def test_pdf_is_a4_portrait_with_several_pages_and_metadata(report_pdf):
    reader = pypdf.PdfReader(io.BytesIO(report_pdf))
    assert len(reader.pages) >= 3
    for page in reader.pages:
        width, height = float(page.mediabox.width), float(page.mediabox.height)
        assert (round(width / MM), round(height / MM)) == (210, 297)
    metadata = reader.metadata
    assert metadata.title == ("DEMO – Báo cáo kết quả công tác thông tin đối ngoại đối với phóng viên nước ngoài "
                              "quý III/2026")
    assert metadata.author == "ỦY BAN NHÂN DÂN TỈNH DEMO TÂY NINH"
    assert metadata.subject == "Từ ngày 01/07/2026 đến ngày 30/09/2026"
    assert metadata.creation_date.date() == datetime.date(2026, 9, 30)


def test_heading_title_and_period_extract_as_vietnamese_text(report_pdf):
    first = page_texts(report_pdf)[0]
    for expected in ["ỦY BAN NHÂN DÂN TỈNH DEMO TÂY NINH", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
                     "Độc lập - Tự do - Hạnh phúc", "Tây Ninh, ngày ..... tháng ..... năm .......", "BÁO CÁO",
                     "Kết quả công tác thông tin đối ngoại đối với phóng viên nước ngoài quý III/2026",
                     "Từ ngày 01/07/2026 đến ngày 30/09/2026", "Kính gửi: Bộ Ngoại giao (Cục Báo chí).",
                     "I. SỐ LIỆU CHÍNH", "II. SỐ LIỆU CHI TIẾT"]:
        assert expected in first, expected
    # The number is left blank for the clerk: "Số:" then only spaces before "/BC-".
    assert re.search(r"Số:\s+/BC-UBND-NgV", first)
    assert not re.search(r"Số:\s*\d", first)
    assert unicodedata.is_normalized("NFC", pypdf_text(report_pdf))


def test_heading_is_laid_out_as_the_decree_asks(report_pdf):
    with pdfplumber.open(io.BytesIO(report_pdf)) as document:
        page = document.pages[0]
        issuing = find_chars(page, "ỦY BAN NHÂN DÂN")
        nation = find_chars(page, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
        motto = find_chars(page, "Độc lập - Tự do - Hạnh phúc")
        number = find_chars(page, "Số:")
        symbol = find_chars(page, "/BC-UBND-NgV")
        date = find_chars(page, "Tây Ninh, ngày")
        title = find_chars(page, "BÁO CÁO")
        summary = find_chars(page, "Kết quả công tác")
        lines = page.lines + [edge for edge in page.edges if edge["orientation"] == "h"]
        centre = LEFT_MM * MM + (page.width - (LEFT_MM + RIGHT_MM) * MM) / 2
    assert issuing[0]["top"] == pytest.approx(nation[0]["top"], abs=1)
    assert max(c["x1"] for c in issuing) < min(c["x0"] for c in nation)  # issuing body left, nation right
    assert faces(issuing) == faces(nation) == faces(motto) == faces(title) == faces(summary) == {"CrimsonText-Bold"}
    assert faces(date) == {"CrimsonText-Italic"}
    assert number[0]["top"] == pytest.approx(date[0]["top"], abs=3)
    assert symbol[0]["x0"] - number[-1]["x1"] > 8 * MM  # room for the clerk to write the number
    issuing_bottom = max(c["bottom"] for c in issuing)
    assert any(issuing_bottom < line["top"] < number[0]["top"] and line["x1"] < centre for line in lines)
    assert any(max(c["bottom"] for c in motto) < line["top"] < date[0]["top"] and line["x0"] > centre
               for line in lines)
    title_centre = (min(c["x0"] for c in title) + max(c["x1"] for c in title)) / 2
    assert title_centre == pytest.approx(centre, abs=1)
    assert number[0]["top"] < title[0]["top"] < summary[0]["top"]
    assert 13 <= title[0]["size"] <= 14 and 13 <= summary[0]["size"] <= 14


def test_every_figure_is_printed_with_vietnamese_numbers(report_pdf):
    first = page_texts(report_pdf)[0]
    for expected in ["Phóng viên nước ngoài được đón tiếp 1.234.567 1.200.000 +34.567",
                     "Hồ sơ đăng ký nhận được 48 52 -4",
                     "Tỷ lệ trả lời đúng hạn (%) 87,5 90,25 -2,75",
                     "Thời gian xử lý trung vị (ngày làm việc) 2,5 3 -0,5",
                     "Tổng lượt tiếp cận - 5.000 -",
                     "Kỳ này", "Kỳ trước", "Tăng (+)/ giảm (-)",
                     "Kỳ trước: từ ngày 01/04/2026 đến ngày 30/06/2026."]:
        assert expected in first, expected


def test_numbers_are_right_aligned_in_their_column(report_pdf):
    with pdfplumber.open(io.BytesIO(report_pdf)) as document:
        page = document.pages[0]
        big, small = find_chars(page, "1.234.567"), find_chars(page, "48")
    assert max(c["x1"] for c in big) == pytest.approx(max(c["x1"] for c in small), abs=0.5)
    assert min(c["x0"] for c in big) < min(c["x0"] for c in small)


def test_tables_print_their_titles_rows_notes_and_dates(report_pdf):
    text = pypdf_text(report_pdf)
    for expected in ["1. Phóng viên theo quốc tịch", "2. Hồ sơ theo tháng", "3. Tác phẩm xuyên tạc chủ quyền",
                     "4. Tác phẩm báo chí về tỉnh", "Hàn Quốc 1.000 12,5", "Đức 730 9,5",
                     "Vương quốc Liên hiệp Anh và Bắc Ai-len 550 7,5", "Ô-xtrây-li-a 460 6,5",
                     "Một phóng viên có thể đến nhiều lần trong kỳ.", "01/09/2026 14", "09/08/2026",
                     "39.037"]:
        assert expected in text, expected


def test_an_empty_table_prints_a_sentence_instead_of_a_grid(report_pdf):
    text = pypdf_text(report_pdf)
    assert f"3. Tác phẩm xuyên tạc chủ quyền {NO_DATA}" in text
    assert text.count(NO_DATA) == 1
    assert "Tác phẩm Cơ quan báo chí" not in text  # its header row is not printed


def test_long_text_wraps_inside_its_column(report_pdf):
    with pdfplumber.open(io.BytesIO(report_pdf)) as document:
        page = next(page for page in document.pages if page.search("Tác phẩm số 0:", regex=False))
        title = find_chars(page, "Tác phẩm số 0:")
        next_row = find_chars(page, "Tác phẩm số 1:")
        outlet_column = min(c["x0"] for c in find_chars(page, "Đài Truyền"))
        cell = [c for c in page.chars if title[0]["top"] - 1 <= c["top"] < next_row[0]["top"] - 1
                and title[0]["x0"] - 1 <= c["x0"] < outlet_column - 4]
    assert len({round(c["top"]) for c in cell}) >= 2  # the title runs onto further lines of its cell
    assert min(c["x0"] for c in cell) == pytest.approx(title[0]["x0"], abs=0.5)
    assert max(c["x1"] for c in cell) < outlet_column - 4  # and never into the next column
    text = "".join(c["text"] for c in cell)
    assert text.replace(" ", "").endswith("TâyNinh")


def test_a_table_that_breaks_repeats_its_header_row(report_pdf):
    with pdfplumber.open(io.BytesIO(report_pdf)) as document:
        pages = [page for page in document.pages if page.search("Tác phẩm số", regex=False)]
        assert len(pages) >= 2
        for page in pages:
            header = find_chars(page, "Lượt tiếp cận")
            first_row = find_chars(page, "Tác phẩm số")
            assert faces(header) == {"CrimsonText-Bold"}
            assert header[0]["top"] < first_row[0]["top"]
            assert page.search("Ngày đăng", regex=False) and page.search("Tiêu đề", regex=False)
    numbers = [int(n) for n in re.findall(r"Tác phẩm số (\d+):", pypdf_text(report_pdf))]
    assert numbers == list(range(40))  # every row once, in order


def test_pages_are_numbered_at_the_top_centre_from_page_two(report_pdf):
    with pdfplumber.open(io.BytesIO(report_pdf)) as document:
        assert [c for c in serif_chars(document.pages[0]) if c["bottom"] <= TOP_MM * MM] == []
        for index, page in enumerate(document.pages[1:], start=2):
            number = [c for c in serif_chars(page) if c["bottom"] <= TOP_MM * MM]
            assert "".join(c["text"] for c in number) == str(index)
            centre = (min(c["x0"] for c in number) + max(c["x1"] for c in number)) / 2
            assert centre == pytest.approx(LEFT_MM * MM + (page.width - (LEFT_MM + RIGHT_MM) * MM) / 2, abs=1)


def test_everything_stays_inside_the_decree_margins(report_pdf):
    with pdfplumber.open(io.BytesIO(report_pdf)) as document:
        for page in document.pages:
            chars = [c for c in serif_chars(page) if c["top"] >= TOP_MM * MM / 2 + 8]  # the page number aside
            left = min(c["x0"] for c in chars) / MM
            right = (page.width - max(c["x1"] for c in chars)) / MM
            top = min(c["top"] for c in chars) / MM
            bottom = (page.height - max(c["bottom"] for c in chars)) / MM
            assert left >= LEFT_MM - TOLERANCE_MM, page.page_number
            assert right >= RIGHT_MM - TOLERANCE_MM, page.page_number
            assert top >= TOP_MM - TOLERANCE_MM, page.page_number
            assert bottom >= BOTTOM_MM - TOLERANCE_MM, page.page_number
            drawn = page.rects + page.lines + page.curves
            assert min(item["x0"] for item in drawn) >= LEFT_MM * MM - 1, page.page_number
            assert max(item["x1"] for item in drawn) <= page.width - RIGHT_MM * MM + 1, page.page_number
            assert max(item["bottom"] for item in drawn) <= page.height - BOTTOM_MM * MM + 1, page.page_number


def test_fonts_are_crimson_text_embedded(report_pdf):
    reader = pypdf.PdfReader(io.BytesIO(report_pdf))
    embedded = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant["/FontDescriptor"].get_object()
            assert "/FontFile2" in descriptor, font["/BaseFont"]  # a TrueType program inside the PDF
            embedded.add(str(font["/BaseFont"]).split("+", 1)[-1])
    assert {"CrimsonText-Regular", "CrimsonText-Bold", "CrimsonText-Italic", "CrimsonText-BoldItalic"} <= embedded
    assert not any(name.startswith(("Helvetica", "Times", "Courier")) for name in embedded)


def test_closing_has_the_recipients_left_and_the_signer_right(report_pdf):
    last = page_texts(report_pdf)[-1]
    for expected in ["Trên đây là báo cáo kết quả công tác thông tin đối ngoại đối với phóng viên nước ngoài "
                     "quý III/2026 của Ủy ban nhân dân tỉnh DEMO Tây Ninh./.", "Nơi nhận:", "- Như trên;",
                     "- Lưu: VT, NgV.", "TM. ỦY BAN NHÂN DÂN", "KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH"]:
        assert expected in last, expected
    with pdfplumber.open(io.BytesIO(report_pdf)) as document:
        page = document.pages[-1]
        heading = find_chars(page, "Nơi nhận:")
        signer = find_chars(page, "TM. ỦY BAN NHÂN DÂN")
        title = find_chars(page, "PHÓ CHỦ TỊCH")
        below_title = [c for c in serif_chars(page) if c["top"] > title[0]["bottom"]]
    assert faces(heading) == {"CrimsonText-BoldItalic"} and heading[0]["size"] == pytest.approx(12, abs=0.1)
    assert faces(signer) == {"CrimsonText-Bold"}
    assert heading[0]["top"] == pytest.approx(signer[0]["top"], abs=2)
    assert max(c["x1"] for c in heading) < min(c["x0"] for c in signer)
    # Room under the title for the signature and the seal (no name: the signer is chosen at signing).
    signer_side = [c for c in below_title if c["x0"] > min(ch["x0"] for ch in signer) - 5]
    assert signer_side == [] or min(c["top"] for c in signer_side) - title[0]["bottom"] > 20 * MM
    assert page.height - title[0]["bottom"] > BOTTOM_MM * MM + 20 * MM


# --- charts -------------------------------------------------------------------------------------------

def _chart_colour(item, target=CHART_COLOUR) -> bool:
    colour = item.get("non_stroking_color") or item.get("stroking_color")
    return colour is not None and len(colour) == 3 and all(
        abs(a - b) < 0.01 for a, b in zip(colour, (target.red, target.green, target.blue)))


def test_bar_chart_draws_a_bar_per_country_with_its_label_and_value(report_pdf):
    with pdfplumber.open(io.BytesIO(report_pdf)) as document:
        page = next(page for page in document.pages if page.search("Biểu đồ 1.", regex=False))
        bars = [rect for rect in page.rects if _chart_colour(rect)]
        assert len(bars) == len(COUNTRIES)
        widths = sorted((bar["x1"] - bar["x0"] for bar in bars), reverse=True)
        assert widths[0] / widths[-1] == pytest.approx(1000 / 370, rel=0.02)  # lengths follow the values
        top_bar = min(bars, key=lambda bar: bar["top"])
        assert top_bar["x1"] - top_bar["x0"] == widths[0]  # the first row is the top bar
        chart_top = min(bar["top"] for bar in bars) - 5
        chart_bottom = max(bar["bottom"] for bar in bars) + 5
        for country, value in [("Hàn Quốc", "1.000"), ("Đức", "730"), ("Ô-xtrây-li-a", "460"), ("Trung Quốc", "370")]:
            label = [m for m in page.search(country, regex=False) if chart_top < m["top"] < chart_bottom]
            assert label, country
            assert label[0]["x1"] <= min(bar["x0"] for bar in bars)  # the label left of the bars
            assert faces(c for c in label[0]["chars"] if c["text"].strip()) == {"CrimsonText-Regular"}
            amount = [m for m in page.search(value, regex=False) if chart_top < m["top"] < chart_bottom]
            assert amount and amount[0]["x0"] >= min(bar["x1"] for bar in bars) - 1, value


def test_line_chart_draws_the_months_as_a_joined_line(report_pdf):
    with pdfplumber.open(io.BytesIO(report_pdf)) as document:
        page = next(page for page in document.pages if page.search("Biểu đồ 2.", regex=False))
        caption = find_chars(page, "Biểu đồ 2.")
        trend = [item for item in page.curves + page.lines if _chart_colour(item)]
        assert trend, "no line in the chart colour"
        points = {(round(x), round(y)) for item in trend for x, y in item["pts"]}
        assert len(points) >= 9
        text = page.extract_text()
    for month in ["01/2026", "05/2026", "09/2026"]:
        assert month in text
    assert max(y for _, y in points) < caption[0]["top"]


def test_charts_are_visible_when_printed(report_pdf, tmp_path):
    document = pypdfium2.PdfDocument(report_pdf)
    with pdfplumber.open(io.BytesIO(report_pdf)) as plumbed:
        index = next(i for i, page in enumerate(plumbed.pages) if page.search("Biểu đồ 1.", regex=False))
    image = document[index].render(scale=1).to_pil().convert("RGB")
    image.save(tmp_path / "chart_page.png")
    target = tuple(round(255 * channel) for channel in (CHART_COLOUR.red, CHART_COLOUR.green, CHART_COLOUR.blue))
    raw = image.tobytes()
    pixels = (raw[i:i + 3] for i in range(0, len(raw), 3))
    bar_pixels = sum(1 for pixel in pixels if all(abs(a - b) <= 12 for a, b in zip(pixel, target)))
    assert bar_pixels > 2000
    document.close()


def test_a_table_without_chart_draws_none(app):
    report = make_report(tables=[Table("by_country", "Phóng viên theo quốc tịch", ["Quốc tịch", "Số phóng viên"],
                                       [["Hàn Quốc", 3]])])
    with pdfplumber.open(io.BytesIO(render(app, report))) as document:
        assert not any(_chart_colour(item) for page in document.pages for item in page.rects + page.curves)
        assert "Biểu đồ" not in "".join(page.extract_text() for page in document.pages)


# --- demo mark, determinism, text input ------------------------------------------------------------

def test_demo_profile_marks_every_page(report_pdf):
    with pdfplumber.open(io.BytesIO(report_pdf)) as document:
        for page in document.pages:
            mark = "".join(c["text"] for c in page.chars if "BeVietnamPro" in c["fontname"])
            assert mark == "DEMO", page.page_number


def test_a_real_profile_has_no_demo_mark(app):
    pdf = render(app, is_demo=False, document_symbols={"report": "UBND", "letter": "UBND-NgV"})
    text = pypdf_text(pdf)
    assert "DEMO –" not in pypdf.PdfReader(io.BytesIO(pdf)).metadata.title
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        assert not any("BeVietnamPro" in c["fontname"] for page in document.pages for c in page.chars)
    assert re.search(r"Số:\s+/BC-UBND(?![-\w])", text)
    assert "- Lưu: VT." in text  # no drafting unit in the symbol


def test_the_same_report_gives_the_same_bytes(app, report_pdf):
    assert render(app) == report_pdf


def test_decomposed_labels_give_the_same_pdf_and_extract_composed(app):
    report = make_report(tables=[Table("by_country", "Phóng viên theo quốc tịch", ["Quốc tịch", "Số phóng viên"],
                                       [["Hàn Quốc", 3], ["Đức", 1]], chart="bar")],
                         figures=[Figure("reporters_hosted", "Phóng viên nước ngoài được đón tiếp", 4, 2)])
    nfd = make_report(
        tables=[Table("by_country", unicodedata.normalize("NFD", "Phóng viên theo quốc tịch"),
                      [unicodedata.normalize("NFD", "Quốc tịch"), unicodedata.normalize("NFD", "Số phóng viên")],
                      [[unicodedata.normalize("NFD", "Hàn Quốc"), 3], [unicodedata.normalize("NFD", "Đức"), 1]],
                      chart="bar")],
        figures=[Figure("reporters_hosted", unicodedata.normalize("NFD", "Phóng viên nước ngoài được đón tiếp"), 4, 2)],
        period_label=unicodedata.normalize("NFD", "Quý III/2026"))
    composed_pdf, decomposed_pdf = render(app, report), render(app, nfd)
    assert decomposed_pdf == composed_pdf
    text = pypdf_text(decomposed_pdf)
    assert "Hàn Quốc" in text and not any(unicodedata.combining(char) for char in text)


def test_markup_characters_and_odd_cells_are_printed_as_text(app):
    report = make_report(
        figures=[Figure("mixed", "Chỉ tiêu <A & B>", Decimal("1.5"), 1.25, "VND")],
        tables=[Table("odd", "Bảng <đặc biệt> & khác", ["Tên", "Giá trị"],
                      [["Báo A&B <Tin tức>", None], ["Dòng ngắn"], ["Ba", 1, "thừa"]], chart="bar")])
    text = pypdf_text(render(app, report))
    assert "Chỉ tiêu <A & B> (đồng) 1,5 1,25 +0,25" in text
    assert "1. Bảng <đặc biệt> & khác" in text
    assert "Báo A&B <Tin tức> -" in text


def test_a_report_without_figures_or_tables_still_renders(app):
    text = pypdf_text(render(app, make_report(figures=[], tables=[], period_label="Năm 2026")))
    assert "phóng viên nước ngoài năm 2026" in text
    assert text.count(NO_DATA) == 2
    assert "PHÓ CHỦ TỊCH" in text


def test_a_trend_with_two_columns_draws_two_lines_and_a_legend(app):
    months = [datetime.date(2026, month, 1) for month in range(1, 7)]
    trend = Table("trend", "Diễn biến theo tháng", ["Tháng", "Hồ sơ tiếp nhận", "Sản phẩm đăng, phát"],
                  [[month, received, published] for month, received, published
                   in zip(months, [4, 4, 1, 1, 2, 3], [0, 3, 2, 1, 2, 2])], chart="line")
    pdf = render(app, make_report(figures=[], tables=[trend]))
    with pdfplumber.open(io.BytesIO(pdf)) as document:
        page = next(page for page in document.pages if page.search("Biểu đồ 1.", regex=False))
        drawn = page.curves + page.lines + page.rects
        first = [item for item in drawn if _chart_colour(item)]
        second = [item for item in drawn if _chart_colour(item, CHART_SECOND_COLOUR)]
        text = page.extract_text()
    assert first and second, "each series has its own colour"
    assert "Hồ sơ tiếp nhận Sản phẩm đăng, phát" in text  # the legend, on one line under the chart
