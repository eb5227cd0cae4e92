"""Forms for managing staff accounts."""
from flask_babel import lazy_gettext as _l
from app.forms import Form
from wtforms import SelectChoice, EmailField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from app.auth.forms import LANGUAGE_CHOICES
from app.auth.labels import ROLE_LABELS
from app.auth.models import STAFF_ROLES, Role

STAFF_ROLE_CHOICES = [SelectChoice(role.name, ROLE_LABELS[role]) for role in STAFF_ROLES]


class StaffAccountForm(Form):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email address"), validators=[DataRequired(), Email(message=_l("Enter a valid email address.")),
                                                        Length(max=254)])
    role = SelectField(_l("Role"), choices=STAFF_ROLE_CHOICES, default=Role.officer.name)
    locale = SelectField(_l("Language"), choices=LANGUAGE_CHOICES, default="vi")
    submit = SubmitField(_l("Create account and send invitation"))


class RoleForm(Form):
    role = SelectField(_l("Role"), choices=STAFF_ROLE_CHOICES)
    submit = SubmitField(_l("Change role"))


class ActiveForm(Form):
    submit = SubmitField()
