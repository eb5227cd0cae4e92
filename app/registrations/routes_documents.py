"""The approved registration's documents in one go: a ZIP of the approval letter and the permits,
and the print sheet with every permit. For the outlet's correspondents and the reviewing staff;
404 for anyone else, and while nothing is in force (before the approval, after a revocation).

Both are built in memory from the stored bytes (app/documents/bundle.py): nothing is rendered
again, nothing is stored.
"""
from __future__ import annotations

import io
import logging

import sqlalchemy as sa
from flask import abort, flash, redirect, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from app.auth.permissions import login_required
from app.documents.bundle import (ApprovalDocuments, DocumentUnavailable, approval_documents, approval_documents_of,
                                  build_zip, print_sheet, print_sheet_filename, zip_filename)
from app.extensions import db
from app.registrations import bp
from app.registrations.models import Registration, Status
from app.registrations.routes import _load

log = logging.getLogger(__name__)

# The states in which the approval's documents are in force (a completed programme keeps its file).
IN_FORCE = frozenset({Status.approved, Status.completed})


@bp.app_template_global("approval_documents")
def approval_documents_for_page(documents) -> ApprovalDocuments:
    """For templates/registrations/_documents_top.html: the page's documents, sorted."""
    return approval_documents(documents or ())


@bp.app_template_global("amendment_in_force")
def amendment_in_force(registration: Registration) -> Registration | None:
    """The amendment that replaced a superseded registration (the newest approved one)."""
    if registration.status is not Status.superseded:
        return None
    return db.session.scalar(sa.select(Registration).where(
        Registration.amends_id == registration.id,
        Registration.status.in_([Status.approved, Status.completed, Status.superseded, Status.revoked]))
        .order_by(Registration.id.desc()).limit(1))


def _in_force(registration_id: int) -> tuple[Registration, ApprovalDocuments]:
    registration = _load(registration_id)
    found = approval_documents_of(registration) if registration.status in IN_FORCE else ApprovalDocuments()
    if not found.in_force:
        abort(404)
    return registration, found


def _send(content: bytes, mimetype: str, name: str):
    """A download of bytes made here: like app/uploads.py send_stored, never cached or rendered as a page."""
    response = send_file(io.BytesIO(content), mimetype=mimetype, as_attachment=True, download_name=name)
    response.headers["Cache-Control"] = "no-store, private"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _unavailable(registration: Registration, error: DocumentUnavailable):
    log.error("documents: registration %s: %s", registration.reference, error)
    flash(_("A document could not be read from the document store. Try again later, or ask the department "
            "for a copy."), "danger")
    return redirect(url_for("registrations.detail", registration_id=registration.id), code=303)


@bp.route("/registrations/<int:registration_id>/documents/all.zip")
@login_required
def documents_zip(registration_id: int):
    """The approval letter and the permits (and the print sheet for a crew of two or more), named
    in the reader's language."""
    registration, found = _in_force(registration_id)
    locale = str(get_locale())
    try:
        content = build_zip(found, locale)
    except DocumentUnavailable as error:
        return _unavailable(registration, error)
    return _send(content, "application/zip", zip_filename(registration, locale))


@bp.route("/registrations/<int:registration_id>/documents/print-sheet.pdf")
@login_required
def print_sheet_pdf(registration_id: int):
    """Every permit in force in one PDF, A6 cards four to an A4 sheet with crop marks, for "print all"."""
    registration, found = _in_force(registration_id)
    if not found.permits:
        abort(404)
    try:
        content = print_sheet(found)
    except DocumentUnavailable as error:
        return _unavailable(registration, error)
    return _send(content, "application/pdf", print_sheet_filename(registration, str(get_locale())))
