"""Consultations (DESIGN.md section 3): an opinion asked of the border guard, the police or a
host body before deciding; a border-area programme cannot be approved without the answer.

Asking issues the consultation letter (công văn xin ý kiến, its own register series) to the body
chosen from the reference data; the answer records the reply letter's number, date and scan. A
consultation has a reply deadline in working days (authority profile); an overdue one gets one
reminder mail to the officer in charge (`remind_overdue_consultations`, run by cron).
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm.exc import StaleDataError
from wtforms import SelectChoice

from app.audit.service import record_event
from app.auth.models import Role, User
from app.authority import authority_profile
from app.clock import local_date_of, local_today
from app.database import slow_work
from app.db import utcnow
from app.extensions import db
from app.reference.models import BodyKind, ConsultedBodyEntry
from app.registrations.models import OPEN_STATUSES, Consultation, ConsultedBody, Opinion, Registration
from app.registrations.service import ConflictError, RegistrationError, _check, _mail_users, _staff, working_calendar
from app.uploads import StoredFile, receive_upload, scan_pixels, store_received

REPLY_NUMBER_MAX = 64

# The kinds of body the province consults, and how the consultation records each. The Ministry
# of Foreign Affairs is informed of decisions, never consulted: it is not offered.
CONSULTED_KINDS = {
    BodyKind.border_guard: ConsultedBody.border_guard,
    BodyKind.police: ConsultedBody.police,
    BodyKind.host_agency: ConsultedBody.host_agency,
    BodyKind.other: ConsultedBody.other,
}
# Choice keys of bodies taken from the authority profile while the reference data is empty.
PROFILE_KEY_PREFIX = "profile-"


class InvalidAnswer(RegistrationError):
    """The reply as given cannot be recorded (a date in the future, no number...)."""

    status = 422


def _flush() -> None:
    """Flush; the registration's version moved under us: someone changed it meanwhile (409)."""
    try:
        db.session.flush()
    except StaleDataError:
        raise ConflictError() from None


# --- the bodies that may be consulted ------------------------------------------------------

def _entries_exist() -> bool:
    return db.session.scalar(sa.select(sa.func.count()).select_from(ConsultedBodyEntry)) > 0


def _profile_bodies() -> list[tuple[str, ConsultedBodyEntry]]:
    """The profile's consulted bodies as unsaved entries, keyed "profile-<index>".

    Used only while the administrator has not set up the reference data (no row at all); the
    entries are never added to the session, so a consultation made from one keeps the body's
    name and kind but no link (consulted_body_id stays empty)."""
    bodies = []
    for index, item in enumerate(authority_profile().consulted_bodies):
        kind = BodyKind.__members__.get(item.get("kind", ""))
        if kind in CONSULTED_KINDS and item.get("vi"):
            bodies.append((f"{PROFILE_KEY_PREFIX}{index}",
                           ConsultedBodyEntry(kind=kind, name_vi=item["vi"], name_en=item.get("en", ""),
                                              short_name_vi=item.get("short_vi", ""), active=True)))
    return bodies


def consultable_bodies() -> list[tuple[str, ConsultedBodyEntry]]:
    """(choice key, entry) of every body that may be consulted now, by kind, then by name."""
    if _entries_exist():
        entries = db.session.scalars(sa.select(ConsultedBodyEntry).where(
            ConsultedBodyEntry.active.is_(True), ConsultedBodyEntry.kind.in_(list(CONSULTED_KINDS)))).all()
        bodies = [(str(entry.id), entry) for entry in entries]
    else:
        bodies = _profile_bodies()
    order = list(CONSULTED_KINDS)
    return sorted(bodies, key=lambda pair: (order.index(pair[1].kind), pair[1].name_vi))


