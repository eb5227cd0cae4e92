"""Internal notes: what staff keep on a dossier for each other; the correspondent never sees them.

A note is written by an officer or a leader on any registration they review, decided or not,
but never on a draft (staff do not see drafts). Adding one does not change the registration
(no version bump): a note written while a colleague decides must not make that decision a
conflict. The audit event names the note, never its text: the audit list is the admin's, and
the text is internal to the reviewing staff.
"""
from __future__ import annotations

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from app.audit.service import record_event
from app.auth.models import Role, User
from app.extensions import db
from app.registrations.models import InternalNote, Registration, Status
from app.registrations.permissions import can_view
from app.registrations.service import NotAllowed, RegistrationError

NOTE_MAX_LENGTH = 5000
INTERNAL_ROLES = frozenset({Role.officer, Role.leader})
NOTE_ADDED = "registration.note_added"

AUDIT_LABELS = {NOTE_ADDED: _l("Internal note added")}


def can_see_internal(user) -> bool:
    """Internal notes, draft decisions and the archive dossier: the reviewing staff only
    (officer, leader), never a correspondent, never the admin (who runs the system, not the files)."""
    return bool(user is not None and user.is_authenticated and user.role in INTERNAL_ROLES)


def has_internal_record(registration: Registration) -> bool:
    """A draft is the correspondent's own until it is submitted: staff keep nothing on it."""
    return registration.status is not Status.draft


def add_note(actor: User, registration: Registration, body: str) -> InternalNote:
    """Store a note on `registration` (flushed, not committed) and audit it without its text."""
    if not can_see_internal(actor) or not can_view(actor, registration):
        raise NotAllowed(_l("Your account may not keep internal notes."))
    if not has_internal_record(registration):
        raise RegistrationError(_l("Notes are kept on submitted registrations only."))
    text = (body or "").strip()
    if not text:
        raise RegistrationError(_l("Write the note first."))
    if len(text) > NOTE_MAX_LENGTH:
        raise RegistrationError(_l("A note may have at most %(count)d characters.", count=NOTE_MAX_LENGTH))
    note = InternalNote(registration_id=registration.id, author_id=actor.id, body=text)
    db.session.add(note)
    db.session.flush()
    record_event(NOTE_ADDED, actor=actor, subject=registration, after={"note_id": note.id})
    return note


def notes_of(registration: Registration) -> list[InternalNote]:
    """The registration's notes, oldest first (newest last), with their authors, in one query."""
    return list(db.session.scalars(
        sa.select(InternalNote).options(selectinload(InternalNote.author))
        .where(InternalNote.registration_id == registration.id)
        .order_by(InternalNote.created_at, InternalNote.id)))
