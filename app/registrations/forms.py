"""Forms of the registration area."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, DateField, FieldList, FormField, RadioField,
                     SelectChoice, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import Form, SubForm, VersionField
from app.outlets.forms import enum_choices
from app.registrations.labels import (ATTACHMENT_KIND_NAMES, CONSULTED_BODY_LABELS, KIND_LABELS, OPINION_LABELS,
                                      PROPOSAL_LABELS)
from app.registrations.models import AttachmentKind, ConsultedBody, Opinion, Proposal, RegistrationKind

LONG_TEXT = 10_000
SHORT_TEXT = 200


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


def _not_too_far_ahead(field) -> None:
    from app.registrations.service import PROGRAMME_MAX_YEARS_AHEAD, latest_programme_day

    if field.data and field.data > latest_programme_day():
        raise ValidationError(_l("A programme can be registered at most %(years)d years ahead.",
                                 years=PROGRAMME_MAX_YEARS_AHEAD))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ItineraryItemForm(SubForm):
    day = DateField(_l("Date"), validators=[Optional()])
    place_id = SelectField(_l("Place"), coerce=_optional_int, validators=[Optional()])
    place_text = StringField(_l("Or another place"), validators=[Optional(), Length(max=SHORT_TEXT)])
    host_organisation = StringField(_l("Host organisation"), validators=[Optional(), Length(max=SHORT_TEXT)])
    activity = TextAreaField(_l("Activity"), validators=[Optional(), Length(max=LONG_TEXT)])
    interviewees = TextAreaField(_l("People or bodies to interview"), validators=[Optional(), Length(max=LONG_TEXT)])
    move_up = SubmitField(_l("Move up"))
    remove = SubmitField(_l("Remove this day"))


class RegistrationForm(Form):
    kind = RadioField(_l("Who is registering"), validators=[DataRequired()])
    mofa_permit_number = StringField(_l("MOFA press permit number"), validators=[Optional(), Length(max=64)],
                                     description=_l("Non-resident reporters: the number of the permit issued by "
                                                    "the Ministry of Foreign Affairs (form 01/BC-BNG)."))
    crew_member_ids = MultiCheckboxField(_l("Crew"), coerce=int, validators=[Optional()])
    purpose = TextAreaField(_l("Purpose of the programme"), validators=[Optional(), Length(max=LONG_TEXT)])
    content = TextAreaField(_l("Content and topics"), validators=[Optional(), Length(max=LONG_TEXT)])
    start_date = DateField(_l("First day"), validators=[Optional()])
    end_date = DateField(_l("Last day"), validators=[Optional()])
    itinerary = FieldList(FormField(ItineraryItemForm), min_entries=0, max_entries=60)
    interview_questions = TextAreaField(_l("Expected interview questions"),
                                        validators=[Optional(), Length(max=LONG_TEXT)])
    publication_plan = TextAreaField(_l("Publication plan"), validators=[Optional(), Length(max=LONG_TEXT)],
                                     description=_l("Where and when the work will be published or broadcast."))
    equipment = TextAreaField(_l("Equipment brought in"), validators=[Optional(), Length(max=LONG_TEXT)])
    has_drone = BooleanField(_l("We plan to fly a drone"))
    drone_permit_reference = StringField(_l("Drone flight permit reference"),
                                         validators=[Optional(), Length(max=100)],
                                         description=_l("Flying needs a separate flight permit."))
    guiding_agency = StringField(_l("Guiding agency"), validators=[Optional(), Length(max=SHORT_TEXT)])
    pledge = BooleanField(_l("We will carry out only the approved programme, respect Vietnamese law and the "
                             "conditions of the approval, and report what we publish."))
    version = VersionField()
    add_item = SubmitField(_l("Add a day to the itinerary"))
    save = SubmitField(_l("Save draft"))
    send = SubmitField(_l("Submit to the province"))

    def __init__(self, *args, place_choices=(), crew_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = enum_choices(RegistrationKind, KIND_LABELS)
        self.crew_member_ids.choices = list(crew_choices)
        for entry in self.itinerary:
            entry.form.place_id.choices = [SelectChoice("", _l("Another place (type it)"))] + list(place_choices)

    def validate_start_date(self, field):
        _not_too_far_ahead(field)

    def validate_end_date(self, field):
        _not_too_far_ahead(field)
        if field.data and self.start_date.data and field.data < self.start_date.data:
            raise ValidationError(_l("The end date cannot be before the start date."))

    def validate_itinerary(self, field):
        start, end = self.start_date.data, self.end_date.data
        for entry in field:
            day = entry.form.day.data
            if day and start and end and not start <= day <= end:
                entry.form.day.errors.append(str(_l("This date is outside the programme dates.")))
                raise ValidationError(_l("Some itinerary dates are outside the programme dates."))


class NewRegistrationForm(Form):
    kind = RadioField(_l("Who is registering"), validators=[DataRequired()])
    submit = SubmitField(_l("Start the registration"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = enum_choices(RegistrationKind, KIND_LABELS)


class VersionedForm(Form):
    """An action on a registration, carrying the version the user saw (optimistic locking)."""

    version = VersionField(validators=[InputRequired()])


class SimpleActionForm(VersionedForm):
    submit = SubmitField()


class AttachmentForm(Form):
    kind = SelectField(_l("Document"), validators=[DataRequired()])
    file = FileField(_l("File (PDF, JPEG or PNG)"), validators=[FileRequired(_l("Choose a file."))])
    submit = SubmitField(_l("Attach"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = enum_choices(AttachmentKind, ATTACHMENT_KIND_NAMES)


class MessageForm(Form):
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=LONG_TEXT)])
    submit = SubmitField(_l("Send the message"))


class RequestInfoForm(VersionedForm):
    body = TextAreaField(_l("What is needed"), validators=[DataRequired(), Length(max=LONG_TEXT)])
    submit = SubmitField(_l("Request information"))


class AssignForm(VersionedForm):
    officer_id = SelectField(_l("Officer in charge"), coerce=int, validators=[DataRequired()])
    submit = SubmitField(_l("Assign"))


class ConsultationForm(Form):
    body = SelectField(_l("Body consulted"), validators=[DataRequired()])
    body_name = StringField(_l("Name of the body"), validators=[DataRequired(), Length(max=SHORT_TEXT)])
    request_note = TextAreaField(_l("What was asked"), validators=[Optional(), Length(max=LONG_TEXT)])
    submit = SubmitField(_l("Record the consultation"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.body.choices = enum_choices(ConsultedBody, CONSULTED_BODY_LABELS)


class ConsultationAnswerForm(Form):
    opinion = SelectField(_l("Opinion"), validators=[DataRequired()])
    answer = TextAreaField(_l("Answer received"), validators=[DataRequired(), Length(max=LONG_TEXT)])
    submit = SubmitField(_l("Record the answer"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.opinion.choices = enum_choices(Opinion, OPINION_LABELS)


class ProposalForm(VersionedForm):
    proposal = SelectField(_l("Proposed decision"), validators=[DataRequired()])
    note = TextAreaField(_l("Note for the leader"), validators=[Optional(), Length(max=LONG_TEXT)])
    submit = SubmitField(_l("Propose"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.proposal.choices = enum_choices(Proposal, PROPOSAL_LABELS)


class ApproveForm(VersionedForm):
    conditions = TextAreaField(_l("Conditions"), validators=[Optional(), Length(max=LONG_TEXT)])
    escort_name = StringField(_l("Escort or contact officer"), validators=[DataRequired(), Length(max=SHORT_TEXT)])
    escort_phone = StringField(_l("Escort's phone"), validators=[DataRequired(), Length(max=40)])
    submit = SubmitField(_l("Approve"))


class RefuseForm(VersionedForm):
    reasons = TextAreaField(_l("Reasons for the refusal"), validators=[DataRequired(), Length(max=LONG_TEXT)])
    submit = SubmitField(_l("Refuse"))


class RevokeForm(VersionedForm):
    reason = TextAreaField(_l("Reason for revoking"), validators=[DataRequired(), Length(max=LONG_TEXT)])
    submit = SubmitField(_l("Revoke the approval"))


class QueueFilterForm(Form):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)],
                    description=_l("Reference, outlet or crew member's name"))
    status = SelectField(_l("Status"), validators=[Optional()], validate_choice=False)
    kind = SelectField(_l("Kind"), validators=[Optional()], validate_choice=False)
    nationality = SelectField(_l("Nationality"), validators=[Optional()], validate_choice=False)
    date_from = DateField(_l("Programme from"), validators=[Optional()])
    date_to = DateField(_l("Programme to"), validators=[Optional()])
    border = BooleanField(_l("Border areas only"))
    mine = BooleanField(_l("Assigned to me"))
    due = SelectField(_l("Deadline"), validators=[Optional()], validate_choice=False)
    sort = SelectField(_l("Sort by"), validators=[Optional()], validate_choice=False)
    submit = SubmitField(_l("Filter"))
