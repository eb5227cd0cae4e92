"""Registration pages: the correspondent's form and list, the staff queue and review page.

Views are thin: load and check access, read the form, call one service function,
commit, then redirect or render. Every rule lives in service.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from app.audit.models import AuditEvent
from app.auth.models import Role, User
from app.auth.permissions import login_required, roles_required
from app.documents.models import INTERNAL_KINDS, IssuedDocument
from app.extensions import db
from app.i18n import day
from app.outlets.models import CrewMember
from app.places.models import Place
from app.products import service as product_service
from app.products.models import Product
from app.registrations import bp, service
from app.registrations.forms import (AssignForm, AttachmentForm, DuplicateForm, ConsultationAnswerForm, ConsultationForm,
                                     DecideForm, DraftDecisionForm, MessageForm, NewRegistrationForm,
                                     RegistrationForm, RequestInfoForm, ReturnForm, RevokeForm, SimpleActionForm,
                                     StaffMessageForm)
from app.registrations.labels import CORRESPONDENT_NEXT_STEP
from app.registrations.models import (Attachment, AttachmentKind, ItineraryItem, Proposal, Registration,
                                      RegistrationKind, Status)
from app.registrations.permissions import allowed_actions, can_view
from app.database import slow_work, writes
from app.privacy import access as privacy_access
from app.privacy.masking import mask_passport
from app.reference.models import StandardTextKind
from app.uploads import UploadError, send_stored, upload_rate_limited

correspondent_required = roles_required(Role.correspondent)
reviewer_required = roles_required(Role.officer, Role.leader)

# Events the correspondent does not see in the timeline: the province's internal steps.
INTERNAL_EVENTS = {"registration.assign", "registration.consultation_requested",
                   "registration.consultation_answered", "registration.draft", "registration.propose",
                   "registration.return", "registration.note_added", "registration.dossier_exported",
                   "attachment.opened"}


def _load(registration_id: int) -> Registration:
    """The registration, or 404 for anyone who may not see it (another outlet does not learn it exists)."""
    # The places of the programme with it: one statement, not one per day of the itinerary.
    registration = db.session.get(Registration, registration_id,
                                  options=[selectinload(Registration.itinerary).selectinload(ItineraryItem.place)])
    if registration is None or not can_view(current_user, registration):
        abort(404)
    return registration


def _locale() -> str:
    return str(get_locale())


def _place_choices() -> list[SelectChoice]:
    locale = _locale()
    # Columns, not Place objects: every day of the itinerary offers every place (hundreds).
    name = Place.name_vi if locale == "vi" else Place.name_en
    places = db.session.execute(sa.select(Place.id, name, Place.border_area).where(Place.active.is_(True)))
    border = _("border area")
    return [SelectChoice(place_id, place_name + (f" ({border})" if border_area else ""),
                         render_kw={"data-border": "true"} if border_area else None)
            for place_id, place_name, border_area in sorted(places, key=lambda row: row[1])]


def _crew_choices(registration: Registration) -> list[SelectChoice]:
    members = db.session.scalars(sa.select(CrewMember).where(
        CrewMember.outlet_id == registration.outlet_id,
        sa.or_(CrewMember.active.is_(True), CrewMember.id.in_([member.id for member in registration.crew_members]))
    ).order_by(CrewMember.full_name))
    return [SelectChoice(member.id, f"{member.full_name} ({member.role.name.replace('_', ' ')}, "
                                    f"{mask_passport(member.passport_number)})") for member in members]


# --- the correspondent's side --------------------------------------------------

@bp.route("/my/registrations")
@correspondent_required
def mine():
    registrations, reported = [], set()
    if current_user.outlet_id is not None:
        registrations = db.session.scalars(
            sa.select(Registration).where(Registration.outlet_id == current_user.outlet_id)
            .order_by(Registration.created_at.desc())).all()
        reported = set(db.session.scalars(sa.select(Product.registration_id).where(
            Product.outlet_id == current_user.outlet_id, Product.registration_id.is_not(None))))
    return render_template("registrations/mine.html", registrations=registrations, next_step=CORRESPONDENT_NEXT_STEP,
                           reported=reported, today=service.local_today())


@bp.route("/registrations/new", methods=["GET", "POST"])
@correspondent_required
def new():
    """One button: the kind comes from the outlet profile, the rest is the registration form."""
    if current_user.outlet_id is None:
        flash(_("Describe your outlet first: a registration is made in its name."), "info")
        return redirect(url_for("outlets.outlet"))
    form = NewRegistrationForm()
    kind = service.kind_for_outlet(current_user.outlet)
    if form.validate_on_submit():
        registration_id = service.create_draft(current_user, kind).id
        db.session.commit()  # (the id read before: after the commit it would reload, in a write transaction)
        return redirect(url_for("registrations.edit", registration_id=registration_id))
    return render_template("registrations/new.html", form=form, kind=kind)


def _fill_form(form: RegistrationForm, registration: Registration) -> None:
    """What `obj=` cannot fill: the chosen crew, the pledge, the version seen."""
    form.crew_member_ids.data = [member.id for member in registration.crew_members]
    form.pledge.data = registration.pledge_accepted_at is not None
    form.version.data = registration.version


def _entries_after_buttons(form: RegistrationForm) -> tuple[list[service.ItineraryEntry], bool]:
    """The itinerary as typed, after the add, remove and move-up buttons; True when a button was used."""
    entries, used = [], False
    for entry in form.itinerary:
        sub = entry.form
        item = service.ItineraryEntry(day=sub.day.data, place_id=sub.place_id.data, place_text=sub.place_text.data,
                                      host_organisation=sub.host_organisation.data or "",
                                      activity=sub.activity.data or "", interviewees=sub.interviewees.data or "")
        if sub.remove.data:
            used = True
            continue
        if sub.move_up.data and entries:
            used = True
            entries.insert(len(entries) - 1, item)
            continue
        entries.append(item)
    if form.add_item.data:
        used = True
        last_day = entries[-1].day if entries else None
        entries.append(service.ItineraryEntry(day=last_day and last_day + timedelta(days=1) or form.start_date.data,
                                              place_id=None, place_text=None))
    return entries, used


def _draft_data(form: RegistrationForm, registration: Registration,
                itinerary: list[service.ItineraryEntry]) -> service.DraftData:
    return service.DraftData(
        kind=service.kind_for_outlet(registration.outlet), purpose=form.purpose.data or "",
        content=form.content.data or "", start_date=form.start_date.data, end_date=form.end_date.data,
        interview_questions=form.interview_questions.data or "", publication_plan=form.publication_plan.data or "",
        equipment=form.equipment.data or "", has_drone=form.has_drone.data,
        drone_permit_reference=form.drone_permit_reference.data, guiding_agency=form.guiding_agency.data,
        mofa_permit_number=form.mofa_permit_number.data, pledge=form.pledge.data,
        crew_member_ids=form.crew_member_ids.data or [], itinerary=itinerary)


def _missing_attachment_kinds(registration: Registration) -> list[AttachmentKind]:
    from flask import current_app

    present = {attachment.kind for attachment in registration.attachments}
    return [AttachmentKind[name] for name in current_app.config["REQUIRED_ATTACHMENTS"][registration.kind.name]
            if AttachmentKind[name] not in present]


def _attachment_choices(registration: Registration) -> list[SelectChoice]:
    """Every kind of document, the required ones still missing first (in the configured order)."""
    from app.registrations.labels import ATTACHMENT_KIND_NAMES

    missing = _missing_attachment_kinds(registration)
    ordered = missing + [kind for kind in AttachmentKind if kind not in missing]
    return [SelectChoice(kind.name, str(ATTACHMENT_KIND_NAMES[kind])) for kind in ordered]


def _registration_form(registration: Registration, **kwargs) -> RegistrationForm:
    today = service.local_today()
    return RegistrationForm(place_choices=_place_choices(), crew_choices=_crew_choices(registration),
                            attachment_choices=_attachment_choices(registration),
                            earliest=today, latest=service.latest_programme_day(today), **kwargs)


# Where the error summary's link for a problem goes, when it is not the field of that name.
PROBLEM_ANCHORS = {"crew_member_ids": "crew", "itinerary": "itinerary", "attachments": "attachment_kind"}


def _error_summary(form: RegistrationForm, problems: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(anchor, message) for each error of the page, in the form's order: the summary at the top
    links each one to its field."""
    summary = []
    for field in form:
        if field.name == "itinerary":
            for number, entry in enumerate(field, start=1):
                for sub in entry.form:
                    summary += [(sub.id, _("Day %(number)d, %(field)s: %(message)s", number=number,
                                           field=sub.label.text.lower(), message=message)) for message in sub.errors]
            summary += [("itinerary", str(message)) for message in field.errors if isinstance(message, str)]
        elif field.errors:
            summary += [(PROBLEM_ANCHORS.get(field.name, field.id), str(message)) for message in field.errors]
    for name in ("itinerary", "attachments"):
        summary += [(PROBLEM_ANCHORS[name], message) for message in problems.get(name, [])]
    return summary


