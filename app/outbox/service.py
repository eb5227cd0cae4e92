"""Queue mail in the caller's transaction; a sender outside any request delivers what is due.

A request never waits on SMTP: the message is a row written with the change that causes it, and
`flask outbox worker` (or `flask outbox send` from cron) delivers it. A sender never talks to
SMTP inside a database transaction:

1. claim: one short transaction takes a batch of due messages (`FOR UPDATE SKIP LOCKED` on
   PostgreSQL, so several workers share the work; SQLite has one writer at a time anyway) and
   marks them with a lease and a random claim token, then commits;
2. send, holding no transaction and no lock;
3. record: another short transaction writes the outcome, only while the claim is still ours.

A sender never starts sending a message whose lease is about to run out, so no other sender can
take it over while it is being sent. (SMTP itself can still duplicate: a server that accepted the
message but whose "250" never arrived is retried. That is the protocol's at-least-once.)

Attachments (the approval mail's letter and permits) are references to issued documents
(OutboxAttachment), read from the document store when the message is sent: the outbox never
holds a second copy of a PDF. A stored file that is missing or not the bytes issued does not hold
the message back: it is sent without that file, says so at the top of its text, and keeps the
reason in `last_error` (see `_attachments_for`).

Failures are retried with capped exponential backoff (1, 2, 4... minutes, at most
OUTBOX_MAX_BACKOFF_SECONDS) until OUTBOX_GIVE_UP_AFTER_HOURS after the message was queued; then
it is marked failed, listed on the admin Outbox page and counted in the staff banner, until
`flask outbox retry-failed` or the page puts it back. Nothing is ever deleted.
"""
from __future__ import annotations

import logging
import re
import secrets
import smtplib
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Optional

import sqlalchemy as sa
from flask import current_app, g, render_template
from flask_babel import force_locale
from flask_babel import ngettext
from flask_mail import Message
from markupsafe import escape

from app.audit.service import record_event
from app.clock import utcnow
from app.extensions import db
from app.main import without_page_forms
from app.outbox.models import OutboxAttachment, OutboxMessage
from app.outbox.smtp import open_connection

log = logging.getLogger(__name__)

BACKOFF_BASE_SECONDS = 60
CLAIM_BATCH = 10
# A claim lasts at least this long, and at least LEASE_TIMEOUTS times MAIL_TIMEOUT.
MIN_LEASE_SECONDS = 300
LEASE_TIMEOUTS = 30
# A message is sent only while its lease has this many MAIL_TIMEOUTs left: one SMTP exchange is at
# most a handful of replies (greeting, EHLO, STARTTLS, AUTH, MAIL, RCPT, DATA, end of data), each
# bounded by MAIL_TIMEOUT.
SEND_MARGIN_TIMEOUTS = 10
# The staff banner: mail counts as failing when a message has waited this long.
FAILING_AFTER = timedelta(minutes=30)


# --- queueing (in the caller's transaction) ------------------------------------------------

def queue_email(recipient: str, template: str, locale: str, subject, *,
                attachments: Sequence[tuple] | None = None, **context) -> OutboxMessage:
    """Render `templates/email/<template>.txt|.html` in `locale` and store it in the outbox.

    `subject` is a lazy string (lazy_gettext) so that it is translated here, in
    the recipient's language, not in the language of whoever caused the mail.

    `attachments`: (issued document, file name) pairs, attached in that order when the message is
    sent, read then from the document store; the templates get the names as `attached`.
    """
    attachments = list(attachments or ())
    for document, filename in attachments:
        if document.id is None or not document.stored_name:
            raise ValueError("only a stored issued document can be attached")
        if not filename or "/" in filename:
            raise ValueError(f"not a file name: {filename!r}")
    with force_locale(locale), without_page_forms():
        message = OutboxMessage(
            recipient=recipient,
            subject=str(subject),
            body_text=render_template(f"email/{template}.txt", attached=[name for _, name in attachments], **context),
            body_html=render_template(f"email/{template}.html", subject=str(subject),
                                      attached=[name for _, name in attachments], **context),
            template=template,
            locale=locale,
        )
    db.session.add(message)
    if attachments:  # they need its id; otherwise the message goes in with the caller's next flush
        db.session.flush()  # (a submission mails several: one flush, not one per message)
        _attach(message.id, [(document.id, filename) for document, filename in attachments])
    return message


