"""The staff's internal notes on a registration and its archive exports (the PDF dossier, the ZIP).

All of it is for the reviewing staff (officer, leader), through the same decorator as every
other staff-only action: a correspondent (of any outlet) and the admin get 403 before the
registration is looked up, so the answer never tells whether an id exists; an anonymous visitor
goes to the login page. A registration staff may not see (a draft) is 404.
"""
from __future__ import annotations

import io

from flask import abort, g, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.audit.labels import register_action_labels
from app.auth.models import Role
from app.errors import render_error
from app.extensions import db
from app.forms import Form
from app.registrations import bp, dossier, notes
from app.registrations.routes import _act, _action_route, _distinct_ids, _load, reviewer_required
from app.registrations.service import RegistrationError


class NoteForm(Form):
    # Not "body" or "note": other forms on the registration page post those names.
    note_body = TextAreaField(_l("Internal note"), validators=[DataRequired(), Length(max=notes.NOTE_MAX_LENGTH)],
                              description=_l("Seen by officers and leaders only, never by the correspondent."))
    submit = SubmitField(_l("Add the note"))


@bp.record_once
def _register_labels(state) -> None:
    register_action_labels({**notes.AUDIT_LABELS, **dossier.AUDIT_LABELS})


def _note_form() -> NoteForm:
    """The form the notes section shows: the one just refused (with its messages), else an empty one."""
    form = g.get("note_form") or NoteForm(formdata=None)
    return _distinct_ids(form, "note")


def _notes_for_page(registration) -> list:
    if not notes.can_see_internal(current_user) or not notes.has_internal_record(registration):
        return []
    return notes.notes_of(registration)


@bp.context_processor
def _internal_context() -> dict:
    return {"can_see_internal": notes.can_see_internal, "has_internal_record": notes.has_internal_record,
            "internal_notes": _notes_for_page, "note_form": _note_form}


@_action_route("/registrations/<int:registration_id>/notes", "add_note", (Role.officer, Role.leader))
def add_note(registration_id: int):
    registration = _load(registration_id)
    form = g.note_form = NoteForm()
    return _act(registration, form, "note",
                lambda form: notes.add_note(current_user, registration, form.note_body.data),
                _("Note added."))


def _staff_registration(registration_id: int):
    registration = _load(registration_id)
    if not notes.has_internal_record(registration):
        abort(404)
    return registration


def _private_download(response):
    response.headers["Cache-Control"] = "no-store, private"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@bp.route("/registrations/<int:registration_id>/dossier.pdf")
@reviewer_required
def dossier_pdf(registration_id: int):
    registration = _staff_registration(registration_id)
    reference = registration.reference
    try:
        pdf = dossier.export_pdf(current_user, registration)
    except RegistrationError as error:
        db.session.rollback()
        return render_error(error.status, str(error))
    db.session.commit()
    return _private_download(send_file(io.BytesIO(pdf), mimetype="application/pdf", as_attachment=True,
                                       download_name=f"{reference} ho-so-luu.pdf"))


@bp.route("/registrations/<int:registration_id>/attachments.zip")
@reviewer_required
def attachments_zip(registration_id: int):
    registration = _staff_registration(registration_id)
    try:
        archive, download_name = dossier.export_attachments(current_user, registration)
    except RegistrationError as error:
        db.session.rollback()
        return render_error(error.status, str(error))
    db.session.commit()
    return _private_download(send_file(archive, mimetype="application/zip", as_attachment=True,
                                       download_name=download_name))
