"""The correspondent's outlet profile and crew."""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.models import Role
from app.auth.permissions import login_required, roles_required
from app.extensions import db
from app.outlets import bp, service
from app.registrations import service as registration_service
from app.outlets.forms import CrewMemberForm, OutletForm, RemoveForm
from app.outlets.models import CrewMember, CrewRole, MediaType
from app.outlets.photos import KeptPhoto, KeptPhotoError, kept_photo
from app.privacy.models import ConsentContext
from app.privacy.notice import record_consent
from app.registrations.models import Registration
from app.registrations.permissions import REVIEWERS, allowed_actions
from app.uploads import UploadError, send_stored, upload_rate_limited

correspondent_required = roles_required(Role.correspondent)


@bp.route("/outlet", methods=["GET", "POST"])
@correspondent_required
def outlet():
    current = current_user.outlet
    form = OutletForm(obj=current)
    if current is not None and not form.is_submitted():
        form.media_type.data = current.media_type.name
    if form.validate_on_submit():
        service.save_outlet(current_user, service.OutletData(
            name=form.name.data, country=form.country.data, media_type=MediaType[form.media_type.data],
            website=form.website.data, is_resident_office=form.is_resident_office.data,
            office_address=form.office_address.data, mofa_accreditation_number=form.mofa_accreditation_number.data))
        db.session.commit()
        flash(_("The outlet is saved."), "success")
        return redirect(url_for("outlets.crew"))
    return render_template("outlets/outlet.html", form=form)


@bp.route("/outlet/crew")
@correspondent_required
def crew():
    if current_user.outlet_id is None:
        flash(_("Describe your outlet first."), "info")
        return redirect(url_for("outlets.outlet"))
    members = list(db.session.scalars(sa.select(CrewMember).where(
        CrewMember.outlet_id == current_user.outlet_id, CrewMember.active.is_(True)).order_by(CrewMember.full_name)))
    return render_template("outlets/crew.html", members=members, remove_form=RemoveForm(),
                           locks=service.locking_registrations(member.id for member in members))


def _own_member(member_id: int) -> CrewMember:
    member = db.get_or_404(CrewMember, member_id)
    if member.outlet_id != current_user.outlet_id or not member.active:
        abort(404)
    return member


def _crew_form_page(form: CrewMemberForm, member: CrewMember | None):
    """The crew-member form. A photo that passes its checks is kept when another field fails:
    stored at once and named by a signed token in the page (app/outlets/photos.py)."""
    if not form.is_submitted():
        return _crew_form(form, member, None)
    valid = form.validate()
    photo, kept, photo_refused = None, None, False
    if form.photo.data is not None and form.photo.data.filename:
        form.kept_photo.data = ""  # a new photo replaces the one kept before
        try:
            photo = service.receive_crew_photo(form.photo.data)
        except UploadError as error:
            form.photo.errors.append(str(error))
            photo_refused = True
    elif form.kept_photo.data:
        try:
            kept = kept_photo(form.kept_photo.data, current_user.id)
        except KeptPhotoError as error:
            form.kept_photo.data = ""
            form.photo.errors.append(str(error))
            photo_refused = True
    if valid and not photo_refused:
        data = service.CrewData(full_name=form.full_name.data, nationality=form.nationality.data,
                                date_of_birth=form.date_of_birth.data, role=CrewRole[form.role.data],
                                passport_number=form.passport_number.data,
                                passport_expiry=form.passport_expiry.data,
                                press_card_number=form.press_card_number.data)
        registration = _registration_to_return_to() if member is None else None
        consent_needed = form.personal_data_changed()  # before the save changes `member`
        try:
            saved = service.save_crew_member(current_user, data, member, photo=photo, kept=kept)
            if consent_needed:
                record_consent(current_user, ConsentContext.crew_member, crew_member=saved)
            if registration is not None:
                registration_service.add_crew_member(current_user, registration, saved)
        except service.CrewMemberLocked as error:  # a registration naming them was submitted meanwhile
            db.session.rollback()
            return _locked_page(db.session.get(CrewMember, member.id), error.registrations, str(error))
        except (UploadError, service.OutletError, registration_service.RegistrationError) as error:
            db.session.rollback()
            form.photo.errors.append(str(error))
            return _crew_form(form, member, None), 400
        # The message and the way back, read before the commit (after it, a reload in a write transaction).
        if registration is not None:
            done = _("%(name)s is saved and added to the crew of %(reference)s.", name=saved.full_name,
                     reference=registration.reference)
            back = url_for("registrations.edit", registration_id=registration.id, _anchor="crew")
        else:
            done, back = _("The crew member is saved."), url_for("outlets.crew")
        db.session.commit()
        flash(done, "success")
        return redirect(back)
    if photo is not None:  # the photo passed its checks, another field did not: keep it
        try:
            kept = service.keep_crew_photo(current_user, photo)
            form.kept_photo.data = kept.token
        except UploadError as error:
            form.photo.errors.append(str(error))
            photo_refused = True
    return _crew_form(form, member, kept), 400 if photo_refused else 200