def _attach(message_id: int, attachments: list[tuple[int, str]]) -> None:
    for position, (document_id, filename) in enumerate(attachments):
        db.session.add(OutboxAttachment(message_id=message_id, issued_document_id=document_id,
                                        filename=filename[:200], position=position))
    if attachments:
        db.session.flush()


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, ... minutes after each failure, at most OUTBOX_MAX_BACKOFF_SECONDS (an hour)."""
    cap = int(current_app.config["OUTBOX_MAX_BACKOFF_SECONDS"])
    exponent = min(max(attempts - 1, 0), 30)
    return timedelta(seconds=min(BACKOFF_BASE_SECONDS * 2 ** exponent, cap))


# --- sending (outside any request; the sender owns its transactions) --------------------------

@dataclass
class _ClaimedAttachment:
    filename: str
    stored_name: Optional[str]
    sha256: Optional[str]


@dataclass
class _Claimed:
    id: int
    recipient: str
    subject: str
    body_text: str
    body_html: Optional[str]
    trying_since: datetime
    attempts: int
    claimed_until: datetime
    locale: str = "en"
    attachments: list[_ClaimedAttachment] = field(default_factory=list)


class _Unreachable(Exception):
    """The SMTP server could not be reached: the rest of the batch gets the same error."""


def lease_seconds() -> float:
    return max(MIN_LEASE_SECONDS, LEASE_TIMEOUTS * float(current_app.config["MAIL_TIMEOUT"]))


def send_due(*, ignore_backoff: bool = False, message_ids: list[int] | None = None, limit: int = 100,
             deadline: float | None = None, stop: threading.Event | None = None) -> tuple[int, int]:
    """Send up to `limit` messages that are due; return (sent, failed attempts).

    `deadline` (time.monotonic()) and `stop` end the pass between two messages. A pass whose
    connection to the SMTP server fails records the failure on its batch and ends: the next pass
    (the worker's next poll, cron's next minute) tries again.
    """
    db.session.rollback()  # never talk to SMTP with a transaction open, not even one left by the caller
    sent = failed = 0
    connection = open_connection()
    try:
        while sent + failed < limit:
            if _should_stop(deadline, stop):
                break
            token, batch = _claim(min(CLAIM_BATCH, limit - sent - failed), ignore_backoff, message_ids)
            if not batch:
                break
            unreachable = None
            for index, message in enumerate(batch):
                if unreachable is None and (_should_stop(deadline, stop) or not _lease_allows_sending(message)):
                    _release(token, [later.id for later in batch[index:]])
                    return sent, failed
                if unreachable is not None:
                    _record_failure(message, token, unreachable)
                    failed += 1
                    continue
                try:
                    mail, not_attached = _mail_message(message)
                    connection.deliver(mail)
                except Exception as error:  # refused, timed out, recipient rejected, dropped
                    connection.close(polite=False)
                    _record_failure(message, token, error)
                    failed += 1
                    if _is_unreachable(error, connection):
                        unreachable = error
                else:
                    _record_success(message, token, not_attached)
                    sent += 1
            if unreachable is not None:
                break
    finally:
        connection.close()
        db.session.rollback()
    return sent, failed


def _should_stop(deadline: float | None, stop: threading.Event | None) -> bool:
    return (deadline is not None and time.monotonic() >= deadline) or (stop is not None and stop.is_set())


def _lease_allows_sending(message: _Claimed) -> bool:
    margin = timedelta(seconds=SEND_MARGIN_TIMEOUTS * float(current_app.config["MAIL_TIMEOUT"]))
    return utcnow() + margin < message.claimed_until


def _is_unreachable(error: Exception, connection) -> bool:
    """A failure to reach or greet the server, not a refusal of this one message."""
    if isinstance(error, (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused, smtplib.SMTPDataError)):
        return False
    return isinstance(error, (OSError, socket.timeout, smtplib.SMTPConnectError, smtplib.SMTPServerDisconnected,
                              smtplib.SMTPAuthenticationError, smtplib.SMTPHeloError))


def _claim(count: int, ignore_backoff: bool, message_ids: list[int] | None) -> tuple[str, list[_Claimed]]:
    """Take up to `count` due messages in one short transaction, and commit."""
    now = utcnow()
    token = secrets.token_hex(16)
    until = now + timedelta(seconds=lease_seconds())
    due = (
        sa.select(OutboxMessage.id)
        .where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_(None),
               sa.or_(OutboxMessage.claimed_until.is_(None), OutboxMessage.claimed_until < now))
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(count)
        .with_for_update(skip_locked=True)  # PostgreSQL: rows another sender is claiming are skipped
    )
    if not ignore_backoff:
        due = due.where(OutboxMessage.next_attempt_at <= now)
    if message_ids is not None:
        due = due.where(OutboxMessage.id.in_(message_ids))
    try:
        # The UPDATE comes first, so that on SQLite the claim is a write from its first statement.
        db.session.execute(
            sa.update(OutboxMessage).where(OutboxMessage.id.in_(due)).values(claimed_until=until, claim_token=token),
            execution_options={"synchronize_session": False},
        )
        rows = db.session.execute(
            sa.select(OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.subject, OutboxMessage.body_text,
                      OutboxMessage.body_html, OutboxMessage.retried_at, OutboxMessage.created_at,
                      OutboxMessage.attempts, OutboxMessage.locale)
            .where(OutboxMessage.claim_token == token).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        ).all()
        attachments = _claimed_attachments([row.id for row in rows])
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return token, [_Claimed(id=row.id, recipient=row.recipient, subject=row.subject, body_text=row.body_text,
                            body_html=row.body_html, trying_since=row.retried_at or row.created_at,
                            attempts=row.attempts, claimed_until=until, locale=row.locale,
                            attachments=attachments.get(row.id, [])) for row in rows]


def _claimed_attachments(message_ids: list[int]) -> dict[int, list[_ClaimedAttachment]]:
    """Where each claimed message's attachments are stored: one query for the batch, in the claim's
    transaction, so that sending reads only files."""
    from app.documents.models import IssuedDocument

    if not message_ids:
        return {}
    rows = db.session.execute(
        sa.select(OutboxAttachment.message_id, OutboxAttachment.filename, IssuedDocument.stored_name,
                  IssuedDocument.sha256)
        .join(IssuedDocument, IssuedDocument.id == OutboxAttachment.issued_document_id)
        .where(OutboxAttachment.message_id.in_(message_ids))
        .order_by(OutboxAttachment.message_id, OutboxAttachment.position, OutboxAttachment.id)
    ).all()
    found: dict[int, list[_ClaimedAttachment]] = {}
    for row in rows:
        found.setdefault(row.message_id, []).append(_ClaimedAttachment(row.filename, row.stored_name, row.sha256))
    return found


def _mail_message(message: _Claimed) -> tuple[Message, list[str]]:
    """The message to send, and what could not be attached: (file name, reason) as text."""
    contents, missing = _attachments_for(message)
    body_text, body_html = message.body_text, message.body_html
    if missing:
        body_text, body_html = _with_missing_note(message, [name for name, _reason in missing])
    mail = Message(subject=message.subject, recipients=[message.recipient], body=body_text, html=body_html,
                   sender=current_app.config["MAIL_DEFAULT_SENDER"])
    for filename, content in contents:
        mail.attach(filename=filename, content_type="application/pdf", data=content)
    return mail, [f"{name} ({reason})" for name, reason in missing]


def _attachments_for(message: _Claimed) -> tuple[list[tuple[str, bytes]], list[tuple[str, str]]]:
    """The attachments' bytes, read from the document store now; and those that could not be read.

    A missing, unreadable or altered file (its SHA-256 is not the one issued) is left out and the
    message is sent anyway, saying so, rather than failing and being retried: the mail tells a
    correspondent that the province has replied, within a legal deadline, and the files are also on
    the registration page it links to. A file gone from the store does not come back by waiting,
    so a retry would only hold the decision back for OUTBOX_GIVE_UP_AFTER_HOURS and then give up;
    the reason is logged as an error and kept in the message's `last_error` (the admin Outbox
    page), so that someone restores the file.
    """
    from app.documents.bundle import verified_bytes

    contents, missing = [], []
    for attachment in message.attachments:
        try:
            contents.append((attachment.filename, verified_bytes(attachment.stored_name, attachment.sha256)))
        except (OSError, ValueError) as error:
            reason = f"{type(error).__name__}: {error}"
            log.error("outbox: message %s is sent without %r: %s", message.id, attachment.filename, reason)
            missing.append((attachment.filename, reason))
    return contents, missing


def _with_missing_note(message: _Claimed, names: list[str]) -> tuple[str, Optional[str]]:
    """The bodies with a note at the top, in the recipient's language, naming the files left out."""
    with force_locale(message.locale):
        note = ngettext(
            "This file could not be attached to this message. Please download it from the registration page:",
            "These files could not be attached to this message. Please download them from the registration page:",
            len(names))
    text = note + "\n" + "\n".join(f"- {name}" for name in names) + "\n\n" + message.body_text
    html = message.body_html
    if html is not None:
        block = (f'<p style="border-left: 4px solid #dc3545; padding-left: 8px;"><strong>{escape(note)}</strong><br>'
                 + "<br>".join(str(escape(name)) for name in names) + "</p>")
        opening = re.search(r"<body[^>]*>", html)
        html = html[:opening.end()] + block + html[opening.end():] if opening else block + html
    return text, html


