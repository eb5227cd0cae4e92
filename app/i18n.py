"""Language choice: the user's saved language, else the session's, else the browser's."""
from __future__ import annotations

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from flask_login import current_user

LANGUAGE_NAMES = {"vi": "Tiếng Việt", "en": "English"}

# Vietnamese administrative practice writes dates day first with four-digit years
# (05/03/2027); CLDR's short Vietnamese pattern (5/3/27) is not what staff expect.
DATETIME_PATTERNS = {"vi": "dd/MM/yyyy HH:mm", "en": "d MMM yyyy, HH:mm"}
DATE_PATTERNS = {"vi": "dd/MM/yyyy", "en": "d MMM yyyy"}


def when(moment) -> str:
    """A timestamp in the user's language and the province's time zone."""
    if moment is None:
        return ""
    return format_datetime(moment, DATETIME_PATTERNS.get(str(get_locale()), DATETIME_PATTERNS["en"]))


def day(value) -> str:
    if value is None:
        return ""
    return format_date(value, DATE_PATTERNS.get(str(get_locale()), DATE_PATTERNS["en"]))


def long_day(value) -> str:
    """A date in words, weekday first (Thứ Hai, 14 tháng 12, 2026 / Monday, 14 December 2026): under
    a date field, so nobody mistakes 03/04 for 4 March."""
    if value is None or not hasattr(value, "isoweekday"):
        return ""
    return format_date(value, "full")


def number(value) -> str:
    """A number with the language's separators: 1.234.567 in Vietnamese, 1,234,567 in English."""
    if value is None:
        return ""
    return format_decimal(value)


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():  # a command: its messages go to an operator's terminal
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    # ?lang=vi on a link: the pages that switch language without a form (the permit check, which
    # sets no session cookie for an anonymous scan) say it in the address, for that page only.
    asked = request.args.get("lang")
    if asked in languages:
        return asked
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    best = request.accept_languages.best_match(languages)
    if best:
        return best
    return current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str:
    return current_app.config["BABEL_DEFAULT_TIMEZONE"]


def init_app(app: Flask) -> None:
    app.add_template_filter(when)
    app.add_template_filter(day)
    app.add_template_filter(long_day)
    app.add_template_filter(number)

    @app.context_processor
    def language_context():
        return {"language_names": LANGUAGE_NAMES, "current_locale": str(get_locale())}
