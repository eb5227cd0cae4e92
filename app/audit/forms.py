"""The filter of the audit list (a GET form: it changes nothing, so no CSRF token)."""
from flask_babel import lazy_gettext as _l
from app.forms import Form
from wtforms import DateField, SelectField, StringField, SubmitField
from wtforms.validators import Length, Optional


class AuditFilterForm(Form):
    class Meta:
        csrf = False

    action = SelectField(_l("Action"), choices=[], validators=[Optional()], validate_choice=False)
    actor = StringField(_l("Email contains"), validators=[Optional(), Length(max=254)])
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    submit = SubmitField(_l("Filter"))