def _edit_page(form, registration, status=200, problems=None):
    problems = problems or {}
    for name, messages in problems.items():
        if name in form and name != "itinerary":
            form[name].errors = list(form[name].errors) + messages
    if form.attachment_kind.data is None and form.attachment_kind.choices:
        form.attachment_kind.data = form.attachment_kind.choices[0].value
    border_place_ids = set(db.session.scalars(sa.select(Place.id).where(Place.border_area.is_(True))))
    return render_template("registrations/edit.html", form=form, registration=registration, problems=problems,
                           error_summary=_error_summary(form, problems), border_place_ids=border_place_ids,
                           missing_attachments=_missing_attachment_kinds(registration),
                           crew_without_photo=set(db.session.scalars(sa.select(CrewMember.id).where(
                               CrewMember.outlet_id == registration.outlet_id,
                               CrewMember.photo_stored_name.is_(None)))),
                           kind=service.kind_for_outlet(registration.outlet),
                           warning=service.lead_time_warning(registration)), status


@bp.route("/registrations/<int:registration_id>/edit", methods=["GET", "POST"])
@upload_rate_limited
@correspondent_required
def edit(registration_id: int):
    """The registration form. Every button saves the draft as typed first, then does its own part:
    attach or remove a file, add, remove or move a day, go and add a crew member, or submit."""
    registration = _load(registration_id)
    if "edit" not in allowed_actions(current_user, registration):
        flash(_("This registration can no longer be edited."), "warning")
        return redirect(url_for("registrations.detail", registration_id=registration.id))
    if request.method == "GET":
        form = _registration_form(registration, formdata=None, obj=registration)
        _fill_form(form, registration)
        if not registration.itinerary:  # one day to fill in at once (kept only when saved)
            form.append_day()
        return _edit_page(form, registration)[0]
    form = _registration_form(registration)
    if not form.validate():
        if form.attachment_file.data and getattr(form.attachment_file.data, "filename", ""):
            flash(_("The file was not attached: correct the errors below, then choose it again."), "warning")
        return _edit_page(form, registration, 422)
    itinerary, button_used = _entries_after_buttons(form)
    try:
        service.save_draft(current_user, registration, _draft_data(form, registration, itinerary),
                           int(form.version.data or 0))
    except service.RegistrationError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return _edit_page(form, registration, error.status)
    removed = form.removed_attachment_id()
    another_button = (button_used or form.save.data or form.attach.data or form.add_crew_member.data
                      or removed is not None)
    if form.send.data and not another_button:
        return _submit_saved_draft(form, registration)
    db.session.commit()
    if form.attach.data:
        return _attach_from_form(form, registration, registration_id)
    if removed is not None:
        return _remove_from_form(registration, removed)
    if form.add_crew_member.data:
        flash(_("Draft saved. Add the crew member: they join this registration's crew, and you come back here."),
              "success")
        return redirect(url_for("outlets.new_crew_member", for_registration=registration_id))
    flash(_("Draft saved."), "success")
    return redirect(url_for("registrations.edit", registration_id=registration_id,
                            _anchor="itinerary" if button_used else None))


