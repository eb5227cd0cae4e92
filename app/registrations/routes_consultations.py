"""Consultations: asking the border guard, the police or a host body, and recording the answer."""
from __future__ import annotations

from flask import abort
from flask_babel import gettext as _
from flask_login import current_user

from app.auth.models import Role
from app.extensions import db
from app.registrations import consultations
from app.registrations.forms import ConsultationAnswerForm, ConsultationForm
from app.registrations.models import Consultation, ConsultedBody, Opinion
from app.registrations.routes import _act, _action_route, _load


@_action_route("/registrations/<int:registration_id>/consultations", "consult", (Role.officer, Role.leader))
def consult(registration_id: int):
    registration = _load(registration_id)
    return _act(registration, ConsultationForm(), "consult",
                lambda form: consultations.record_consultation(current_user, registration, ConsultedBody[form.body.data],
                                                         form.body_name.data, form.request_note.data or ""),
                _("Consultation recorded."))


@_action_route("/registrations/<int:registration_id>/consultations/<int:consultation_id>/answer", "answer",
               (Role.officer, Role.leader))
def answer(registration_id: int, consultation_id: int):
    registration = _load(registration_id)
    consultation = db.session.get(Consultation, consultation_id)
    if consultation is None or consultation.registration_id != registration.id:
        abort(404)
    return _act(registration, ConsultationAnswerForm(), "answer",
                lambda form: consultations.record_consultation_answer(current_user, consultation,
                                                                Opinion[form.opinion.data], form.answer.data),
                _("Answer recorded."))
