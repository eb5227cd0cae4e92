"""Language choice: the user's saved language, else the session's, else the browser's."""
from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

import flask_babel
from babel.dates import format_date as babel_format_date
from flask import Flask, current_app, g, has_request_context, request, session
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


# --- the request's locale and translations, fast -----------------------------------------
# A staff page calls gettext some 300 times and formats some 80 dates. Flask-Babel finds the
# locale and its catalogue afresh on each call (several context-local lookups and a Locale turned
# into its name): 17 µs a call, 33 µs from a template, a quarter of the queue page's time. Here
# they are found once per request and locale, kept beside Flask-Babel's own per-request state
# (g._flask_babel) with the Locale object they were found for, so that force_locale() (an email
# in its recipient's language) and refresh() (the language just changed) still take effect: a
# different Locale object, and they are found again.

def _babel_state():
    try:
        return g._flask_babel
    except (AttributeError, RuntimeError):  # before Flask-Babel's first call, or no app context
        return None


def _for_current_locale(name: str, compute):
    state = _babel_state()
    if state is not None:
        locale, cached = getattr(state, "babel_locale", None), getattr(state, name, None)
        if locale is not None and cached is not None and cached[0] is locale:
            return cached[1]
    value = compute()  # Flask-Babel: selects the locale (and keeps it) if not done yet
    state = _babel_state()
    if state is not None and getattr(state, "babel_locale", None) is not None:
        setattr(state, name, (state.babel_locale, value))
    return value


def translations():
    return _for_current_locale("pressdesk_translations", flask_babel.get_translations)


class RequestCachedDomain(flask_babel.Domain):
    """Flask-Babel's message domain, its catalogue found once per request and locale: what the
    Python code's gettext() and lazy_gettext() strings go through. Made the request's domain by
    Flask-Babel's own Domain.as_default(), before each request."""

    def get_translations(self):
        return _for_current_locale("pressdesk_translations", super().get_translations)


def locale_code() -> str:
    """The current locale's name ("vi", "en"), as str(get_locale()) gives it."""
    return _for_current_locale("pressdesk_locale_code", lambda: str(get_locale()))


def template_gettext(string: str) -> str:
    return translations().ugettext(string)


def template_ngettext(singular: str, plural: str, num: int) -> str:
    return translations().ungettext(singular, plural, num)


@lru_cache(maxsize=8192)
def _day(value: date, code: str) -> str:
    return babel_format_date(value, DATE_PATTERNS.get(code, DATE_PATTERNS["en"]), locale=code)


def day(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):  # Flask-Babel moves a moment to the province's time zone first
        return format_date(value, DATE_PATTERNS.get(locale_code(), DATE_PATTERNS["en"]))
    return _day(value, locale_code())


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
    """After Flask-Babel's init_app: the templates' _() and ngettext() read the request's catalogue
    once (translations()), the same strings as Flask-Babel's own callables give; so do gettext()
    and lazy strings in Python, through the request's domain."""
    domain = RequestCachedDomain(domain=app.extensions["babel"].default_domain)
    app.before_request(domain.as_default)
    app.jinja_env.install_gettext_callables(
        gettext=template_gettext, ngettext=template_ngettext, newstyle=True,
        pgettext=lambda context, string: translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, num: translations().unpgettext(context, singular, plural, num))
    app.add_template_filter(when)
    app.add_template_filter(day)
    app.add_template_filter(long_day)
    app.add_template_filter(number)

    @app.context_processor
    def language_context():
        return {"language_names": LANGUAGE_NAMES, "current_locale": locale_code()}