def _submit_saved_draft(form: RegistrationForm, registration: Registration):
    """"Submit to the province", after save_draft: the submission in a savepoint of the draft's
    transaction, so that a refused submission still keeps the draft as typed.

    Choice: one transaction, not a commit of the draft and a second one for the submission (as
    before): the submission then reloaded the registration, its crew and attachments that the
    commit had expired, and on SQLite took the write lock a second time."""
    action = service.resubmit if registration.status is Status.needs_info else service.submit
    try:
        with db.session.begin_nested():
            action(current_user, registration, registration.version,
                   short_notice_accepted=form.short_notice_accepted.data)
    except service.Incomplete as incomplete:
        db.session.commit()
        form.version.data = registration.version  # the draft was saved: the page holds the saved version
        flash(_("Draft saved, but not submitted yet: see what is missing below."), "warning")
        return _edit_page(form, registration, 422, incomplete.problems)
    except service.RegistrationError as error:
        db.session.commit()
        flash(str(error), "danger")
        return _edit_page(form, registration, error.status)
    due_date, registration_id = registration.due_date, registration.id  # read before the commit expires them
    db.session.commit()
    flash(_("Submitted. The province replies by %(due)s.", due=day(due_date)), "success")
    return redirect(url_for("registrations.detail", registration_id=registration_id))


