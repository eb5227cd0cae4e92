"""The data subject's rights: the correspondent's "Your data" page, a copy of everything held
(a ZIP: app/privacy/export.py), a request to correct what they can no longer edit, closing the
account, and the staff's list of these requests.

Closing an account keeps what the province must keep by archive rules: every registration that
was submitted (the dossier), the crew members it names and the issued documents; the retention
purge (app/privacy/retention.py) removes their personal data later. It deletes the drafts never
submitted (with their files) and the crew members never named in a submitted registration (with
their photos), and anonymises the account: another address, no name, no password, no two-factor
secret or recovery codes, no sessions, links, known devices or calendar link. When colleagues of
the same outlet still have an open account, the outlet's crew and shared drafts are theirs too:
only the drafts this user started go.

Every request is a PrivacyRequest row and an audit event. Exports and closures are done at once;
a correction waits for staff, who mark it done with a note (the correspondent is mailed).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa
from flask import abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.routing import BuildError
from wtforms import BooleanField, HiddenField, PasswordField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from app.audit.labels import register_action_labels
from app.audit.service import record_event
from app.auth.models import AccountToken, KnownDevice, RecoveryCode, Role, User, UserSession
from app.auth.passwords import PASSWORD_MAX_LENGTH, verify_password
from app.auth.permissions import login_required, roles_required
from app.auth.routes import log_out_browser
from app.clock import local_today, utcnow
from app.documents.models import INTERNAL_KINDS, IssuedDocument
from app.extensions import db, limiter
from app.forms import Form
from app.outbox.service import queue_email
from app.outlets.models import CrewMember
from app.pagination import paginate
from app.privacy import bp, export
from app.privacy.models import PrivacyRequest, RequestKind
from app.registrations.models import OPEN_STATUSES, Registration, Status, registration_crew

MESSAGE_MAX_LENGTH = 5000
CLOSED_EMAIL_DOMAIN = "closed.invalid"
STAFF_ROLES_FOR_REQUESTS = (Role.officer, Role.leader, Role.admin)

EXPORTED = "privacy.data_exported"
CORRECTION_REQUESTED = "privacy.correction_requested"
ACCOUNT_CLOSED = "privacy.account_closed"
REQUEST_COMPLETED = "privacy.request_completed"

register_action_labels({
    EXPORTED: _l("Downloaded a copy of their data"),
    CORRECTION_REQUESTED: _l("Asked for a correction of their data"),
    ACCOUNT_CLOSED: _l("Closed their account"),
    REQUEST_COMPLETED: _l("Marked a privacy request as done"),
})

REQUEST_KIND_LABELS = {
    RequestKind.export: _l("Copy of the data"),
    RequestKind.correction: _l("Correction"),
    RequestKind.closure: _l("Account closed"),
}


class RightsError(Exception):
    """A refused request; the message is translated and safe to show."""

    status = 400

    def __init__(self, message, status: int | None = None):
        super().__init__(str(message))
        if status is not None:
            self.status = status


class ClosureRefused(RightsError):
    status = 409


# --- what is held, and what closing would do ------------------------------------------------

def _other_open_accounts(user: User) -> int:
    """Other correspondents of the same outlet whose accounts are open."""
    if user.outlet_id is None:
        return 0
    return db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        User.outlet_id == user.outlet_id, User.id != user.id, User.role == Role.correspondent,
        User.closed_at.is_(None), User.active.is_(True)))


@dataclass
class ClosurePlan:
    """What closing `user`'s account would delete, keep, or what stops it."""

    last_account: bool
    blockers: list[Registration] = field(default_factory=list)
    drafts: list[Registration] = field(default_factory=list)
    crew_to_delete: list[CrewMember] = field(default_factory=list)
    kept_registrations: int = 0
    kept_crew: int = 0
    kept_documents: int = 0

    @property
    def allowed(self) -> bool:
        return not self.blockers


def _in_scope(user: User, last_account: bool):
    """The registrations closing this account concerns: the outlet's, or this user's own when
    colleagues keep the outlet's account open."""
    if last_account:
        return Registration.outlet_id == user.outlet_id
    return sa.and_(Registration.outlet_id == user.outlet_id, Registration.created_by_id == user.id)


