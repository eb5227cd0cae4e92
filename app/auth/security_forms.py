"""Forms of two-step sign-in and the sessions page."""
from flask_babel import lazy_gettext as _l
from wtforms import PasswordField, StringField, SubmitField
from wtforms.validators import DataRequired, Length

from app.auth.passwords import PASSWORD_MAX_LENGTH
from app.forms import Form


class TwoFactorSetupForm(Form):
    code = StringField(_l("The 6-digit code the app shows"), validators=[DataRequired(), Length(max=20)],
                       render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "spellcheck": "false"})
    submit = SubmitField(_l("Turn on two-step sign-in"))


class TwoFactorChallengeForm(Form):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)],
                       description=_l("The 6-digit code of your authenticator app, or one of your recovery codes."),
                       render_kw={"autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "off"})
    submit = SubmitField(_l("Log in"))


class PasswordCheckForm(Form):
    """The current password again, for a change to two-step sign-in."""

    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Confirm"))


class EndSessionForm(Form):
    """Only the CSRF token: the session is in the address, each button says where it logs out."""


class EndOtherSessionsForm(Form):
    submit = SubmitField(_l("End all other sessions"))