def _attach_from_form(form: RegistrationForm, registration: Registration, registration_id: int):
    """The "Attach the file" button: the draft is saved (committed) already, so a refused file loses nothing.

    (`registration_id`, not registration.id: after the commit that would reload the registration in
    a write transaction, before add_attachment's checks, which read in a read one.)"""
    back = url_for("registrations.edit", registration_id=registration_id, _anchor="attachments")
    upload = form.attachment_file.data
    if not getattr(upload, "filename", ""):
        flash(_("Draft saved. Choose a file to attach, then press \"Attach the file\"."), "warning")
        return redirect(back, 303)
    if form.attachment_kind.data not in AttachmentKind.__members__:
        flash(_("Draft saved. Choose what the document is, then attach it again."), "warning")
        return redirect(back, 303)
    try:
        attachment = service.add_attachment(current_user, registration, AttachmentKind[form.attachment_kind.data],
                                            upload)
    except (UploadError, service.RegistrationError) as error:
        db.session.rollback()
        flash(_("Draft saved. The file was not attached: %(reason)s", reason=str(error)), "danger")
        return redirect(back, 303)
    filename = attachment.original_filename  # read before the commit expires it (no reload to say it)
    db.session.commit()
    flash(_("Draft saved. Attached: %(file)s.", file=filename), "success")
    return redirect(back, 303)


def _remove_from_form(registration: Registration, attachment_id: int):
    back = url_for("registrations.edit", registration_id=registration.id, _anchor="attachments")
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.registration_id != registration.id:
        flash(_("Draft saved. That attachment was already removed."), "warning")
        return redirect(back, 303)
    return _remove_and_say(attachment, _("Draft saved. Removed: %(file)s.", file=attachment.original_filename))


def _remove_and_say(attachment: Attachment, done_message: str):
    """Remove the attachment, commit, and come back to the form's attachments saying so."""
    back = url_for("registrations.edit", registration_id=attachment.registration_id, _anchor="attachments")
    try:
        service.remove_attachment(current_user, attachment)
    except service.RegistrationError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return redirect(back, 303)
    db.session.commit()
    flash(done_message, "success")
    return redirect(back, 303)


@bp.route("/registrations/<int:registration_id>/attachments", methods=["POST"])
@upload_rate_limited
@correspondent_required
def add_attachment(registration_id: int):
    registration = _load(registration_id)
    form = AttachmentForm()
    if form.validate_on_submit():
        try:
            service.add_attachment(current_user, registration, AttachmentKind[form.kind.data], form.file.data)
        except (UploadError, service.RegistrationError) as error:
            db.session.rollback()
            flash(str(error), "danger")
            return redirect(url_for("registrations.edit", registration_id=registration.id, _anchor="attachments")), 303
        db.session.commit()
        flash(_("Attached."), "success")
    else:
        for errors in form.errors.values():
            flash(" ".join(str(error) for error in errors), "danger")
    # The route's registration_id: registration.id after the commit would reload the row, in a write transaction.
    return redirect(url_for("registrations.edit", registration_id=registration_id, _anchor="attachments"))


def _load_attachment(registration_id: int, attachment_id: int) -> Attachment:
    registration = _load(registration_id)
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.registration_id != registration.id:
        abort(404)
    return attachment


@bp.route("/registrations/<int:registration_id>/attachments/<int:attachment_id>")
@login_required
def attachment(registration_id: int, attachment_id: int):
    found = _load_attachment(registration_id, attachment_id)
    response = send_stored(found)  # first: a file missing from disk is no opening
    if privacy_access.is_identity_attachment(found):
        writes()  # the audit event is kept although this is a GET
        privacy_access.record_identity_opening(current_user, db.session.get(Attachment, attachment_id))
        db.session.commit()
    return response


@bp.route("/registrations/<int:registration_id>/attachments/<int:attachment_id>/remove", methods=["POST"])
@correspondent_required
def remove_attachment(registration_id: int, attachment_id: int):
    found = _load_attachment(registration_id, attachment_id)
    if not SimpleActionForm().validate_on_submit():  # never silently: say that nothing was removed
        flash(_("The attachment was not removed: the page was out of date. Reload it and try again."), "danger")
        return redirect(url_for("registrations.edit", registration_id=registration_id, _anchor="attachments"))
    return _remove_and_say(found, _("Removed: %(file)s.", file=found.original_filename))


# --- the registration page (owner and staff) -----------------------------------------