def closure_plan(user: User) -> ClosurePlan:
    """The plan the confirmation page shows and close_account carries out (one set of rules)."""
    last_account = _other_open_accounts(user) == 0
    plan = ClosurePlan(last_account=last_account)
    if user.outlet_id is None:
        return plan
    scope = _in_scope(user, last_account)
    today = local_today()
    plan.blockers = list(db.session.scalars(sa.select(Registration).where(scope, sa.or_(
        Registration.status.in_(OPEN_STATUSES),
        sa.and_(Registration.status == Status.approved,
                sa.or_(Registration.end_date.is_(None), Registration.end_date >= today))))
        .order_by(Registration.reference)))
    plan.drafts = list(db.session.scalars(sa.select(Registration).where(
        scope, Registration.first_submitted_at.is_(None)).order_by(Registration.id)))
    plan.kept_registrations = db.session.scalar(sa.select(sa.func.count()).select_from(Registration).where(
        Registration.outlet_id == user.outlet_id, Registration.first_submitted_at.is_not(None)))
    plan.kept_documents = db.session.scalar(sa.select(sa.func.count()).select_from(IssuedDocument)
                                            .join(Registration, Registration.id == IssuedDocument.registration_id)
                                            .where(Registration.outlet_id == user.outlet_id,
                                                   IssuedDocument.kind.not_in(INTERNAL_KINDS)))
    named_in_a_dossier = sa.exists(
        sa.select(registration_crew.c.crew_member_id)
        .join(Registration, Registration.id == registration_crew.c.registration_id)
        .where(registration_crew.c.crew_member_id == CrewMember.id, Registration.first_submitted_at.is_not(None)))
    members = db.session.scalars(sa.select(CrewMember).where(CrewMember.outlet_id == user.outlet_id)
                                 .order_by(CrewMember.full_name)).all()
    kept_ids = set(db.session.scalars(sa.select(CrewMember.id).where(
        CrewMember.outlet_id == user.outlet_id, named_in_a_dossier)))
    plan.kept_crew = len(kept_ids)
    if last_account:
        plan.crew_to_delete = [member for member in members if member.id not in kept_ids]
    return plan


@dataclass
class Holdings:
    """What the "Your data" page tells the correspondent is held, in numbers."""

    crew_members: list[CrewMember]
    registrations: int
    submitted: int
    attachments: int
    documents: int
    requests: list[PrivacyRequest]


def holdings(user: User) -> Holdings:
    crew, registrations, submitted, attachments, documents = [], 0, 0, 0, 0
    if user.outlet_id is not None:
        from app.registrations.models import Attachment

        crew = list(db.session.scalars(sa.select(CrewMember).where(
            CrewMember.outlet_id == user.outlet_id, CrewMember.active.is_(True)).order_by(CrewMember.full_name)))
        of_outlet = Registration.outlet_id == user.outlet_id
        registrations = db.session.scalar(sa.select(sa.func.count()).select_from(Registration).where(of_outlet))
        submitted = db.session.scalar(sa.select(sa.func.count()).select_from(Registration).where(
            of_outlet, Registration.first_submitted_at.is_not(None)))
        attachments = db.session.scalar(sa.select(sa.func.count()).select_from(Attachment).join(Registration)
                                        .where(of_outlet))
        documents = db.session.scalar(sa.select(sa.func.count()).select_from(IssuedDocument).join(Registration)
                                      .where(of_outlet, IssuedDocument.kind.not_in(INTERNAL_KINDS)))
    requests = list(db.session.scalars(sa.select(PrivacyRequest).where(PrivacyRequest.user_id == user.id)
                                       .order_by(PrivacyRequest.created_at.desc(), PrivacyRequest.id.desc())))
    return Holdings(crew, registrations, submitted, attachments, documents, requests)


# --- the requests -------------------------------------------------------------------------

def _check_correspondent(user: User) -> None:
    if user.role is not Role.correspondent or user.closed_at is not None:
        raise RightsError(_l("Only a correspondent's open account can do this."), 403)


