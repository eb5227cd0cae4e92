"""Forms of the accounts area."""
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from app.forms import Form
from wtforms import BooleanField, SelectChoice, EmailField, HiddenField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from app.auth.passwords import PASSWORD_MAX_LENGTH, password_problems
from app.i18n import LANGUAGE_NAMES

LANGUAGE_CHOICES = [SelectChoice(code, name) for code, name in LANGUAGE_NAMES.items()]


class NewPasswordMixin:
    """A new password typed twice, checked against the policy (length, not common)."""

    password = PasswordField(_l("New password"), validators=[DataRequired()],
                             description=_l("At least 8 characters. A few words you remember are a good choice."),
                             render_kw={"autocomplete": "new-password"})
    password_again = PasswordField(_l("New password again"), render_kw={"autocomplete": "new-password"},
                                   validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))])

    def password_context(self) -> dict:
        return {}

    def validate_password(self, field):
        problems = password_problems(field.data or "", **self.password_context())
        if problems:
            raise ValidationError(problems[0])


class LoginForm(Form):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Length(max=254)],
                       render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)],
                             render_kw={"autocomplete": "current-password"})
    next = HiddenField()
    submit = SubmitField(_l("Log in"))


class SignupForm(NewPasswordMixin, Form):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)],
                            render_kw={"autocomplete": "name"})
    email = EmailField(_l("Email address"), validators=[DataRequired(), Email(message=_l("Enter a valid email address.")),
                                                        Length(max=254)],
                       render_kw={"autocomplete": "email"})
    locale = SelectField(_l("Language for emails and pages"), choices=LANGUAGE_CHOICES, default="en")
    # Consent to the privacy notice (app/privacy/notice.py), recorded with the notice's version.
    privacy_consent = BooleanField(_l("I have read the privacy notice and agree to the processing of my personal "
                                      "data as it describes"),
                                   validators=[DataRequired(message=_l("Accept the privacy notice to create an "
                                                                       "account."))])
    submit = SubmitField(_l("Create account"))

    def password_context(self) -> dict:
        return {"email": self.email.data or "", "full_name": self.full_name.data or ""}


class EmailForm(Form):
    email = EmailField(_l("Email address"), validators=[DataRequired(), Email(message=_l("Enter a valid email address.")),
                                                        Length(max=254)],
                       render_kw={"autocomplete": "email"})
    submit = SubmitField(_l("Send the link"))


class ConfirmForm(Form):
    submit = SubmitField(_l("Confirm my email address"))


class SetPasswordForm(NewPasswordMixin, Form):
    submit = SubmitField(_l("Save the password"))


class ChangePasswordForm(NewPasswordMixin, Form):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)],
                                     render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Change password"))

    def password_context(self) -> dict:
        return {"email": current_user.email, "full_name": current_user.full_name}


class LogoutForm(Form):
    submit = SubmitField(_l("Log out"))
