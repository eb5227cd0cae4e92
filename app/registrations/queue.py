"""The staff queue: every registration but drafts, filtered, sorted and paginated."""
from __future__ import annotations

import sqlalchemy as sa
from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm import selectinload
from wtforms import SelectChoice

from app.extensions import db
from app.outlets.models import CrewMember, Outlet
from app.pagination import paginate
from app.places.models import Place
from app.registrations import bp, service
from app.registrations.forms import QueueFilterForm
from app.registrations.labels import KIND_LABELS, STATUS_LABELS
from app.registrations.models import (ItineraryItem, OPEN_STATUSES, Registration, RegistrationKind, Status,
                                      registration_crew)
from app.registrations.routes import reviewer_required

# --- the staff queue ----------------------------------------------------------------

SORTS = {
    "due": (Registration.due_date.asc().nulls_last(), Registration.id),
    "submitted": (Registration.submitted_at.desc().nulls_last(), Registration.id.desc()),
    "start": (Registration.start_date.asc().nulls_last(), Registration.id),
    "reference": (Registration.reference.asc(),),
}


@bp.route("/staff/registrations")
@reviewer_required
def queue():
    form = QueueFilterForm(request.args)
    _queue_choices(form)
    today = service.local_today()
    border_exists = (sa.select(ItineraryItem.id).join(Place, ItineraryItem.place_id == Place.id)
                     .where(ItineraryItem.registration_id == Registration.id, Place.border_area.is_(True))
                     .exists())
    query = (sa.select(Registration)
             .join(Outlet, Registration.outlet_id == Outlet.id)
             .options(selectinload(Registration.outlet), selectinload(Registration.assigned_officer))
             .where(Registration.status != Status.draft))
    if form.validate():
        query = _apply_filters(query, form, today, border_exists)
    sort = form.sort.data if form.sort.data in SORTS else "due"
    query = query.order_by(*SORTS[sort])
    page = paginate(query)
    # One query for the whole page, not one per row.
    border_ids = set(db.session.scalars(
        sa.select(ItineraryItem.registration_id).join(Place, ItineraryItem.place_id == Place.id)
        .where(ItineraryItem.registration_id.in_([registration.id for registration in page.items]),
               Place.border_area.is_(True))))
    rows = [(registration, registration.id in border_ids) for registration in page.items]
    return render_template("registrations/queue.html", form=form, page=page, rows=rows, today=today,
                           due_soon=service.working_calendar().add_working_days(today, 2))


def _apply_filters(query, form: QueueFilterForm, today, border_exists):
    if form.q.data:
        term = form.q.data.strip()
        crew_match = (sa.select(registration_crew.c.registration_id)
                      .join(CrewMember, CrewMember.id == registration_crew.c.crew_member_id)
                      .where(registration_crew.c.registration_id == Registration.id,
                             CrewMember.full_name.icontains(term, autoescape=True)).exists())
        query = query.where(sa.or_(Registration.reference.icontains(term, autoescape=True),
                                   Outlet.name.icontains(term, autoescape=True), crew_match))
    if form.status.data in Status.__members__:
        query = query.where(Registration.status == Status[form.status.data])
    elif form.status.data == "open":
        query = query.where(Registration.status.in_(OPEN_STATUSES))
    if form.kind.data in RegistrationKind.__members__:
        query = query.where(Registration.kind == RegistrationKind[form.kind.data])
    if form.nationality.data:
        query = query.where(
            sa.select(registration_crew.c.registration_id)
            .join(CrewMember, CrewMember.id == registration_crew.c.crew_member_id)
            .where(registration_crew.c.registration_id == Registration.id,
                   CrewMember.nationality == form.nationality.data).exists())
    if form.date_from.data:
        query = query.where(Registration.end_date >= form.date_from.data)
    if form.date_to.data:
        query = query.where(Registration.start_date <= form.date_to.data)
    if form.border.data:
        query = query.where(border_exists)
    if form.mine.data:
        query = query.where(Registration.assigned_officer_id == current_user.id)
    if form.due.data == "overdue":
        query = query.where(Registration.status.in_(OPEN_STATUSES), Registration.due_date < today)
    elif form.due.data == "soon":
        query = query.where(Registration.status.in_(OPEN_STATUSES), Registration.due_date >= today,
                            Registration.due_date <= service.working_calendar().add_working_days(today, 2))
    return query


def _queue_choices(form: QueueFilterForm) -> None:
    from app.outlets.forms import country_choices

    form.status.choices = ([SelectChoice("", _("All but drafts")), SelectChoice("open", _("Open (to handle)"))]
                           + [SelectChoice(status.name, STATUS_LABELS[status]) for status in Status
                              if status is not Status.draft])
    form.kind.choices = [SelectChoice("", _("All kinds"))] + [SelectChoice(kind.name, KIND_LABELS[kind])
                                                              for kind in RegistrationKind]
    form.nationality.choices = [SelectChoice("", _("All nationalities"))] + country_choices()[1:]
    form.due.choices = [SelectChoice("", _("Any")), SelectChoice("soon", _("Due within 2 working days")),
                        SelectChoice("overdue", _("Overdue"))]
    form.sort.choices = [SelectChoice("due", _("Deadline")), SelectChoice("submitted", _("Newest submission")),
                         SelectChoice("start", _("Programme start")), SelectChoice("reference", _("Reference"))]
