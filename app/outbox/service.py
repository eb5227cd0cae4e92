"""Queue mail in the caller's transaction; send what is due after commit.

A request never waits on SMTP to decide whether its data is saved: the message
is a row written with the change, and delivery happens after the response (and
again from `flask outbox send`, run by cron) until the SMTP server accepts it.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app, render_template
from flask_babel import force_locale
from flask_mail import Message

from app.db import utcnow
from app.extensions import db, mail
from app.outbox.models import OutboxMessage

log = logging.getLogger(__name__)

PENDING_KEY = "outbox_pending_ids"
COMMITTED_KEY = "outbox_committed_ids"
CLAIM_SECONDS = 300
BACKOFF_BASE_SECONDS = 60
BACKOFF_MAX_SECONDS = 6 * 3600


def queue_email(recipient: str, template: str, locale: str, subject, **context) -> OutboxMessage:
    """Render `templates/email/<template>.txt|.html` in `locale` and store it in the outbox.

    `subject` is a lazy string (lazy_gettext) so that it is translated here, in
    the recipient's language, not in the language of whoever caused the mail.
    """
    with force_locale(locale):
        message = OutboxMessage(
            recipient=recipient,
            subject=str(subject),
            body_text=render_template(f"email/{template}.txt", **context),
            body_html=render_template(f"email/{template}.html", subject=str(subject), **context),
            template=template,
            locale=locale,
        )
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault(PENDING_KEY, []).append(message.id)
    return message


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes after each failure, at most six hours."""
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** max(attempts - 1, 0), BACKOFF_MAX_SECONDS))


def send_due(*, now: datetime | None = None, message_ids: list[int] | None = None, ignore_backoff: bool = False,
             limit: int = 100) -> tuple[int, int]:
    """Send the messages that are due; return (sent, failed). Commits per message."""
    now = now or utcnow()
    query = sa.select(OutboxMessage.id).where(
        OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None)
    )
    if message_ids is not None:
        query = query.where(OutboxMessage.id.in_(message_ids))
    if not ignore_backoff:
        query = query.where(OutboxMessage.next_attempt_at <= now)
    ids = db.session.scalars(query.order_by(OutboxMessage.id).limit(limit)).all()
    db.session.rollback()
    sent = failed = 0
    for message_id in ids:
        if not _claim(message_id, now):
            continue
        outcome = _deliver(message_id)
        sent += outcome
        failed += not outcome
    return sent, failed


def _claim(message_id: int, now: datetime) -> bool:
    """Take the message for this sender; False when another sender has it or it is sent."""
    result = db.session.execute(
        sa.update(OutboxMessage)
        .where(
            OutboxMessage.id == message_id,
            OutboxMessage.sent_at.is_(None),
            sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now),
        )
        .values(claimed_until=now + timedelta(seconds=CLAIM_SECONDS))
    )
    db.session.commit()
    return result.rowcount == 1


def _deliver(message_id: int) -> bool:
    message = db.session.get(OutboxMessage, message_id)
    try:
        mail.send(
            Message(
                subject=message.subject,
                recipients=[message.recipient],
                body=message.body_text,
                html=message.body_html,
                sender=current_app.config["MAIL_DEFAULT_SENDER"],
            )
        )
    except Exception as error:  # SMTP down, refused, timed out, recipient rejected
        message.attempts += 1
        message.last_error = f"{type(error).__name__}: {error}"[:2000]
        message.claimed_until = None
        if message.attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
            message.failed_at = utcnow()
        else:
            message.next_attempt_at = utcnow() + backoff(message.attempts)
        db.session.commit()
        log.warning("outbox: message %s not sent (attempt %s): %s", message_id, message.attempts, error)
        return False
    message.attempts += 1
    message.sent_at = utcnow()
    message.claimed_until = None
    message.last_error = None
    db.session.commit()
    return True