def _ours(message_id: int, token: str):
    return sa.update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.claim_token == token)


def _write(statement) -> int:
    try:
        rowcount = db.session.execute(statement, execution_options={"synchronize_session": False}).rowcount
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return rowcount


def _record_success(message: _Claimed, token: str, not_attached: list[str] = ()) -> None:
    note = ("sent without " + "; ".join(not_attached))[:2000] if not_attached else None
    if not _write(_ours(message.id, token).values(
            sent_at=utcnow(), attempts=OutboxMessage.attempts + 1, last_error=note, claimed_until=None,
            claim_token=None)):
        log.error("outbox: message %s was sent after its claim was lost", message.id)


def _record_failure(message: _Claimed, token: str, error: Exception) -> None:
    now = utcnow()
    attempts = message.attempts + 1
    give_up_at = message.trying_since + timedelta(hours=float(current_app.config["OUTBOX_GIVE_UP_AFTER_HOURS"]))
    values = {"attempts": OutboxMessage.attempts + 1, "last_error": f"{type(error).__name__}: {error}"[:2000],
              "claimed_until": None, "claim_token": None, "next_attempt_at": now + backoff(attempts)}
    if now >= give_up_at:
        values["failed_at"] = now
        log.error("outbox: message %s given up after %s attempts since %s: %s", message.id, attempts,
                  message.trying_since.isoformat(), error)
    else:
        log.warning("outbox: message %s not sent (attempt %s): %s", message.id, attempts, error)
    _write(_ours(message.id, token).values(**values))