def _timeline(registration: Registration):
    query = (sa.select(AuditEvent).options(selectinload(AuditEvent.actor))
             .where(AuditEvent.object_type == "registrations", AuditEvent.object_id == str(registration.id))
             .order_by(AuditEvent.created_at, AuditEvent.id))
    if current_user.role is not Role.correspondent:
        return db.session.scalars(query).all()
    internal = {kind.name for kind in INTERNAL_KINDS}
    return fold_repeated_saves([
        event for event in db.session.scalars(query.where(AuditEvent.action.not_in(INTERNAL_EVENTS)))
        if not (event.action == "document.issued" and (event.after or {}).get("kind") in internal)])


@dataclass
class TimelineEntry:
    """An event of the correspondent's timeline; `count` > 1 for repeated "draft saved" folded into one."""

    event: AuditEvent
    count: int = 1

    def __getattr__(self, name):  # the template reads the event's fields through the entry
        return getattr(self.event, name)


def fold_repeated_saves(events: list[AuditEvent]) -> list[TimelineEntry]:
    """Consecutive "draft saved" events by the same person become one line: the last save, with
    the number of saves (the correspondent saves often; the staff see every event)."""
    folded: list[TimelineEntry] = []
    for event in events:
        last = folded[-1] if folded else None
        if (last is not None and event.action == last.event.action == "registration.edit"
                and event.actor_id == last.event.actor_id):
            folded[-1] = TimelineEntry(event, last.count + 1)
        else:
            folded.append(TimelineEntry(event))
    return folded


def _reviewers() -> list[User]:
    return list(db.session.scalars(sa.select(User).where(User.role.in_([Role.officer, Role.leader]),
                                                         User.active.is_(True)).order_by(User.full_name)))


def _distinct_ids(form, prefix: str):
    """Several forms on one page share field names; their ids (and labels) must differ."""
    for field in form:
        field.id = field.label.field_id = f"{prefix}-{field.name}"
    return form


def _detail_page(registration: Registration, status: int = 200, **forms):
    version = registration.version
    actions = allowed_actions(current_user, registration)
    assign_form = forms.get("assign") or AssignForm(version=version, officer_id=current_user.id)
    assign_form.officer_id.choices = [SelectChoice(user.id, user.full_name) for user in _reviewers()]
    staff = current_user.role in (Role.officer, Role.leader)
    request_info_form = forms.get("request_info") or RequestInfoForm(version=version)
    message_form = forms.get("message") or (StaffMessageForm() if staff else MessageForm())
    for form in (request_info_form, message_form):
        if form is not None and hasattr(form, "standard_text_id"):
            form.standard_text_id.choices = [SelectChoice("", _("Choose…"))] + _standard_choices(
                StandardTextKind.info_request)
    failed = forms.get("answer")  # a refused answer keeps its messages next to its fields
    answer_forms = {consultation.id: _distinct_ids(failed if getattr(failed, "consultation_id", None) == consultation.id
                                                   else ConsultationAnswerForm(), f"answer-{consultation.id}")
                    for consultation in registration.consultations if consultation.answered_at is None}
    context = dict(
        registration=registration, actions=actions, timeline=_timeline(registration), answer_forms=answer_forms,
        blockers=service.approval_blockers(registration),
        message_form=_distinct_ids(message_form, "message"),
        request_info_form=_distinct_ids(request_info_form, "request-info"),
        reader_locale=service.correspondent_locale(registration) if staff else None,
        assign_form=_distinct_ids(assign_form, "assign"),
        consultation_form=_distinct_ids(forms.get("consult") or ConsultationForm(), "consult"),
        draft_form=_distinct_ids(forms.get("draft") or _draft_form(registration), "draft")
        if "draft" in actions else None,
        return_form=_distinct_ids(forms.get("return") or ReturnForm(version=version), "return"),
        decide_form=_distinct_ids(DecideForm(version=version), "decide"),
        revoke_form=_distinct_ids(forms.get("revoke") or RevokeForm(version=version), "revoke"),
        simple_form=_distinct_ids(SimpleActionForm(version=version), "simple"),
        duplicate_form=_distinct_ids(DuplicateForm(), "duplicate"),
        next_step=CORRESPONDENT_NEXT_STEP.get(registration.status), today=service.local_today(),
        documents=db.session.scalars(sa.select(IssuedDocument).where(
            IssuedDocument.registration_id == registration.id,
            *([] if staff else [IssuedDocument.kind.not_in(INTERNAL_KINDS)])).order_by(IssuedDocument.id)).all(),
        amendment=db.session.scalar(sa.select(Registration).where(Registration.amends_id == registration.id)
                                    .order_by(Registration.id.desc())),
        products=db.session.scalars(sa.select(Product).where(Product.registration_id == registration.id)
                                    .order_by(Product.publication_date, Product.id)).all(),
        report_due=product_service.report_due_date(registration),
    )
    return render_template("registrations/detail.html", **context), status