def consulted_body_choices() -> list[SelectChoice]:
    """The form's choices: the official Vietnamese name, grouped under the kind of body."""
    from app.registrations.labels import CONSULTED_BODY_LABELS

    return [SelectChoice(key, entry.name_vi, optgroup=str(CONSULTED_BODY_LABELS[CONSULTED_KINDS[entry.kind]]))
            for key, entry in consultable_bodies()]


def consulted_body_for(key: str) -> ConsultedBodyEntry | None:
    """The body a form's choice key names, if it may be consulted now."""
    return dict(consultable_bodies()).get(key or "")


def default_body(kind: BodyKind) -> ConsultedBodyEntry | None:
    """The first body of `kind` that may be consulted (the demo data and the CLI ask by kind)."""
    return next((entry for _key, entry in consultable_bodies() if entry.kind is kind), None)


# --- asking ----------------------------------------------------------------------------

def record_consultation(actor: User, registration: Registration, entry: ConsultedBodyEntry,
                        request_note: str) -> Consultation:
    """Ask `entry` for its opinion: the consultation, its reply deadline and its letter, issued now."""
    from app.documents.service import issue_consultation_letter

    _check(actor, "consult", registration)
    if entry is None or entry.kind not in CONSULTED_KINDS or not entry.active:
        raise RegistrationError(_l("Choose the body to consult from the province's list."))
    today = local_today()
    due = working_calendar().add_working_days(today, authority_profile().consultation_reply_working_days)
    consultation = Consultation(registration=registration, body=CONSULTED_KINDS[entry.kind],
                                body_name=entry.name_vi.strip(), consulted_body_id=entry.id,
                                request_note=(request_note or "").strip(), requested_by_id=actor.id, due_date=due)
    if entry.id is not None:  # an entry of the reference data (not one read from the profile)
        consultation.consulted_body = entry
    db.session.add(consultation)
    registration.updated_at = utcnow()
    _flush()
    letter = issue_consultation_letter(consultation, actor)
    consultation.letter_document_id = letter.id
    db.session.flush()
    record_event("registration.consultation_requested", actor=actor, subject=registration,
                 after={"body": consultation.body.name, "body_name": consultation.body_name,
                        "consulted_body_id": entry.id, "due_date": due.isoformat(),
                        "letter": letter.register_number})
    return consultation


# --- the answer ---------------------------------------------------------------------------

def requested_on(consultation: Consultation) -> date:
    """The day the body was asked: its letter's date (the province's day of the request)."""
    if consultation.letter_document is not None:
        return consultation.letter_document.issue_date
    return local_date_of(consultation.requested_at)


def _check_answer(actor: User, consultation: Consultation) -> None:
    _check(actor, "consult", consultation.registration)
    if consultation.answered_at is not None:
        raise RegistrationError(_l("This consultation already has its answer."))


def _check_reply(consultation: Consultation, reply_number: str, reply_date: date | None) -> None:
    if not reply_number or len(reply_number) > REPLY_NUMBER_MAX:
        raise InvalidAnswer(_l("Give the number of the reply letter (at most %(count)d characters).",
                               count=REPLY_NUMBER_MAX))
    if reply_date is None:
        raise InvalidAnswer(_l("Give the date of the reply letter."))
    if reply_date > local_today():
        raise InvalidAnswer(_l("The reply letter cannot be dated in the future."))
    if reply_date < requested_on(consultation):
        raise InvalidAnswer(_l("The reply letter cannot be dated before the consultation was requested."))