def prepare_export(user: User) -> export.PersonalDataExport:
    """Collect the copy of the data (the ZIP is built after the commit) and record the request."""
    _check_correspondent(user)
    collected = export.collect(user)
    numbers = export.counts(collected)
    now = utcnow()
    db.session.add(PrivacyRequest(kind=RequestKind.export, user_id=user.id, outlet_id=user.outlet_id,
                                  created_at=now, completed_at=now,
                                  outcome=_export_outcome(numbers["files"])))
    db.session.flush()
    record_event(EXPORTED, actor=user, subject=user, after=numbers)
    return collected


def request_correction(user: User, message: str) -> PrivacyRequest:
    """A correction for staff to make (data under a decision, which the correspondent cannot edit)."""
    _check_correspondent(user)
    message = (message or "").strip()
    if not message:
        raise RightsError(_l("Say what should be corrected."))
    if len(message) > MESSAGE_MAX_LENGTH:
        raise RightsError(_l("Write at most %(num)d characters.", num=MESSAGE_MAX_LENGTH))
    correction = PrivacyRequest(kind=RequestKind.correction, user_id=user.id, outlet_id=user.outlet_id,
                                message=message)
    db.session.add(correction)
    db.session.flush()
    record_event(CORRECTION_REQUESTED, actor=user, subject=correction, after={"outlet_id": user.outlet_id})
    return correction


def close_account(user: User, password: str) -> PrivacyRequest:
    """Close the account (see the module docstring); ClosureRefused while a registration is in
    review or approved with its programme not over, RightsError for a wrong password."""
    _check_correspondent(user)
    if not verify_password(user.password_hash, password or ""):
        raise RightsError(_l("The password is not correct."))
    if user.outlet_id is not None:
        # A submission takes the same rows: it either waits for the closure or is seen by it.
        from app.outlets.service import lock_crew_rows

        lock_crew_rows(db.session.scalars(sa.select(CrewMember.id).where(CrewMember.outlet_id == user.outlet_id)))
    plan = closure_plan(user)
    if not plan.allowed:
        raise ClosureRefused(_l(
            "The account cannot be closed while %(references)s is in review or approved and its programme is not "
            "over: the province may still need to reach you. Withdraw it, or ask again once the programme has ended.",
            references=", ".join(registration.reference for registration in plan.blockers)))
    old_email, locale, full_name = user.email, user.locale, user.full_name
    deleted = {"drafts": len(plan.drafts), "crew_members": len(plan.crew_to_delete)}
    kept = {"registrations": plan.kept_registrations, "crew_members": plan.kept_crew,
            "documents": plan.kept_documents}
    queue_email(old_email, "privacy_account_closed", locale, _l("Your PressDesk account is closed"),
                full_name=full_name, deleted=deleted, kept=kept, contact_email=_contact_email())
    for registration in plan.drafts:  # attachments and itinerary go with it; their files after the commit
        db.session.delete(registration)
    db.session.flush()
    for member in plan.crew_to_delete:  # the photo's file is deleted after the commit (app/uploads.py)
        db.session.delete(member)
    for model in (UserSession, AccountToken, RecoveryCode, KnownDevice):
        db.session.execute(sa.delete(model).where(model.user_id == user.id))
    now = utcnow()
    user.email = f"closed-{user.id}@{CLOSED_EMAIL_DOMAIN}"
    user.full_name = f"#{user.id}"
    user.password_hash = None
    user.two_factor_secret = None
    user.two_factor_enabled_at = None
    user.two_factor_last_counter = None
    user.calendar_token_hash = None
    user.email_confirmed_at = None
    user.active = False
    user.closed_at = now
    closure = PrivacyRequest(kind=RequestKind.closure, user_id=user.id, outlet_id=user.outlet_id, created_at=now,
                             completed_at=now, outcome=_closure_outcome(deleted, kept))
    db.session.add(closure)
    db.session.flush()
    record_event(ACCOUNT_CLOSED, actor=user, subject=user, after={"deleted": deleted, "kept": kept})
    return closure


def _export_outcome(files: int) -> str:
    with force_locale("vi"):  # staff read it: written in the province's language
        return ngettext("Downloaded at once, with %(num)d file.", "Downloaded at once, with %(num)d files.", files)


