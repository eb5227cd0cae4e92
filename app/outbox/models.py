"""The mail outbox: messages stored with the change that causes them, sent by a worker after commit."""
from __future__ import annotations

from datetime import datetime
from typing import Optional

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import UTCDateTime, utcnow
from app.extensions import db


class OutboxMessage(db.Model):
    __tablename__ = "outbox_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body_text: Mapped[str] = mapped_column(sa.Text)
    body_html: Mapped[Optional[str]] = mapped_column(sa.Text)
    template: Mapped[str] = mapped_column(sa.String(100))
    locale: Mapped[str] = mapped_column(sa.String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # A sender claims a message (a lease until `claimed_until`, under its random `claim_token`)
    # in a short transaction before talking to SMTP, so two senders never send it twice, and it
    # records the outcome only while the claim is still its own.
    claimed_until: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    claim_token: Mapped[Optional[str]] = mapped_column(sa.String(32))
    attempts: Mapped[int] = mapped_column(default=0)
    sent_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # Set when the sender gave up (OUTBOX_GIVE_UP_AFTER_HOURS after queueing); `flask outbox
    # retry-failed` or the admin Outbox page puts the message back.
    failed_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    # When an admin put a failed message back: its give-up period counts from then, not from created_at.
    retried_at: Mapped[Optional[datetime]] = mapped_column(UTCDateTime())
    last_error: Mapped[Optional[str]] = mapped_column(sa.Text)

    __table_args__ = (sa.Index("ix_outbox_messages_due", "sent_at", "failed_at", "next_attempt_at"),)


class OutboxAttachment(db.Model):
    """An issued document sent with a message: read from the document store when the message is
    sent, so the outbox keeps a reference, not a second copy of the PDF."""

    __tablename__ = "outbox_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("outbox_messages.id", ondelete="CASCADE"), index=True)
    issued_document_id: Mapped[int] = mapped_column(sa.ForeignKey("issued_documents.id", ondelete="CASCADE"))
    filename: Mapped[str] = mapped_column(sa.String(200))
    position: Mapped[int] = mapped_column(default=0)
