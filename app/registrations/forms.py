"""Forms of the registration area."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (BooleanField, DateField, FieldList, FormField, RadioField,
                     SelectChoice, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from app.forms import MAX_INTEGER, Form, QuickSelect, SubForm, VersionField
from app.outlets.forms import enum_choices
from app.registrations.labels import ATTACHMENT_KIND_NAMES, OPINION_LABELS, PROPOSAL_LABELS
from app.registrations.models import AttachmentKind, Opinion, Proposal

LONG_TEXT = 10_000
SHORT_TEXT = 200


def _optional_int(value):
    """An id from a list, or None; a number no row can have is refused (the field says the choice is
    not valid) rather than sent to the database, which cannot hold it."""
    if value in (None, "", "None"):
        return None
    number = int(value)
    if not 0 < number <= MAX_INTEGER:
        raise ValueError("not an id")
    return number


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
    place_id = SelectField(_l("Place"), coerce=_optional_int, validators=[Optional()], widget=QuickSelect())
    place_text = StringField(_l("Or another place"), validators=[Optional(), Length(max=SHORT_TEXT)])
    host_organisation = StringField(_l("Host organisation"), validators=[Optional(), Length(max=SHORT_TEXT)])
    activity = TextAreaField(_l("Activity"), validators=[Optional(), Length(max=LONG_TEXT)])
    interviewees = TextAreaField(_l("People or bodies to interview"), validators=[Optional(), Length(max=LONG_TEXT)])
    move_up = SubmitField(_l("Move up"))
    remove = SubmitField(_l("Remove this day"))


class RegistrationForm(Form):
    """The correspondent's whole registration, attachments included: every button of the form
    (attach, remove, add or move a day, add a crew member) also saves the draft as typed.
    The kind (resident office or not) is not asked: it comes from the outlet profile."""

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
                                         description=_l("Flying needs a separate flight permit. "
                                                        "Required if you fly a drone."))
    guiding_agency = StringField(_l("Guiding agency"), validators=[Optional(), Length(max=SHORT_TEXT)])
    attachment_kind = SelectField(_l("Document"), validators=[Optional()], validate_choice=False)
    attachment_file = FileField(_l("File (PDF, JPEG or PNG)"), validators=[Optional()])
    attach = SubmitField(_l("Attach the file"))
    # The button of each attachment's "Yes, remove" carries that attachment's id.
    remove_attachment = StringField(validators=[Optional(), Length(max=12)])
    pledge = BooleanField(_l("We will carry out only the approved programme, respect Vietnamese law and the "
                             "conditions of the approval, and report what we publish."))
    short_notice_accepted = BooleanField(_l("We understand: the reply may come after our first day, and we will "
                                            "not start reporting in the province before we have it."))
    version = VersionField()
    add_item = SubmitField(_l("Add a day to the itinerary"))
    add_crew_member = SubmitField(_l("Save and add a new crew member"))
    save = SubmitField(_l("Save draft"))
    send = SubmitField(_l("Submit to the province"))

    def __init__(self, *args, place_choices=(), crew_choices=(), attachment_choices=(), earliest=None, latest=None,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.crew_member_ids.choices = list(crew_choices)
        self.attachment_kind.choices = list(attachment_choices) or enum_choices(AttachmentKind,
                                                                                ATTACHMENT_KIND_NAMES)
        self._place_choices = [SelectChoice("", _l("Another place (type it)"))] + list(place_choices)
        self._date_bounds = {name: value.isoformat() for name, value in (("min", earliest), ("max", latest)) if value}
        for entry in self.itinerary:
            self._prepare_day(entry)
        for date_field in (self.start_date, self.end_date):
            self._bound(date_field)

    def _bound(self, date_field) -> None:
        """The browser's date picker offers only the sane window (the server checks it too)."""
        date_field.render_kw = {**(date_field.render_kw or {}), **self._date_bounds}

    def _prepare_day(self, entry) -> None:
        entry.form.place_id.choices = self._place_choices
        self._bound(entry.form.day)

    def append_day(self) -> None:
        """An empty itinerary day on the page (stored only when the draft is saved)."""
        self.itinerary.append_entry()
        self._prepare_day(self.itinerary[-1])

    def removed_attachment_id(self) -> int | None:
        value = (self.remove_attachment.data or "").strip()
        return int(value) if value.isascii() and value.isdigit() and len(value) <= 10 else None

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
    """Start a draft: nothing to choose, the kind comes from the outlet profile."""

    submit = SubmitField(_l("Start the registration"))


class DuplicateForm(Form):
    submit = SubmitField(_l("Duplicate this registration"))


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
    """The correspondent's message: one text, in their own words."""

    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=LONG_TEXT)])
    submit = SubmitField(_l("Send the message"))


