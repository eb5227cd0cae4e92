"""Consultations: asking the border guard, the police or a host body, and recording the answer."""
from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.models import Role
from app.extensions import db
from app.registrations import bp, consultations
from app.registrations.forms import ConsultationAnswerForm, ConsultationForm
from app.registrations.models import Consultation, Opinion
from app.registrations.routes import _act, _action_route, _detail_page, _load, reviewer_required
from app.registrations.service import RegistrationError
from app.uploads import UploadError, send_stored, upload_rate_limited


def _load_consultation(registration_id: int, consultation_id: int):
    registration = _load(registration_id)
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None or consultation.registration_id != registration.id:
        abort(404)
    return registration, consultation


def _ask(form, registration):
    entry = consultations.consulted_body_for(form.consulted_body.data)
    if entry is None:  # the list changed since the page was loaded
        raise RegistrationError(_("Choose the body to consult from the province's list."))
    return consultations.record_consultation(current_user, registration, entry, form.request_note.data or "")


@_action_route("/registrations/<int:registration_id>/consultations", "consult", (Role.officer, Role.leader))
def consult(registration_id: int):
    registration = _load(registration_id)
    return _act(registration, ConsultationForm(), "consult", lambda form: _ask(form, registration),
                _("Consultation letter issued. It is listed with the registration's documents."))


@_action_route("/registrations/<int:registration_id>/consultations/<int:consultation_id>/answer", "answer",
               (Role.officer, Role.leader))
@upload_rate_limited
def answer(registration_id: int, consultation_id: int):
    registration, consultation = _load_consultation(registration_id, consultation_id)
    form = ConsultationAnswerForm(requested_on=consultations.requested_on(consultation))
    form.consultation_id = consultation.id  # which of the page's answer forms this is
    if not form.validate_on_submit():  # the page shows this form again, its messages next to its fields
        return _detail_page(registration, 422, answer=form)
    try:
        consultations.record_consultation_answer(
            current_user, consultation, Opinion[form.opinion.data], form.answer.data, form.reply_number.data,
            form.reply_date.data, form.scan.data)
    except (RegistrationError, UploadError) as error:
        db.session.rollback()
        db.session.refresh(registration)
        flash(str(error), "danger")
        return _detail_page(registration, getattr(error, "status", 422), answer=form)
    db.session.commit()
    flash(_("Answer recorded."), "success")
    # The route's registration_id, not registration.id: after the commit that would reload the row, in a write
    # transaction.
    return redirect(url_for("registrations.detail", registration_id=registration_id, _anchor="consultations"))


@bp.route("/registrations/<int:registration_id>/consultations/<int:consultation_id>/reply")
@reviewer_required
def reply_scan(registration_id: int, consultation_id: int):
    """The scan of the body's reply: internal to the province, for reviewing staff only."""
    _registration, consultation = _load_consultation(registration_id, consultation_id)
    scan = consultations.reply_scan(consultation)
    if scan is None:
        abort(404)
    return send_stored(scan)