@bp.route("/registrations/<int:registration_id>")
@login_required
def detail(registration_id: int):
    return _detail_page(_load(registration_id))[0]


def _act(registration: Registration, form, form_key: str, perform, done_message: str):
    """Validate `form`, run `perform(form)`, commit, redirect; on refusal, show the page again."""
    if not form.validate_on_submit():
        return _detail_page(registration, 422, **{form_key: form})
    try:
        perform(form)
    except service.RegistrationError as error:
        db.session.rollback()
        db.session.refresh(registration)
        flash(str(error), "danger")
        return _detail_page(registration, error.status, **{form_key: form})
    registration_id = registration.id  # (after the commit it would reload, in a write transaction)
    db.session.commit()
    flash(done_message, "success")
    return redirect(url_for("registrations.detail", registration_id=registration_id))


def _action_route(rule: str, endpoint: str, roles=None):
    decorator = roles_required(*(roles or (Role.correspondent, Role.officer, Role.leader)))

    def register(view):
        bp.add_url_rule(rule, endpoint, decorator(view), methods=["POST"])
        return view

    return register


@_action_route("/registrations/<int:registration_id>/withdraw", "withdraw", (Role.correspondent,))
def withdraw(registration_id: int):
    registration = _load(registration_id)
    return _act(registration, SimpleActionForm(), "simple",
                lambda form: service.withdraw(current_user, registration, form.version.data),
                _("The registration is withdrawn."))


@_action_route("/registrations/<int:registration_id>/amend", "amend", (Role.correspondent,))
def amend(registration_id: int):
    registration = _load(registration_id)
    form = SimpleActionForm()
    if not form.validate_on_submit():
        return _detail_page(registration, 422)
    try:
        revision = service.amend(current_user, registration, form.version.data)
    except service.RegistrationError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return _detail_page(registration, error.status)
    revision_id = revision.id  # (after the commit it would reload, in a write transaction)
    db.session.commit()
    flash(_("An amendment is started. The approved programme stays in force until the amendment is decided."),
          "success")
    return redirect(url_for("registrations.edit", registration_id=revision_id))


@_action_route("/registrations/<int:registration_id>/duplicate", "duplicate", (Role.correspondent,))
def duplicate(registration_id: int):
    registration = _load(registration_id)
    if not DuplicateForm().validate_on_submit():
        flash(_("The page was out of date: nothing was duplicated. Try again."), "danger")
        return redirect(url_for("registrations.detail", registration_id=registration.id))
    try:
        copy = service.duplicate(current_user, registration)
    except service.RegistrationError as error:
        db.session.rollback()
        flash(str(error), "danger")
        return _detail_page(registration, error.status)
    # What the message and the redirect need, read before the commit (after it, a reload in a write transaction).
    done = _("A new draft %(reference)s, copied from %(source)s: the crew, purpose, places and plans are filled "
             "in. Give the dates, the MOFA permit number and the attachments of this trip.",
             reference=copy.reference, source=registration.reference)
    copy_id = copy.id
    db.session.commit()
    flash(done, "success")
    return redirect(url_for("registrations.edit", registration_id=copy_id))


@_action_route("/registrations/<int:registration_id>/messages", "message")
def message(registration_id: int):
    registration = _load(registration_id)
    if current_user.role is Role.correspondent:
        return _act(registration, MessageForm(), "message",
                    lambda form: service.post_message(current_user, registration, form.body.data),
                    _("Message sent."))
    form = StaffMessageForm()
    if form.insert.data:
        return _insert_standard_text(registration, form, "message", StandardTextKind.info_request)
    return _act(registration, form, "message",
                lambda form: service.post_message(current_user, registration, form.body.data or "",
                                                  body_en=form.body_en.data),
                _("Message sent."))


def _standard_choices(kind) -> list[SelectChoice]:
    from app.reference.service import standard_texts

    return [SelectChoice(text.id, text.title) for text in standard_texts(kind)]