def _closure_outcome(deleted: dict, kept: dict) -> str:
    with force_locale("vi"):
        return _("Deleted: %(drafts)d drafts, %(crew)d crew members. Kept under the archive rules: "
                 "%(registrations)d registrations, %(kept_crew)d crew members named in them, %(documents)d issued "
                 "documents.", drafts=deleted["drafts"], crew=deleted["crew_members"],
                 registrations=kept["registrations"], kept_crew=kept["crew_members"], documents=kept["documents"])


def _contact_email() -> str:
    from app.authority import authority_profile

    return authority_profile().contact_email


def _external_url(endpoint: str, **values) -> str:
    path = current_app.url_map.bind("pressdesk.invalid").build(endpoint, values)
    return current_app.config["BASE_URL"].rstrip("/") + path


def complete_request(actor: User, request_id: int, outcome: str) -> PrivacyRequest:
    """Staff mark a correction request as done, saying what they did; the correspondent is mailed.
    Of two staff completing it at once, one wins; the other is told it was done meanwhile."""
    if actor.role not in STAFF_ROLES_FOR_REQUESTS:
        raise RightsError(_l("Only staff handle privacy requests."), 403)
    privacy_request = db.session.get(PrivacyRequest, request_id)
    if privacy_request is None:
        raise RightsError(_l("There is no such request."), 404)
    if privacy_request.kind is not RequestKind.correction:
        raise RightsError(_l("Only a correction request waits for staff: the others are done at once."), 409)
    outcome = (outcome or "").strip()
    if not outcome:
        raise RightsError(_l("Say what was done."))
    if len(outcome) > MESSAGE_MAX_LENGTH:
        raise RightsError(_l("Write at most %(num)d characters.", num=MESSAGE_MAX_LENGTH))
    now = utcnow()
    result = db.session.execute(sa.update(PrivacyRequest).where(
        PrivacyRequest.id == request_id, PrivacyRequest.completed_at.is_(None)).values(
        completed_at=now, handled_by_id=actor.id, outcome=outcome))
    if result.rowcount != 1:
        raise RightsError(_l("This request was already marked as done."), 409)
    db.session.refresh(privacy_request)
    record_event(REQUEST_COMPLETED, actor=actor, subject=privacy_request,
                 after={"kind": privacy_request.kind.name})
    requester = privacy_request.user
    if requester is not None and requester.closed_at is None and requester.active:
        queue_email(requester.email, "privacy_request_completed", requester.locale,
                    _l("Your request about your data has been handled"), user=requester,
                    privacy_request=privacy_request, url=_external_url("privacy.my_data"))
    return privacy_request


def open_corrections() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(PrivacyRequest).where(
        PrivacyRequest.kind == RequestKind.correction, PrivacyRequest.completed_at.is_(None)))


# --- forms --------------------------------------------------------------------------------

class ExportForm(Form):
    submit = SubmitField(_l("Download my data (ZIP)"))


class CorrectionForm(Form):
    correction = TextAreaField(
        _l("What should be corrected"), validators=[DataRequired(), Length(max=MESSAGE_MAX_LENGTH)],
        description=_l("Name the registration or the person, the detail that is wrong and what it should be."))
    submit = SubmitField(_l("Send the request"))


class CloseAccountForm(Form):
    understood = BooleanField(_l("I understand that this cannot be undone."), validators=[InputRequired()])
    password = PasswordField(_l("Your password"), validators=[DataRequired(), Length(max=PASSWORD_MAX_LENGTH)])
    submit = SubmitField(_l("Close my account"))


class CompleteRequestForm(Form):
    request_id = HiddenField()
    outcome = TextAreaField(_l("What was done"), validators=[DataRequired(), Length(max=MESSAGE_MAX_LENGTH)])
    submit = SubmitField(_l("Mark as done"))


# --- views --------------------------------------------------------------------------------

correspondent_required = roles_required(Role.correspondent)
requests_staff_required = roles_required(*STAFF_ROLES_FOR_REQUESTS)


def _login_limit() -> str:
    return current_app.config["RATELIMIT_LOGIN"]


def _notice_url() -> str | None:
    """The privacy notice's page (app/privacy/notice.py), when this version has one."""
    try:
        return url_for("privacy.notice")
    except BuildError:
        return None