def record_consultation_answer(actor: User, consultation: Consultation, opinion: Opinion, answer: str,
                               reply_number: str, reply_date: date, file_storage=None) -> None:
    """Record the body's reply: its letter's number and date, the opinion, a summary and the scan.

    The scan is checked and stored holding no database lock (decoding is slow), then everything
    is checked again: someone may have recorded the answer meanwhile."""
    reply_number = (reply_number or "").strip()
    _check_answer(actor, consultation)
    _check_reply(consultation, reply_number, reply_date)
    stored = None
    if file_storage is not None and file_storage.filename:
        received = receive_upload(file_storage)
        with slow_work():
            stored = store_received(received, pixels=scan_pixels())
        _check_answer(actor, consultation)
    registration = consultation.registration
    consultation.opinion = opinion
    consultation.answer = (answer or "").strip()
    consultation.reply_number, consultation.reply_date = reply_number, reply_date
    if stored is not None:
        consultation.reply_stored_name, consultation.reply_content_type = stored.stored_name, stored.content_type
        consultation.reply_size, consultation.reply_sha256 = stored.size, stored.sha256
        consultation.reply_original_filename = stored.original_filename
    consultation.answered_at = utcnow()
    consultation.answer_recorded_by_id = actor.id
    registration.updated_at = utcnow()
    _flush()
    record_event("registration.consultation_answered", actor=actor, subject=registration,
                 after={"body": consultation.body.name, "opinion": opinion.name, "reply_number": reply_number,
                        "reply_date": reply_date.isoformat(),
                        "file": stored.original_filename if stored else None,
                        "sha256": stored.sha256 if stored else None})


def reply_scan(consultation: Consultation) -> StoredFile | None:
    """The stored scan of the reply letter, as app.uploads.send_stored sends it."""
    if not consultation.reply_stored_name:
        return None
    return StoredFile(stored_name=consultation.reply_stored_name, content_type=consultation.reply_content_type,
                      size=consultation.reply_size or 0, sha256=consultation.reply_sha256 or "",
                      original_filename=consultation.reply_original_filename or "reply")


# --- deadlines and the reminder --------------------------------------------------------------

def is_overdue(consultation: Consultation, today: date | None = None) -> bool:
    return (consultation.answered_at is None and consultation.due_date is not None
            and consultation.due_date < (today or local_today()))


def _overdue_query(today: date):
    return (sa.select(Consultation).join(Registration, Consultation.registration_id == Registration.id)
            .where(Consultation.answered_at.is_(None), Consultation.due_date < today,
                   Registration.status.in_(OPEN_STATUSES)))


def overdue_consultations(officer: User | None = None, today: date | None = None) -> list[Consultation]:
    """Unanswered consultations past their reply date, of registrations still open (the worklist's
    rows); with `officer`, those of the registrations assigned to them. The longest overdue first."""
    query = _overdue_query(today or local_today())
    if officer is not None:
        query = query.where(Registration.assigned_officer_id == officer.id)
    return list(db.session.scalars(query.order_by(Consultation.due_date, Consultation.id)))


def remind_overdue_consultations(today: date | None = None) -> int:
    """Mail the officer in charge (every active officer when nobody is) once about each overdue
    consultation; returns how many consultations were reminded of.

    Safe to run every hour: `reminder_sent_at` is set by a conditional UPDATE in the same
    transaction as the queued mail, so a second run, or two runs at once, send nothing again."""
    today = today or local_today()
    reminded = 0
    for consultation in db.session.scalars(_overdue_query(today).where(Consultation.reminder_sent_at.is_(None))
                                           .order_by(Consultation.due_date, Consultation.id)).all():
        claimed = db.session.execute(sa.update(Consultation).where(
            Consultation.id == consultation.id, Consultation.reminder_sent_at.is_(None))
            .values(reminder_sent_at=utcnow()).execution_options(synchronize_session="fetch"))
        if claimed.rowcount != 1:
            continue  # another run reminded of it a moment ago
        registration = consultation.registration
        officer = registration.assigned_officer
        recipients = [officer] if officer is not None and officer.active else _staff(Role.officer)
        _mail_users(recipients, registration, "consultation_overdue",
                    _l("%(reference)s: the consulted body has not replied", reference=registration.reference),
                    consultation=consultation)
        record_event("consultation.reminder_sent", subject=consultation,
                     after={"registration": registration.reference, "due_date": consultation.due_date.isoformat(),
                            "recipients": len({user.id for user in recipients})})
        reminded += 1
    return reminded
