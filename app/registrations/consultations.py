"""Consultations (DESIGN.md section 3): an opinion asked of the border guard, the police or a
host body before deciding; a border-area programme cannot be approved without the answer."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l

from app.audit.service import record_event
from app.auth.models import User
from app.db import utcnow
from app.extensions import db
from app.registrations.models import Consultation, ConsultedBody, Opinion, Registration
from app.registrations.service import RegistrationError, _check


def record_consultation(actor: User, registration: Registration, body: ConsultedBody, body_name: str,
                        request_note: str) -> Consultation:
    _check(actor, "consult", registration)
    consultation = Consultation(registration_id=registration.id, body=body, body_name=body_name.strip(),
                                request_note=request_note.strip(), requested_by_id=actor.id)
    db.session.add(consultation)
    registration.updated_at = utcnow()
    db.session.flush()
    record_event("registration.consultation_requested", actor=actor, subject=registration,
                 after={"body": body.name, "body_name": consultation.body_name})
    return consultation


def record_consultation_answer(actor: User, consultation: Consultation, opinion: Opinion, answer: str) -> None:
    registration = consultation.registration
    _check(actor, "consult", registration)
    if consultation.answered_at is not None:
        raise RegistrationError(_l("This consultation already has its answer."))
    consultation.opinion = opinion
    consultation.answer = answer.strip()
    consultation.answered_at = utcnow()
    consultation.answer_recorded_by_id = actor.id
    registration.updated_at = utcnow()
    db.session.flush()
    record_event("registration.consultation_answered", actor=actor, subject=registration,
                 after={"body": consultation.body.name, "opinion": opinion.name})
