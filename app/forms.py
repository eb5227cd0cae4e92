"""The base form: Flask-WTF with CSRF, WTForms' own messages in our catalogues, and the
limits every field of every form shares.

WTForms ships no Vietnamese translation, so its built-in messages ("This field is
required." and the like) are listed below for extraction and translated in
app/translations like every other string.

Shared limits, applied by `_Meta.bind_field` to every field of every form (so a new form
cannot forget them):
* text fields refuse control characters (a pasted escape or vertical tab breaks the XLSX
  export); tab and line breaks stay allowed; NUL is dropped silently as before (passwords
  and hidden fields are left alone);
* date fields accept only 1900-01-01 .. 2100-12-31: beyond that a date is a typing mistake,
  and the working-day calendar and the permit tokens cannot count it.
The version counter of optimistic locking is a `VersionField`.
"""
import re
import unicodedata
from datetime import date, datetime

from flask_babel import get_translations
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf import FlaskForm
import wtforms
from wtforms import DateField, DateTimeField, HiddenField, IntegerField, PasswordField, StringField
from wtforms.validators import ValidationError
from markupsafe import Markup, escape
from wtforms.widgets import Button, HiddenInput, Input, Select
from wtforms.widgets.core import clean_key

EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2100, 12, 31)
# The largest id or version an INTEGER column holds (PostgreSQL raises beyond it).
MAX_INTEGER = 2**31 - 1
# A page whose version counter is not a number gets this one, which no record has: the
# service then answers "changed in the meantime, reload" (409) instead of failing.
STALE_VERSION = -1

# Characters XML 1.0 (so XLSX and DOCX) cannot hold, besides the C0 controls.
_NOT_XML = re.compile("[\ufffe\uffff\ud800-\udfff]")
_ALLOWED_CONTROLS = "\t\n\r"


class _CatalogueTranslations:
    """WTForms asks for translations through this; answer from the app's catalogue."""

    def gettext(self, string):
        return get_translations().ugettext(string)

    def ngettext(self, singular, plural, n):
        return get_translations().ungettext(singular, plural, n)


def _without_nul(value):
    """PostgreSQL text cannot hold NUL characters; no honest input needs them."""
    return value.replace("\x00", "") if isinstance(value, str) else value


def has_control_character(value: str) -> bool:
    """True when `value` holds a character no honest text needs (tab and line breaks aside)."""
    return bool(_NOT_XML.search(value)) or any(
        unicodedata.category(character) == "Cc" and character not in _ALLOWED_CONTROLS for character in value)


def no_control_characters(form, field) -> None:
    """Refuse escape, vertical tab, DEL, C1 controls, U+FFFE/U+FFFF... in a text field."""
    if isinstance(field.data, str) and has_control_character(field.data):
        raise ValidationError(_l("Remove the invisible control character from this text (it often comes with "
                                 "text pasted from another program)."))


def date_in_range(form, field) -> None:
    """Every date field: 1900..2100."""
    day = field.data.date() if isinstance(field.data, datetime) else field.data
    if day is not None and not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValidationError(_l("Enter a date between the years %(earliest)d and %(latest)d.",
                                 earliest=EARLIEST_DATE.year, latest=LATEST_DATE.year))


def database_id(text) -> int:
    """An id typed in a query string or a filter ("12"): ASCII digits an INTEGER column can hold,
    else ValueError (so `request.args.get(name, type=database_id)` gives None)."""
    text = str(text).strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= MAX_INTEGER):
        raise ValueError(f"not an id: {text[:20]!r}")
    return int(text)


class VersionField(IntegerField):
    """The version counter a page was made from (optimistic locking), in a hidden input.

    Empty gives None; anything that is not a version number (a tampered or truncated page:
    "abc", "1e3", a number beyond the column) gives STALE_VERSION, so the service refuses it
    as a conflict ("reload the page") rather than the page failing."""

    widget = HiddenInput()

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist or not valuelist[0].strip():
            return
        text = valuelist[0].strip()
        number = int(text) if text.isascii() and text.isdigit() and len(text) <= 10 else None
        self.data = number if number is not None and number <= MAX_INTEGER else STALE_VERSION


class _Meta:
    def get_translations(self, form):
        return _CatalogueTranslations()

    def bind_field(self, form, unbound_field, options):
        field_class = unbound_field.field_class
        if issubclass(field_class, StringField):
            filters = [*unbound_field.kwargs.get("filters", ()), _without_nul]
            field = unbound_field.bind(form=form, filters=filters, **options)
            # Not a password (hashed, never shown) nor a hidden field (the page's own value, such as
            # `next`: an error there would be invisible).
            if not issubclass(field_class, (PasswordField, HiddenField)):
                field.validators = [*field.validators, no_control_characters]
            return field
        field = unbound_field.bind(form=form, **options)
        if issubclass(field_class, (DateField, DateTimeField)):
            field.validators = [*field.validators, date_in_range]
        return field


