"""CSV and XLSX exports of the filtered product list, read back."""
from __future__ import annotations

import csv
import io
from datetime import date, datetime

import openpyxl
import pytest

from app.auth.models import Role
from app.products.exports import neutralise
from tests.support import login, post_form
from tests.test_products import staff_form


@pytest.fixture
def products(client, make_user, make_outlet):
    officer = make_user(Role.officer, locale="vi")
    nordic = make_outlet(name="=HYPERLINK(\"http://evil.example\")")
    tokyo = make_outlet(name="Tokyo Shimbun", country="JP")
    login(client, officer.email)
    post_form(client, "/staff/products/new", staff_form(nordic.id, title="+cmd|' /C calc'!A0",
                                                        url="https://n.example/1"))
    post_form(client, "/staff/products/new", staff_form(tokyo.id, title="Biên giới và thương mại",
                                                        url="https://t.example/1", type="article", channel="print",
                                                        languages=["ja"], countries=["JP"], reach="",
                                                        contribution_vnd="", publication_date="2025-12-01"))
    return nordic, tokyo


def test_xlsx_has_vietnamese_headers_typed_cells_and_no_formulas(client, products):
    response = client.get("/staff/products.xlsx")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert "attachment" in response.headers["Content-Disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    headers = [cell.value for cell in sheet[1]]
    assert headers[:4] == ["STT", "Tiêu đề", "Tiêu đề bằng ngôn ngữ gốc", "Cơ quan báo chí"]
    rows = {row[1]: row for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {"'+cmd|' /C calc'!A0", "Biên giới và thương mại"}
    nordic = rows["'+cmd|' /C calc'!A0"]
    assert nordic[3] == "'=HYPERLINK(\"http://evil.example\")"
    column = {name: index for index, name in enumerate(headers)}
    assert nordic[column["Ngày đăng, phát sóng"]] == datetime(2026, 3, 2)
    assert nordic[column["Lượt tiếp cận"]] == 850_000
    assert nordic[column["Kinh phí tỉnh hỗ trợ (VNĐ)"]] == 45_000_000
    tokyo = rows["Biên giới và thương mại"]
    assert tokyo[column["Lượt tiếp cận"]] is None and tokyo[column["Ngôn ngữ"]] == "Tiếng Nhật"
    # No cell anywhere is a formula.
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    date_cell = sheet.cell(row=2, column=column["Ngày đăng, phát sóng"] + 1)
    assert date_cell.is_date and date_cell.number_format == "dd/mm/yyyy"


def test_csv_follows_the_filters(client, products):
    nordic, tokyo = products
    response = client.get(f"/staff/products.csv?outlet={tokyo.id}")
    assert response.status_code == 200
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0][1] == "Tiêu đề"
    assert [row[1] for row in rows[1:]] == ["Biên giới và thương mại"]
    assert "2025-12-01" in rows[1]


def test_csv_neutralises_formula_cells(client, products):
    rows = list(csv.reader(io.StringIO(client.get("/staff/products.csv").data.decode("utf-8")[1:])))
    titles = {row[1] for row in rows[1:]}
    assert "'+cmd|' /C calc'!A0" in titles
    assert all(not cell.startswith(("=", "+", "@")) for row in rows[1:] for cell in row)


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("\tx", "'\tx"),
    ("plain", "plain"), (5, 5), (date(2026, 1, 1), date(2026, 1, 1)), (None, None),
])
def test_neutralise(value, expected):
    assert neutralise(value) == expected