def _release(token: str, message_ids: list[int]) -> None:
    """Give back claimed messages this pass will not send (deadline, stop, lease too short)."""
    _write(sa.update(OutboxMessage).where(OutboxMessage.claim_token == token, OutboxMessage.id.in_(message_ids))
           .values(claimed_until=None, claim_token=None))


def run_worker(stop: threading.Event, *, poll_seconds: float | None = None) -> None:
    """Send what is due until `stop` is set: the loop of `flask outbox worker` (needs an app context)."""
    poll = float(poll_seconds if poll_seconds is not None else current_app.config["OUTBOX_WORKER_POLL_SECONDS"])
    log.info("outbox worker started (poll every %s s, SMTP timeout %s s)", poll, current_app.config["MAIL_TIMEOUT"])
    while not stop.is_set():
        busy = False
        try:
            sent, failed = send_due(stop=stop, limit=CLAIM_BATCH)
            busy = sent == CLAIM_BATCH  # a full batch went out: more may be waiting
        except Exception:  # the database restarting, say: log, wait, try again
            log.exception("outbox worker: a send pass failed")
        finally:
            db.session.remove()
        if not busy:
            stop.wait(poll)
    log.info("outbox worker stopped")


# --- the admin page and the CLI (they own their transactions: the caller commits) -------------

class OutboxError(Exception):
    """An action on the outbox that cannot be done (shown to the admin)."""


def retry_failed(actor=None) -> int:
    """Put every given-up message back in the queue, due now, with a fresh give-up period.
    `actor` is the administrator who asked (audited); None from the command line."""
    now = utcnow()
    count = db.session.execute(
        sa.update(OutboxMessage).where(OutboxMessage.sent_at.is_(None), OutboxMessage.failed_at.is_not(None))
        .values(failed_at=None, next_attempt_at=now, retried_at=now, claimed_until=None, claim_token=None),
        execution_options={"synchronize_session": False},
    ).rowcount
    if actor is not None and count:
        record_event("outbox.failed_retried", actor=actor, after={"messages": count})
    return count