class BilingualTextMixin:
    """A text for the correspondent, in Vietnamese (the file's copy) and in English; the page says
    which one the correspondent reads, and the service requires that one."""

    body = TextAreaField(_l("Vietnamese text"), validators=[Optional(), Length(max=LONG_TEXT)])
    body_en = TextAreaField(_l("English text"), validators=[Optional(), Length(max=LONG_TEXT)])
    standard_text_id = SelectField(_l("Standard text"), coerce=_optional_int, validators=[Optional()],
                                   validate_choice=False)
    insert = SubmitField(_l("Insert the standard text"))

    def validate_body_en(self, field):
        if not self.insert.data and not (self.body.data or "").strip() and not (field.data or "").strip():
            raise ValidationError(_l("Write the text in at least one language."))


class StaffMessageForm(BilingualTextMixin, Form):
    submit = SubmitField(_l("Send the message"))


class RequestInfoForm(BilingualTextMixin, VersionedForm):
    submit = SubmitField(_l("Request information"))


class AssignForm(VersionedForm):
    officer_id = SelectField(_l("Officer in charge"), coerce=int, validators=[DataRequired()])
    submit = SubmitField(_l("Assign"))


class ConsultationForm(Form):
    """Ask a body for its opinion: the body from the reference data, and what the province asks."""

    consulted_body = SelectField(_l("Body consulted"),
                                 validators=[DataRequired(_l("Choose the body to consult."))],
                                 description=_l("Its official name, printed in the consultation letter. "
                                                "The administrator keeps the list."))
    request_note = TextAreaField(_l("Questions for the body"), validators=[Optional(), Length(max=LONG_TEXT)],
                                 description=_l("Printed in the consultation letter, after the programme."))
    submit = SubmitField(_l("Issue the consultation letter"))

    def __init__(self, *args, **kwargs):
        from app.registrations.consultations import consulted_body_choices

        super().__init__(*args, **kwargs)
        self.consulted_body.choices = consulted_body_choices()


