"""Forms of the admin Outbox page."""
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SubmitField
from wtforms.validators import DataRequired, Email, Length

from app.forms import Form


class TestMessageForm(Form):
    email = EmailField(_l("Send a test message to"), validators=[
        DataRequired(), Email(message=_l("Enter a valid email address.")), Length(max=254)])
    submit = SubmitField(_l("Send test message"))


class ResendForm(Form):
    submit = SubmitField(_l("Send again"))


class RetryFailedForm(Form):
    submit = SubmitField(_l("Retry every failed message"))