def resend(message_id: int, actor=None) -> OutboxMessage:
    """Send one message again: an unsent one becomes due now; a sent one is queued again as a copy."""
    message = db.session.get(OutboxMessage, message_id, with_for_update=True)
    if message is None:
        raise OutboxError("no such message")
    now = utcnow()
    if message.sent_at is None:
        if message.claim_token is not None and message.claimed_until and message.claimed_until > now:
            raise OutboxError("being sent")
        if message.failed_at is not None:
            message.retried_at = now  # a fresh give-up period
        message.failed_at = None
        message.next_attempt_at = now
        db.session.flush()
        queued = message
    else:
        queued = OutboxMessage(recipient=message.recipient, subject=message.subject, body_text=message.body_text,
                               body_html=message.body_html, template=message.template, locale=message.locale)
        db.session.add(queued)
        db.session.flush()
        # The copy carries the same documents (its text names them).
        _attach(queued.id, list(db.session.execute(
            sa.select(OutboxAttachment.issued_document_id, OutboxAttachment.filename)
            .where(OutboxAttachment.message_id == message.id)
            .order_by(OutboxAttachment.position, OutboxAttachment.id)).tuples()))
    if actor is not None:
        record_event("outbox.resent", actor=actor, subject=message,
                     after={"recipient": message.recipient, "template": message.template, "queued_id": queued.id})
    return queued


def queue_test_message(address: str, actor) -> OutboxMessage:
    """A test message to `address`, in the administrator's language, audited."""
    from flask_babel import lazy_gettext as _l

    message = queue_email(address, "test_message", actor.locale, _l("PressDesk test message"),
                          sender_name=actor.full_name, base_url=current_app.config["BASE_URL"])
    db.session.flush()  # the audit event names its id
    record_event("outbox.test_queued", actor=actor, subject=message, after={"recipient": address})
    return message


STATES = ("pending", "failed", "sent")


def messages_query(state: str):
    query = sa.select(OutboxMessage)
    if state == "sent":
        return query.where(OutboxMessage.sent_at.is_not(None)).order_by(OutboxMessage.sent_at.desc(),
                                                                         OutboxMessage.id.desc())
    query = query.where(OutboxMessage.sent_at.is_(None))
    if state == "failed":
        return query.where(OutboxMessage.failed_at.is_not(None)).order_by(OutboxMessage.failed_at.desc(),
                                                                          OutboxMessage.id.desc())
    return query.where(OutboxMessage.failed_at.is_(None)).order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)


@dataclass
class MailHealth:
    pending: int
    failed: int
    oldest_pending_at: Optional[datetime]

    @property
    def stalled(self) -> bool:
        """Mail is failing: a message has waited more than 30 minutes (SMTP down, or no worker running)."""
        return self.oldest_pending_at is not None and self.oldest_pending_at < utcnow() - FAILING_AFTER

    @property
    def trouble(self) -> bool:
        return self.stalled or self.failed > 0


def mail_health() -> MailHealth:
    """Counts of unsent messages and the age of the oldest: one query over the unsent rows (the
    index on sent_at, failed_at, next_attempt_at keeps sent rows out of it)."""
    pending = OutboxMessage.failed_at.is_(None)
    row = db.session.execute(
        sa.select(sa.func.count(sa.case((pending, 1))), sa.func.count(OutboxMessage.failed_at),
                  sa.func.min(sa.case((pending, sa.func.coalesce(OutboxMessage.retried_at, OutboxMessage.created_at)),
                                      else_=None)))
        .where(OutboxMessage.sent_at.is_(None))
    ).one()
    oldest = row[2]
    if isinstance(oldest, str):  # SQLite returns min() of a CASE as text, without the column's type
        oldest = datetime.fromisoformat(oldest)
    if oldest is not None and oldest.tzinfo is None:
        from datetime import timezone

        oldest = oldest.replace(tzinfo=timezone.utc)
    return MailHealth(pending=row[0], failed=row[1], oldest_pending_at=oldest)


def mail_trouble_for_page() -> MailHealth | None:
    """The staff banner's facts, once per request; None when mail is going out."""
    if "outbox_health" not in g:
        health = mail_health()
        g.outbox_health = health if health.trouble else None
    return g.outbox_health
