"""Country names as the Ministry of Foreign Affairs writes them; nationality lists without
uninhabited territories; never an ISO code on a Vietnamese page."""
from __future__ import annotations

import re

import pytest
from babel import Locale

from app import countries
from app.auth.models import Role
from app.countries import EXCLUDED, collation_key, country_choices, country_name
from tests.support import login


@pytest.mark.parametrize("code, vietnamese, english", [
    ("TW", "Đài Loan (Trung Quốc)", "Taiwan (China)"),
    ("HK", "Hồng Kông (Trung Quốc)", "Hong Kong (China)"),
    ("MO", "Ma Cao (Trung Quốc)", "Macao (China)"),
    ("RU", "Liên bang Nga", "Russian Federation"),
    ("CZ", "Cộng hòa Séc", "Czech Republic"),
    ("KR", "Hàn Quốc", "Republic of Korea"),
    ("KP", "Triều Tiên", "Democratic People's Republic of Korea"),
    ("US", "Hoa Kỳ", "United States"),
    ("GB", "Vương quốc Anh", "United Kingdom"),
    ("LA", "Lào", "Laos"),
    ("KH", "Campuchia", "Cambodia"),
    ("TR", "Thổ Nhĩ Kỳ", "Türkiye"),
])
def test_official_names_in_both_languages(code, vietnamese, english):
    assert country_name(code, "vi") == vietnamese
    assert country_name(code, "en") == english
    assert (code, vietnamese) in country_choices("vi") and (code, english) in country_choices("en")


def test_locale_forms_and_case_do_not_matter():
    assert country_name("tw", "vi_VN") == country_name("TW", "vi-VN") == "Đài Loan (Trung Quốc)"
    assert country_name("HK", "fr") == "Hong Kong (China)"  # a language PressDesk lacks: English
    assert country_choices("vi_VN") == country_choices("vi")


def test_no_code_no_name_and_an_unknown_code_as_it_is():
    assert country_name(None, "vi") == "" and country_name("", "en") == ""
    assert country_name("QQ", "vi") == "QQ"


def test_a_vietnamese_page_never_gets_an_iso_code_for_a_known_code():
    for code in Locale.parse("en").territories:
        if len(code) == 2:
            name = country_name(code, "vi")
            assert name and name != code, code


def test_without_a_vietnamese_name_the_english_one(monkeypatch):
    names = {"vi": {"FR": "Pháp"}, "en": {"FR": "France", "XY": "Utopia"}}
    monkeypatch.setattr(countries, "_territories", lambda language: names[language])
    assert country_name("XY", "vi") == "Utopia"
    assert country_name("FR", "vi") == "Pháp"


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_lists_hold_countries_and_no_uninhabited_territory(locale):
    codes = [code for code, _name in country_choices(locale)]
    assert not set(codes) & EXCLUDED
    assert not {"AQ", "BV", "HM", "TF", "GS", "UM", "IO", "CP", "DG", "XK", "EU", "UN", "ZZ"} & set(codes)
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in codes)
    assert len(codes) == len(set(codes)) and {"VN", "JP", "FR", "TW", "HK", "MO", "PS"} <= set(codes)


def test_vietnamese_list_shows_names_never_codes():
    for code, name in country_choices("vi"):
        assert name != code and not re.fullmatch(r"[A-Z]{2}", name), code
    names = [name for _code, name in country_choices("vi")]
    assert "Đài Loan" not in names and "Đặc khu Hành chính Hồng Kông, Trung Quốc" not in names


@pytest.mark.parametrize("locale", ["vi", "en"])
def test_lists_are_in_alphabetical_order(locale):
    names = [name for _code, name in country_choices(locale)]
    assert names == sorted(names, key=collation_key)


def test_vietnamese_order_puts_an_do_among_the_a():
    names = [name for _code, name in country_choices("vi")]
    position = names.index("Ấn Độ")
    assert collation_key(names[position - 1])[0].startswith("a")
    assert collation_key(names[position + 1])[0].startswith("a")
    assert names.index("Ấn Độ") < names.index("Ba Lan") and names.index("Albania") < names.index("Ấn Độ")
    assert names.index("Đức") < names.index("Ecuador") and names.index("Đan Mạch") > names.index("Cuba")


def test_english_order_puts_aland_among_the_a():
    names = [name for _code, name in country_choices("en")]
    assert names.index("Albania") > names.index("Åland Islands") > names.index("Afghanistan")


def test_pages_name_countries_and_nationalities(client, make_user, make_outlet, make_crew_member):
    correspondent = make_user(Role.correspondent, locale="vi")
    outlet = make_outlet(country="TW", correspondents=[correspondent])
    make_crew_member(outlet, nationality="HK")
    login(client, correspondent.email)
    crew = client.get("/outlet/crew").get_data(as_text=True)
    assert "Hồng Kông (Trung Quốc)" in crew and "<td>HK</td>" not in crew
    form = client.get("/outlet/crew/new").get_data(as_text=True)
    assert '<option value="TW">Đài Loan (Trung Quốc)</option>' in form
    assert 'value="AQ"' not in form and 'value="XK"' not in form
    outlet_page = client.get("/outlet").get_data(as_text=True)
    assert '<option selected value="TW">Đài Loan (Trung Quốc)</option>' in outlet_page


def test_english_pages_follow_the_same_naming(client, make_user, make_outlet, make_crew_member):
    correspondent = make_user(Role.correspondent, locale="en")
    outlet = make_outlet(country="MO", correspondents=[correspondent])
    make_crew_member(outlet, nationality="TW")
    login(client, correspondent.email)
    assert "Taiwan (China)" in client.get("/outlet/crew").get_data(as_text=True)
