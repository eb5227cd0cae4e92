"""Every opening of an identity attachment (a passport page, a press card) is audited: who, when,
from where, which file ("attachment.opened", subject the registration, so that it is part of the
dossier's record and of its archive PDF; the correspondent's timeline leaves it out as an
internal step). The correspondent opening their own upload is recorded as well: every opening."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.audit.labels import register_action_labels
from app.audit.service import record_event
from app.privacy import bp
from app.registrations.models import Attachment, AttachmentKind

IDENTITY_KINDS = frozenset({AttachmentKind.passport, AttachmentKind.press_card})
ATTACHMENT_OPENED = "attachment.opened"
AUDIT_LABELS = {ATTACHMENT_OPENED: _l("Identity attachment opened")}


@bp.record_once
def _register_labels(state) -> None:
    register_action_labels(AUDIT_LABELS)


def is_identity_attachment(attachment: Attachment) -> bool:
    return attachment.kind in IDENTITY_KINDS


def record_identity_opening(actor, attachment: Attachment) -> None:
    """The audit event of one opening (flushed; the view commits it although the request is a GET)."""
    record_event(ATTACHMENT_OPENED, actor=actor, subject=attachment.registration,
                 after={"attachment_id": attachment.id, "kind": attachment.kind.name,
                        "file": attachment.original_filename})