def _insert_standard_text(registration: Registration, form, form_key: str, kind):
    """The chosen standard text in both languages, appended to what is typed, for staff to edit."""
    from app.reference.models import StandardText

    text = db.session.get(StandardText, form.standard_text_id.data) if form.standard_text_id.data else None
    if text is None or text.kind is not kind or not text.active:
        form.standard_text_id.errors = [_("Choose a standard text.")]
        return _detail_page(registration, 422, **{form_key: form})
    form.body.data = "\n".join(part for part in ((form.body.data or "").strip(), text.text_vi) if part)
    form.body_en.data = "\n".join(part for part in ((form.body_en.data or "").strip(), text.text_en) if part)
    return _detail_page(registration, 200, **{form_key: form})


@_action_route("/registrations/<int:registration_id>/assign", "assign", (Role.officer, Role.leader))
def assign(registration_id: int):
    registration = _load(registration_id)
    form = AssignForm()
    form.officer_id.choices = [SelectChoice(user.id, user.full_name) for user in _reviewers()]

    def perform(form):
        service.assign(current_user, registration, db.session.get(User, form.officer_id.data), form.version.data)

    return _act(registration, form, "assign", perform, _("Assigned."))


@_action_route("/registrations/<int:registration_id>/request-info", "request_info", (Role.officer, Role.leader))
def request_info(registration_id: int):
    registration = _load(registration_id)
    form = RequestInfoForm()
    if form.insert.data:
        return _insert_standard_text(registration, form, "request_info", StandardTextKind.info_request)
    return _act(registration, form, "request_info",
                lambda form: service.request_information(current_user, registration, form.body.data or "",
                                                         form.version.data, body_en=form.body_en.data),
                _("The correspondent is asked for information."))


# --- the draft decision, its preview, and the leader's decision ---------------------------

def _draft_form(registration: Registration, formdata=None) -> DraftDecisionForm:
    """The draft form: from the request, or from the stored draft with the profile's defaults."""
    from app.reference.models import StandardTextKind
    from app.reference.service import active_escort_officers

    if formdata is None:
        defaults = service.draft_defaults(registration)
        form = DraftDecisionForm(
            formdata=None, version=registration.version,
            proposal=registration.proposed_decision.name if registration.proposed_decision else None,
            summary_vi=registration.summary_vi, summary_en=registration.summary_en,
            request_number=registration.request_number, request_date=defaults["request_date"],
            legal_basis_vi=defaults["legal_basis_vi"], legal_basis_en=defaults["legal_basis_en"],
            conditions_vi=registration.conditions, conditions_en=registration.conditions_en,
            refusal_reasons_vi=registration.refusal_reasons, refusal_reasons_en=registration.refusal_reasons_en,
            escort_officer_id=registration.escort_officer_id, note=registration.proposal_note)
    else:
        form = DraftDecisionForm()
    officers = active_escort_officers()
    if registration.escort_officer is not None and registration.escort_officer not in officers:
        officers.append(registration.escort_officer)
    locale = _locale()
    form.escort_officer_id.choices = [SelectChoice("", _("Choose…"))] + [
        SelectChoice(officer.id, f"{officer.full_name}, {officer.title(locale)} · {officer.phone}")
        for officer in officers]
    form.standard_conditions.choices = _standard_choices(StandardTextKind.condition)
    form.standard_reasons.choices = _standard_choices(StandardTextKind.refusal_reason)
    return form


def _draft_decision_data(form: DraftDecisionForm) -> service.DraftDecision:
    return service.DraftDecision(
        proposal=Proposal[form.proposal.data] if form.proposal.data in Proposal.__members__ else None,
        summary_vi=form.summary_vi.data or "", summary_en=form.summary_en.data or "",
        request_number=form.request_number.data or "", request_date=form.request_date.data,
        legal_basis_vi=form.legal_basis_vi.data or "", legal_basis_en=form.legal_basis_en.data or "",
        conditions_vi=form.conditions_vi.data or "", conditions_en=form.conditions_en.data or "",
        refusal_reasons_vi=form.refusal_reasons_vi.data or "", refusal_reasons_en=form.refusal_reasons_en.data or "",
        escort_officer_id=form.escort_officer_id.data, note=form.note.data or "")


