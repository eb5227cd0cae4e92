"""Bilingual pages: the switcher, remembered choices, defaults by role, complete catalogues."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from app.auth.models import Role, User
from tests.support import login, post_form

ROOT = Path(__file__).resolve().parent.parent


def test_anonymous_visitor_gets_the_browsers_language(client):
    assert "Phóng viên nước ngoài" in client.get("/", headers={"Accept-Language": "vi-VN,vi;q=0.9"}).get_data(
        as_text=True)
    assert "Foreign correspondents" in client.get("/", headers={"Accept-Language": "fr-FR"}).get_data(as_text=True)


def test_switcher_remembers_the_choice_in_the_session(client):
    response = post_form(client, "/language", {"locale": "vi", "next": "/login"}, page="/login")
    assert response.location == "/login"
    body = client.get("/login", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="vi">' in body and "Quên mật khẩu?" in body


def test_switcher_saves_the_choice_on_the_account(app, client, db, make_user):
    user = make_user(Role.correspondent)
    login(client, user.email)
    post_form(client, "/language", {"locale": "vi"}, page="/")
    assert db.session.get(User, user.id).locale == "vi"
    # Another browser, after login, gets the account's language.
    other = app.test_client()
    login(other, user.email)
    assert "Bạn đang đăng nhập với tên" in other.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)


def test_unknown_language_is_refused_without_change(client, db, make_user):
    user = make_user()
    login(client, user.email)
    post_form(client, "/language", {"locale": "fr"}, page="/")
    assert db.session.get(User, user.id).locale == "en"


def test_staff_default_to_vietnamese_and_correspondents_to_english(client, make_user):
    officer = make_user(Role.officer)
    login(client, officer.email)
    assert "Bạn đang đăng nhập với tên" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("locale, expected", [("vi", "Không tìm thấy trang"), ("en", "Page not found")])
def test_error_pages_in_both_languages(client, locale, expected):
    response = client.get("/nowhere", headers={"Accept-Language": locale})
    assert response.status_code == 404 and expected in response.get_data(as_text=True)


@pytest.mark.parametrize("locale, expected", [("vi", "Không được phép"), ("en", "Not allowed")])
def test_403_page_in_both_languages(client, make_user, locale, expected):
    login(client, make_user(Role.officer, locale=locale).email)
    response = client.get("/admin/users")
    assert response.status_code == 403 and expected in response.get_data(as_text=True)


def test_413_page(app, client):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post("/login", data={"email": "x" * 5000}, headers={"Accept-Language": "vi"})
    assert response.status_code == 413 and "Tệp quá lớn" in response.get_data(as_text=True)


def test_dates_follow_the_language(app):
    from flask_babel import force_locale

    from app.i18n import day, when

    moment = datetime(2027, 3, 5, 2, 30, tzinfo=timezone.utc)  # 09:30 in Vietnam
    with app.test_request_context():
        with force_locale("vi"):
            assert (when(moment), day(moment.date())) == ("05/03/2027 09:30", "05/03/2027")
        with force_locale("en"):
            assert (when(moment), day(moment.date())) == ("5 Mar 2027, 09:30", "5 Mar 2027")


def test_numbers_follow_the_language(app):
    from flask_babel import force_locale, format_decimal

    with app.test_request_context():
        with force_locale("vi"):
            assert format_decimal(1234567.5) == "1.234.567,5"
        with force_locale("en"):
            assert format_decimal(1234567.5) == "1,234,567.5"


def catalogue_ids() -> set[str]:
    found = set()
    for method_map, options in ([("app/**.py", "python")], {}), ([("templates/**.html", "jinja2"),
                                                                  ("templates/**.txt", "jinja2")],
                                                                 {"templates/**": {"extensions": "jinja2.ext.do"}}):
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
                str(ROOT), method_map, options, keywords={"_": None, "gettext": None, "_l": None,
                                                          "lazy_gettext": None, "ngettext": (1, 2)}):
            found.add(message if isinstance(message, str) else message[0])
    return found


def _singular(message_id) -> str:
    return message_id if isinstance(message_id, str) else message_id[0]


def test_every_string_is_translated_into_vietnamese():
    with (ROOT / "app/translations/vi/LC_MESSAGES/messages.po").open("rb") as source:
        catalogue = read_po(source)
    translated = set()
    for message in catalogue:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.id and all(strings) and "fuzzy" not in message.flags:
            translated.add(_singular(message.id))
    missing = sorted(catalogue_ids() - translated)
    assert missing == [], f"run `make translations-update` and translate: {missing}"


def test_wtforms_own_messages_are_in_vietnamese(client):
    response = post_form(client, "/signup", {"email": "not-an-email"}, page="/signup",
                         headers={"Accept-Language": "vi"})
    body = response.get_data(as_text=True)
    assert "Trường này là bắt buộc." in body and "This field is required." not in body


def test_english_catalogue_covers_the_same_strings():
    with (ROOT / "app/translations/en/LC_MESSAGES/messages.po").open("rb") as source:
        english = read_po(source)
    assert catalogue_ids() <= {_singular(message.id) for message in english if message.id}


def test_compiled_catalogue_is_up_to_date():
    source = ROOT / "app/translations/vi/LC_MESSAGES/messages.po"
    compiled = ROOT / "app/translations/vi/LC_MESSAGES/messages.mo"
    assert compiled.exists() and compiled.stat().st_mtime >= source.stat().st_mtime, "run `make translations`"