def _registration_to_return_to():
    """The draft this new crew member is added from ("Save and add a new crew member" on the
    registration form), when it is one this correspondent may still edit; else None."""
    from app.registrations.models import Registration
    from app.registrations.permissions import allowed_actions

    registration_id = request.args.get("for_registration", "")
    if not (registration_id.isascii() and registration_id.isdigit() and len(registration_id) <= 9):
        return None
    registration = db.session.get(Registration, int(registration_id))
    if registration is None or "edit" not in allowed_actions(current_user, registration):
        return None
    return registration


def _crew_form(form: CrewMemberForm, member: CrewMember | None, kept: KeptPhoto | None) -> str:
    return render_template("outlets/crew_member.html", form=form, member=member, kept=kept,
                           registration=_registration_to_return_to() if member is None else None)


@dataclass
class CrewLock:
    """A registration that keeps a crew member as it is, with what the correspondent may do instead."""

    registration: Registration
    actions: set[str]
    amendment: Registration | None  # its amendment being written or reviewed
    amendment_actions: set[str]


def _locked_page(member: CrewMember, registrations: list[Registration], refusal: str | None = None):
    """The crew member, read-only, with the registrations in review or approved that name them and
    the way to change each (an amendment, the registration's form, a message); 409 for a refused change."""
    locks = []
    for registration in registrations:
        amendment = registration_service.amendment_under_way(registration)
        locks.append(CrewLock(registration, allowed_actions(current_user, registration), amendment,
                              allowed_actions(current_user, amendment) if amendment is not None else set()))
    page = render_template("outlets/crew_member_locked.html", member=member, locks=locks, refusal=refusal)
    return (page, 409) if refusal else page


def _refuse_if_locked(member: CrewMember):
    """The read-only page when a registration in review or approved names this member (a POST is
    refused, nothing is read or saved); None when the member may be changed."""
    registrations = service.locking_registrations([member.id]).get(member.id)
    if not registrations:
        return None
    refusal = str(service.CrewMemberLocked(member, registrations)) if request.method == "POST" else None
    return _locked_page(member, registrations, refusal)


@bp.route("/outlet/crew/kept-photo")
@correspondent_required
def kept_crew_photo():
    """The photo kept for a form sent back with an error: only for the user it was kept for."""
    try:
        kept = kept_photo(request.args.get("kept", ""), current_user.id)
    except KeptPhotoError:
        abort(404)
    return send_stored(kept)


@bp.route("/outlet/crew/new", methods=["GET", "POST"])
@upload_rate_limited
@correspondent_required
def new_crew_member():
    if current_user.outlet_id is None:
        return redirect(url_for("outlets.outlet"))
    return _crew_form_page(CrewMemberForm(), None)


@bp.route("/outlet/crew/<int:member_id>", methods=["GET", "POST"])
@upload_rate_limited
@correspondent_required
def edit_crew_member(member_id: int):
    member = _own_member(member_id)
    locked = _refuse_if_locked(member)
    if locked is not None:
        return locked
    form = CrewMemberForm(obj=member, member=member)
    if not form.is_submitted():
        form.role.data = member.role.name
    return _crew_form_page(form, member)


@bp.route("/outlet/crew/<int:member_id>/remove", methods=["POST"])
@correspondent_required
def remove_crew_member(member_id: int):
    member = _own_member(member_id)
    locked = _refuse_if_locked(member)
    if locked is not None:
        return locked
    if RemoveForm().validate_on_submit():
        service.remove_crew_member(current_user, member)
        db.session.commit()
        flash(_("%(name)s is removed from the crew list.", name=member.full_name), "success")
    return redirect(url_for("outlets.crew"))


@bp.route("/crew/<int:member_id>/photo")
@login_required
def crew_photo(member_id: int):
    """The photo, for the outlet's correspondents and for reviewing staff only."""
    member = db.get_or_404(CrewMember, member_id)
    allowed = current_user.role in REVIEWERS or (current_user.role is Role.correspondent
                                                 and member.outlet_id == current_user.outlet_id)
    if not allowed or member.photo_stored_name is None:
        abort(404)
    return send_stored(SimpleNamespace(stored_name=member.photo_stored_name, content_type=member.photo_content_type,
                                       original_filename=member.full_name))
