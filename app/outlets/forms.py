"""Forms for the outlet profile and its crew."""
from __future__ import annotations

from datetime import date

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField
from wtforms import (BooleanField, DateField, HiddenField, SelectChoice, SelectField, StringField, SubmitField,
                     URLField)
from wtforms.validators import DataRequired, Length, Optional, URL, ValidationError

from app import countries
from app.clock import local_today
from app.forms import Form
from app.outlets.models import CrewRole, MediaType
from app.outlets.photos import PHOTO_MIN_HEIGHT_PX, PHOTO_MIN_WIDTH_PX


def country_choices() -> list[SelectChoice]:
    """"Choose…", then every nationality by its ISO code, named and sorted in the user's language."""
    return [SelectChoice("", _l("Choose…"))] + [SelectChoice(code, name)
                                                  for code, name in countries.country_choices(get_locale())]


def enum_choices(enum_cls, labels) -> list[SelectChoice]:
    return [SelectChoice(member.name, labels[member]) for member in enum_cls]


class OutletForm(Form):
    name = StringField(_l("Name of the outlet"), validators=[DataRequired(), Length(max=200)])
    country = SelectField(_l("Country"), validators=[DataRequired()])
    media_type = SelectField(_l("Type of media"), validators=[DataRequired()])
    website = URLField(_l("Website"), validators=[Optional(), Length(max=300),
                                                 URL(require_tld=True, message=_l("Enter a full web address, "
                                                                                  "starting with https://"))])
    is_resident_office = BooleanField(_l("We are a resident foreign press office in Vietnam"))
    office_address = StringField(_l("Office address in Vietnam"), validators=[Optional(), Length(max=300)])
    mofa_accreditation_number = StringField(_l("MOFA accreditation number"), validators=[Optional(), Length(max=64)])
    submit = SubmitField(_l("Save the outlet"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        from app.registrations.labels import MEDIA_TYPE_LABELS

        self.country.choices = country_choices()
        self.media_type.choices = enum_choices(MediaType, MEDIA_TYPE_LABELS)

    def validate_website(self, field):
        if field.data and not field.data.lower().startswith(("http://", "https://")):
            raise ValidationError(_l("Enter a full web address, starting with https://"))

    def validate_office_address(self, field):
        if self.is_resident_office.data and not (field.data or "").strip():
            raise ValidationError(_l("A resident office gives its address in Vietnam."))

    def validate_mofa_accreditation_number(self, field):
        if self.is_resident_office.data and not (field.data or "").strip():
            raise ValidationError(_l("A resident office gives its MOFA accreditation number."))


class CrewMemberForm(Form):
    full_name = StringField(_l("Full name as in the passport"), validators=[DataRequired(), Length(max=200)])
    nationality = SelectField(_l("Nationality"), validators=[DataRequired()])
    date_of_birth = DateField(_l("Date of birth"), validators=[DataRequired()])
    role = SelectField(_l("Role in the crew"), validators=[DataRequired()])
    passport_number = StringField(_l("Passport number"), validators=[DataRequired(), Length(max=32)])
    passport_expiry = DateField(_l("Passport valid until"), validators=[DataRequired()])
    press_card_number = StringField(_l("Press card number"), validators=[Optional(), Length(max=64)])
    photo = FileField(_l("Photo (JPEG or PNG, for the permit)"),
                      description=_l("A recent photo of the face, portrait (about 3 wide by 4 high, like a passport "
                                     "photo), at least %(min_width)d × %(min_height)d pixels. Location and camera "
                                     "data are removed.", min_width=PHOTO_MIN_WIDTH_PX, min_height=PHOTO_MIN_HEIGHT_PX))
    # A signed token naming the photo chosen before the form came back with an error (photos.py).
    kept_photo = HiddenField()
    # The person's consent to the privacy notice (app/privacy/notice.py): needed to add a member, and
    # to change their personal data (anything but the role).
    privacy_consent = BooleanField(_l("This person was given the privacy notice and agrees to the processing of "
                                      "their personal data as it describes"))
    submit = SubmitField(_l("Save the crew member"))

    def __init__(self, *args, member=None, **kwargs):
        super().__init__(*args, **kwargs)
        from app.registrations.labels import CREW_ROLE_LABELS

        self.member = member  # the member as saved, when editing
        self.nationality.choices = country_choices()
        self.role.choices = enum_choices(CrewRole, CREW_ROLE_LABELS)

    def personal_data_changed(self) -> bool:
        """A new member, or a change to what identifies the person (anything but the role)."""
        member = self.member
        if member is None:
            return True
        if (self.photo.data is not None and getattr(self.photo.data, "filename", None)) or self.kept_photo.data:
            return True
        entered = ((self.full_name.data or "").strip(), self.nationality.data, self.date_of_birth.data,
                   (self.passport_number.data or "").strip().upper(), self.passport_expiry.data,
                   (self.press_card_number.data or "").strip() or None)
        saved = (member.full_name, member.nationality, member.date_of_birth, member.passport_number,
                 member.passport_expiry, member.press_card_number)
        return entered != saved

    def validate_privacy_consent(self, field):
        if not field.data and self.personal_data_changed():
            raise ValidationError(_l("Give this person the privacy notice and tick the box: their personal data "
                                     "is saved only with their agreement."))

    def validate_date_of_birth(self, field):
        if field.data and not date(1900, 1, 1) <= field.data <= local_today():
            raise ValidationError(_l("Enter a real date of birth."))

    def validate_passport_expiry(self, field):
        if field.data and field.data < local_today():
            raise ValidationError(_l("This passport has expired."))


class RemoveForm(Form):
    submit = SubmitField(_l("Remove"))  # the page labels each button "Yes, remove NAME"
