"""Downloads of issued documents: the stored bytes, for the registration's outlet and reviewing staff."""
from __future__ import annotations

from flask import abort
from flask_login import current_user

from app.auth.permissions import login_required
from app.documents import bp
from app.auth.models import Role
from app.documents.models import INTERNAL_KINDS, IssuedDocument
from app.extensions import db
from app.registrations.routes import _load
from app.uploads import send_stored


@bp.route("/registrations/<int:registration_id>/documents/<int:document_id>")
@login_required
def download(registration_id: int, document_id: int):
    registration = _load(registration_id)
    document = db.session.get(IssuedDocument, document_id)
    if document is None or document.registration_id != registration.id or document.stored_name is None \
            or (document.kind in INTERNAL_KINDS and current_user.role not in (Role.officer, Role.leader)):
        abort(404)
    return send_stored(document)