def _append_standard_texts(form: DraftDecisionForm) -> None:
    """The ticked standard conditions and reasons, added line by line to both languages."""
    from app.reference.models import StandardText

    for ids, vi_field, en_field in ((form.standard_conditions.data, form.conditions_vi, form.conditions_en),
                                    (form.standard_reasons.data, form.refusal_reasons_vi, form.refusal_reasons_en)):
        for text in db.session.scalars(sa.select(StandardText).where(StandardText.id.in_(ids or []),
                                                                     StandardText.active.is_(True))
                                       .order_by(StandardText.position, StandardText.id)):
            vi_field.data = "\n".join(part for part in ((vi_field.data or "").strip(), text.text_vi) if part)
            en_field.data = "\n".join(part for part in ((en_field.data or "").strip(), text.text_en) if part)
    form.standard_conditions.data, form.standard_reasons.data = [], []


@_action_route("/registrations/<int:registration_id>/decision", "draft_decision", (Role.officer,))
def draft_decision(registration_id: int):
    """The officer's draft: save it, add standard texts to it, or propose it to the leader."""
    registration = _load(registration_id)
    form = _draft_form(registration, formdata=True)
    if not form.validate_on_submit():
        return _detail_page(registration, 422, draft=form)
    if form.insert.data:
        _append_standard_texts(form)
    proposing = form.submit.data and not form.insert.data
    try:
        if proposing:
            service.propose_decision(current_user, registration, _draft_decision_data(form), form.version.data)
        else:
            service.save_draft_decision(current_user, registration, _draft_decision_data(form),
                                        form.version.data)
    except service.RegistrationError as error:
        db.session.rollback()
        db.session.refresh(registration)
        for name, messages in getattr(error, "problems", {}).items():
            if name in form:
                form[name].errors = list(form[name].errors) + messages
        flash(str(error), "danger")
        return _detail_page(registration, error.status, draft=form)
    db.session.commit()
    if proposing:
        flash(_("Proposal sent to the leaders, with the draft decision."), "success")
    elif form.insert.data:
        flash(_("Standard texts added to the draft. Edit them if needed, then save."), "success")
    else:
        flash(_("Draft saved. Nothing is numbered or sent until the leader decides."), "success")
    return redirect(url_for("registrations.detail", registration_id=registration.id, _anchor="decision"))


@bp.route("/registrations/<int:registration_id>/preview/<any(approval_letter, notification_letter, permits, "
          "refusal_letter):kind>.pdf")
@reviewer_required
def preview(registration_id: int, kind: str):
    """The documents as the decision would issue them, watermarked, unnumbered, with no QR token."""
    from app.documents.service import render_preview
    from flask import make_response

    registration = _load(registration_id)
    if "preview" not in allowed_actions(current_user, registration):
        abort(404)
    signer = current_user if current_user.role is Role.leader else None
    with slow_work():
        pdf = render_preview(registration, kind, signer)
    response = make_response(pdf)
    response.headers["Content-Type"] = "application/pdf"
    response.headers["Content-Disposition"] = f'inline; filename="{registration.reference} {kind} DRAFT.pdf"'
    response.headers["Cache-Control"] = "no-store"
    return response


@_action_route("/registrations/<int:registration_id>/return", "return_proposal", (Role.leader,))
def return_proposal(registration_id: int):
    registration = _load(registration_id)
    return _act(registration, ReturnForm(), "return",
                lambda form: service.return_to_officer(current_user, registration, form.comment.data,
                                                       form.version.data),
                _("Returned to the officer with your comment."))


@_action_route("/registrations/<int:registration_id>/approve", "approve", (Role.leader,))
def approve(registration_id: int):
    registration = _load(registration_id)
    return _act(registration, DecideForm(), "decide",
                lambda form: service.approve(current_user, registration, form.version.data),
                _("Approved. The documents are numbered and issued, and the correspondent is informed."))


@_action_route("/registrations/<int:registration_id>/refuse", "refuse", (Role.leader,))
def refuse(registration_id: int):
    registration = _load(registration_id)
    return _act(registration, DecideForm(), "decide",
                lambda form: service.refuse(current_user, registration, form.version.data),
                _("Refused. The refusal letter is numbered and issued, and the correspondent is informed."))


@_action_route("/registrations/<int:registration_id>/revoke", "revoke", (Role.officer, Role.leader))
def revoke(registration_id: int):
    registration = _load(registration_id)
    return _act(registration, RevokeForm(), "revoke",
                lambda form: service.revoke(current_user, registration, reason=form.reason.data,
                                            expected_version=form.version.data),
                _("The approval is revoked."))


@_action_route("/registrations/<int:registration_id>/complete", "complete", (Role.officer, Role.leader))
def complete(registration_id: int):
    registration = _load(registration_id)
    return _act(registration, SimpleActionForm(), "simple",
                lambda form: service.complete(current_user, registration, form.version.data),
                _("Marked as completed."))