class Form(FlaskForm):
    """Every page form: CSRF, our translations, NUL characters dropped."""

    class Meta(_Meta):
        pass


class SubForm(wtforms.Form):
    """A form repeated inside another (FieldList of FormField): no CSRF token of its own."""

    class Meta(_Meta):
        pass


def _wtforms_messages():  # never called: it marks WTForms' messages for `pybabel extract`
    _("This field is required.")
    _("Invalid input.")
    _("Invalid email address.")
    _("Invalid URL.")
    _("Not a valid choice.")
    _("Not a valid date value.")
    _("Not a valid datetime value.")
    _("Not a valid integer value.")
    _("Not a valid decimal value.")
    _("Not a valid float value.")
    _("Field must be equal to %(other_name)s.")
    _("Field must be between %(min)d and %(max)d characters long.")
    _("Number must be at least %(min)s.")
    _("Number must be at most %(max)s.")
    _("Number must be between %(min)s and %(max)s.")
    _("Invalid value, must be one of: %(values)s.")
    _("Invalid value, can't be any of: %(values)s.")
    _("Invalid Choice: could not coerce.")
    _("'%(value)s' is not a valid choice for this field.")
    _("Invalid CSRF Token.")
    _("CSRF token missing.")
    _("CSRF failed.")
    _("CSRF token expired.")
    _("This field cannot be edited.")
    _("This field is disabled and cannot have a value.")
    ngettext("Field must be at least %(min)d character long.", "Field must be at least %(min)d characters long.", 1)
    ngettext("Field cannot be longer than %(max)d character.", "Field cannot be longer than %(max)d characters.", 1)
    ngettext("Field must be exactly %(max)d character long.", "Field must be exactly %(max)d characters long.", 1)


class QuickSelect(Select):
    """A <select> whose options are one string join, not an option widget (and its html_params)
    each: list filters offer hundreds of options (every outlet, country and language: about 900 on
    the products list, 250 nationalities on the staff queue, every place in each day of a
    registration's itinerary), and WTForms' per-option rendering was half the page's CPU. The same
    markup as WTForms' Select (tests/test_forms.py); no optgroups."""

    def __call__(self, field, **kwargs):
        kwargs.setdefault("id", field.id)
        flags = getattr(field, "flags", {})
        for name in self.validation_attrs:
            if name not in kwargs and getattr(flags, name, False):
                kwargs[name] = getattr(flags, name)
        chosen = None if field.data is None else str(field.data)  # None: none is marked, as in WTForms
        parts = [f"<select {quick_html_params(name=field.name, **kwargs)}>"]
        for choice in field.choices:
            value = str(choice.value)
            label = escape(choice.label or choice.value)
            if choice.render_kw:  # its own attributes sort among value and selected, as in WTForms
                options = {"value": value, **choice.render_kw}
                if value == chosen:
                    options["selected"] = True
                parts.append(f"<option {quick_html_params(**options)}>{label}</option>")
            else:
                parts.append(f'<option {"selected " if value == chosen else ""}value="{escape(value)}">{label}</option>')
        parts.append("</select>")
        return Markup("".join(parts))


def quick_html_params(**kwargs) -> Markup:
    """WTForms' `html_params`, the same markup from one f-string per attribute.

    WTForms builds each attribute with `Markup('{k}="{v}"').format(...)`, which runs
    string.Formatter and escapes both parts again: on a registration's form, about 400
    attributes, it was a tenth of the request's CPU (bench_submit's GET of the form). Here a value
    is escaped once (a Markup value is kept, a double quote in it still becomes &quot;, as
    WTForms does), `True` is a bare attribute, `False` none, keys sorted and cleaned by WTForms'
    own `clean_key` (class_ -> class, data_x_y -> data-x-y). Equal output for every input is held
    by tests/test_forms.py against WTForms' function.
    """
    parts = []
    for key in sorted(kwargs):
        value = kwargs[key]
        if value is True:
            parts.append(clean_key(key))
        elif value is not False:
            parts.append(f'{escape(clean_key(key))}="{str(escape(value)).replace(chr(34), "&quot;")}"')
    return Markup(" ".join(parts))


# Every <input> and <button> widget (text, date, email, checkbox, radio, file, hidden, submit...)
# renders its attributes through this class attribute (WTForms declares it as
# `html_params = staticmethod(html_params)`). Set once here, on the two base classes, rather than
# a widget subclass per field type in every form. WTForms' TextArea and Select call the module's
# function and keep it: a form has a few text areas, and the long selects are QuickSelects.
Input.html_params = staticmethod(quick_html_params)
Button.html_params = staticmethod(quick_html_params)