def _my_data_page(correction_form: CorrectionForm | None = None, status: int = 200):
    from app.authority import authority_profile

    if current_user.role is not Role.correspondent:
        return render_template("privacy/my_data.html", staff=True, profile=authority_profile(),
                               notice_url=_notice_url()), status
    return render_template("privacy/my_data.html", staff=False, holdings=holdings(current_user),
                           notice_url=_notice_url(),
                           export_form=ExportForm(), correction_form=correction_form or CorrectionForm(),
                           kind_label=REQUEST_KIND_LABELS, profile=authority_profile(),
                           retention=authority_profile().retention), status


@bp.route("/account/data")
@login_required
def my_data():
    return _my_data_page()


@bp.route("/account/data/export", methods=["POST"], endpoint="export")
@correspondent_required
def export_data():
    if not ExportForm().validate_on_submit():
        flash(_("Nothing was downloaded: the page was out of date. Try again."), "danger")
        return redirect(url_for("privacy.my_data"))
    collected = prepare_export(current_user)
    db.session.commit()
    archive = export.build_zip(collected)
    response = send_file(archive, mimetype="application/zip", as_attachment=True,
                         download_name=collected.download_name)
    response.headers["Cache-Control"] = "no-store, private"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response



@bp.route("/account/data/correction", methods=["POST"], endpoint="request_correction")
@correspondent_required
def request_correction_view():
    form = CorrectionForm()
    if not form.validate_on_submit():
        return _my_data_page(form, 400)
    try:
        request_correction(current_user, form.correction.data)
    except RightsError as error:
        db.session.rollback()
        form.correction.errors.append(str(error))
        return _my_data_page(form, error.status)
    db.session.commit()
    flash(_("Your request is sent. The department will correct the data and tell you by email."), "success")
    return redirect(url_for("privacy.my_data"))



@bp.route("/account/close", methods=["GET", "POST"], endpoint="close_account")
@limiter.limit(_login_limit, methods=["POST"])
@correspondent_required
def close_account_view():
    form = CloseAccountForm()
    status = 200
    if form.validate_on_submit():
        try:
            close_account(current_user, form.password.data)
        except RightsError as error:
            db.session.rollback()
            if isinstance(error, ClosureRefused):
                flash(str(error), "danger")
            else:
                form.password.errors.append(str(error))
            status = error.status
        else:
            db.session.commit()
            log_out_browser()
            flash(_("Your account is closed. We have sent a confirmation to your email address."), "success")
            return redirect(url_for("main.index"))
    elif form.is_submitted():
        status = 400
    return render_template("privacy/close_account.html", form=form, plan=closure_plan(current_user)), status



@bp.route("/staff/privacy-requests")
@requests_staff_required
def requests():
    state = request.args.get("state", "")
    query = sa.select(PrivacyRequest).order_by(PrivacyRequest.created_at.desc(), PrivacyRequest.id.desc())
    if state == "open":
        query = query.where(PrivacyRequest.completed_at.is_(None))
    page = paginate(query.options(sa.orm.selectinload(PrivacyRequest.user), sa.orm.selectinload(PrivacyRequest.outlet),
                                  sa.orm.selectinload(PrivacyRequest.handled_by)))
    return render_template("privacy/requests.html", page=page, state=state, kind_label=REQUEST_KIND_LABELS,
                           complete_form=CompleteRequestForm(formdata=None), open_count=open_corrections())


@bp.route("/staff/privacy-requests/<int:request_id>/complete", methods=["POST"], endpoint="complete_request")
@requests_staff_required
def complete_request_view(request_id: int):
    form = CompleteRequestForm()
    if not form.validate_on_submit():
        flash(_("Nothing was saved: say what was done."), "danger")
        return redirect(url_for("privacy.requests", state="open"))
    try:
        complete_request(current_user, request_id, form.outcome.data)
    except RightsError as error:
        db.session.rollback()
        if error.status == 404:
            abort(404)
        flash(str(error), "danger")
        return redirect(url_for("privacy.requests"))
    db.session.commit()
    flash(_("The request is marked as done and the correspondent is informed."), "success")
    return redirect(url_for("privacy.requests"))

