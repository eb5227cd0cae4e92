from app.forms import Form
from wtforms import HiddenField, SelectField

from app.auth.forms import LANGUAGE_CHOICES


class LanguageForm(Form):
    locale = SelectField(choices=LANGUAGE_CHOICES)
    next = HiddenField()
