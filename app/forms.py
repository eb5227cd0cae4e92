"""The base form: Flask-WTF with CSRF, and WTForms' own messages in our catalogues.

WTForms ships no Vietnamese translation, so its built-in messages ("This field is
required." and the like) are listed below for extraction and translated in
app/translations like every other string.
"""
from flask_babel import get_translations
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_wtf import FlaskForm
import wtforms
from wtforms import StringField


class _CatalogueTranslations:
    """WTForms asks for translations through this; answer from the app's catalogue."""

    def gettext(self, string):
        return get_translations().ugettext(string)

    def ngettext(self, singular, plural, n):
        return get_translations().ungettext(singular, plural, n)


def _without_nul(value):
    """PostgreSQL text cannot hold NUL characters; no honest input needs them."""
    return value.replace("\x00", "") if isinstance(value, str) else value


class _Meta:
    def get_translations(self, form):
        return _CatalogueTranslations()

    def bind_field(self, form, unbound_field, options):
        if issubclass(unbound_field.field_class, StringField):
            filters = [*unbound_field.kwargs.get("filters", ()), _without_nul]
            return unbound_field.bind(form=form, filters=filters, **options)
        return unbound_field.bind(form=form, **options)


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
