"""The correspondent's outlet profile and crew."""
from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.models import Role
from app.auth.permissions import login_required, roles_required
from app.extensions import db
from app.outlets import bp, service
from app.outlets.forms import CrewMemberForm, OutletForm, RemoveForm
from app.outlets.models import CrewMember, CrewRole, MediaType
from app.registrations.permissions import REVIEWERS
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
    members = db.session.scalars(sa.select(CrewMember).where(
        CrewMember.outlet_id == current_user.outlet_id, CrewMember.active.is_(True)).order_by(CrewMember.full_name))
    return render_template("outlets/crew.html", members=list(members), remove_form=RemoveForm())


def _own_member(member_id: int) -> CrewMember:
    member = db.get_or_404(CrewMember, member_id)
    if member.outlet_id != current_user.outlet_id or not member.active:
        abort(404)
    return member


def _crew_form_page(form: CrewMemberForm, member: CrewMember | None):
    if form.validate_on_submit():
        data = service.CrewData(full_name=form.full_name.data, nationality=form.nationality.data,
                                date_of_birth=form.date_of_birth.data, role=CrewRole[form.role.data],
                                passport_number=form.passport_number.data,
                                passport_expiry=form.passport_expiry.data,
                                press_card_number=form.press_card_number.data)
        try:
            service.save_crew_member(current_user, data, member, photo=form.photo.data)
        except (UploadError, service.OutletError) as error:
            db.session.rollback()
            form.photo.errors.append(str(error))
            return render_template("outlets/crew_member.html", form=form, member=member), 400
        db.session.commit()
        flash(_("The crew member is saved."), "success")
        return redirect(url_for("outlets.crew"))
    return render_template("outlets/crew_member.html", form=form, member=member)


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
    form = CrewMemberForm(obj=member)
    if not form.is_submitted():
        form.role.data = member.role.name
    return _crew_form_page(form, member)


@bp.route("/outlet/crew/<int:member_id>/remove", methods=["POST"])
@correspondent_required
def remove_crew_member(member_id: int):
    member = _own_member(member_id)
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
