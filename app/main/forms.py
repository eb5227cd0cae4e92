from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField

from app.auth.forms import LANGUAGE_CHOICES


class LanguageForm(FlaskForm):
    locale = SelectField(choices=LANGUAGE_CHOICES)
    next = HiddenField()
