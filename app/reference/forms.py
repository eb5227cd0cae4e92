"""Forms of the reference data. Each has `FIELDS` (the order the page shows them in), `load(record)`
to fill an edit page and `values()`, the keyword arguments of the service's create/update call.
The service checks the rules (codes, phone numbers, calendar days) and says which field is wrong."""
from __future__ import annotations

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from wtforms import (BooleanField, DateField, IntegerField, SelectChoice, SelectField, StringField, SubmitField,
                     TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from app.forms import Form
from app.places.models import PlaceKind
from app.reference.labels import (BODY_KIND_LABELS, BORDER_COUNTRIES, CALENDAR_DAY_KIND_LABELS, PLACE_KIND_LABELS,
                                  STANDARD_TEXT_KIND_LABELS)
from app.reference.models import CalendarDayKind
from app.reference.service import LONG_TEXT, MAX_POSITION


def _choices(labels) -> list[SelectChoice]:
    return [SelectChoice(member.name, label) for member, label in labels.items()]


class _ReferenceForm(Form):
    FIELDS: tuple[str, ...] = ()
    ENUMS: tuple[str, ...] = ()  # fields holding an enum's name

    def load(self, record) -> None:
        for name in self.FIELDS:
            value = getattr(record, name)
            getattr(self, name).data = value.name if name in self.ENUMS else value

    def values(self) -> dict:
        return {name: getattr(self, name).data for name in self.FIELDS}


_position_field = IntegerField(_l("Position in the list"), default=0,
                               validators=[Optional(), NumberRange(min=0, max=MAX_POSITION)],
                               description=_l("Smaller numbers come first."))


class PlaceForm(_ReferenceForm):
    FIELDS = ("code", "name_vi", "name_en", "kind", "border_area", "border_country")
    ENUMS = ("kind",)

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)],
                       description=_l("A short unique code, for example TANNINH or MOCBAI-GATE."))
    name_vi = StringField(_l("Name in Vietnamese"), validators=[DataRequired(), Length(max=200)],
                          description=_l("As written in official documents, for example: Xã Tân Đông."))
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind of place"), choices=_choices(PLACE_KIND_LABELS), default=PlaceKind.commune.name)
    border_area = BooleanField(_l("In a border area"),
                               description=_l("A registration that goes to a border area needs the border guard's "
                                              "or the police's answer before it can be approved."))
    border_country = SelectField(_l("Neighbouring country"), validators=[Optional()],
                                 description=_l("Required for a place in a border area."))
    submit = SubmitField(_l("Save the place"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        names = Locale.parse(str(get_locale())).territories
        self.border_country.choices = [SelectChoice("", _l("Not in a border area"))] + [
            SelectChoice(code, names.get(code, code)) for code in BORDER_COUNTRIES]

    def load(self, record) -> None:
        super().load(record)
        self.border_country.data = record.border_country or ""

    def values(self) -> dict:
        values = super().values()
        values["border_country"] = values["border_country"] or None
        return values


class EscortOfficerForm(_ReferenceForm):
    FIELDS = ("full_name", "title_vi", "title_en", "phone")

    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    title_vi = StringField(_l("Title in Vietnamese"), validators=[Optional(), Length(max=200)],
                           description=_l("For example: Chuyên viên Phòng Thông tin đối ngoại, Sở Ngoại vụ."))
    title_en = StringField(_l("Title in English"), validators=[Optional(), Length(max=200)],
                           description=_l("For example: Officer, Foreign Information Division."))
    phone = StringField(_l("Telephone"), validators=[DataRequired(), Length(max=40)],
                        description=_l("Printed on the permits: the number a checkpoint may call."))
    submit = SubmitField(_l("Save the escort officer"))


class ConsultedBodyForm(_ReferenceForm):
    FIELDS = ("kind", "name_vi", "name_en", "short_name_vi")
    ENUMS = ("kind",)

    kind = SelectField(_l("What the body is"), choices=_choices(BODY_KIND_LABELS))
    name_vi = StringField(_l("Official name in Vietnamese"), validators=[DataRequired(), Length(max=300)],
                          description=_l("As the letters address it, for example: Công an tỉnh Tây Ninh."))
    name_en = StringField(_l("Name in English"), validators=[Optional(), Length(max=300)])
    short_name_vi = StringField(_l("Short name in Vietnamese"), validators=[Optional(), Length(max=200)],
                                description=_l("Used in the recipients list and in running text when it differs, "
                                               "for example: Công an tỉnh."))
    submit = SubmitField(_l("Save the body"))


class StandardTextForm(_ReferenceForm):
    FIELDS = ("kind", "title", "text_vi", "text_en", "position")
    ENUMS = ("kind",)

    kind = SelectField(_l("Kind of text"), choices=_choices(STANDARD_TEXT_KIND_LABELS))
    title = StringField(_l("Short title"), validators=[DataRequired(), Length(max=200)],
                        description=_l("How staff find the text in the list."))
    text_vi = TextAreaField(_l("Text in Vietnamese"), validators=[DataRequired(), Length(max=LONG_TEXT)])
    text_en = TextAreaField(_l("Text in English"), validators=[DataRequired(), Length(max=LONG_TEXT)])
    position = _position_field
    submit = SubmitField(_l("Save the text"))


class SectorForm(_ReferenceForm):
    FIELDS = ("code", "name_vi", "name_en", "position")

    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=32)],
                       description=_l("Lower-case letters without accents, digits and underscores, for example "
                                      "border_trade. Products are tagged with it: it cannot change once used."))
    name_vi = StringField(_l("Name in Vietnamese"), validators=[DataRequired(), Length(max=200)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=200)])
    position = _position_field
    submit = SubmitField(_l("Save the sector"))


class CalendarDayForm(_ReferenceForm):
    FIELDS = ("day", "kind", "note")
    ENUMS = ("kind",)

    day = DateField(_l("Date"), validators=[DataRequired(message=_l("Enter the date."))])
    kind = SelectField(_l("Kind of day"), choices=_choices(CALENDAR_DAY_KIND_LABELS),
                       default=CalendarDayKind.day_off.name,
                       description=_l("An extra day off must be a weekday; a make-up working day a Saturday or a "
                                      "Sunday."))
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)],
                       description=_l("For example: the Prime Minister's decision on the Tết holiday."))
    submit = SubmitField(_l("Save the day"))


class ActionForm(Form):
    """A button that only posts (activate, deactivate, delete, load from the profile): CSRF only."""

    submit = SubmitField()