class ConsultationAnswerForm(Form):
    """The body's reply: its letter's number and date, the opinion, a summary and the scan."""

    reply_number = StringField(_l("Number of the reply letter"),
                               validators=[DataRequired(_l("Give the number of the reply letter.")), Length(max=64)])
    reply_date = DateField(_l("Date of the reply letter"),
                           validators=[InputRequired(_l("Give the date of the reply letter."))])
    opinion = SelectField(_l("Opinion"), validators=[DataRequired()])
    answer = TextAreaField(_l("Summary of the reply"), validators=[DataRequired(), Length(max=LONG_TEXT)])
    scan = FileField(_l("Scan of the reply letter (PDF, JPEG or PNG)"), validators=[Optional()],
                     description=_l("Recommended: the signed reply is the proof of the body's opinion."))
    submit = SubmitField(_l("Record the answer"))

    def __init__(self, *args, requested_on=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.requested_on = requested_on
        self.opinion.choices = enum_choices(Opinion, OPINION_LABELS)

    def validate_reply_date(self, field):
        from app.clock import local_today

        if field.data is None:
            return
        if field.data > local_today():
            raise ValidationError(_l("The reply letter cannot be dated in the future."))
        if self.requested_on is not None and field.data < self.requested_on:
            raise ValidationError(_l("The reply letter cannot be dated before the consultation was requested."))


class DraftDecisionForm(VersionedForm):
    """The officer's draft decision (DESIGN.md section 4); the proposal carries it to the leader."""

    proposal = RadioField(_l("Proposed decision"), validators=[Optional()], validate_choice=False)
    summary_vi = TextAreaField(_l("Summary quoted by the letter (Vietnamese)"),
                               validators=[Optional(), Length(max=LONG_TEXT)],
                               description=_l("The purpose and content in the province's words (trích yếu). "
                                              "The correspondent's own words stay in the dossier."))
    summary_en = TextAreaField(_l("Summary for the English courtesy page"),
                               validators=[Optional(), Length(max=LONG_TEXT)])
    request_number = StringField(_l("Number of the request letter"), validators=[Optional(), Length(max=64)],
                                 description=_l("The office's own number for its request, if it has one."))
    request_date = DateField(_l("Date of the request"), validators=[Optional()])
    legal_basis_vi = TextAreaField(_l("Legal basis (Vietnamese, one per line)"),
                                   validators=[Optional(), Length(max=LONG_TEXT)])
    legal_basis_en = TextAreaField(_l("Legal basis (English, one per line)"),
                                   validators=[Optional(), Length(max=LONG_TEXT)])
    conditions_vi = TextAreaField(_l("Conditions (Vietnamese, one per line)"),
                                  validators=[Optional(), Length(max=LONG_TEXT)])
    conditions_en = TextAreaField(_l("Conditions (English, one per line)"),
                                  validators=[Optional(), Length(max=LONG_TEXT)])
    standard_conditions = MultiCheckboxField(_l("Standard conditions"), coerce=int, validators=[Optional()],
                                             validate_choice=False)
    refusal_reasons_vi = TextAreaField(_l("Reasons for the refusal (Vietnamese)"),
                                       validators=[Optional(), Length(max=LONG_TEXT)])
    refusal_reasons_en = TextAreaField(_l("Reasons for the refusal (English)"),
                                       validators=[Optional(), Length(max=LONG_TEXT)])
    standard_reasons = MultiCheckboxField(_l("Standard refusal reasons"), coerce=int, validators=[Optional()],
                                          validate_choice=False)
    escort_officer_id = SelectField(_l("Escort officer"), coerce=_optional_int, validators=[Optional()],
                                    validate_choice=False)
    note = TextAreaField(_l("Note for the leader"), validators=[Optional(), Length(max=LONG_TEXT)])
    insert = SubmitField(_l("Add the chosen standard texts"))
    save = SubmitField(_l("Save the draft"))
    submit = SubmitField(_l("Propose to the leader"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.proposal.choices = enum_choices(Proposal, PROPOSAL_LABELS)


class ReturnForm(VersionedForm):
    comment = TextAreaField(_l("What the officer should change"), validators=[DataRequired(), Length(max=LONG_TEXT)])
    submit = SubmitField(_l("Return to the officer"))


class DecideForm(VersionedForm):
    """The leader's decision: on the draft as previewed, so there is nothing to type."""

    submit = SubmitField()


class RevokeForm(VersionedForm):
    reason = TextAreaField(_l("Reason for revoking"), validators=[DataRequired(), Length(max=LONG_TEXT)])
    submit = SubmitField(_l("Revoke the approval"))


class QueueFilterForm(Form):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)],
                    description=_l("Reference, outlet, crew member's name, place or passport number; accents and capitals do not matter"))
    status = SelectField(_l("Status"), validators=[Optional()], validate_choice=False, widget=QuickSelect())
    kind = SelectField(_l("Kind"), validators=[Optional()], validate_choice=False, widget=QuickSelect())
    nationality = SelectField(_l("Nationality"), validators=[Optional()], validate_choice=False, widget=QuickSelect())
    date_from = DateField(_l("Programme from"), validators=[Optional()])
    date_to = DateField(_l("Programme to"), validators=[Optional()])
    border = BooleanField(_l("Border areas only"))
    mine = BooleanField(_l("Assigned to me"))
    due = SelectField(_l("Deadline"), validators=[Optional()], validate_choice=False, widget=QuickSelect())
    sort = SelectField(_l("Sort by"), validators=[Optional()], validate_choice=False, widget=QuickSelect())
    submit = SubmitField(_l("Filter"))


from wtforms import HiddenField  # noqa: E402  (the queue's forms below)


class RegistrationSelectionField(SelectMultipleField):
    """The queue's row checkboxes: each value is "registration id:version seen" (optimistic locking
    per row). `data` is a list of (id, version); a value that is not of that form is an error."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("validate_choice", False)
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist):
        self.data, self.bad_values = [], []
        for value in valuelist:
            registration_id, _sep, version = str(value).partition(":")
            if (registration_id.isascii() and registration_id.isdigit() and version.isascii() and version.isdigit()
                    and len(registration_id) <= 10 and len(version) <= 10):
                self.data.append((int(registration_id), int(version)))
            else:
                self.bad_values.append(value)

    def pre_validate(self, form):
        if getattr(self, "bad_values", None):
            raise ValidationError(_l("The selection could not be read. Reload the page and select again."))
        if not self.data:
            raise ValidationError(_l("Select at least one registration."))


class BulkAssignForm(Form):
    selected = RegistrationSelectionField(_l("Selected registrations"))
    officer_id = SelectField(_l("Officer in charge"), coerce=int, validators=[DataRequired()])
    # The queue's filters, to come back to the same view.
    filters = HiddenField(validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Assign the selected"))


class SaveFilterForm(Form):
    name = StringField(_l("Save this filter as…"), validators=[DataRequired(), Length(min=1, max=100)],
                       description=_l("A name of your own, e.g. \"Border areas this month\"."))
    filters = HiddenField(validators=[Optional(), Length(max=2000)])
    submit = SubmitField(_l("Save the filter"))


class DeleteFilterForm(Form):
    submit = SubmitField(_l("Delete"))
